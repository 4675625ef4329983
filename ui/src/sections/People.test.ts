import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import People from "./People.svelte";
import AddressWarning from "../components/AddressWarning.svelte";
import {
  addressRefusal,
  askedFields,
  caseView,
  deskError,
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
      "Ethnic group",
      "Sexual orientation",
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

  it("marks the field of a new list entry the core names with a bracketed index", async () => {
    // Why: the core names a list entry's fields `dependants[1].name` and `consents[0].with`; read only as `dependants.1.name`, the error was shown by no field.
    mockCommands({
      editRecord: (_kind, _id, fields) => {
        const field = "dependants" in fields ? "dependants[1].name" : "consents[0].with";
        throw deskError({ message: "The form has problems.", fields: [{ field, rule: "must not be empty" }] });
      },
    });
    const stored = victim({
      dependants: [{ id: "d1", name: "Kit", date_of_birth: null, relationship: null, school: null, notes: null }],
    });
    render(People, { view: caseView({ file: { victim: stored } }), vocab, which: "victim", onsaved: () => {} });
    const u = userEvent.setup();
    const dependant = within(screen.getByRole("form", { name: "Add a dependant" }));
    await u.click(dependant.getByRole("button", { name: "Save dependant" }));
    await dependant.findByRole("alert");
    const name = dependant.getByRole("textbox", { name: "Dependant's name" });
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(name.getAttribute("aria-describedby")!)?.textContent).toContain("must not be empty");
    const consent = within(screen.getByRole("form", { name: "Record a consent" }));
    await u.click(consent.getByRole("button", { name: "Save consent" }));
    await consent.findByRole("alert");
    expect(consent.getByRole("textbox", { name: "Consent to share with" }).getAttribute("aria-invalid")).toBe("true");
  });

  it("names an older entry the core flags by its place in the list, from the core's bracketed path", async () => {
    // Why: saving one dependant sends them all, so the address guard may flag an earlier one; the advocate is told which, in words.
    mockCommands({
      editRecord: () => {
        throw addressRefusal("dependants[0].notes");
      },
    });
    render(AddressWarning);
    const stored = victim({
      dependants: [
        {
          id: "d1",
          name: "Kit",
          date_of_birth: null,
          relationship: null,
          school: null,
          notes: "Collected from 1 Test Street",
        },
      ],
    });
    render(People, { view: caseView({ file: { victim: stored } }), vocab, which: "victim", onsaved: () => {} });
    const u = userEvent.setup();
    const form = within(screen.getByRole("form", { name: "Add a dependant" }));
    await u.type(form.getByRole("textbox", { name: "Dependant's name" }), "Sam");
    await u.click(form.getByRole("button", { name: "Save dependant" }));
    const dialog = await screen.findByRole("alertdialog");
    const description = document.getElementById(dialog.getAttribute("aria-describedby")!)!.textContent ?? "";
    expect(description).toContain("Dependant 1: Notes (who may collect them)");
    expect(description).not.toContain("dependants[0]");
  });
});

