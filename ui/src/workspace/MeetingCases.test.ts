// A published meeting's page: the research matrix, attendance, each case's
// record, and the actions still open from earlier meetings.
import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Meeting from "./Meeting.svelte";
import { vocabularies } from "../test-kit";
import {
  actionView,
  agendaItemView,
  attendanceView,
  caseBrief,
  invalidForm,
  meetingCase,
  meetingDetail,
  meetingView,
  mockServer,
  researchView,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { MeetingDetail, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

const PUBLISHED = meetingView({
  published_at: "2026-12-01T10:00:00Z",
  research_due_on: "2026-12-05",
  invited: ["PNL1", "PNL2"],
  agenda: [agendaItemView(), agendaItemView({ case_id: "c2", reference: "T-2", minutes: 20 })],
});
/** The earlier meeting's action on T-1, open past its due date. */
const OVERDUE = actionView({
  id: "a0",
  meeting_id: "m0",
  meeting_on: "2026-11-12",
  action: "Check bail conditions",
  due_on: "2026-11-30",
  overdue: true,
});

function detail(overrides: Partial<MeetingDetail> = {}): MeetingDetail {
  return meetingDetail(PUBLISHED, {
    attendance: [
      attendanceView({ mark: "present" }),
      attendanceView({ code: "PNL2", name: "Robin Probation", agency: "probation" }),
    ],
    cases: [
      meetingCase({
        research: [researchView({ late: true, at: "2026-12-06T10:00:00Z", summary: "Two call-outs this year." })],
        awaiting: ["probation"],
        actions: [actionView()],
        earlier_open: [OVERDUE],
      }),
      meetingCase({ case_id: "c2", reference: "T-2", minutes: 20, awaiting: ["police", "probation"] }),
    ],
    ...overrides,
  });
}

function show({ role = "coordinator", routes = {} }: { role?: StaffRole; routes?: Record<string, Route> } = {}) {
  const api = mockServer({
    "GET /w/api/meetings/m1": { body: detail() },
    ...routes,
  });
  const props = {
    meetingId: "m1",
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

/** A table's rows, each as its cells' text. */
const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .map((r) => [...r.querySelectorAll("th, td")].map((c) => c.textContent?.replace(/\s+/g, " ").trim()));

describe("a published meeting's research", () => {
  it("shows by case and invited agency what came, late marked, and what is awaited", async () => {
    show();
    const table = await screen.findByRole("table", { name: "Research returned, by case and agency" });
    expect(rowsOf(table)).toEqual([
      ["Case", "Police", "Probation"],
      ["T-1", "Returned 6 Dec 2026 Late", "Awaited"],
      ["T-2", "Awaited", "Awaited"],
    ]);
    expect(document.body.textContent).toContain("Due by 5 Dec 2026; what came after is marked late.");
    const t1 = within(screen.getByRole("region", { name: "T-1" }));
    expect(t1.getByText("Two call-outs this year.")).toBeTruthy();
    expect(t1.getByText("Awaited from Probation.")).toBeTruthy();
  });

  it("lets the coordinator enter an agency's research, naming the agency", async () => {
    const { api, user } = show({ routes: { "POST /w/api/meetings/m1/research": { body: detail() } } });
    const t2 = within(await screen.findByRole("region", { name: "T-2" }));
    await user.click(t2.getByText("Enter research an agency sent another way"));
    const form = within(t2.getByRole("form", { name: "Enter research on T-2" }));
    await user.click(form.getByRole("button", { name: "Save the research on T-2" }));
    expect((await form.findByRole("alert")).textContent).toBe("Choose the agency the research is from.");
    expect(api.sent("POST /w/api/meetings/m1/research")).toEqual([]);
    await user.selectOptions(form.getByLabelText("Agency whose research on T-2 this is"), "Probation");
    await user.type(form.getByLabelText("Research on T-2"), "  On licence until March.  ");
    await user.click(form.getByRole("button", { name: "Save the research on T-2" }));
    await screen.findByText("The research of Probation on T-2 is saved.");
    const [sent] = api.sent("POST /w/api/meetings/m1/research");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({ case_id: "c2", summary: "On licence until March.", agency: "probation" });
  });
});

describe("a case's record in brief", () => {
  it("shows the coordinator who holds the case, its risk, incidents, hearing, contact and escalation", async () => {
    show({
      routes: {
        "GET /w/api/meetings/m1": {
          body: detail({
            cases: [
              meetingCase({ brief: caseBrief() }),
              meetingCase({
                case_id: "c2",
                reference: "T-2",
                brief: caseBrief({
                  risk_level: null,
                  risk_review_on: null,
                  next_hearing: null,
                  days_since_contact: null,
                  escalation: [],
                }),
              }),
            ],
          }),
        },
      },
    });
    const t1 = within(await screen.findByRole("region", { name: "T-1" }));
    const brief = t1.getByRole("heading", { name: "The record in brief" }).nextElementSibling as HTMLElement;
    const facts = [...brief.querySelectorAll("dt")].map((dt) => [
      dt.textContent?.trim(),
      dt.nextElementSibling?.textContent?.replace(/\s+/g, " ").trim(),
    ]);
    expect(facts).toEqual([
      ["Advocate", "ADV1"],
      ["Risk", "High"],
      ["Risk review due", "20 Dec 2026"],
      ["Incidents", "4"],
      ["Next hearing", expect.stringMatching(/^Mon,? 14 Dec 2026,? 10:30 \(UK time\)$/)],
      ["Last contact", "3 days ago"],
    ]);
    const escalating = t1.getByRole("list", { name: "Escalating:" });
    expect(
      within(escalating).getByText("Three incidents in the last 14 days, up from one in the 14 days before."),
    ).toBeTruthy();

    const t2 = within(screen.getByRole("region", { name: "T-2" }));
    const quiet = t2.getByRole("heading", { name: "The record in brief" }).nextElementSibling?.textContent;
    expect(quiet).toContain("Not assessed");
    expect(quiet).toContain("Not set");
    expect(quiet).toContain("None listed");
    expect(quiet).toContain("No contact recorded");
    expect(t2.queryByText("Escalating:")).toBeNull();
  });

  it("shows no brief where the server sends none, as to a panel member", async () => {
    show({ role: "panel_member" });
    await screen.findByRole("region", { name: "T-1" });
    expect(screen.queryByRole("heading", { name: "The record in brief" })).toBeNull();
    expect(screen.queryByText("Escalating:")).toBeNull();
  });
});

describe("a published meeting's attendance", () => {
  it("marks each invited member present or sending apologies, and sends the marks given", async () => {
    const { api, user } = show({
      routes: {
        "GET /w/api/meetings/m1": {
          body: detail({
            attendance: [
              attendanceView(),
              attendanceView({ code: "PNL2", name: "Robin Probation", agency: "probation" }),
            ],
          }),
        },
        "POST /w/api/meetings/m1/attendance": { body: detail() },
      },
    });
    await screen.findByText("No one is marked present yet: mark who came before recording the cases.");
    const form = within(screen.getByRole("form", { name: "Attendance" }));
    const pat = within(form.getByRole("group", { name: "Pat Panel (DEMO), Police — PNL1" }));
    await user.click(pat.getByRole("radio", { name: "Present" }));
    await user.click(form.getByRole("button", { name: "Save attendance" }));
    await screen.findByText("Attendance is saved: 1 present, 0 sending apologies.");
    expect(api.sent("POST /w/api/meetings/m1/attendance")[0].body).toStrictEqual({
      marks: [{ code: "PNL1", mark: "present" }],
    });
    expect(screen.getByText("1 marked present.")).toBeTruthy();
    // Drawn again from what the server now has.
    const again = within(screen.getByRole("form", { name: "Attendance" }));
    const robin = within(again.getByRole("group", { name: "Robin Probation, Probation — PNL2" }));
    expect((robin.getByRole("radio", { name: "Present" }) as HTMLInputElement).checked).toBe(false);
  });
});

describe("a case's record", () => {
  it("posts the information, typology, SRP, decisions and actions in the server's shape, an action kept by its id", async () => {
    const { api, user } = show({ routes: { "POST /w/api/meetings/m1/cases/c1": { body: detail() } } });
    const form = within(await screen.findByRole("form", { name: "Record T-1" }));
    // The action this meeting agreed is there to correct.
    expect((form.getByLabelText("What is to be done, action 1") as HTMLInputElement).value).toBe(
      "Apply for a Stalking Protection Order",
    );
    expect((form.getByLabelText("Due by, action 1") as HTMLInputElement).value).toBe("10/01/2027");
    await user.click(form.getByRole("button", { name: "Add information" }));
    await user.selectOptions(form.getByLabelText("Agency sharing, row 1"), "Probation");
    await user.type(form.getByLabelText("What they shared, row 1"), "On licence until March");
    await user.selectOptions(form.getByLabelText("Typology"), "Resentful");
    await user.selectOptions(form.getByLabelText("Rating of risk of violence"), "High");
    await user.type(form.getByLabelText("Rationale for risk of violence"), "Threats to kill");
    await user.selectOptions(form.getByLabelText("Rating of risk of persistence"), "Moderate");
    await user.type(form.getByLabelText("Rationale for risk of persistence"), "Months of contact");
    await user.click(form.getByRole("checkbox", { name: "MAPPA referral" }));
    await user.click(form.getByRole("checkbox", { name: "Stalking Protection Order application" }));
    await user.click(form.getByRole("button", { name: "Add another decision" }));
    await user.type(form.getByLabelText("Other decision 1"), "Housing move");
    await user.type(form.getByLabelText("Decision note"), "Review in 3 months");
    await user.type(form.getByLabelText("Named owner of action 1"), "DC Smith");
    await user.click(form.getByRole("button", { name: "Add an action" }));
    await user.selectOptions(form.getByLabelText("Agency owning action 2"), "Victims' charity");
    await user.type(form.getByLabelText("What is to be done, action 2"), "Safety plan review");
    await user.type(form.getByLabelText("Due by, action 2"), "20/12/2026");
    await user.click(form.getByRole("button", { name: "Save the record of T-1" }));
    await screen.findByText("What the panel recorded of T-1 is saved; it goes to the advocate's laptop.");
    const [sent] = api.sent("POST /w/api/meetings/m1/cases/c1");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({
      information: [{ agency: "probation", text: "On licence until March" }],
      typology: "resentful",
      srp: {
        violence: { rating: "high", rationale: "Threats to kill" },
        persistence: { rating: "moderate", rationale: "Months of contact" },
      },
      decisions: ["spo_application", "mappa_referral", { other: "Housing move" }],
      decision_note: "Review in 3 months",
      actions: [
        {
          id: "a1",
          agency: "police",
          named_owner: "DC Smith",
          action: "Apply for a Stalking Protection Order",
          due_on: "2027-01-10",
        },
        { agency: "victims_charity", named_owner: null, action: "Safety plan review", due_on: "2026-12-20" },
      ],
    });
  });

  it("asks for a rating's rationale and an action's due date on or after the meeting before sending", async () => {
    const { api, user } = show();
    const form = within(await screen.findByRole("form", { name: "Record T-2" }));
    await user.selectOptions(form.getByLabelText("Rating of risk of recurrence"), "Low");
    await user.click(form.getByRole("button", { name: "Add an action" }));
    await user.type(form.getByLabelText("What is to be done, action 1"), "Visit");
    await user.type(form.getByLabelText("Due by, action 1"), "01/12/2026");
    await user.click(form.getByRole("button", { name: "Save the record of T-2" }));
    await form.findByRole("alert");
    const rationale = form.getByLabelText("Rationale for risk of recurrence");
    expect(rationale.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(rationale);
    const due = form.getByLabelText("Due by, action 1");
    expect(due.getAttribute("aria-invalid")).toBe("true");
    expect(form.getByText("The due date must be on or after the meeting (10 Dec 2026).")).toBeTruthy();
    expect(api.sent("POST /w/api/meetings/m1/cases/c2")).toEqual([]);
  });

  it("marks each field the server names, and says to record who came first", async () => {
    const { user } = show({
      routes: {
        "POST /w/api/meetings/m1/cases/c1": invalidForm("the record has fields to put right", [
          { field: "attendance", rule: "record who came first" },
          { field: "srp.violence.rationale", rule: "must not be empty" },
          { field: "actions[0].due_on", rule: "is before the meeting" },
        ]),
      },
    });
    const form = within(await screen.findByRole("form", { name: "Record T-1" }));
    await user.click(form.getByRole("button", { name: "Save the record of T-1" }));
    const alert = await form.findByRole("alert");
    expect(alert.textContent).toBe(
      "The record has fields to put right. Attendance: record who came first; mark who came above, then save again.",
    );
    const due = form.getByLabelText("Due by, action 1");
    expect(due.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (due.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent?.trim());
    expect(describedBy).toContain("The due date is before the meeting.");
    expect(form.getByLabelText("Rationale for risk of violence").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(form.getByLabelText("Rationale for risk of violence"));
  });

  it("sends an action taken off the list no more, so the server cancels it", async () => {
    const { api, user } = show({ routes: { "POST /w/api/meetings/m1/cases/c1": { body: detail() } } });
    const form = within(await screen.findByRole("form", { name: "Record T-1" }));
    await user.click(form.getByRole("button", { name: "Remove action 1" }));
    await user.click(form.getByRole("button", { name: "Save the record of T-1" }));
    await screen.findByText(/is saved/);
    expect(api.sent("POST /w/api/meetings/m1/cases/c1")[0].body).toMatchObject({ actions: [] });
  });
});

describe("the actions still open from earlier meetings", () => {
  it("asks why an overdue one closed, only when closing it, and sends the reason", async () => {
    const { api, user } = show({
      routes: { "POST /w/api/actions/a0": { body: { actions: [] } } },
    });
    const form = within(await screen.findByRole("form", { name: "Update T-1: Check bail conditions" }));
    expect(screen.getAllByText("Overdue").length).toBeGreaterThan(0);
    expect(form.queryByLabelText(/Why it closed after its due date/)).toBeNull();
    await user.selectOptions(form.getByLabelText("Status"), "Done");
    const why = form.getByLabelText(/Why it closed after its due date/);
    await user.click(form.getByRole("button", { name: "Save T-1: Check bail conditions" }));
    expect((await form.findByRole("alert")).textContent).toBe("Say why it closed after its due date.");
    expect(api.sent("POST /w/api/actions/a0")).toEqual([]);
    await user.selectOptions(why, "Circumstances changed");
    api.answer("GET /w/api/meetings/m1", { body: detail({ cases: [meetingCase()] }) });
    await user.click(form.getByRole("button", { name: "Save T-1: Check bail conditions" }));
    await screen.findByText('The action "Check bail conditions" on T-1 is saved: done.');
    const [sent] = api.sent("POST /w/api/actions/a0");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({
      status: "done",
      overdue: "circumstances_changed",
      note: null,
      named_owner: null,
    });
    // The meeting as it now is: the action is no longer open.
    expect(screen.queryByRole("form", { name: "Update T-1: Check bail conditions" })).toBeNull();
  });
});

describe("the manager's reading of a meeting", () => {
  it("shows the attendance and what was recorded, with nothing to change", async () => {
    const { api } = show({
      role: "manager",
      routes: {
        "GET /w/api/meetings/m1": {
          body: detail({
            cases: [
              meetingCase({
                record: {
                  information: [{ agency: { other: "Local housing team" }, text: "Tenancy at risk" }],
                  typology: "resentful",
                  srp: { violence: { rating: "high", rationale: "Threats to kill" } },
                  decisions: ["mappa_referral", { other: "Housing move" }],
                  decision_note: null,
                  recorded_by: "COORD1",
                  recorded_at: "2026-12-10T12:00:00Z",
                },
                actions: [actionView()],
                earlier_open: [OVERDUE],
              }),
            ],
          }),
        },
      },
    });
    const t1 = within(await screen.findByRole("region", { name: "T-1" }));
    const text = t1
      .getByRole("heading", { name: "What the panel recorded" })
      .parentElement?.textContent?.replace(/\s+/g, " ");
    expect(text).toContain("Recorded by COORD1 on 10 Dec 2026.");
    expect(text).toContain("Local housing team: Tenancy at risk");
    expect(text).toContain("Risk of violence: High, Threats to kill");
    expect(text).toContain("Risk of persistence: not rated");
    expect(text).toContain("MAPPA referral; Housing move");
    expect(screen.getByText("Pat Panel (DEMO), Police: Present")).toBeTruthy();
    expect(screen.queryByRole("form")).toBeNull();
    expect(screen.queryByRole("button", { name: /^Save/ })).toBeNull();
    expect(api.log.every((s) => s.method === "GET")).toBe(true);
  });
});
