import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import CaseScreen from "./CaseScreen.svelte";
import {
  askedFields,
  caseRecord,
  caseView,
  mockCommands,
  safeContact,
  safePhone,
  shownFields,
  victim,
  vocabularies,
  withField,
} from "../test-kit";
import type { Vocabularies } from "../lib/types";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

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
      // Outcomes at exit left unanswered are sent as not asked.
      {
        closed_on: `${year}-${month}-${day}`,
        reason: "victim_declined",
        feels_safer: null,
        behaviour_stopped: null,
        quality_of_life_improved: null,
      },
      false,
    ]);
    expect(ipc.calls("editRecord")).toEqual([]);
  });

  it("asks exactly the closure's fields the core presents, in its order and words", async () => {
    // Why: closing a case is the closure's own screen; its fields and words are the core's, the case's other fields are not asked here.
    const vocab = vocabularies();
    mockCommands({ vocabularies: () => vocab, caseView: () => view, instruments: () => [] });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    await userEvent.setup().click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const expected = askedFields(vocab, "case", "own_screen", "closure").map((p) => p.label);
    expect(shownFields(form)).toEqual(expected);
    expect(expected).toEqual([
      "Closed on",
      "Why the case is closing",
      "The victim feels safer",
      "The stalking behaviour stopped",
      "Quality of life improved",
    ]);
    const feelsSafer = within(form).getByRole("combobox", { name: "The victim feels safer" });
    expect(
      within(feelsSafer)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Not answered", "Yes", "No"]);
  });

  it("sends the outcomes at exit as true, false or null", async () => {
    // Why: the core reads each as `boolean | null`; the words "yes" or "true" would be refused, and "no" must not be read as not asked.
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseView: () => view,
      instruments: () => [],
      closeCase: () => caseRecord({ status: "closed" }),
    });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = within(screen.getByRole("form", { name: "Close the case" }));
    await user.selectOptions(form.getByRole("combobox", { name: /^Why the case is closing/ }), "support_complete");
    await user.selectOptions(form.getByRole("combobox", { name: "The victim feels safer" }), "Yes");
    await user.selectOptions(form.getByRole("combobox", { name: "The stalking behaviour stopped" }), "No");
    await user.click(form.getByRole("button", { name: "Close the case" }));
    await vi.waitFor(() => expect(ipc.calls("closeCase")).toHaveLength(1));
    const [, closure] = ipc.last("closeCase");
    expect(closure.feels_safer).toBe(true);
    expect(closure.behaviour_stopped).toBe(false);
    expect(closure.quality_of_life_improved).toBeNull();
  });

  it("shows a closure field the core adds, as a text input, and none of the case's other fields", async () => {
    // Why: the close form derives from the presented list, so a field new in Rust appears; the `closure.` scope keeps the case's own fields out.
    const added: Vocabularies = withField(
      "case",
      { field: "closure.closing_letter_sent_on", label: "Closing letter sent on", asked: "own_screen" },
      "closure.reason",
    );
    mockCommands({ vocabularies: () => added, caseView: () => view, instruments: () => [] });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    await userEvent.setup().click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const letter = within(form).getByRole("textbox", { name: "Closing letter sent on" }) as HTMLInputElement;
    expect(letter.id).toBe("case-close-closure-closing_letter_sent_on");
    expect(shownFields(form).slice(1, 3)).toEqual(["Why the case is closing", "Closing letter sent on"]);
    expect(shownFields(form)).not.toContain("Risk level");
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
