import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Meeting from "./Meeting.svelte";
import { caseloadRow, vocabularies } from "../test-kit";
import {
  agendaItemView,
  attendanceView,
  caseload,
  escalatingRow,
  invalidForm,
  meetingDetail,
  meetingView,
  mockServer,
  panelMembers,
  refusal,
  selectionRow,
  selectionView,
  type Answer,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { MeetingView, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

const CASELOAD = caseload([
  caseloadRow(),
  caseloadRow({ case_id: "c2", reference: "T-2", advocate: "ADV2" }),
  caseloadRow({ case_id: "c10", reference: "T-10", advocate: "ADV2" }),
  caseloadRow({ case_id: "c3", reference: "X-3", advocate: "ADV1" }),
]);
const CLOSED = "that meeting's follow-up is closed, so it cannot change; make a new meeting";

/**
 * The meeting page against a server holding `meeting`: its detail follows
 * what saving, publishing and closing answer, unless a test answers it.
 */
function show(
  meetingId: string | null,
  {
    role = "coordinator",
    routes = {},
    meeting = meetingView(),
  }: { role?: StaffRole; routes?: Record<string, Route>; meeting?: MeetingView } = {},
) {
  let current = meeting;
  /** A change's answer, which the meeting's detail then holds. */
  const held =
    (route: Route): Route =>
    async (sent) => {
      const answer: Answer = typeof route === "function" ? await route(sent) : route;
      const body = answer.body as Partial<MeetingView> | undefined;
      if ((answer.status ?? 200) === 200 && body && typeof body === "object" && "meets_on" in body)
        current = body as MeetingView;
      return answer;
    };
  const all: Record<string, Route> = {
    "GET /w/api/meetings": () => ({ body: [current] }),
    "GET /w/api/meetings/m1": () => ({ body: meetingDetail(current) }),
    "GET /w/api/caseload": CASELOAD,
    "GET /w/api/panel-members": panelMembers(),
    "GET /w/api/selection": { body: selectionView({ rows: [] }) },
    "POST /w/api/meetings": (sent) => ({ body: { ...meetingView(), ...(sent.body as object), id: "m1" } }),
    ...routes,
  };
  for (const route of Object.keys(all))
    if (route.startsWith("POST /w/api/meetings") && !route.includes("/cases/")) all[route] = held(all[route]);
  const api = mockServer(all);
  const props = {
    meetingId,
    me: "COORD1",
    role,
    csrf: "csrf-from-sign-in",
    vocabularies: async () => vocabularies(),
    onback: vi.fn(),
    onopencase: vi.fn(),
    oncreated: vi.fn(),
  };
  render(Meeting, props);
  return { api, props, user: userEvent.setup() };
}

/** The one request to save a meeting. */
function savedBody(api: ReturnType<typeof mockServer>) {
  const sent = api.sent("POST /w/api/meetings");
  expect(sent.length).toBe(1);
  expect(sent[0].headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
  return sent[0].body;
}

const PAT = "Pat Panel (DEMO), Police — PNL1";
const ROBIN = "Robin Probation, Probation — PNL2";
const SAM = "Sam Support, Local housing team — PNL3";

/** The invitation boxes, in order, each with whether it is ticked. */
async function invitations(form: ReturnType<typeof within>) {
  const group = within(await form.findByRole("group", { name: "Panel members invited" }));
  await group.findAllByRole("checkbox");
  return group
    .getAllByRole("checkbox")
    .map((box) => [box.closest("label")?.textContent?.trim(), (box as HTMLInputElement).checked]);
}

describe("a new panel meeting", () => {
  it("is saved with its date, chair, members and agenda, each case's minutes in the order given", async () => {
    const { api, props, user } = show(null, {
      routes: {
        "POST /w/api/meetings": {
          body: meetingView({
            agenda: [
              agendaItemView({ case_id: "c2", reference: "T-2", minutes: 20 }),
              agendaItemView({ case_id: "c1", reference: "T-1" }),
            ],
            invited: ["PNL1", "PNL2", "PNL3"],
          }),
        },
      },
    });
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    // The active panel members by name, each with their agency in the vocabularies' words or the service's own.
    expect(await invitations(form)).toEqual([
      [PAT, false],
      [ROBIN, false],
      [SAM, false],
    ]);
    // The chair is the coordinator until another is chosen: they, or a panel member.
    const chair = form.getByLabelText(/^Chair/) as HTMLSelectElement;
    expect(chair.value).toBe("COORD1");
    expect([...chair.options].map((o) => o.textContent)).toEqual(["You — COORD1", PAT, ROBIN, SAM]);
    await user.type(form.getByLabelText(/^Date of the meeting/), "10/12/2026");
    // Sent in the list's order, whatever the order ticked.
    await user.click(form.getByRole("checkbox", { name: SAM }));
    await user.click(form.getByRole("checkbox", { name: PAT }));
    await user.click(form.getByRole("checkbox", { name: ROBIN }));
    // The caseload is searched by reference, and a case on the agenda is offered no more.
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "t-");
    const offered = within(await form.findByRole("list", { name: "Cases to add" }));
    expect(offered.getAllByRole("listitem").map((li) => li.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "Add T-1 advocate ADV1",
      "Add T-2 advocate ADV2",
      "Add T-10 advocate ADV2",
    ]);
    await user.click(offered.getByRole("button", { name: "Add T-1" }));
    expect(document.activeElement).toBe(form.getByLabelText("Minutes for T-1"));
    expect((form.getByLabelText("Minutes for T-1") as HTMLInputElement).value).toBe("15");
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "T-2{Enter}");
    expect(form.queryByRole("button", { name: "Add T-1" })).toBeNull();
    const minutes = form.getByLabelText("Minutes for T-2");
    await user.clear(minutes);
    await user.type(minutes, "20");
    await user.click(form.getByRole("button", { name: "Move up T-2" }));
    // At the top, the focus moves to the case's other button.
    expect(document.activeElement).toBe(form.getByRole("button", { name: "Move down T-2" }));
    expect(form.getByText(/2 cases, 35 minutes in all/)).toBeTruthy();
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
    expect(savedBody(api)).toStrictEqual({
      id: null,
      meets_on: "2026-12-10",
      chair: "COORD1",
      invited: ["PNL1", "PNL2", "PNL3"],
      agenda: [
        { case_id: "c2", minutes: 20 },
        { case_id: "c1", minutes: 15 },
      ],
      research_due_on: null,
    });
    expect(props.oncreated).toHaveBeenCalledWith("m1");
    const status = screen.getByRole("status");
    expect(status.textContent).toContain("saved as a draft");
    expect(document.activeElement).toBe(status);
  });

  it("marks the escalating cases it offers with their signs, and offers them alone when asked", async () => {
    const { user } = show(null, {
      routes: {
        "GET /w/api/caseload": caseload([
          caseloadRow(),
          escalatingRow({ case_id: "c2", reference: "T-2", advocate: "ADV2" }),
          caseloadRow({ case_id: "c10", reference: "T-10", advocate: "ADV2" }),
          escalatingRow({ case_id: "c3", reference: "X-3", advocate: "ADV1" }),
        ]),
      },
    });
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    const offeredText = () =>
      within(form.getByRole("list", { name: "Cases to add" }))
        .getAllByRole("listitem")
        .map((li) => li.textContent?.replace(/\s+/g, " ").trim());
    await form.findByRole("list", { name: "Cases to add" });
    expect(offeredText()).toEqual([
      "Add T-1 advocate ADV1",
      "Add T-2 advocate ADV2 Escalating (2 signs) More frequent incidents, Risk review due",
      "Add T-10 advocate ADV2",
      "Add X-3 advocate ADV1 Escalating (2 signs) More frequent incidents, Risk review due",
    ]);
    // A screen reader hears why a case is marked with the button that adds it.
    const add = form.getByRole("button", { name: "Add T-2" });
    expect(document.getElementById(add.getAttribute("aria-describedby") ?? "")?.textContent).toContain(
      "More frequent incidents, Risk review due",
    );
    expect(form.getByRole("button", { name: "Add T-1" }).hasAttribute("aria-describedby")).toBe(false);
    const only = form.getByRole("checkbox", { name: "Escalating only" });
    await user.click(only);
    expect(offeredText()).toEqual([
      "Add T-2 advocate ADV2 Escalating (2 signs) More frequent incidents, Risk review due",
      "Add X-3 advocate ADV1 Escalating (2 signs) More frequent incidents, Risk review due",
    ]);
    expect(form.queryByRole("button", { name: "Add T-1" })).toBeNull();
    expect(form.queryByRole("button", { name: "Add T-10" })).toBeNull();
    // With the search too; and once both are on the agenda, none is left to offer.
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "t-");
    expect(offeredText()).toEqual([
      "Add T-2 advocate ADV2 Escalating (2 signs) More frequent incidents, Risk review due",
    ]);
    await user.click(form.getByRole("button", { name: "Add T-2" }));
    await user.click(form.getByRole("button", { name: "Add X-3" }));
    expect(form.queryByRole("list", { name: "Cases to add" })).toBeNull();
    expect(form.getByText("No escalating case is off the agenda.")).toBeTruthy();
    await user.click(only);
    expect(offeredText()).toEqual(["Add T-1 advocate ADV1", "Add T-10 advocate ADV2"]);
  });

  it("offers the cases selected for the panel alone when asked, with why each is selected", async () => {
    const { user } = show(null, {
      routes: {
        "GET /w/api/selection": {
          body: selectionView({
            rows: [
              selectionRow({ case_id: "c2", reference: "T-2", advocate: "ADV2" }),
              selectionRow({ case_id: "c10", reference: "T-10", met: [], review_due_on: "2026-11-10" }),
              // Taken off by the coordinator: not offered as selected.
              selectionRow({ case_id: "c3", reference: "X-3", removed: "Heard by MARAC" }),
            ],
          }),
        },
      },
    });
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    const offeredText = () =>
      within(form.getByRole("list", { name: "Cases to add" }))
        .getAllByRole("listitem")
        .map((li) => li.textContent?.replace(/\s+/g, " ").trim());
    await form.findByRole("list", { name: "Cases to add" });
    const only = form.getByRole("checkbox", { name: "Selected for panel" });
    await vi.waitFor(() => expect((only as HTMLInputElement).disabled).toBe(false));
    await user.click(only);
    expect(offeredText()).toEqual([
      'Add T-2 advocate ADV2 selected: Visible high risk (14 or more "yes" on DASH)',
      "Add T-10 advocate ADV2 selected: due for review",
    ]);
    await user.click(form.getByRole("button", { name: "Add T-2" }));
    await user.click(form.getByRole("button", { name: "Add T-10" }));
    expect(form.getByText("No case selected for the panel is off the agenda.")).toBeTruthy();
    // The escalating filter is still there, beside it.
    expect(form.getByRole("checkbox", { name: "Escalating only" })).toBeTruthy();
  });

  it("sends the date the research is due, on or before the meeting", async () => {
    const { api, user } = show(null, {
      routes: {
        "POST /w/api/meetings": invalidForm("the meeting has fields to put right", [
          { field: "research_due_on", rule: "must be on or before the meeting" },
        ]),
      },
    });
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    await user.type(form.getByLabelText(/^Date of the meeting/), "10/12/2026");
    const due = form.getByLabelText("Research due by");
    await user.type(due, "11/12/2026");
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    expect((await form.findByRole("alert")).textContent).toBe(
      "The research must be due on or before the day of the meeting.",
    );
    expect(document.activeElement).toBe(due);
    expect(api.sent("POST /w/api/meetings")).toEqual([]);
    await user.clear(due);
    await user.type(due, "05/12/2026");
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    await vi.waitFor(() => expect(api.sent("POST /w/api/meetings").length).toBe(1));
    expect(api.sent("POST /w/api/meetings")[0].body).toMatchObject({
      meets_on: "2026-12-10",
      research_due_on: "2026-12-05",
    });
    // The server's refusal is marked on the field.
    await vi.waitFor(() => expect(due.getAttribute("aria-invalid")).toBe("true"));
    expect(form.getByText("The date the research is due must be on or before the meeting.")).toBeTruthy();
  });

  it("asks for the date, and a whole number of minutes, before sending anything", async () => {
    const { api, user } = show(null);
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    expect((await form.findByRole("alert")).textContent).toBe("Enter the date of the meeting.");
    expect(document.activeElement).toBe(form.getByLabelText(/^Date of the meeting/));
    await user.type(form.getByLabelText(/^Date of the meeting/), "10/12/2026");
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "X-3{Enter}");
    await user.clear(form.getByLabelText("Minutes for X-3"));
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    expect((await form.findByRole("alert")).textContent).toBe("Give X-3 a whole number of minutes.");
    expect(form.getByLabelText("Minutes for X-3").getAttribute("aria-invalid")).toBe("true");
    expect(api.sent("POST /w/api/meetings")).toEqual([]);
  });

  it("marks each field the server names, a case's error staying with it when it moves", async () => {
    const { user } = show(null, {
      routes: {
        "POST /w/api/meetings": invalidForm("the meeting has fields to put right; correct them and save it again", [
          { field: "chair", rule: "must be an active coordinator, manager or panel member" },
          { field: "invited[1]", rule: "must be an active panel member" },
          { field: "agenda[1].minutes", rule: "must be 5 to 60 minutes" },
        ]),
      },
    });
    const form = within(await screen.findByRole("form", { name: "The new meeting" }));
    await user.type(form.getByLabelText(/^Date of the meeting/), "10/12/2026");
    await user.selectOptions(await form.findByLabelText(/^Chair/), ROBIN);
    await user.click(await form.findByRole("checkbox", { name: PAT }));
    await user.click(form.getByRole("checkbox", { name: SAM }));
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "X-3{Enter}");
    await user.type(form.getByLabelText("Find a case to add, by its reference"), "T-2{Enter}");
    await user.clear(form.getByLabelText("Minutes for T-2"));
    await user.type(form.getByLabelText("Minutes for T-2"), "90");
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    expect((await form.findByRole("alert")).textContent).toBe(
      "The meeting has fields to put right; correct them and save it again.",
    );
    const describedBy = (el: HTMLElement) =>
      (el.getAttribute("aria-describedby") ?? "")
        .split(" ")
        .map((id) => document.getElementById(id)?.textContent?.trim())
        .join(" | ");
    const chair = form.getByLabelText(/^Chair/);
    expect(chair.getAttribute("aria-invalid")).toBe("true");
    expect(describedBy(chair)).toBe("The chair must be an active coordinator, manager or panel member.");
    // The first field at fault, in the form's order, has the focus.
    expect(document.activeElement).toBe(chair);
    // The member at fault (the second invited) is marked on their box, and the group says so.
    const sam = form.getByRole("checkbox", { name: SAM });
    expect(sam.getAttribute("aria-invalid")).toBe("true");
    expect(describedBy(sam)).toBe("Sam Support must be an active panel member.");
    expect(form.getByRole("checkbox", { name: PAT }).getAttribute("aria-invalid")).toBeNull();
    expect(describedBy(form.getByRole("group", { name: "Panel members invited" }))).toContain(
      "Sam Support must be an active panel member.",
    );
    const minutes = form.getByLabelText("Minutes for T-2");
    expect(minutes.getAttribute("aria-invalid")).toBe("true");
    expect(describedBy(minutes)).toBe("Minutes must be 5 to 60 minutes.");
    expect(form.getByLabelText("Minutes for X-3").getAttribute("aria-invalid")).toBeNull();
    await user.click(form.getByRole("button", { name: "Move up T-2" }));
    expect(form.getByLabelText("Minutes for T-2").getAttribute("aria-invalid")).toBe("true");
    expect(form.getByLabelText("Minutes for X-3").getAttribute("aria-invalid")).toBeNull();
  });

  it("goes back to the panel when cancelled", async () => {
    const { props, user } = show(null);
    await user.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(props.onback).toHaveBeenCalled();
  });
});

