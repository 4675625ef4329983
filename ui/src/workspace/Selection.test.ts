import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Selection from "./Selection.svelte";
import { caseloadRow, vocabularies } from "../test-kit";
import {
  caseload,
  criterionMet,
  invalidForm,
  mockServer,
  selectionRow,
  selectionView,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { SelectionView, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

const VIEW: SelectionView = selectionView({
  rows: [
    selectionRow({
      met: [
        criterionMet(),
        criterionMet({ criterion: "escalation", basis: "referral", why: "ticked on the referral of 5 Jan 2026" }),
      ],
    }),
    selectionRow({
      case_id: "c2",
      reference: "T-2",
      advocate: "ADV2",
      met: [],
      last_heard_on: "2025-11-10",
      review_due_on: "2026-11-10",
      next_meeting: "2026-12-10",
    }),
    selectionRow({ case_id: "c3", reference: "T-3", removed: "Heard by MARAC last week" }),
  ],
});

function show(role: StaffRole = "coordinator", routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/selection": { body: VIEW },
    "GET /w/api/caseload": caseload([
      caseloadRow(),
      caseloadRow({ case_id: "c9", reference: "T-9", advocate: "ADV2" }),
      caseloadRow({ case_id: "c3", reference: "T-3" }),
    ]),
    "POST /w/api/selection": { body: VIEW },
    ...routes,
  });
  const onopen = vi.fn();
  render(Selection, { role, csrf: "csrf-from-sign-in", vocabularies: async () => vocabularies(), onopen });
  return { api, onopen, user: userEvent.setup() };
}

const words = (el: Element) => el.textContent?.replace(/\s+/g, " ").trim();
/** Each row's cells as text; a cell's list as its items, "; " between. */
const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .slice(1)
    .map((r) =>
      [...r.querySelectorAll("th, td")].map((c) => {
        const items = [...c.querySelectorAll("li")];
        return items.length ? items.map(words).join("; ") : words(c);
      }),
    );

function sentBody(api: ReturnType<typeof mockServer>) {
  const sent = api.sent("POST /w/api/selection");
  expect(sent.length).toBe(1);
  expect(sent[0].headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
  return sent[0].body;
}

describe("the selection for the panel", () => {
  it("lists each case with the criteria it meets, where found and why, when last heard and its next meeting", async () => {
    show();
    const table = await screen.findByRole("table", { name: "2 cases selected for the panel" });
    expect(rowsOf(table)).toEqual([
      [
        "T-1",
        "ADV1",
        'Visible high risk (14 or more "yes" on DASH) (found in the case\'s records): 14 "yes" on DASH of 1 Feb 2026; Escalation (3 or more incidents in 12 months) (ticked on the referral): ticked on the referral of 5 Jan 2026',
        "Never",
        "None yet",
        "Take off T-1",
      ],
      ["T-2", "ADV2", "None today", "10 Nov 2025 Due for review", "10 Dec 2026", "Take off T-2"],
    ]);
    const off = screen.getByRole("table", { name: "1 case the coordinator took off" });
    expect(rowsOf(off)).toEqual([["T-3", "ADV1", "Heard by MARAC last week", "Put back T-3"]]);
    // The service's criteria, each with its source.
    const criteria = screen.getByText("The criteria this service selects by").closest("details") as HTMLElement;
    expect(
      within(criteria)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([
      "The referrer's professional judgement: MASIP guidance, 2024",
      'Visible high risk (14 or more "yes" on DASH): DASH risk checklist',
    ]);
  });

  it("opens a case from its reference", async () => {
    const { onopen, user } = show();
    await user.click(await screen.findByRole("button", { name: "T-2" }));
    expect(onopen).toHaveBeenCalledWith("c2");
  });

  it("adds a case from the caseload, with a criterion and why", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: "Add a case" }));
    const form = within(screen.getByRole("form", { name: "Add a case to the selection" }));
    const picker = (await form.findByLabelText(/^Case/)) as HTMLSelectElement;
    // Those already selected are not offered; one taken off is.
    await form.findByRole("option", { name: "T-9, advocate ADV2" });
    expect([...picker.options].map((o) => o.textContent)).toEqual([
      "Choose a case",
      "T-3, advocate ADV1",
      "T-9, advocate ADV2",
    ]);
    await user.click(form.getByRole("button", { name: "Add to the selection" }));
    expect((await form.findByRole("alert")).textContent).toBe("Choose the case to add.");
    expect(picker.getAttribute("aria-invalid")).toBe("true");
    expect(form.getByLabelText(/^Why it is added/).getAttribute("aria-invalid")).toBe("true");
    expect(api.sent("POST /w/api/selection")).toEqual([]);
    await user.selectOptions(picker, "T-9, advocate ADV2");
    await user.selectOptions(
      form.getByLabelText("Criterion it meets"),
      "Escalation (3 or more incidents in 12 months)",
    );
    await user.type(form.getByLabelText(/^Why it is added/), " Threats after the hearing ");
    await user.click(form.getByRole("button", { name: "Add to the selection" }));
    await screen.findByText("T-9 is on the selection for the panel.");
    expect(sentBody(api)).toStrictEqual({
      case_id: "c9",
      include: true,
      criterion: "escalation",
      reason: "Threats after the hearing",
    });
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("status"));
  });

  it("takes a case off with a reason, and no criterion", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: "Take off T-1" }));
    const form = within(screen.getByRole("form", { name: "Take T-1 off the selection" }));
    expect(form.queryByLabelText("Criterion it meets")).toBeNull();
    expect(document.activeElement).toBe(form.getByLabelText(/^Why it comes off/));
    await user.type(form.getByLabelText(/^Why it comes off/), "Victim moved away");
    await user.click(form.getByRole("button", { name: "Take it off" }));
    await screen.findByText(/T-1 is taken off the selection/);
    expect(sentBody(api)).toStrictEqual({
      case_id: "c1",
      include: false,
      criterion: null,
      reason: "Victim moved away",
    });
  });

  it("puts a case back, and marks the reason the server refuses", async () => {
    const { api, user } = show("coordinator", {
      "POST /w/api/selection": invalidForm("the change has fields to put right", [
        { field: "reason", rule: "must be at most 500 characters" },
      ]),
    });
    await user.click(await screen.findByRole("button", { name: "Put back T-3" }));
    const form = within(screen.getByRole("form", { name: "Put T-3 back on the selection" }));
    await user.type(form.getByLabelText(/^Why it is added/), "New incidents");
    await user.click(form.getByRole("button", { name: "Put it back" }));
    expect((await form.findByRole("alert")).textContent).toBe("The change has fields to put right.");
    const why = form.getByLabelText(/^Why it is added/);
    expect(why.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(why.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "The reason must be at most 500 characters.",
    );
    expect(sentBody(api)).toStrictEqual({ case_id: "c3", include: true, criterion: null, reason: "New incidents" });
  });

  it("gives the focus back to the button that opened a change when it is cancelled", async () => {
    const { api, user } = show();
    const takeOff = await screen.findByRole("button", { name: "Take off T-2" });
    await user.click(takeOff);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(takeOff);
    expect(api.sent("POST /w/api/selection")).toEqual([]);
  });

  it("gives the manager the selection to read, and nothing to change", async () => {
    const { api } = show("manager");
    await screen.findByRole("table", { name: "2 cases selected for the panel" });
    for (const name of ["Add a case", "Take off T-1", "Put back T-3"])
      expect(screen.queryByRole("button", { name })).toBeNull();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
  });
});
