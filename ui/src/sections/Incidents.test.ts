import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Incidents from "./Incidents.svelte";
import type { Vocabularies } from "../lib/types";
import { askedFields, caseView, incident, mockCommands, orderEntry, vocabularies, withField } from "../test-kit";

const vocab = vocabularies();

/** The incident fields a person fills in, as the core presents them: its list, less what it sets itself. */
const formFields = (v: Vocabularies) => askedFields(v, "incident", "when_made");

/** The quick-add form. */
const quickAdd = () => screen.getByRole("form", { name: "Log an incident" });

/** A label's words without the mark a required field adds. */
const words = (text: string | null | undefined) => (text ?? "").replace(/\s*\*$/, "").trim();

/** The control a field's label names: a group of chips by its legend, any other input by its label. */
function control(label: string): HTMLElement {
  const form = within(quickAdd());
  return form.queryByRole("group", { name: label }) ?? form.getByLabelText((text) => words(text) === label);
}

describe("Incidents", () => {
  it("asks for every incident field the core presents and does not set itself, in its order and words", () => {
    // Why: the core's presented list is the one place that says what an incident shows; a field the form leaves out is one the advocate cannot record.
    render(Incidents, { view: caseView(), vocab, onsaved: () => {} });
    const expected = formFields(vocab);
    expect(expected.length).toBeGreaterThan(10);
    const shown = [...quickAdd().querySelectorAll(".field")].map((f) =>
      words(f.querySelector("legend, label")?.textContent),
    );
    expect(shown).toEqual(expected.map((p) => p.label));
    for (const { field, label } of expected) {
      const c = control(label);
      // The label names this field's own input, not just some text in the form.
      if (c.tagName !== "FIELDSET") expect(c.id, label).toBe(`incident-add-${field}`);
    }
  });

  it("shows a field the core adds as a text input, under the core's label", () => {
    // Why: the form derives from the presented list rather than repeating it, so a field new in Rust appears even before the form knows how to ask for it.
    const added = withField("incident", { field: "weather", label: "Weather", asked: "when_made" }, "breaches_order");
    render(Incidents, { view: caseView(), vocab: added, onsaved: () => {} });
    const weather = within(quickAdd()).getByRole("textbox", { name: "Weather" }) as HTMLInputElement;
    expect(weather.tagName).toBe("INPUT");
    expect(weather.type).toBe("text");
    expect(weather.id).toBe("incident-add-weather");
    expect(formFields(added).map((p) => p.field)).toContain("weather");
  });

  it("sends witnesses as a list of names and the breached order by its id", async () => {
    // Why: the core reads witnesses as a string list and breaches_order as an OrderId; a label or a single string would be refused or stored wrong.
    const view = caseView({
      file: { orders: [orderEntry({ order: { id: "o7", order_type: "spo", made_on: "2026-10-15" } })] },
    });
    const ipc = mockCommands({ addRecord: () => incident() });
    const onsaved = vi.fn();
    render(Incidents, { view, vocab, onsaved });
    const form = within(quickAdd());
    const user = userEvent.setup();
    await user.click(form.getByRole("button", { name: "Following" }));
    await user.selectOptions(form.getByRole("combobox", { name: "How" }), "in_person");
    await user.type(form.getByRole("textbox", { name: "What happened" }), "Followed her to the station.");
    await user.type(form.getByRole("textbox", { name: "Witnesses" }), "A. Neighbour{Enter}  {Enter}B. Passer-by");
    await user.type(form.getByRole("textbox", { name: "Evidence held" }), "Doorbell video");
    const breach = form.getByRole("combobox", { name: "Breach of" }) as HTMLSelectElement;
    expect(within(breach).getByRole("option", { name: /Stalking Protection Order/ })).toBeTruthy();
    await user.selectOptions(breach, "o7");
    await user.click(form.getByRole("button", { name: "Save incident" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, caseId, fields] = ipc.last("addRecord");
    expect([kind, caseId]).toEqual(["incident", "c1"]);
    expect(fields.witnesses).toEqual(["A. Neighbour", "B. Passer-by"]);
    expect(fields.breaches_order).toBe("o7");
    expect(fields.evidence).toEqual([{ description: "Doorbell video" }]);
    expect(Object.keys(fields)).not.toContain("recorded_at");
  });
});