describe("the panel agency a consent or a decision to share names", () => {
  const PANEL_HINT =
    /panel member from that agency sees the victim's address, safe contacts and dependants at the clinic only while this consent is in force/;

  it("is asked, optionally, from the core's agencies, with none as a choice, and said why", async () => {
    // Why: a consent naming a panel agency is what lets that agency's members see where the victim lives; the advocate must know that as they choose.
    render(People, { view: caseView(), vocab, which: "victim", onsaved: () => {} });
    const form = within(screen.getByRole("form", { name: "Record a consent" }));
    const agency = form.getByRole("combobox", { name: "Agency on the clinic panel" }) as HTMLSelectElement;
    expect([...agency.options].map((o) => o.textContent)).toEqual([
      "Not one of the panel's agencies",
      ...vocab.agencies.map((a) => a.label),
    ]);
    expect(agency.value).toBe("");
    expect(document.getElementById(agency.getAttribute("aria-describedby")!)?.textContent).toMatch(PANEL_HINT);
  });

  it("is saved with the consent, and shown in the list of consents", async () => {
    const ipc = mockCommands({ editRecord: () => victim() });
    const onsaved = vi.fn();
    const earlier = {
      id: "k1",
      with: "Probation",
      agency: null,
      given_on: "2026-10-01",
      withdrawn_on: null,
      scope: null,
    };
    const stored = victim({ consents: [earlier, { ...earlier, id: "k2", with: "DC Example", agency: "police" }] });
    render(People, { view: caseView({ file: { victim: stored } }), vocab, which: "victim", onsaved });
    const consents = screen.getByRole("heading", { name: "Consents" }).nextElementSibling as HTMLElement;
    expect([...consents.querySelectorAll("li")].map((li) => li.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "Probation: given 1 Oct 2026 Record withdrawal",
      "DC Example, Police (panel): given 1 Oct 2026 Record withdrawal",
    ]);
    const u = userEvent.setup();
    const form = within(screen.getByRole("form", { name: "Record a consent" }));
    await u.type(form.getByRole("textbox", { name: "Consent to share with" }), "CPS");
    await u.selectOptions(form.getByRole("combobox", { name: "Agency on the clinic panel" }), "cps");
    await u.type(form.getByLabelText(/^Given on/), "12/11/2026");
    await u.click(form.getByRole("button", { name: "Save consent" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [, , fields] = ipc.last("editRecord");
    expect(fields.consents).toEqual([
      earlier,
      { ...earlier, id: "k2", with: "DC Example", agency: "police" },
      { with: "CPS", agency: "cps", given_on: "2026-11-12" },
    ]);
  });

  it("sends no agency for a consent to someone not on the panel", async () => {
    const ipc = mockCommands({ editRecord: () => victim() });
    const onsaved = vi.fn();
    render(People, { view: caseView(), vocab, which: "victim", onsaved });
    const u = userEvent.setup();
    const form = within(screen.getByRole("form", { name: "Record a consent" }));
    await u.type(form.getByRole("textbox", { name: "Consent to share with" }), "Her GP");
    await u.type(form.getByLabelText(/^Given on/), "12/11/2026");
    await u.click(form.getByRole("button", { name: "Save consent" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [, , fields] = ipc.last("editRecord");
    expect(fields.consents).toEqual([{ with: "Her GP", given_on: "2026-11-12" }]);
  });

  it("is asked and saved with a decision to share without consent, and shown in its list", async () => {
    // Why: a lawful basis naming a panel agency opens the victim's contact details to its members too, and it does not end.
    const ipc = mockCommands({ editRecord: () => victim() });
    const onsaved = vi.fn();
    const earlier = {
      id: "s1",
      with: "Police",
      agency: "police" as const,
      shared_on: "2026-10-02",
      lawful_basis: "vital_interests" as const,
      rationale: "Threats to kill",
      decided_by: "Ash Advocate",
    };
    render(People, {
      view: caseView({ file: { victim: victim({ sharing_without_consent: [earlier] }) } }),
      vocab,
      which: "victim",
      onsaved,
    });
    const list = screen.getByRole("heading", { name: "Shared without consent" }).nextElementSibling as HTMLElement;
    expect(list.querySelector("li")?.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Police, Police (panel): shared 2 Oct 2026 under Vital interests, decided by Ash Advocate: Threats to kill",
    );
    const form = within(screen.getByRole("form", { name: "Record a decision to share without consent" }));
    const agency = form.getByRole("combobox", { name: "Agency on the clinic panel" });
    expect(document.getElementById(agency.getAttribute("aria-describedby")!)?.textContent).toMatch(
      /panel member from that agency sees the victim's address, safe contacts and dependants at the clinic, for a case/,
    );
    // Consent is no basis for sharing without it.
    const basis = form.getByRole("combobox", { name: "Lawful basis" }) as HTMLSelectElement;
    expect([...basis.options].map((o) => o.value)).not.toContain("consent");
    const u = userEvent.setup();
    await u.type(form.getByRole("textbox", { name: "Shared with" }), "Probation service");
    await u.selectOptions(agency, "probation");
    await u.type(form.getByLabelText(/^Shared on/), "12/11/2026");
    await u.selectOptions(basis, "safeguarding");
    await u.type(form.getByRole("textbox", { name: "Why it was shared without consent" }), "Children at risk");
    await u.type(form.getByRole("textbox", { name: "Decided by" }), "Morgan Manager");
    await u.click(form.getByRole("button", { name: "Save decision" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, id, fields] = ipc.last("editRecord");
    expect([kind, id]).toEqual(["victim", "v1"]);
    expect(fields).toEqual({
      sharing_without_consent: [
        earlier,
        {
          with: "Probation service",
          agency: "probation",
          shared_on: "2026-11-12",
          lawful_basis: "safeguarding",
          rationale: "Children at risk",
          decided_by: "Morgan Manager",
        },
      ],
    });
  });
});
