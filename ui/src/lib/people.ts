// How the victim's and the perpetrator's fields are asked, and the fields of
// the lists a victim holds (safe phones, dependants): one set for every form
// that asks them, the laptop's and the clinic workspace's referral form, so a
// field behaves the same wherever it is asked. Which fields a form has, in
// what order and under what words, stays the core's (`presentedForm`).
import type { Vocabularies } from "./types";
import type { FieldInput, FieldSpec } from "./forms";

type Inputs = Partial<Record<string, FieldInput>>;

export const VICTIM_INPUTS: Inputs = {
  name: { type: "text", required: true },
  preferred_name: { type: "text" },
  date_of_birth: { type: "date" },
  gender: { type: "text", hint: "In the victim's own words." },
  language: { type: "text" },
  interpreter_needed: { type: "checkbox" },
  disabilities: { type: "textarea" },
  "address.lines": { type: "lines" },
  "address.postcode": { type: "text" },
  "address.do_not_disclose": { type: "checkbox" },
  "safe_contact.email": { type: "text" },
  "safe_contact.email_safe": { type: "checkbox" },
  "safe_contact.safe_times": { type: "text" },
  "safe_contact.notes": { type: "textarea", hint: "Who is safe to talk to, and how." },
};

export const perpetratorInputs = (vocab: Vocabularies): Inputs => ({
  names: { type: "lines", required: true },
  aliases: { type: "lines" },
  relationship: { type: "select", options: vocab.relationships, required: true },
  date_of_birth: { type: "date" },
  addresses: { type: "lines" },
  phones: { type: "lines" },
  online_accounts: { type: "lines" },
  weapons_access: { type: "yes_no" },
  weapons_notes: { type: "text" },
  probation_status: { type: "text" },
  mappa_status: { type: "text" },
  mental_health: { type: "textarea" },
});

/** A safe phone's fields (`SafePhone`); the core sends no labels for a list entry's fields. */
export const PHONE_FIELDS: FieldSpec[] = [
  { name: "number", label: "Phone number", type: "text", required: true },
  { name: "label", label: "Which phone", type: "text", hint: "For example: work mobile" },
  { name: "text_ok", label: "Texts are safe", type: "checkbox" },
  { name: "voicemail_ok", label: "Voicemail is safe", type: "checkbox" },
  { name: "safe_times", label: "Safe times to call", type: "text" },
];

/** A dependant's fields (`Dependant`). */
export const DEPENDANT_FIELDS: FieldSpec[] = [
  { name: "name", label: "Dependant's name", type: "text", required: true },
  { name: "date_of_birth", label: "Date of birth", type: "date" },
  {
    name: "relationship",
    label: "Relationship to the victim and to the perpetrator",
    type: "text",
    hint: "For example: son of both",
  },
  { name: "school", label: "School", type: "text" },
  { name: "notes", label: "Notes (who may collect them)", type: "text" },
];

/** The fields of `list` named in `names`, in that order. */
export function fieldsNamed(list: FieldSpec[], names: string[]): FieldSpec[] {
  return names.map((name) => {
    const found = list.find((f) => f.name === name);
    if (!found) throw new Error(`No field ${name} in the list.`);
    return found;
  });
}
