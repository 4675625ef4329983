import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import People from "./People.svelte";
import {
  askedFields,
  caseView,
  mockCommands,
  perpetrator,
  safeContact,
  shownFields,
  victim,
  vocabularies,
  withField,
} from "../test-kit";

const vocab = vocabularies();

describe("People", () => {
  it("edits the victim with exactly the fields the core asks later, in its order and words, from what is stored", async () => {
    // Why: the victim's details are asked after the case is opened from the core's "later" list; a field that started blank would be cleared on save.
    const stored = victim({
      name: "Test Person",
      gender: "Woman",
      disabilities: "Hearing loss",
      address: { lines: ["1 Test Street", "Testtown"], postcode: "TE1 1ST", do_not_disclose: true },
      safe_contact: safeContact({ email: "safe@example.org", email_safe: true, safe_times: "Mornings" }),
    });
    render(People, { view: caseView({ file: { victim: stored } }), vocab, which: "victim", onsaved: () => {} });
    await userEvent.setup().click(screen.getByRole("button", { name: "Edit details" }));
    const form = screen.getByRole("form", { name: "Edit the victim's details" });
    const expected = askedFields(vocab, "victim", "later").map((p) => p.label);
    expect(shownFields(form)).toEqual(expected);
    expect(expected).toEqual([
      "Name",
      "Preferred name",
      "Date of birth",
      "Gender",
      "Language",
      "Interpreter needed",
      "Disabilities or support needs",
      "Address (one line each)",
      "Postcode",
      "Address: do not disclose",
      "Email",
      "Email is safe to use",
      "Safe times to contact",
      "Safe contact notes",
    ]);
    const f = within(form);
    const value = (name: string) => (f.getByRole("textbox", { name }) as HTMLInputElement).value;
    expect(value("Gender")).toBe("Woman");
    expect(value("Disabilities or support needs")).toBe("Hearing loss");
    expect(value("Address (one line each)")).toBe("1 Test Street\nTesttown");
    expect(value("Email")).toBe("safe@example.org");
    expect((f.getByRole("checkbox", { name: "Email is safe to use" }) as HTMLInputElement).checked).toBe(true);
  });

  it("saves the victim's details by their paths, and no address lines as no address", async () => {
    // Why: the core reads `safe_contact.email` and friends by path, and an address with no lines is no address, not an empty one.
    const ipc = mockCommands({ editRecord: () => victim() });
    const onsaved = vi.fn();
    render(People, { view: caseView(), vocab, which: "victim", onsaved });
    const u = userEvent.setup();
    await u.click(screen.getByRole("button", { name: "Edit details" }));
    const f = within(screen.getByRole("form", { name: "Edit the victim's details" }));
    await u.clear(f.getByRole("textbox", { name: "Address (one line each)" }));
    await u.type(f.getByRole("textbox", { name: "Email" }), "safe@example.org");
    await u.click(f.getByRole("button", { name: "Save details" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, id, fields] = ipc.last("editRecord");
    expect([kind, id]).toEqual(["victim", "v1"]);
    expect(fields["safe_contact.email"]).toBe("safe@example.org");
    expect(fields.gender).toBeNull();
    expect(fields.address).toBeNull();
    expect(Object.keys(fields).filter((k) => k.startsWith("address."))).toEqual([]);
    // Lists with entries of their own are asked by their own forms, never sent from this one.
    expect(Object.keys(fields)).not.toContain("safe_contact.phones");
    expect(Object.keys(fields)).not.toContain("dependants");
  });

  it("shows a field the core adds to victims in the edit form, as a text input from what is stored", async () => {
    // Why: a field new in Rust appears in the form that asks it, and starts from the stored value so saving does not clear it.
    const added = withField("victim", { field: "pronouns", label: "Pronouns", asked: "later" }, "gender");
    const stored = { ...victim(), pronouns: "she/her" };
    render(People, { view: caseView({ file: { victim: stored } }), vocab: added, which: "victim", onsaved: () => {} });
    await userEvent.setup().click(screen.getByRole("button", { name: "Edit details" }));
    const form = screen.getByRole("form", { name: "Edit the victim's details" });
    expect(shownFields(form).slice(3, 6)).toEqual(["Gender", "Pronouns", "Language"]);
    const pronouns = within(form).getByRole("textbox", { name: "Pronouns" }) as HTMLInputElement;
    expect(pronouns.id).toBe("victim-edit-pronouns");
    expect(pronouns.value).toBe("she/her");
  });

  it("adds a perpetrator with the core's fields for a new one, and edits with its later ones", async () => {
    // Why: what is known at first (names, relationship) and what is found out later (addresses, probation, MAPPA) are the core's to say.
    const view = caseView({
      file: { perpetrators: [perpetrator({ addresses: ["2 Other Road"], mappa_status: "Level 2" })] },
    });
    render(People, { view, vocab, which: "perpetrator", onsaved: () => {} });
    expect(shownFields(screen.getByRole("form", { name: "Add a perpetrator" }))).toEqual(
      askedFields(vocab, "perpetrator", "when_made").map((p) => p.label),
    );
    await userEvent.setup().click(screen.getByRole("button", { name: "Edit details" }));
    const form = screen.getByRole("form", { name: "Edit the perpetrator's details" });
    const expected = askedFields(vocab, "perpetrator", "later").map((p) => p.label);
    expect(shownFields(form)).toEqual(expected);
    expect(expected).toContain("Known addresses (one a line)");
    expect(expected).not.toContain("Typology");
    const f = within(form);
    expect((f.getByRole("textbox", { name: "Known addresses (one a line)" }) as HTMLTextAreaElement).tagName).toBe(
      "TEXTAREA",
    );
    expect((f.getByRole("textbox", { name: "Known addresses (one a line)" }) as HTMLTextAreaElement).value).toBe(
      "2 Other Road",
    );
    expect((f.getByRole("textbox", { name: "MAPPA" }) as HTMLInputElement).value).toBe("Level 2");
  });

  it("keeps an unknown weapons answer unknown when the perpetrator is edited", async () => {
    // Why: "not known" and "no access to weapons" are different facts for a safety plan; an edit must not turn one into the other.
    const ipc = mockCommands({ editRecord: () => perpetrator() });
    const onsaved = vi.fn();
    const view = caseView({ file: { perpetrators: [perpetrator({ weapons_access: null })] } });
    render(People, { view, vocab, which: "perpetrator", onsaved });
    const u = userEvent.setup();
    await u.click(screen.getByRole("button", { name: "Edit details" }));
    const form = within(screen.getByRole("form", { name: "Edit the perpetrator's details" }));
    const weapons = form.getByRole("combobox", { name: "Has access to weapons" }) as HTMLSelectElement;
    expect(weapons.value).toBe("");
    await u.click(form.getByRole("button", { name: /save/i }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [, , fields] = ipc.last("editRecord");
    expect(fields.weapons_access).toBeNull();
  });
});
