// The referral form (clinic.md, "The flow of a case", step 1): the three
// records accepting it makes, each asked as the desktop asks it. Which
// fields, in what order and under what words, is the core's
// (`Vocabularies.presented`); how each is asked is lib/people.ts's, shared with
// the laptop. Each field is named by its record and its path in it
// (`case.referral.reason`, `victim.safe_contact.phones[0].number`), the names
// the server's refusals use, so a refusal marks its field. The same fields
// show a sent referral read-only on the screening page.
import type { Choice, Vocabularies } from "../lib/types";
import { FieldFailure } from "../lib/failure";
import { dottedPath, presentedForm, valueAt, type FieldSpec, type Fields, type Stage, type Values } from "../lib/forms";
import { showDate } from "../lib/format";
import { spaced } from "../lib/labels";
import {
  DEPENDANT_FIELDS,
  fieldsNamed,
  PHONE_FIELDS,
  perpetratorInputs,
  victimInputs,
  withoutConsentBases,
} from "../lib/people";
import { sentence } from "./words";
import type { ReferralFields, ReferralRecords } from "./types";

/** Each record of the form: the prefix of its fields' names, and the words for it. */
export const RECORDS = [
  { key: "case", prefix: "case.", title: "Referral" },
  { key: "victim", prefix: "victim.", title: "Victim" },
  { key: "perpetrator", prefix: "perpetrator.", title: "Perpetrator" },
] as const;
const [CASE, VICTIM, PERPETRATOR] = RECORDS.map((r) => r.prefix);

/** Asked by the form that makes a record or by the one that updates it: a referral asks both. */
const BOTH: Stage[] = ["when_made", "later"];
/** The referral's fields the clinic sets, never the form (waymark-clinic's intake.rs, `SET_BY_THE_CLINIC`). */
const SET_BY_THE_CLINIC = ["referral.received_on"];
/** What a referral asks of the victim; the rest of the record is the advocate's to fill in. */
const VICTIM_ASKED = [
  "name",
  "preferred_name",
  "date_of_birth",
  "gender",
  "language",
  "interpreter_needed",
  "disabilities",
  "address.lines",
  "address.postcode",
  "safe_contact.notes",
];
/** What a referral asks of the perpetrator; probation, MAPPA and the clinic's judgements come later. */
const PERPETRATOR_ASKED = [
  "names",
  "aliases",
  "relationship",
  "date_of_birth",
  "addresses",
  "phones",
  "weapons_access",
  "weapons_notes",
];
/** The one safe phone the form asks, and the sharing decision it makes without consent: the core's paths. */
const PHONE = "safe_contact.phones[0].";
const SHARING = "sharing_without_consent[0].";
/** Who a referral made without consent is shared with. */
export const SHARED_WITH = "The stalking clinic";
const CONSENT = `${CASE}referral.consent_recorded`;
const withoutConsent = (values: Values) => !values[CONSENT];

/** The referral form's fields, in the core's order, each record under its own legend. */
export function referralFields(v: Vocabularies): FieldSpec[] {
  const referral = presentedForm(
    v,
    "case",
    {
      "referral.source": { type: "select", options: v.referral_sources, open: true, required: true },
      "referral.referrer": { type: "text", required: true, hint: "The name of the person referring." },
      "referral.reason": { type: "textarea", required: true },
      "referral.consent_recorded": {
        type: "checkbox",
        hint: "The victim consents to the referral. If not, give the lawful basis for referring without consent below.",
      },
      "referral.referrer_contact": {
        type: "text",
        required: true,
        hint: "A work phone or e-mail the clinic can reach you on.",
      },
      "referral.their_reference": {
        type: "text",
        hint: "Your agency's own reference, such as a crime number: your list of referrals shows it, never a name.",
      },
      "referral.criteria": { type: "chips", options: v.referral_criteria, required: true },
      "referral.victim_aware": { type: "yes_no", required: true },
      "referral.afraid_of": { type: "textarea" },
      "referral.previous_referral": { type: "textarea" },
    },
    { stage: BOTH, within: "referral", prefix: CASE },
  ).filter((f) => !SET_BY_THE_CLINIC.includes(f.name.slice(CASE.length)));
  const sharing = presentedForm(
    v,
    "victim",
    {
      sharing_without_consent: {
        parts: [
          {
            name: `${SHARING}lawful_basis`,
            label: "Lawful basis for referring without consent",
            type: "select",
            options: withoutConsentBases(v.lawful_bases),
            required: true,
            shownWhen: withoutConsent,
          },
          {
            name: `${SHARING}rationale`,
            label: "Why you are referring without consent",
            type: "textarea",
            required: true,
            shownWhen: withoutConsent,
          },
        ],
      },
    },
    { stage: "own_screen", only: ["sharing_without_consent"], prefix: VICTIM },
  );
  const victim = presentedForm(
    v,
    "victim",
    {
      ...victimInputs(v),
      "address.lines": { type: "lines", hint: "Kept for the advocate: the clinic's screens never show it." },
    },
    { stage: BOTH, only: VICTIM_ASKED, prefix: VICTIM },
  );
  const [number, voicemail, text] = fieldsNamed(PHONE_FIELDS, ["number", "voicemail_ok", "text_ok"]);
  const phone = presentedForm(
    v,
    "victim",
    {
      "safe_contact.phones": {
        parts: [
          { ...number, name: `${PHONE}number`, required: false, hint: "A number the clinic can safely call." },
          { ...voicemail, name: `${PHONE}voicemail_ok` },
          { ...text, name: `${PHONE}text_ok` },
        ],
      },
    },
    { stage: "own_screen", only: ["safe_contact.phones"], prefix: VICTIM },
  );
  const dependants = presentedForm(
    v,
    "victim",
    {
      dependants: {
        type: "rows",
        row: {
          fields: fieldsNamed(DEPENDANT_FIELDS, ["name", "date_of_birth", "relationship", "school"]),
          noun: "dependant",
        },
        hint: "Children in the victim's care or household.",
      },
    },
    { stage: "own_screen", only: ["dependants"], prefix: VICTIM },
  );
  const perpetrator = presentedForm(
    v,
    "perpetrator",
    {
      ...perpetratorInputs(v),
      names: { type: "lines", required: true, hint: "Write “Unknown” if no name is known." },
    },
    { stage: BOTH, only: PERPETRATOR_ASKED, prefix: PERPETRATOR },
  );
  const under = (group: string) => (f: FieldSpec) => ({ ...f, group });
  return [
    ...referral.map(under(RECORDS[0].title)),
    ...sharing,
    ...victim.map(under(RECORDS[1].title)),
    ...phone,
    ...dependants,
    ...perpetrator.map(under(RECORDS[2].title)),
  ];
}

