import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import CaseScreen from "./CaseScreen.svelte";
import { caseRecord, caseView, mockCommands, safeContact, safePhone, victim, vocabularies } from "../test-kit";

const view = caseView({
  file: {
    victim: victim({
      safe_contact: safeContact({
        phones: [safePhone({ label: "work", text_ok: true, voicemail_ok: false, safe_times: "after 6pm" })],
      }),
    }),
  },
  warnings: [
    { kind: "address_not_disclosed", severity: "danger", text: "Address: do not disclose" },
    { kind: "order_in_force", severity: "caution", text: "Stalking Protection Order in force until 12 March 2028" },
  ],
});

const backend = (shown = view) =>
  mockCommands({ vocabularies: () => vocabularies(), caseView: () => shown, instruments: () => [] });

describe("CaseScreen", () => {
  it("shows risk, warnings in order and the safe-contact rules by the phone number", async () => {
    const ipc = backend();
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const warnings = await screen.findByRole("list", { name: "Warnings" });
    const items = within(warnings)
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(items).toEqual(["Address: do not disclose", "Stalking Protection Order in force until 12 March 2028"]);
    expect(screen.getByText(/Risk: High/).textContent).toContain("review 5 Dec 2026");
    const safe = screen.getByRole("list", { name: "Safe contact" }).textContent ?? "";
    expect(safe).toContain("07700900123");
    expect(safe).toContain("texts OK, no voicemail, after 6pm");
    expect(ipc.last("caseView")).toEqual(["c1"]);
  });

  it("says a case with no risk level is not assessed", async () => {
    backend(caseView({ file: { case: caseRecord({ risk_level: null, risk_review_on: null }) } }));
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    expect((await screen.findByText(/^\s*Risk:/)).textContent?.trim()).toBe("Risk: Not assessed");
  });

  it("closes the case through closeCase with the closure's own field names, never through editRecord", async () => {
    // Why: close_case takes the closure's own fields and sets the status itself; the "closure." prefix only labels errors.
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseView: () => view,
      instruments: () => [],
      closeCase: (_caseId, closure) =>
        caseRecord({
          status: "closed",
          closure: {
            closed_on: String(closure.closed_on),
            reason: "victim_declined",
            feels_safer: null,
            behaviour_stopped: null,
            quality_of_life_improved: null,
          },
        }),
    });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const shown = (within(form).getByLabelText(/^Closed on/) as HTMLInputElement).value;
    expect(shown).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    const [day, month, year] = shown.split("/");
    await user.selectOptions(within(form).getByLabelText(/^Why the case is closing/), "Victim declined support");
    await user.click(within(form).getByRole("button", { name: "Close the case" }));
    await vi.waitFor(() => expect(ipc.calls("closeCase")).toHaveLength(1));
    expect(ipc.last("closeCase")).toStrictEqual([
      "c1",
      { closed_on: `${year}-${month}-${day}`, reason: "victim_declined" },
      false,
    ]);
    expect(ipc.calls("editRecord")).toEqual([]);
  });

  it("moves between sections with the arrow keys", async () => {
    backend();
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const incidents = await screen.findByRole("tab", { name: "Incidents" });
    expect(incidents.getAttribute("aria-selected")).toBe("true");
    incidents.focus();
    await userEvent.setup().keyboard("{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Risk" }).getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement?.textContent).toBe("Risk");
  });
});
