import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Court from "./Court.svelte";
import {
  askedFields,
  caseView,
  deskError,
  hearing,
  mockCommands,
  order,
  orderEntry,
  shownFields,
  vocabularies,
  withField,
} from "../test-kit";

const vocab = vocabularies();
const labels = (kind: "hearing" | "order" | "breach", stage: "when_made" | "later") =>
  askedFields(vocab, kind, stage).map((p) => p.label);
const user = () => userEvent.setup();

describe("Court", () => {
  it("asks a hearing's outcome with exactly the fields the core asks later, in its order and words, from the hearing", async () => {
    // Why: the outcome form is the core's "later" list; a field it leaves out cannot be recorded, and one that starts blank is cleared on save.
    const view = caseView({
      file: {
        hearings: [
          hearing({
            id: "h1",
            outcome: "Adjourned",
            next_date: "2027-02-01",
            victim_attends: true,
            witness_care_contact: "WCU",
          }),
        ],
      },
    });
    render(Court, { view, vocab, onsaved: () => {} });
    await user().click(screen.getByRole("button", { name: "Record outcome" }));
    const form = screen.getByRole("form", { name: "Hearing outcome" });
    expect(shownFields(form)).toEqual(labels("hearing", "later"));
    expect(shownFields(form)).toEqual([
      "Witness Care contact",
      "Outcome",
      "Next date",
      "The victim attended",
      "The Victim Personal Statement was read",
    ]);
    const f = within(form);
    expect((f.getByRole("textbox", { name: "Outcome" }) as HTMLTextAreaElement).value).toBe("Adjourned");
    expect((f.getByRole("textbox", { name: "Witness Care contact" }) as HTMLInputElement).value).toBe("WCU");
    expect((f.getByLabelText("Next date") as HTMLInputElement).value).toBe("01/02/2027");
    // "Not known" is a real answer here: a checkbox would record "No" for every hearing nobody asked about.
    expect((f.getByRole("combobox", { name: "The victim attended" }) as HTMLSelectElement).value).toBe("yes");
    expect(
      (f.getByRole("combobox", { name: "The Victim Personal Statement was read" }) as HTMLSelectElement).value,
    ).toBe("");
  });

  it("asks for a hearing with the core's fields for a new one", async () => {
    // Why: the outcome fields are asked after the hearing; in the form that makes it they would be noise, and a missing one a gap.
    render(Court, { view: caseView(), vocab, onsaved: () => {} });
    await user().click(screen.getByRole("button", { name: "Add hearing" }));
    expect(shownFields(screen.getByRole("form", { name: "Add a hearing" }))).toEqual(labels("hearing", "when_made"));
  });

  it("asks for an order with exactly the core's fields, the end and the conditions each in parts under the core's label", async () => {
    // Why: the order form follows the core's list; "Ends" and "Conditions" are asked in parts, which must stand together in the core's place and words.
    render(Court, { view: caseView(), vocab, onsaved: () => {} });
    await user().click(screen.getByRole("button", { name: "Add order" }));
    const form = screen.getByRole("form", { name: "Add an order" });
    expect(shownFields(form)).toEqual(labels("order", "when_made"));
    expect(shownFields(form)).toContain("Bail authorised by");
    const ends = within(form).getByRole("group", { name: "Ends" });
    expect(within(ends).getByRole("combobox", { name: "How it ends" })).toBeTruthy();
    expect(within(ends).getByLabelText("End date")).toBeTruthy();
    const conditions = within(form).getByRole("group", { name: "Conditions" });
    expect(shownFields(conditions, { partsAsOne: false })).toEqual([
      "Main condition",
      "Condition as worded in the order",
    ]);
  });

  it("sends the order's end and main condition as the values the core reads", async () => {
    // Why: the core reads `expiry` as one tagged value and `conditions` as a list; the parts' own names would be refused.
    const ipc = mockCommands({ addRecord: () => order() });
    const onsaved = vi.fn();
    render(Court, { view: caseView(), vocab, onsaved });
    const u = user();
    await u.click(screen.getByRole("button", { name: "Add order" }));
    const f = within(screen.getByRole("form", { name: "Add an order" }));
    await u.selectOptions(f.getByRole("combobox", { name: "Order type" }), "spo");
    await u.type(f.getByRole("textbox", { name: "Issued by (court or force)" }), "Example Magistrates' Court");
    await u.selectOptions(f.getByRole("combobox", { name: "How it ends" }), "on");
    await u.type(f.getByLabelText("End date"), "15/10/2028");
    await u.type(f.getByRole("textbox", { name: "People it protects (one a line)" }), "A. Person{Enter}B. Person");
    await u.selectOptions(f.getByRole("combobox", { name: "Main condition" }), "no_contact");
    await u.type(f.getByRole("textbox", { name: "Condition as worded in the order" }), "Not to contact her");
    await u.click(f.getByRole("button", { name: "Save order" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, caseId, fields] = ipc.last("addRecord");
    expect([kind, caseId]).toEqual(["order", "c1"]);
    expect(fields).toStrictEqual({
      order_type: "spo",
      issued_by: "Example Magistrates' Court",
      expiry: { kind: "on", date: "2028-10-15" },
      protected_persons: ["A. Person", "B. Person"],
      conditions: [{ kind: "no_contact", text: "Not to contact her" }],
    });
  });

  it("shows the core's errors for the end date and the condition's wording by those parts", async () => {
    // Why: the core names them `expiry.date` and `conditions[0].text`; an error no part claims is shown nowhere near the field to fix.
    mockCommands({
      addRecord: () => {
        throw deskError({
          fields: [
            { field: "expiry.date", rule: "is less than 2 years after made_on" },
            { field: "conditions[0].text", rule: "must not be empty" },
          ],
        });
      },
    });
    render(Court, { view: caseView(), vocab, onsaved: () => {} });
    const u = user();
    await u.click(screen.getByRole("button", { name: "Add order" }));
    const form = screen.getByRole("form", { name: "Add an order" });
    const f = within(form);
    await u.selectOptions(f.getByRole("combobox", { name: "Main condition" }), "no_contact");
    await u.click(f.getByRole("button", { name: "Save order" }));
    await f.findByRole("alert");
    const endDate = f.getByLabelText("End date");
    const wording = f.getByRole("textbox", { name: "Condition as worded in the order" });
    expect(endDate.getAttribute("aria-invalid")).toBe("true");
    expect(wording.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(wording.getAttribute("aria-describedby")!)?.textContent).toContain(
      "must not be empty",
    );
    expect(form.querySelectorAll("[aria-invalid='true']")).toHaveLength(2);
  });

  it("edits an order's later fields from the order, keeping its other conditions", async () => {
    // Why: an edit sends every field it shows; one that started blank, or a condition list cut to the one shown, would erase what the order says.
    const stored = order({
      id: "o1",
      made_on: "2026-10-15",
      expiry: { kind: "until_further_order" },
      conditions: [
        { kind: "exclusion_zone", text: "Not to enter Larkspur Close" },
        { kind: "no_contact", text: "Not to contact her" },
      ],
    });
    const ipc = mockCommands({ editRecord: () => stored });
    const onsaved = vi.fn();
    render(Court, { view: caseView({ file: { orders: [orderEntry({ order: stored })] } }), vocab, onsaved });
    const u = user();
    await u.click(screen.getByRole("button", { name: "Edit the order" }));
    const form = screen.getByRole("form", { name: "Edit the order" });
    expect(shownFields(form)).toEqual(labels("order", "later"));
    const f = within(form);
    expect((f.getByRole("combobox", { name: "How it ends" }) as HTMLSelectElement).value).toBe("until_further_order");
    const wording = f.getByRole("textbox", { name: "Condition as worded in the order" }) as HTMLTextAreaElement;
    expect(wording.value).toBe("Not to enter Larkspur Close");
    await u.clear(wording);
    await u.type(wording, "Not to enter Larkspur Close or Hill Road");
    await u.click(f.getByRole("button", { name: "Save order" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, id, fields] = ipc.last("editRecord");
    expect([kind, id]).toEqual(["order", "o1"]);
    expect(fields.expiry).toStrictEqual({ kind: "until_further_order" });
    expect(fields.conditions).toStrictEqual([
      { kind: "exclusion_zone", text: "Not to enter Larkspur Close or Hill Road" },
      { kind: "no_contact", text: "Not to contact her" },
    ]);
    expect(fields.made_on).toBe("2026-10-15");
    expect(Object.keys(fields).some((k) => k.includes("."))).toBe(false);
  });

  it("shows a field the core adds to hearings or orders, in the forms of its stage", async () => {
    // Why: the forms derive from the presented list, so a field new in Rust appears in the form that asks it even before the UI knows how to ask.
    const added = withField("order", { field: "variation", label: "Variation", asked: "later" }, "conditions");
    const withHearing = {
      ...added,
      presented: added.presented.map((k) =>
        k.kind === "hearing"
          ? {
              ...k,
              fields: [
                ...k.fields,
                { field: "interpreter_booked", label: "Interpreter booked", asked: "later" as const },
              ],
            }
          : k,
      ),
    };
    const view = caseView({ file: { hearings: [hearing()], orders: [orderEntry()] } });
    render(Court, { view, vocab: withHearing, onsaved: () => {} });
    const u = user();
    await u.click(screen.getByRole("button", { name: "Edit the order" }));
    const edit = within(screen.getByRole("form", { name: "Edit the order" }));
    expect((edit.getByRole("textbox", { name: "Variation" }) as HTMLInputElement).id).toBe("order-edit-variation");
    await u.click(screen.getByRole("button", { name: "Record outcome" }));
    expect(
      within(screen.getByRole("form", { name: "Hearing outcome" })).getByRole("textbox", {
        name: "Interpreter booked",
      }),
    ).toBeTruthy();
    await u.click(screen.getByRole("button", { name: "Add order" }));
    expect(
      within(screen.getByRole("form", { name: "Add an order" })).queryByRole("textbox", { name: "Variation" }),
    ).toBeNull();
  });

  it("asks for a breach with the core's fields for a new one", async () => {
    // Why: the breach form derives from the core's list too; its outcome is asked later, not when the breach is recorded.
    render(Court, { view: caseView({ file: { orders: [orderEntry()] } }), vocab, onsaved: () => {} });
    await user().click(screen.getByRole("button", { name: "Record a breach" }));
    const shown = shownFields(screen.getByRole("form", { name: "Record a breach" }));
    expect(shown).toEqual(labels("breach", "when_made"));
    expect(shown).not.toContain("Outcome");
  });
});