describe("a panel meeting's page", () => {
  const published = meetingView({ published_at: "2026-12-01T10:00:00Z" });

  it("shows the meeting and opens a case on its agenda", async () => {
    const { props, user } = show("m1", {
      meeting: meetingView({ agenda: [agendaItemView(), agendaItemView({ case_id: "c2", reference: "T-2" })] }),
    });
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
    const text = document.body.textContent?.replace(/\s+/g, " ") ?? "";
    expect(text).toContain("Draft: no member sees its cases until its agenda is published.");
    expect(text).toContain("2 cases, 30 minutes in all.");
    await user.click(screen.getByRole("button", { name: "T-2" }));
    expect(props.onopencase).toHaveBeenCalledWith("c2");
  });

  it("edits the meeting from what is saved, and sends its id", async () => {
    const { api, user } = show("m1");
    await user.click(await screen.findByRole("button", { name: "Edit the meeting" }));
    const form = within(screen.getByRole("form", { name: "Edit the meeting" }));
    expect(await invitations(form)).toEqual([
      [PAT, true],
      [ROBIN, false],
      [SAM, false],
    ]);
    await user.click(form.getByRole("checkbox", { name: ROBIN }));
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    await screen.findByText("The meeting of 10 Dec 2026 is saved.");
    expect(savedBody(api)).toStrictEqual({
      id: "m1",
      meets_on: "2026-12-10",
      chair: "COORD1",
      invited: ["PNL1", "PNL2"],
      agenda: [{ case_id: "c1", minutes: 15 }],
      research_due_on: null,
    });
  });

  it("keeps its chair, and offers to take off a member who is no longer active", async () => {
    const { api, user } = show("m1", { meeting: meetingView({ chair: "MGR1", invited: ["PNL9", "PNL2"] }) });
    await user.click(await screen.findByRole("button", { name: "Edit the meeting" }));
    const form = within(screen.getByRole("form", { name: "Edit the meeting" }));
    expect(await invitations(form)).toEqual([
      [PAT, false],
      [ROBIN, true],
      [SAM, false],
      ["PNL9, no longer an active panel member", true],
    ]);
    const chair = form.getByLabelText(/^Chair/) as HTMLSelectElement;
    expect(chair.value).toBe("MGR1");
    expect([...chair.options].map((o) => o.textContent)).toEqual(["You — COORD1", "MGR1", PAT, ROBIN, SAM]);
    await user.click(form.getByRole("checkbox", { name: "PNL9, no longer an active panel member" }));
    await user.click(form.getByRole("button", { name: "Save the meeting" }));
    await screen.findByText("The meeting of 10 Dec 2026 is saved.");
    expect(savedBody(api)).toMatchObject({ chair: "MGR1", invited: ["PNL2"] });
  });

  it("says so when the panel members cannot be loaded, and still shows who is invited", async () => {
    const { user } = show("m1", {
      routes: {
        "GET /w/api/panel-members": refusal(
          403,
          "forbidden",
          "your role cannot see this; ask the clinic administrator",
        ),
      },
    });
    await user.click(await screen.findByRole("button", { name: "Edit the meeting" }));
    const form = within(screen.getByRole("form", { name: "Edit the meeting" }));
    expect(
      await form.findByText(
        "The panel members could not be loaded, so no one can be invited: Your role cannot see this; ask the clinic administrator.",
      ),
    ).toBeTruthy();
    expect(await invitations(form)).toEqual([["PNL1", true]]);
    expect([...(form.getByLabelText(/^Chair/) as HTMLSelectElement).options].map((o) => o.textContent)).toEqual([
      "You — COORD1",
    ]);
  });

  it("goes back to the meeting, and the focus to Edit, when an edit is cancelled", async () => {
    const { api, user } = show("m1");
    await user.click(await screen.findByRole("button", { name: "Edit the meeting" }));
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Edit the meeting" }));
    expect(api.sent("POST /w/api/meetings")).toEqual([]);
  });

  it("publishes the agenda only once confirmed, then says who sees its cases", async () => {
    const { api, user } = show("m1", { routes: { "POST /w/api/meetings/m1/publish": { body: published } } });
    const publish = await screen.findByRole("button", { name: "Publish the agenda" });
    await user.click(publish);
    const dialog = screen.getByRole("alertdialog", { name: "Publish the agenda?" });
    expect(dialog.textContent).toContain("Invited members will see these cases: T-1");
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Not yet" }));
    await user.click(within(dialog).getByRole("button", { name: "Not yet" }));
    expect(document.activeElement).toBe(publish);
    expect(api.sent("POST /w/api/meetings/m1/publish")).toEqual([]);
    await user.click(publish);
    await user.click(screen.getByRole("button", { name: "Publish" }));
    const status = screen.getByRole("status");
    await within(status).findByText("The agenda is published: PNL1 sees its cases now.");
    expect(document.activeElement).toBe(status);
    expect(api.sent("POST /w/api/meetings/m1/publish")[0].headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(screen.queryByRole("button", { name: "Publish the agenda" })).toBeNull();
    expect(screen.getByRole("button", { name: "Close the follow-up" })).toBeTruthy();
  });

  it("closes the follow-up only once confirmed, after which nothing can change", async () => {
    const closed: MeetingView = { ...published, closed_at: "2026-12-20T10:00:00Z" };
    const { api, user } = show("m1", {
      meeting: published,
      routes: { "POST /w/api/meetings/m1/close": { body: closed } },
    });
    await user.click(await screen.findByRole("button", { name: "Close the follow-up" }));
    const dialog = screen.getByRole("alertdialog", { name: "Close the follow-up?" });
    expect(dialog.textContent).toContain("Members will no longer see its cases; it cannot change after.");
    await user.keyboard("{Escape}");
    expect(api.sent("POST /w/api/meetings/m1/close")).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Close the follow-up" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Close the follow-up" }));
    await screen.findByText("The follow-up is closed: members no longer see its cases.");
    expect(api.sent("POST /w/api/meetings/m1/close").length).toBe(1);
    expect(document.body.textContent).toContain("Follow-up closed on 20 Dec 2026");
    for (const name of ["Edit the meeting", "Publish the agenda", "Close the follow-up"])
      expect(screen.queryByRole("button", { name })).toBeNull();
  });

  it("says so when the follow-up was closed meanwhile, and shows the meeting as it now is", async () => {
    const { api, user } = show("m1", { routes: { "POST /w/api/meetings": refusal(409, "meeting_closed", CLOSED) } });
    await user.click(await screen.findByRole("button", { name: "Edit the meeting" }));
    api.answer("GET /w/api/meetings/m1", {
      body: meetingDetail(meetingView({ closed_at: "2026-12-20T10:00:00Z" })),
    });
    await user.click(screen.getByRole("button", { name: "Save the meeting" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "That meeting's follow-up is closed, so it cannot change; make a new meeting.",
    );
    expect(screen.queryByRole("form")).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit the meeting" })).toBeNull();
  });

  it("gives the manager the meeting to read, and nothing to change", async () => {
    const { api } = show("m1", { role: "manager" });
    await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" });
    expect(screen.getByRole("button", { name: "T-1" })).toBeTruthy();
    for (const name of ["Edit the meeting", "Publish the agenda", "Close the follow-up"])
      expect(screen.queryByRole("button", { name })).toBeNull();
    expect(screen.queryByRole("form")).toBeNull();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
  });

  describe("its minutes and extracts", () => {
    const invitedFour = meetingView({
      published_at: "2026-12-01T10:00:00Z",
      invited: ["PNL1", "PNL2", "PNL3", "PNL4"],
    });
    /** Four members invited, two of them police: an extract for each agency, once. */
    const routes = {
      "GET /w/api/meetings/m1": {
        body: meetingDetail(invitedFour, {
          attendance: [
            attendanceView(),
            attendanceView({ code: "PNL2", name: "Robin Probation", agency: "probation" }),
            attendanceView({ code: "PNL3", name: "Sam Support", agency: { other: "Housing" } }),
            attendanceView({ code: "PNL4", name: "Pip Police", agency: "police" }),
            attendanceView({ code: "PNL5", name: "Nobody's", agency: null }),
          ],
        }),
      },
    };
    const links = () =>
      within(screen.getByRole("region", { name: "Minutes" }))
        .getAllByRole("link")
        .map((a) => [a.textContent, a.getAttribute("href"), a.hasAttribute("download")]);

    for (const role of ["coordinator", "manager"] as const)
      it(`gives the ${role} the minutes and each invited agency's extract to download`, async () => {
        show("m1", { role, meeting: invitedFour, routes });
        await screen.findByRole("region", { name: "Minutes" });
        expect(links()).toEqual([
          ["Download the minutes (PDF)", "/w/api/meetings/m1/minutes", true],
          ["Extract for Police (PDF)", "/w/api/meetings/m1/extract?agency=police", true],
          ["Extract for Probation (PDF)", "/w/api/meetings/m1/extract?agency=probation", true],
          ["Extract for Housing (PDF)", "/w/api/meetings/m1/extract?agency=other%3Ahousing", true],
        ]);
      });

    it("offers none while the meeting is a draft", async () => {
      show("m1", { meeting: meetingView({ invited: ["PNL1"] }) });
      await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" });
      expect(screen.queryByRole("region", { name: "Minutes" })).toBeNull();
      expect(screen.queryByRole("link", { name: /PDF/ })).toBeNull();
    });
  });

  it("says so for a meeting the server does not have, or does not show", async () => {
    show("m9", {
      routes: {
        "GET /w/api/meetings/m9": refusal(404, "not_found", "there is no such record, or it is not one you may see"),
      },
    });
    expect((await screen.findByRole("alert")).textContent).toContain("There is no such meeting");
  });
});