/** The fields of one record, by their names within it. */
function pick(all: Fields, prefix: string): Fields {
  return Object.fromEntries(
    Object.entries(all)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  );
}

/** Takes a list entry's fields (`safe_contact.phones[0].number`) out of a record's, by their names within the entry. */
function takeEntry(record: Fields, prefix: string): Fields {
  const entry = pick(record, prefix);
  for (const name of Object.keys(record)) if (name.startsWith(prefix)) delete record[name];
  return entry;
}

/**
 * What the server reads (`{case, victim, perpetrator}`) from what the form
 * holds: the safe phone and the sharing decision as the lists the core keeps.
 * `today` is the UK date the decision to share without consent is made.
 */
export function referralBody(all: Fields, today: string): ReferralFields {
  const referral = pick(all, CASE);
  const victim = pick(all, VICTIM);
  const perpetrator = pick(all, PERPETRATOR);
  // One safe phone, none without a number.
  const phone = takeEntry(victim, PHONE);
  if (typeof phone.number === "string")
    victim["safe_contact.phones"] = [
      { number: phone.number, voicemail_ok: phone.voicemail_ok === true, text_ok: phone.text_ok === true },
    ];
  // Without consent, the lawful basis is the decision to share with the clinic; without a basis the core refuses the referral.
  const sharing = takeEntry(victim, SHARING);
  if (referral["referral.consent_recorded"] !== true && typeof sharing.lawful_basis === "string")
    victim.sharing_without_consent = [
      {
        with: SHARED_WITH,
        shared_on: today,
        lawful_basis: sharing.lawful_basis,
        rationale: typeof sharing.rationale === "string" ? sharing.rationale : "",
        decided_by: typeof referral["referral.referrer"] === "string" ? referral["referral.referrer"] : "",
      },
    ];
  // A postcode without lines is an address missing its lines, as the core says: not one dropped unsaid.
  if ("address.postcode" in victim && !("address.lines" in victim)) victim["address.lines"] = [];
  return { case: referral, victim, perpetrator };
}

/**
 * The server's refusal as the form shows it: the message as a sentence, and
 * each field's rule named by its path within its record, as the desktop's
 * forms name the core's (`referral.reason must not be empty`).
 */
export function asFormFailure(failure: FieldFailure): FieldFailure {
  const shownAs = Object.fromEntries(
    failure.fields.map((f) => [
      f.field,
      f.field.slice(RECORDS.find((r) => f.field.startsWith(r.prefix))?.prefix.length ?? 0),
    ]),
  );
  return new FieldFailure(sentence(failure.message), failure.fields, shownAs);
}

// ---------------------------------------------------------------------------
// A sent referral, read-only

/** One answer of a sent referral: the field's label and what was given; `withheld` when the server held it back. */
export type Answer = { label: string; text: string; given: boolean; long: boolean; withheld: boolean };
/** The answers under one legend of the form. */
export type AnswerGroup = { title: string; answers: Answer[] };
/** One record's answers: its own, then those under a legend of their own (`Shared without consent`). */
export type RecordAnswers = { title: string; groups: AnswerGroup[] };

const NOT_GIVEN = "Not given";
/** What a withheld answer says in place of what was written. */
export const SHOWED_ADDRESS = "Withheld: it shows where the victim lives";

/** Whether `path` is `field` itself or a part of it (one line of a list, the words of an "Other" choice). */
const within = (path: string, field: string) => path === field || path.startsWith(`${field}.`);

