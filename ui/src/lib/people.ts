// How the victim's and the perpetrator's fields are asked, and the fields of
// the lists a victim holds (safe phones, dependants, consents, decisions to
// share without consent): one set for every form
// that asks them, the laptop's and the clinic workspace's referral form, so a
// field behaves the same wherever it is asked. Which fields a form has, in
// what order and under what words, stays the core's (`presentedForm`).
import type { Choice, Vocabularies } from "./types";
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

/** The victim's inputs, with the choices the commissioner's return counts by (optional, "prefers not to say" among them). */
export const victimInputs = (vocab: Vocabularies): Inputs => ({
  ...VICTIM_INPUTS,
  ethnicity: { type: "select", options: vocab.ethnicities },
  sexual_orientation: { type: "select", options: vocab.sexual_orientations },
});

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

/** A lawful basis for sharing without consent: every one the core offers but consent itself. */
export const withoutConsentBases = (bases: Choice[]): Choice[] => bases.filter((b) => b.value !== "consent");

/**
 * Which of the clinic panel's agencies a consent or a decision to share
 * covers: what lets that agency's panel members see, at the clinic, where
 * the victim lives and how to reach them (`Victim::shares_with`).
 */
const panelAgency = (vocab: Vocabularies, hint: string): FieldSpec => ({
  name: "agency",
  label: "Agency on the clinic panel",
  type: "select",
  options: vocab.agencies,
  none: "Not one of the panel's agencies",
  hint,
});

/** A consent's fields (`Consent`); its withdrawal is recorded from the list. */
export const consentFields = (vocab: Vocabularies): FieldSpec[] => [
  {
    name: "with",
    label: "Consent to share with",
    type: "text",
    required: true,
    hint: "An agency, for example the police or the clinic",
  },
  panelAgency(
    vocab,
    "A panel member from that agency sees the victim's address, safe contacts and dependants at the clinic only while this consent is in force, and only for a case on the agenda of a meeting they are invited to.",
  ),
  { name: "given_on", label: "Given on", type: "date", required: true },
  { name: "scope", label: "What may be shared", type: "text" },
];

/** A decision to share without consent (`SharingDecision`). */
export const sharingFields = (vocab: Vocabularies): FieldSpec[] => [
  {
    name: "with",
    label: "Shared with",
    type: "text",
    required: true,
    hint: "An agency or a person, for example the police",
  },
  panelAgency(
    vocab,
    "A panel member from that agency sees the victim's address, safe contacts and dependants at the clinic, for a case on the agenda of a meeting they are invited to. Unlike a consent, a decision to share has no end: it covers every later meeting too.",
  ),
  { name: "shared_on", label: "Shared on", type: "date", required: true },
  {
    name: "lawful_basis",
    label: "Lawful basis",
    type: "select",
    options: withoutConsentBases(vocab.lawful_bases),
    required: true,
  },
  { name: "rationale", label: "Why it was shared without consent", type: "textarea", required: true },
  { name: "decided_by", label: "Decided by", type: "text", required: true, hint: "A name and role" },
];
