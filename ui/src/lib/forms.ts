import type { Asked, Choice, RecordKind, Value, Vocabularies } from "./bindings";
import { londonLocalNow } from "./format";

/** Form fields by name, as the core reads them. */
export type Fields = Record<string, Value>;

/**
 * How a field is asked. "yes_no" is a question that may be left unanswered
 * (a `boolean | null` in the core): "Not answered", "Yes" or "No", sent as
 * null, true or false.
 */
export type FieldType =
  "text" | "textarea" | "date" | "datetime" | "select" | "checkbox" | "chips" | "lines" | "number" | "yes_no" | "rows";

export interface FieldSpec {
  /** The record field, dotted for nested ones (`referral.source`). */
  name: string;
  label: string;
  type: FieldType;
  options?: Choice[];
  /** A list a service extends: offer "Other" with the service's own words. */
  open?: boolean;
  /** A select's empty choice, in words, where choosing none is an answer ("Not one of the panel's agencies"). */
  none?: string;
  required?: boolean;
  hint?: string;
  /** A value, or a function for values that must be fresh each time the form is reset (like "now"). */
  initial?: unknown;
  /**
   * Fields one after another with the same group are shown together under it
   * (a fieldset and its legend): the parts of a field asked in parts, or the
   * records of a form that makes two.
   */
  group?: string;
  /** For "rows": a list of entries asked as rows the person adds and removes (a victim's dependants). */
  row?: RowSpec;
  /**
   * Asked only while this holds of what is typed (the lawful basis while
   * consent is not recorded); a field not asked is not sent.
   */
  shownWhen?: (values: Values) => boolean;
}

/**
 * The fields of each entry of a "rows" field, named within the entry
 * (`name`, `date_of_birth`); in the form each is named by the core's path
 * for it (`dependants[0].name`, `rowField`), so the core's errors find it.
 */
export interface RowSpec {
  fields: FieldSpec[];
  /** What one entry is, in the sentence "Add a …": "dependant". */
  noun: string;
}

/** The core's path of a field of a list's entry: `dependants[0].name`. */
export const rowField = (list: string, index: number, field: string): string => `${list}[${index}].${field}`;

/** A path with its list entries by a dotted index, as the desktop's own names write them: `dependants.0.name`. */
export const dottedPath = (path: string): string => path.replace(/\[(\d+)\]/g, ".$1");

/** Whether a field is asked, given what has been typed so far. */
export const isShown = (f: FieldSpec, values: Values): boolean => !f.shownWhen || f.shownWhen(values);

/**
 * A presented field asked in several inputs: an order's end as how it ends
 * and the date, its conditions as the main one's kind and wording. Each part
 * is a field of its own, named by its own path (`expiry.date`, so the core's
 * errors for it find it) and labelled by the form; together they stand where
 * the field stands, grouped under the core's label. The save puts them back
 * together into the value the core reads.
 */
export interface AskedInParts {
  parts: FieldSpec[];
}

/** How the UI asks for a presented field: everything but its name and its label, which the core gives; or its parts. */
export type FieldInput = Omit<FieldSpec, "name" | "label"> | AskedInParts;

/** Which of a kind's presented fields a form asks for. */
export interface FormScope {
  /**
   * The form that makes the record (the default), the one that updates it
   * later, or a screen of the kind's own (closing a case) with `within`.
   */
  stage?: Stage | Stage[];
  /** Only the fields under this path (`closure` for the parts of a case's closure). */
  within?: string;
  /** Put before each field's name, for a form that makes two records at once (`victim.`). */
  prefix?: string;
  /** Only these of the kind's fields, by the core's name: a form that asks part of a record (a referral). */
  only?: string[];
}

export type Stage = "when_made" | "later" | "own_screen";

/** Whether a field is asked at a stage (`Asked` in the core). */
export function askedAt(asked: Asked, stage: Stage): boolean {
  return asked === stage || (asked === "when_made_and_later" && stage !== "own_screen");
}

/**
 * A kind's form as the core presents it (`Vocabularies.presented`): its fields
 * in the core's order and with the core's labels, the ones the core says are
 * asked at this stage, less the ones the core sets itself. `inputs` says how
 * each is asked for; a field it does not name is a plain text input, so a
 * field added on the Rust side appears in the form rather than being left out
 * without a word.
 */
export function presentedForm(
  vocab: Vocabularies,
  kind: RecordKind,
  inputs: Partial<Record<string, FieldInput>>,
  scope: FormScope = {},
): FieldSpec[] {
  const presented = vocab.presented.find((p) => p.kind === kind);
  if (!presented) return [];
  const { stage = "when_made", within, prefix = "", only } = scope;
  const stages = Array.isArray(stage) ? stage : [stage];
  const setByCore = new Set(presented.set_by_core);
  return presented.fields
    .filter((p) => !setByCore.has(p.field.split(".")[0]))
    .filter((p) => stages.some((s) => askedAt(p.asked, s)))
    .filter((p) => within === undefined || p.field.startsWith(`${within}.`))
    .filter((p) => only === undefined || only.includes(p.field))
    .flatMap((p): FieldSpec[] => {
      const input = inputs[p.field];
      if (input && "parts" in input)
        return input.parts.map((part) => ({ group: p.label, ...part, name: `${prefix}${part.name}` }));
      return [{ type: "text", ...input, name: `${prefix}${p.field}`, label: p.label }];
    });
}