/**
 * What the server withheld from a referral, by why. What every clinic screen
 * leaves out for the advocate's laptop (`victim.address`) is taken out of the
 * form; free text that showed the victim's address (`case.referral.reason`)
 * stays in it, as null. The server says which by that alone.
 */
export function splitWithheld(
  form: ReferralRecords,
  withheld: string[],
): { leftOut: string[]; showedAddress: string[] } {
  const showedAddress = withheld.filter((w) => valueAt(form, w) === null);
  return { leftOut: withheld.filter((w) => !showedAddress.includes(w)), showedAddress };
}

function choiceLabel(options: Choice[] | undefined, value: unknown): string {
  if (value !== null && typeof value === "object" && typeof (value as { other?: unknown }).other === "string")
    return (value as { other: string }).other;
  return options?.find((o) => o.value === value)?.label ?? String(value);
}

/** A stored value in the words the form offered it in. */
function answerText(f: FieldSpec, value: unknown): { text: string; given: boolean } {
  const none = { text: f.type === "yes_no" ? "Not answered" : NOT_GIVEN, given: false };
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0))
    return f.type === "checkbox" ? { text: "No", given: true } : none;
  switch (f.type) {
    case "yes_no":
    case "checkbox":
      return { text: value === true ? "Yes" : "No", given: true };
    case "select":
      return { text: choiceLabel(f.options, value), given: true };
    case "chips":
      return { text: (value as unknown[]).map((v) => choiceLabel(f.options, v)).join(", "), given: true };
    case "lines":
      return { text: (value as unknown[]).map(String).join("\n"), given: true };
    case "date":
      return { text: showDate(String(value)), given: true };
    default:
      return { text: String(value), given: true };
  }
}

/**
 * A field the server held back some of, because it showed the victim's
 * address: the lines it kept of a list, and a word for those it did not;
 * for any other field, that it was withheld.
 */
function withheldText(f: FieldSpec, value: unknown): { text: string; given: boolean } {
  if (f.type !== "lines" || !Array.isArray(value)) return { text: SHOWED_ADDRESS, given: false };
  const kept = value.filter((line) => line !== null).map(String);
  const held = value.length - kept.length;
  const note = `${held === 1 ? "1 line" : `${held} lines`} withheld: ${held === 1 ? "it shows" : "they show"} where the victim lives`;
  return { text: [...kept, note].join("\n"), given: kept.length > 0 };
}

/**
 * A sent referral's answers by record and legend, in the form's order, with
 * the form's words. What every clinic screen leaves out (`victim.address`)
 * is left out here too, not shown as not given; free text the server held
 * back because it showed the victim's address says so. A legend none of
 * whose fields holds anything is left out (no sharing decision when consent
 * is recorded).
 */
export function referralAnswers(fields: FieldSpec[], form: ReferralRecords, withheld: string[]): RecordAnswers[] {
  const { leftOut, showedAddress } = splitWithheld(form, withheld);
  const kept = (path: string) => !leftOut.some((w) => within(path, w));
  return RECORDS.map(({ key, prefix, title }) => {
    const groups: AnswerGroup[] = [];
    for (const f of fields.filter((f) => f.name.startsWith(prefix) && f.type !== "rows" && kept(dottedPath(f.name)))) {
      const value = valueAt(form[key], f.name.slice(prefix.length));
      const held = showedAddress.some((w) => within(w, dottedPath(f.name)));
      const group = f.group ?? title;
      let into = groups.find((g) => g.title === group);
      if (!into) groups.push((into = { title: group, answers: [] }));
      into.answers.push({
        label: f.label,
        long: f.type === "textarea" || f.type === "lines",
        withheld: held,
        ...(held ? withheldText(f, value) : answerText(f, value)),
      });
    }
    const own = groups.filter((g) => g.title === title);
    // A legend of its own shows only when something under it was given, or held back.
    const others = groups.filter((g) => g.title !== title && g.answers.some((a) => a.given || a.withheld));
    return { title, groups: [...own, ...others] };
  });
}

/** Whose a record's field is, inside a sentence. */
const WHOSE: Record<(typeof RECORDS)[number]["key"], string> = {
  case: "the referral's",
  victim: "the victim's",
  perpetrator: "the perpetrator's",
};

/**
 * The fields the server held back because they showed the victim's
 * address, in words: "the referral's “Reason for referral”", once each
 * however many of a list's lines it held.
 */
export function showedAddressWords(fields: FieldSpec[], form: ReferralRecords, withheld: string[]): string[] {
  const words = splitWithheld(form, withheld).showedAddress.map((path) => {
    const record = RECORDS.find((r) => path.startsWith(r.prefix));
    const whose = record ? `${WHOSE[record.key]} ` : "";
    const field = fields.find((f) => within(path, dottedPath(f.name)));
    // A field the form does not ask (one the core added later) is named by its path.
    const label = field
      ? field.label.replace(/\s*\([^)]*\)$/, "")
      : spaced(
          path
            .slice(record?.prefix.length ?? 0)
            .replace(/\.\d+/g, "")
            .replace(/\./g, " "),
        );
    return `${whose}“${label}”`;
  });
  return [...new Set(words)];
}
