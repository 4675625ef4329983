import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import CaseScreen from "./CaseScreen.svelte";

const choices = (...values: string[]) => values.map((value) => ({ value, label: value.toUpperCase() }));
const vocab = {
  behaviours: choices("following"),
  channels: choices("text"),
  case_statuses: choices("open"),
  risk_levels: [{ value: "high", label: "High" }],
  referral_sources: [],
  relationships: [],
  hearing_types: [],
  order_types: [],
  condition_kinds: [],
  contact_methods: [],
  plan_sections: [],
  answers: [],
  task_statuses: [],
  closure_reasons: [],
  referral_targets: [],
  referral_statuses: [],
};

const view = {
  file: {
    case: { id: "c1", reference: "T-1", status: "open", risk_level: "high", risk_review_on: "2026-12-05" },
    victim: {
      id: "v1",
      name: "Test Person",
      preferred_name: null,
      address: { lines: ["1 Test Street"], postcode: null, do_not_disclose: true },
      safe_contact: { phones: [{ number: "07700900123", label: "work", text_ok: true, voicemail_ok: false, safe_times: "after 6pm" }] },
    },
    perpetrators: [],
    incidents: [],
    risk_assessments: [],
    safety_plans: [],
    hearings: [],
    orders: [],
    referrals: [],
    clinic_reviews: [],
    contacts: [],
    tasks: [],
    reminders: [],
  },
  warnings: [
    { kind: "address_not_disclosed", severity: "danger", text: "Address: do not disclose" },
    { kind: "order_in_force", severity: "caution", text: "Stalking Protection Order in force until 12 March 2028" },
  ],
  timeline: { weeks: [], behaviours: [] },
  audit: [],
};

describe("CaseScreen", () => {
  it("shows risk, warnings in order and the safe-contact rules by the phone number", async () => {
    mockIPC((cmd) => (cmd === "vocabularies" ? vocab : cmd === "case_view" ? view : cmd === "instruments" ? [] : undefined));
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const warnings = await screen.findByRole("list", { name: "Warnings" });
    const items = within(warnings).getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual(["Address: do not disclose", "Stalking Protection Order in force until 12 March 2028"]);
    expect(screen.getByText(/Risk: High/).textContent).toContain("review 5 Dec 2026");
    const safe = screen.getByRole("list", { name: "Safe contact" }).textContent ?? "";
    expect(safe).toContain("07700900123");
    expect(safe).toContain("texts OK, no voicemail, after 6pm");
  });

  it("moves between sections with the arrow keys", async () => {
    mockIPC((cmd) => (cmd === "vocabularies" ? vocab : cmd === "case_view" ? view : cmd === "instruments" ? [] : undefined));
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const incidents = await screen.findByRole("tab", { name: "Incidents" });
    expect(incidents.getAttribute("aria-selected")).toBe("true");
    incidents.focus();
    await userEvent.setup().keyboard("{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Risk" }).getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement?.textContent).toBe("Risk");
  });
});
