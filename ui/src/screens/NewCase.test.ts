import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import NewCase from "./NewCase.svelte";
import { askedFields, mockCommands, shownFields, vocabularies, withField } from "../test-kit";
import type { Vocabularies } from "../lib/types";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

// Each record's fields, not the records' legends.
const byRecord = { partsAsOne: false };
const backend = (vocab: Vocabularies = vocabularies()) =>
  mockCommands({ vocabularies: () => vocab, openCase: () => "c9" });
// The form is named by its own heading, not the screen's.
const newCase = () => screen.findByRole("form", { name: "Case and victim" });

describe("NewCase", () => {
  it("asks the case's fields and then the victim's, as the core presents them for a new record, each under its own legend", async () => {
    // Why: the fields and their words are the core's; the victim's "Name" must read as the victim's, to a screen reader too, without words of the form's own.
    const vocab = vocabularies();
    backend(vocab);
    render(NewCase, { oncreated: () => {} });
    const form = await newCase();
    const caseLabels = askedFields(vocab, "case", "when_made").map((p) => p.label);
    const victimLabels = askedFields(vocab, "victim", "when_made").map((p) => p.label);
    expect(shownFields(form, byRecord)).toEqual([...caseLabels, ...victimLabels]);
    expect(caseLabels).not.toContain("Advocate");
    expect(victimLabels).toEqual([
      "Name",
      "Preferred name",
      "Interpreter needed",
      "Address (one line each)",
      "Postcode",
    ]);
    const theCase = within(form).getByRole("group", { name: "The case" });
    const theVictim = within(form).getByRole("group", { name: "The victim" });
    expect(shownFields(theCase, byRecord)).toEqual(caseLabels);
    expect(shownFields(theVictim, byRecord)).toEqual(victimLabels);
    const name = within(theVictim).getByRole("textbox", { name: "Name" });
    expect(name.id).toBe("new-case-victim-name");
    expect(within(theVictim).getByText("Held as do-not-disclose unless you change it later.")).toBeTruthy();
  });

  it("opens the case with each record's own field names", async () => {
    // Why: open_case takes the case and the victim apart; the prefixes only tell the two halves of the form apart.
    const ipc = backend();
    const oncreated = vi.fn();
    render(NewCase, { oncreated });
    const f = within(await newCase());
    const u = userEvent.setup();
    await u.type(f.getByRole("textbox", { name: "Case reference" }), "T-9");
    await u.selectOptions(f.getByRole("combobox", { name: "Referred by" }), "police");
    await u.type(f.getByRole("textbox", { name: "Reason for referral" }), "Followed after separation");
    await u.type(f.getByRole("textbox", { name: "Name" }), "Test Person");
    await u.click(f.getByRole("button", { name: "Open the case" }));
    await vi.waitFor(() => expect(oncreated).toHaveBeenCalledWith("c9"));
    expect(ipc.last("openCase")).toStrictEqual([
      {
        case: {
          reference: "T-9",
          "referral.source": "police",
          "referral.reason": "Followed after separation",
          "referral.consent_recorded": false,
        },
        victim: { name: "Test Person", interpreter_needed: false },
      },
      false,
    ]);
  });

  it("shows a field the core adds to cases or victims, in its part of the form", async () => {
    // Why: the form derives from the presented lists, so a field new in Rust appears, in the right record's part, before the UI knows how to ask.
    backend(withField("victim", { field: "pronouns", label: "Pronouns", asked: "when_made_and_later" }, "name"));
    render(NewCase, { oncreated: () => {} });
    const theVictim = within(await newCase()).getByRole("group", { name: "The victim" });
    const pronouns = within(theVictim).getByRole("textbox", { name: "Pronouns" }) as HTMLInputElement;
    expect(pronouns.id).toBe("new-case-victim-pronouns");
    expect(shownFields(theVictim, byRecord).slice(0, 2)).toEqual(["Name", "Pronouns"]);
  });
});
