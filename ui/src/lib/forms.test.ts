import { describe, expect, it } from "vitest";
import {
  inGroups,
  initialValues,
  newRow,
  OTHER,
  otherKey,
  presentedForm,
  rowField,
  startingFrom,
  toFields,
  valueAt,
  type FieldSpec,
} from "./forms";
import { order, vocabularies, withField } from "../test-kit";

const outcome: FieldSpec = { name: "closure.feels_safer", label: "The victim feels safer", type: "yes_no" };

describe("a yes-or-no question that may be left unanswered", () => {
  it("sends yes and no as real booleans, and not answered as null in an edit", () => {
    // Why: the core reads these as `boolean | null`; the text "yes" or "true" would be refused, and a missing "no" is not a no.
    expect(toFields([outcome], { [outcome.name]: "yes" }, true)).toStrictEqual({ [outcome.name]: true });
    expect(toFields([outcome], { [outcome.name]: "no" }, true)).toStrictEqual({ [outcome.name]: false });
    expect(toFields([outcome], { [outcome.name]: "" }, true)).toStrictEqual({ [outcome.name]: null });
    // A form that makes a record leaves it out, so the core's default (not asked) applies.
    expect(toFields([outcome], { [outcome.name]: "" })).toStrictEqual({});
  });

  it("starts from a stored boolean, and from not answered for null", () => {
    // Why: an edit that showed a stored "no" as not answered would send null and erase the answer.
    expect(initialValues([{ ...outcome, initial: false }])[outcome.name]).toBe("no");
    expect(initialValues([{ ...outcome, initial: true }])[outcome.name]).toBe("yes");
    expect(initialValues([{ ...outcome, initial: null }])[outcome.name]).toBe("");
    expect(initialValues([outcome])[outcome.name]).toBe("");
  });
});

describe("presentedForm", () => {
  it("puts a field asked in parts in its place, the parts under the core's label", () => {
    // Why: the order form asks its end as a kind and a date; the parts must stand where the core puts "Ends", named by their own paths so the core's errors find them.
    const fields = presentedForm(vocabularies(), "order", {
      expiry: {
        parts: [
          { name: "expiry.kind", label: "How it ends", type: "select" },
          { name: "expiry.date", label: "End date", type: "date" },
        ],
      },
    });
    const names = fields.map((f) => f.name);
    expect(names.slice(names.indexOf("served_on"), names.indexOf("served_on") + 4)).toEqual([
      "served_on",
      "expiry.kind",
      "expiry.date",
      "protected_persons",
    ]);
    expect(names).not.toContain("expiry");
    expect(fields.filter((f) => f.name.startsWith("expiry.")).map((f) => [f.label, f.group])).toEqual([
      ["How it ends", "Ends"],
      ["End date", "Ends"],
    ]);
  });

  it("asks a stage's fields only, and prefixes each name, the parts' too", () => {
    // Why: a form that makes two records tells them apart by the prefix; a field asked only later must not appear in the form that makes the record.
    const added = withField("order", { field: "review_on", label: "Review on", asked: "later" });
    const made = presentedForm(added, "order", {}, { prefix: "order." });
    expect(made.map((f) => f.name)).not.toContain("order.review_on");
    expect(made[0]).toMatchObject({ name: "order.order_type", label: "Order type", type: "text" });
    const later = presentedForm(
      added,
      "order",
      { expiry: { parts: [{ name: "expiry.kind", label: "How", type: "select" }] } },
      {
        stage: "later",
        prefix: "order.",
      },
    );
    expect(later.map((f) => f.name)).toContain("order.expiry.kind");
    expect(later.map((f) => f.name)).toContain("order.review_on");
    expect(later.map((f) => f.name)).not.toContain("order.order_type");
  });
});

describe("a form that asks part of a record at several stages (a referral)", () => {
  it("asks the fields of every stage named, in the core's order, and only the fields named", () => {
    // Why: a referral asks what the laptop asks when a victim is made and later, but not all of it.
    const fields = presentedForm(
      vocabularies(),
      "victim",
      {},
      {
        stage: ["when_made", "later"],
        only: ["date_of_birth", "name", "address.lines"],
        prefix: "victim.",
      },
    );
    expect(fields.map((f) => f.name)).toEqual(["victim.name", "victim.date_of_birth", "victim.address.lines"]);
  });
});

