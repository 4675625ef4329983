import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Case from "./Case.svelte";
import { caseFile, caseRecord, hearing, incident, orderEntry, perpetrator, victim, vocabularies } from "../test-kit";
import { caseAnswer, mockServer, refusal } from "./server-mock";
import type { Warning } from "../lib/bindings";
import type { IncidentEntry } from "../lib/types";

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

function show(answer = caseAnswer(FILE, WARNINGS), onback = () => {}) {
  const api = mockServer({ "GET /w/api/cases/c7": answer });
  render(Case, { caseId: "c7", vocabularies: async () => vocabularies(), onback });
  return api;
}

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