/** A form's fields in runs: one run for each group, and one for the fields between groups. */
export function inGroups(fields: FieldSpec[]): { group?: string; fields: FieldSpec[] }[] {
  const runs: { group?: string; fields: FieldSpec[] }[] = [];
  for (const f of fields) {
    const last = runs[runs.length - 1];
    if (last && last.group === f.group) last.fields.push(f);
    else runs.push({ group: f.group, fields: [f] });
  }
  return runs;
}

/**
 * The value at a field's path in a record (`address.lines` in a victim,
 * `conditions.0.text` or `conditions[0].text` in an order).
 */
export function valueAt(record: unknown, path: string): unknown {
  return dottedPath(path)
    .split(".")
    .reduce<unknown>(
      (node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined),
      record,
    );
}

/**
 * An edit form's fields, each starting from what the record holds at its
 * name; a field whose input sets its own `initial` keeps it. An edit sends
 * a blank as cleared, so a field that started blank (one the core has just
 * added, say) would wipe what is stored.
 */
export function startingFrom(fields: FieldSpec[], record: object | null | undefined): FieldSpec[] {
  return fields.map((f) =>
    f.initial !== undefined ? f : { ...f, initial: storedAsInput(f, valueAt(record, f.name)) },
  );
}

function storedAsInput(f: FieldSpec, stored: unknown): unknown {
  switch (f.type) {
    case "lines":
      return Array.isArray(stored) ? asLines(stored.map(String)) : (stored ?? "");
    case "checkbox":
      return Boolean(stored);
    case "rows":
      return Array.isArray(stored)
        ? stored.map((entry: unknown) => initialValues(startingFrom(f.row?.fields ?? [], entry as object)))
        : [];
    case "chips":
      return Array.isArray(stored) ? stored : [];
    case "yes_no":
      return typeof stored === "boolean" ? stored : null;
    case "datetime":
      // Stored as an instant; asked as UK wall-clock time.
      return typeof stored === "string" && stored ? londonLocalNow(new Date(stored)) : "";
    default:
      return stored ?? "";
  }
}

/** The answers a "yes_no" field offers besides "Not answered", and the values the form keeps for them. */
export const YES_NO: Choice[] = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
];

export type Values = Record<string, unknown>;

/** The select value meaning "Other", and where its words are kept. */
export const OTHER = "__other";
export const otherKey = (name: string) => `${name}#other`;

export function initialValues(fields: FieldSpec[]): Values {
  const values: Values = {};
  for (const f of fields) {
    const initial: unknown = typeof f.initial === "function" ? f.initial() : f.initial;
    if (f.type === "yes_no") values[f.name] = initial === true ? "yes" : initial === false ? "no" : "";
    else if (f.type === "select" && f.open && isOther(initial)) {
      // A value the service added, in its own words: shown as "Other" with the words.
      values[f.name] = OTHER;
      values[otherKey(f.name)] = initial.other;
    } else if (initial !== undefined) values[f.name] = initial;
    else if (f.type === "checkbox") values[f.name] = false;
    else if (f.type === "chips" || f.type === "rows") values[f.name] = [];
    else values[f.name] = "";
  }
  return values;
}

const isOther = (value: unknown): value is { other: string } =>
  value !== null && typeof value === "object" && typeof (value as { other?: unknown }).other === "string";

/** A new, blank entry of a "rows" field. */
export const newRow = (f: FieldSpec): Values => initialValues(f.row?.fields ?? []);

/**
 * Turns what was typed into the fields the core reads. Blank optional fields
 * are left out, so the core's defaults and rules apply; lists are split by
 * line; a field not asked (`shownWhen`) is not sent.
 */
export function toFields(fields: FieldSpec[], values: Values, clearBlanks = false): Fields {
  const out: Fields = {};
  for (const f of fields) {
    if (!isShown(f, values)) continue;
    const v = values[f.name];
    switch (f.type) {
      case "rows": {
        // Each entry as an object of its own fields, blanks left out as in the form itself.
        const rows = Array.isArray(v) ? (v as Values[]) : [];
        if (rows.length || clearBlanks)
          out[f.name] = rows.map((row) => toFields(f.row?.fields ?? [], row, clearBlanks));
        break;
      }
      case "checkbox":
        out[f.name] = Boolean(v);
        break;
      case "chips":
        out[f.name] = Array.isArray(v) ? (v as Value[]) : [];
        break;
      case "lines": {
        const lines = String(v ?? "")
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean);
        if (lines.length || clearBlanks) out[f.name] = lines;
        break;
      }
      case "yes_no":
        // A real boolean, never the text "yes"; not answered is null.
        if (v === "yes" || v === "no") out[f.name] = v === "yes";
        else if (clearBlanks) out[f.name] = null;
        break;
      case "number":
        if (v !== "" && v !== null && v !== undefined) out[f.name] = Number(v);
        else if (clearBlanks) out[f.name] = null;
        break;
      case "select":
        if (v === OTHER) {
          const words = String(values[otherKey(f.name)] ?? "").trim();
          out[f.name] = words ? { other: words } : null;
        } else if (typeof v === "string" && v !== "") out[f.name] = v;
        else if (clearBlanks) out[f.name] = null;
        break;
      default:
        if (typeof v === "string" && v.trim() !== "") out[f.name] = v;
        // An edit sends blanks as null, so clearing a field clears it.
        else if (clearBlanks) out[f.name] = null;
    }
  }
  return out;
}

/** Lines of text for a "lines" field from a stored list. */
export const asLines = (list: string[] | null | undefined): string => (list ?? []).join("\n");