describe("a list asked as rows", () => {
  const dependants: FieldSpec = {
    name: "dependants",
    label: "Dependants",
    type: "rows",
    row: {
      noun: "dependant",
      fields: [
        { name: "name", label: "Name", type: "text", required: true },
        { name: "date_of_birth", label: "Date of birth", type: "date" },
        { name: "in_care", label: "In care", type: "checkbox" },
      ],
    },
  };

  it("sends each entry as an object of its fields, blanks left out, and no list for no entries", () => {
    // Why: the core reads a list's entries as objects; an empty optional field sent as "" would be refused as a date.
    const values = {
      dependants: [
        { ...newRow(dependants), name: "Kit" },
        { ...newRow(dependants), name: "Sam", date_of_birth: "2020-02-01" },
      ],
    };
    expect(toFields([dependants], values)).toStrictEqual({
      dependants: [
        { name: "Kit", in_care: false },
        { name: "Sam", date_of_birth: "2020-02-01", in_care: false },
      ],
    });
    expect(toFields([dependants], initialValues([dependants]))).toStrictEqual({});
    expect(toFields([dependants], initialValues([dependants]), true)).toStrictEqual({ dependants: [] });
  });

  it("names an entry's field by the core's path for it", () => {
    // Why: the core refuses `dependants[0].name`; the form must find its field by that name.
    expect(rowField("dependants", 0, "name")).toBe("dependants[0].name");
    expect(valueAt({ dependants: [{ name: "Kit" }] }, "dependants[0].name")).toBe("Kit");
  });
});

describe("a field asked only while another answer holds", () => {
  it("is not sent while it is not asked", () => {
    // Why: a lawful basis typed and then made needless by recording consent must not reach the core.
    const basis: FieldSpec = {
      name: "basis",
      label: "Lawful basis",
      type: "select",
      shownWhen: (values) => !values.consent,
    };
    const consent: FieldSpec = { name: "consent", label: "Consent", type: "checkbox" };
    expect(toFields([consent, basis], { consent: false, basis: "vital_interests" })).toStrictEqual({
      consent: false,
      basis: "vital_interests",
    });
    expect(toFields([consent, basis], { consent: true, basis: "vital_interests" })).toStrictEqual({ consent: true });
  });
});

describe("an edit form's starting values", () => {
  it("start from the record at each field's path, lists as lines, an open list's own words as Other", () => {
    // Why: an edit sends a blank as cleared; a field that started blank rather than from the record would wipe what is stored.
    const stored = order({
      made_on: "2026-10-15",
      protected_persons: ["A. Person", "B. Person"],
      conditions: [{ kind: { other: "Curfew" }, text: "Indoors by 9pm" }],
    });
    const fields: FieldSpec[] = [
      { name: "made_on", label: "Made on", type: "date" },
      { name: "protected_persons", label: "People", type: "lines" },
      { name: "conditions.0.kind", label: "Main condition", type: "select", options: [], open: true },
      { name: "conditions.0.text", label: "Wording", type: "textarea" },
      { name: "bail_authority", label: "Bail", type: "select", options: [] },
      { name: "served_on", label: "Served on", type: "date", initial: "2026-10-20" },
    ];
    const values = initialValues(startingFrom(fields, stored));
    expect(values).toStrictEqual({
      made_on: "2026-10-15",
      protected_persons: "A. Person\nB. Person",
      "conditions.0.kind": OTHER,
      [otherKey("conditions.0.kind")]: "Curfew",
      "conditions.0.text": "Indoors by 9pm",
      bail_authority: "",
      served_on: "2026-10-20",
    });
    expect(valueAt(stored, "expiry.date")).toBe("2028-10-15");
    expect(valueAt(stored, "conditions.1.text")).toBeUndefined();
  });
});

describe("inGroups", () => {
  it("keeps fields in their order, one run for each group", () => {
    // Why: a group is shown as one fieldset; fields split across runs would be shown in two, or out of order.
    const f = (name: string, group?: string): FieldSpec => ({ name, label: name, type: "text", group });
    const runs = inGroups([f("a", "Case"), f("b", "Case"), f("c", "Victim"), f("d"), f("e")]);
    expect(runs.map((r) => [r.group, r.fields.map((x) => x.name)])).toEqual([
      ["Case", ["a", "b"]],
      ["Victim", ["c"]],
      [undefined, ["d", "e"]],
    ]);
  });
});
