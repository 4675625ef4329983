import type { Choice, RecordKind, Value, Vocabularies } from "./bindings";

/** Form fields by name, as the core reads them. */
export type Fields = Record<string, Value>;

export type FieldType =
  "text" | "textarea" | "date" | "datetime" | "select" | "checkbox" | "chips" | "lines" | "number";

export interface FieldSpec {
  /** The record field, dotted for nested ones (`referral.source`). */
  name: string;
  label: string;
  type: FieldType;
  options?: Choice[];
  /** A list a service extends: offer "Other" with the service's own words. */
  open?: boolean;
  required?: boolean;
  hint?: string;
  /** A value, or a function for values that must be fresh each time the form is reset (like "now"). */
  initial?: unknown;
}

/** How the UI asks for a presented field: everything but its name and its label, which the core gives. */
export type FieldInput = Omit<FieldSpec, "name" | "label">;

/**
 * A kind's form as the core presents it (`Vocabularies.presented`): its fields
 * in the core's order and with the core's labels, less the ones the core sets
 * itself. `inputs` says how each is asked for; a field it does not name is a
 * plain text input, so a field added on the Rust side appears in the form
 * rather than being left out without a word.
 */
export function presentedForm(
  vocab: Vocabularies,
  kind: RecordKind,
  inputs: Partial<Record<string, FieldInput>>,
): FieldSpec[] {
  const presented = vocab.presented.find((p) => p.kind === kind);
  if (!presented) return [];
  const setByCore = new Set(presented.set_by_core);
  return presented.fields
    .filter((p) => !setByCore.has(p.field))
    .map((p): FieldSpec => ({ type: "text", ...inputs[p.field], name: p.field, label: p.label }));
}

export type Values = Record<string, unknown>;

/** The select value meaning "Other", and where its words are kept. */
export const OTHER = "__other";
export const otherKey = (name: string) => `${name}#other`;

export function initialValues(fields: FieldSpec[]): Values {
  const values: Values = {};
  for (const f of fields) {
    if (f.initial !== undefined) values[f.name] = typeof f.initial === "function" ? f.initial() : f.initial;
    else if (f.type === "checkbox") values[f.name] = false;
    else if (f.type === "chips") values[f.name] = [];
    else values[f.name] = "";
  }
  return values;
}

/**
 * Turns what was typed into the fields the core reads. Blank optional fields
 * are left out, so the core's defaults and rules apply; lists are split by line.
 */
export function toFields(fields: FieldSpec[], values: Values, clearBlanks = false): Fields {
  const out: Fields = {};
  for (const f of fields) {
    const v = values[f.name];
    switch (f.type) {
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
