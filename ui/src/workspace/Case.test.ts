import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Case from "./Case.svelte";
import {
  caseFile,
  caseRecord,
  escalating,
  escalation,
  escalationReview,
  hearing,
  incident,
  orderEntry,
  perpetrator,
  riskAssessment,
  victim,
  vocabularies,
} from "../test-kit";
import { advocateView, caseAnswer, mockServer, refusal, type Route } from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { Warning } from "../lib/bindings";
import type { IncidentEntry } from "../lib/types";
import type { StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

const entry = (overrides: Parameters<typeof incident>[0]): IncidentEntry => {
  const i = incident(overrides);
  return { original: i, amendments: [], current: i };
};

const WARNINGS: Warning[] = [
  { kind: "interpreter_needed", severity: "info", text: "Interpreter needed" },
  { kind: "order_in_force", severity: "caution", text: "Stalking Protection Order in force until 15 Oct 2028" },
  { kind: "address_not_disclosed", severity: "danger", text: "Address: do not disclose" },
];

const FILE = caseFile({
  case: caseRecord({ reference: "T-7" }),
  victim: victim({ name: "Jo Example", preferred_name: "Jo" }),
  perpetrators: [perpetrator({ names: ["Sam Suspect", "S. Suspect"] })],
  incidents: Array.from({ length: 7 }, (_, n) =>
    entry({
      id: `i${n}`,
      occurred_at: `2026-11-${String(10 + n).padStart(2, "0")}T19:30:00Z`,
      behaviours: n === 6 ? ["following", "unwanted_contact"] : ["loitering"],
    }),
  ),
  hearings: [hearing()],
  orders: [orderEntry()],
});

function show(
  answer = caseAnswer(FILE, WARNINGS),
  onback = () => {},
  role: StaffRole = "coordinator",
  routes: Record<string, Route> = {},
) {
  const api = mockServer({ "GET /w/api/cases/c7": answer, ...routes });
  render(Case, { caseId: "c7", role, csrf: "csrf-from-sign-in", vocabularies: async () => vocabularies(), onback });
  return api;
}

const ADVOCATES = [
  advocateView({ code: "ADV1", name: "Ash Advocate", open_cases: 12 }),
  advocateView({ code: "ADV2", name: "Sam Support", open_cases: 1 }),
];

describe("the workspace's case", () => {
  it("shows the warnings, danger first, before the rest of the case", async () => {
    show();
    const warnings = await screen.findByRole("list", { name: "Warnings" });
    expect(
      within(warnings)
        .getAllByRole("listitem")
        .map((li) => [li.textContent, li.className]),
    ).toEqual([
      ["Address: do not disclose", "warning danger"],
      ["Stalking Protection Order in force until 15 Oct 2028", "warning caution"],
      ["Interpreter needed", "warning info"],
    ]);
    for (const later of [
      screen.getByRole("heading", { name: "The case" }),
      screen.getByRole("heading", { name: "Victim" }),
      screen.getByText("Jo Example"),
    ])
      expect(warnings.compareDocumentPosition(later) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    // Only the title comes before them.
    const h1 = screen.getByRole("heading", { level: 1, name: "Case T-7" });
    expect(h1.compareDocumentPosition(warnings) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("shows the case, the victim's names, the perpetrators, the latest incidents and the court, but no address", async () => {
    const api = show();
    await screen.findByRole("heading", { level: 1, name: "Case T-7" });
    const text = document.body.textContent ?? "";
    for (const expected of [
      "Open",
      "High",
      "5 Dec 2026",
      "ADV1",
      "Police, received 1 Oct 2026",
      "Referred by the police after a report of stalking.",
      "Jo Example",
      "Sam Suspect, S. Suspect (Ex-intimate partner)",
      "7 incidents recorded; the latest 5:",
      "Thu, 14 Jan 2027, 10:00: Trial, Example Magistrates' Court",
      "Stalking Protection Order, made 15 Oct 2026, until 15 Oct 2028: in force",
    ])
      expect(text).toContain(expected);
    const diary = screen.getAllByRole("listitem").filter((li) => li.closest(".diary"));
    expect(diary.length).toBe(5);
    expect(diary[0].textContent).toContain("Mon, 16 Nov 2026, 19:30");
    expect(diary[0].textContent).toContain("Following, Unwanted contact by phone, text, email or letter");
    expect(text).not.toContain("1 Test Street");
    expect(api.sent("GET /w/api/cases/c7").length).toBe(1);
  });

  it("goes back to the caseload", async () => {
    const onback = vi.fn();
    show(caseAnswer(FILE), onback);
    await screen.findByRole("heading", { level: 1, name: "Case T-7" });
    expect(screen.queryByRole("list", { name: "Warnings" })).toBeNull();
    await userEvent.setup().click(screen.getByRole("button", { name: "Back to caseload" }));
    expect(onback).toHaveBeenCalled();
  });

  it("says the server's message for a case it does not know", async () => {
    show(refusal(404, "not_found", "There is no such case."));
    expect((await screen.findByRole("alert")).textContent).toBe("There is no such case.");
    expect(screen.getByRole("button", { name: "Back to caseload" })).toBeTruthy();
  });
});

describe("a case's escalation", () => {
  const ESCALATING = caseFile({
    ...FILE,
    escalation: escalating({ last_review: "2026-11-01T10:00:00Z" }),
    risk_assessments: [riskAssessment({ id: "a2", assessed_on: "2026-10-20" })],
    escalation_reviews: [
      escalationReview({ id: "e1", reviewed_at: "2026-10-05T09:00:00Z", note: "Police told.", signs: ["breach"] }),
      escalationReview({
        id: "e2",
        reviewed_at: "2026-11-01T10:00:00Z",
        reviewed_by: "ADV2",
        signs: ["more_serious", "four_markers"],
        note: "New threats; reassessed with the victim.",
        risk_assessment_id: "a2",
      }),
    ],
  });

  it("is said first, before the warnings, each finding's sign in the core's words, its text and since when", async () => {
    show(caseAnswer(ESCALATING, WARNINGS));
    const notice = await screen.findByRole("region", { name: "Escalating" });
    const warnings = screen.getByRole("list", { name: "Warnings" });
    expect(notice.compareDocumentPosition(warnings) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const h1 = screen.getByRole("heading", { level: 1, name: "Case T-7" });
    expect(h1.compareDocumentPosition(notice) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(
      within(within(notice).getByRole("list", { name: "What changed" }))
        .getAllByRole("listitem")
        .map((li) => li.textContent?.replace(/\s+/g, " ").trim()),
    ).toEqual([
      "More frequent incidents: 3 incidents in the last 7 days, against about 1 a week before (since 16/11/2026)",
      "Risk review due: re-assess risk: the last assessment was on 1 October, before this (since 16/11/2026)",
    ]);
  });

  it("shows the reviews recorded, newest first: when, by whom, the signs, the note and the assessment made", async () => {
    show(caseAnswer(ESCALATING));
    const section = await screen.findByRole("region", { name: "Escalation reviews" });
    expect(
      within(section)
        .getAllByRole("listitem")
        .map((li) => [...li.querySelectorAll("p")].map((p) => p.textContent?.replace(/\s+/g, " ").trim())),
    ).toEqual([
      [
        "1 Nov 2026, by ADV2: A more serious behaviour, FOUR markers newly present",
        "New threats; reassessed with the victim.",
        "A risk assessment was made because of it, on 20 Oct 2026.",
      ],
      ["5 Oct 2026, by ADV1: Breach of an order or condition", "Police told."],
    ]);
  });

  it("is not said for a case no escalation flags, and says no review is recorded", async () => {
    show(caseAnswer(caseFile({ ...FILE, escalation: escalation(), escalation_reviews: [] }), WARNINGS));
    await screen.findByRole("list", { name: "Warnings" });
    expect(screen.queryByRole("region", { name: "Escalating" })).toBeNull();
    expect(screen.queryByText(/^Escalating/)).toBeNull();
    const section = screen.getByRole("region", { name: "Escalation reviews" });
    expect(section.textContent).toContain("No escalation review is recorded.");
  });
});

describe("reassigning a case", () => {
  const manager = (routes: Record<string, Route> = {}) =>
    show(caseAnswer(FILE), () => {}, "manager", {
      "GET /w/api/advocates": { body: ADVOCATES },
      "POST /w/api/cases/c7/reassign": { status: 204 },
      ...routes,
    });

  it("is not offered to the coordinator, who asks for no advocates", async () => {
    const api = show(caseAnswer(FILE), () => {}, "coordinator");
    await screen.findByRole("heading", { level: 1, name: "Case T-7" });
    expect(screen.queryByRole("button", { name: "Reassign" })).toBeNull();
    expect(screen.queryByRole("form", { name: "Reassign the case" })).toBeNull();
    expect(api.sent("GET /w/api/advocates")).toEqual([]);
  });

  it("moves the case to the advocate the manager chose, with the CSRF token, then says so and shows it", async () => {
    const api = manager();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Reassign" }));
    const advocate = (await screen.findByLabelText("Advocate to move the case to")) as HTMLSelectElement;
    expect(document.activeElement).toBe(advocate);
    // The advocate who has the case is not offered.
    expect([...advocate.options].map((o) => o.textContent)).toEqual(["Choose…", "Sam Support (ADV2), 1 open case"]);
    await user.selectOptions(advocate, "ADV2");
    api.answer("GET /w/api/cases/c7", caseAnswer({ ...FILE, case: { ...FILE.case, advocate: "ADV2" } }));
    await user.click(screen.getByRole("button", { name: "Move the case" }));
    const status = await screen.findByRole("status");
    await within(status).findByText(/moved/);
    expect(status.textContent).toBe(
      "Case T-7 moved from ADV1 to Sam Support (ADV2). Their laptop receives the whole case at its next sync; ADV1's laptop no longer receives its changes.",
    );
    expect(document.activeElement).toBe(status);
    const [sent] = api.sent("POST /w/api/cases/c7/reassign");
    expect(sent.body).toEqual({ advocate: "ADV2" });
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    // Loaded again: the case shows its new advocate.
    expect(api.sent("GET /w/api/cases/c7").length).toBe(2);
    const details = screen.getByRole("region", { name: "The case" });
    expect(within(details).getByText("ADV2").tagName).toBe("DD");
    expect(screen.queryByRole("form", { name: "Reassign the case" })).toBeNull();
  });

  it("asks for an advocate before sending anything", async () => {
    const api = manager();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Reassign" }));
    await user.click(await screen.findByRole("button", { name: "Move the case" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Choose the advocate to move the case to.");
    const advocate = screen.getByLabelText("Advocate to move the case to");
    expect(advocate.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(advocate);
    expect(api.sent("POST /w/api/cases/c7/reassign")).toEqual([]);
  });

  it("says the server's message when it refuses, and keeps the case as it was", async () => {
    manager({
      "POST /w/api/cases/c7/reassign": refusal(
        400,
        "bad_request",
        "the request is not valid (the case is already assigned to that advocate)",
      ),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Reassign" }));
    await user.selectOptions(await screen.findByLabelText("Advocate to move the case to"), "ADV2");
    await user.click(screen.getByRole("button", { name: "Move the case" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The request is not valid (the case is already assigned to that advocate).",
    );
    expect(screen.getByRole("status").textContent).toBe("");
  });

  it("goes back to the Reassign button when cancelled", async () => {
    manager();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Reassign" }));
    await user.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form", { name: "Reassign the case" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Reassign" }));
  });
});
