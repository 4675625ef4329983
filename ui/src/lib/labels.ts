// Stored values as words: the one place the UI turns a value the core stores
// (a risk level, a task's status, a record kind, an order's end) into what
// the advocate reads. Screens import from here and keep no lists of their own.
//
// Most lists are the core's vocabularies. Their labels are written once, in
// Rust (`vocabulary!` in waymark-domain's vocab.rs, where a variant cannot be
// added without its label), reach the UI through the `vocabularies` command,
// and are what both the forms offer and the screens show, so the two never
// word a value differently; they are not copied here. Labels the core does not
// send are kept below, one map per generated type, as `Record<Union, string>`:
// a value added on the Rust side fails svelte-check until it has its words.
import type * as B from "./bindings";
import type { Expiry, Vocabularies } from "./types";
import { showDate } from "./format";

/** A value an open list's service added, kept in its own words. */
type Other = { other: string };
/** The values of a generated union the core names; an open list's "Other" left out. */
export type Known<T> = Exclude<T, Other>;

/** `T`, if it names every key of `Keys` and no other. */
type Exactly<Keys extends PropertyKey, T extends Record<Keys, unknown> & Record<Exclude<keyof T, Keys>, never>> = T;

/**
 * The vocabularies proper: each list of choices `Vocabularies` holds. Its
 * other fields (`presented`, the fields each kind shows) describe forms, not
 * stored values, and are not vocabularies.
 */
export type Vocabulary = {
  [K in keyof Vocabularies]: Vocabularies[K] extends B.Choice[] ? K : never;
}[keyof Vocabularies];

/**
 * The generated type of each vocabulary's values. A vocabulary added to or
 * renamed in `Vocabularies` on the Rust side fails svelte-check here until it
 * is named, and a screen that shows a value of the wrong type fails too.
 */
export type VocabularyValues = Exactly<
  Vocabulary,
  {
    behaviours: B.Behaviour;
    channels: B.IncidentChannel;
    case_statuses: B.CaseStatus;
    risk_levels: B.RiskLevel;
    referral_sources: B.ReferralSource;
    relationships: B.Relationship;
    hearing_types: B.HearingType;
    order_types: B.OrderType;
    condition_kinds: B.ConditionKind;
    contact_methods: B.ContactMethod;
    plan_sections: B.PlanSection;
    answers: B.Answer;
    task_statuses: B.TaskStatus;
    closure_reasons: B.ClosureReason;
    referral_targets: B.ReferralTarget;
    referral_statuses: B.ReferralStatus;
    referral_criteria: B.ReferralCriterion;
    lawful_bases: B.LawfulBasis;
    agencies: B.Agency;
    panel_decisions: B.PanelDecision;
    action_statuses: B.ActionStatus;
    typologies: B.Typology;
    srp_ratings: B.SrpRating;
    escalation_signs: B.EscalationSign;
    hold_reasons: B.HoldReason;
    retention_bases: B.RetentionBasis;
    access_subjects: B.AccessSubject;
    withheld_reasons: B.WithheldBecause;
    exemption_reasons: B.ExemptionReason;
    panel_parts: B.PanelPart;
    // No desktop command carries an erasure reason (the clinic alone erases), so the bindings have no type for it.
    erasure_reasons: string;
    ethnicities: B.Ethnicity;
    sexual_orientations: B.SexualOrientation;
    // No desktop command carries a decline reason, so the bindings have no
    // type for it; the clinic workspace's types.ts names its values.
    decline_reasons: string;
    // Nor for these, the clinic panel's: the workspace's types.ts names their values.
    attendance: string;
    overdue_closures: string;
    selection_bases: string;
    pathway_kinds: string;
    pathway_stages: string;
  }
>;

/**
 * The label for a vocabulary's wire name, for data keyed by wire names (the
 * timeline counts behaviours so, with "other" for every service-added one).
 * Until the vocabularies arrive, or for a name the list lacks, the name itself.
 */
export function wireLabel(vocab: Vocabularies | null | undefined, list: Vocabulary, wire: string): string {
  return vocab?.[list].find((c) => c.value === wire)?.label ?? wire;
}

/**
 * A stored value in words: the core's label for it, a service's own words for
 * a value it added, and "" for no value.
 */
export function labelIn<K extends Vocabulary>(
  vocab: Vocabularies | null | undefined,
  list: K,
  value: VocabularyValues[K] | null | undefined,
): string {
  const stored = value as string | Other | null | undefined;
  if (stored === null || stored === undefined) return "";
  if (typeof stored === "object") return stored.other;
  return wireLabel(vocab, list, stored);
}

/** What a case with no risk level shows. */
export const NOT_ASSESSED = "Not assessed";

/** A case's risk level in words, "Not assessed" when it has none. */
export function riskLabel(vocab: Vocabularies | null | undefined, level: B.RiskLevel | null | undefined): string {
  return labelIn(vocab, "risk_levels", level) || NOT_ASSESSED;
}

/** A label map as the options of a select, in the map's order. */
export function asChoices<T extends string>(labels: Record<T, string>): { value: T; label: string }[] {
  return (Object.entries(labels) as [T, string][]).map(([value, label]) => ({ value, label }));
}

/** The printouts, as the print dialog names them. */
export const DOCUMENT_NAMES: Record<B.DocumentKind, string> = {
  safety_plan: "Safety plan",
  chronology: "Chronology of incidents",
  hearings: "Court hearings",
  quarterly_return: "Quarterly return",
  subject_access: "Subject access answer",
};

/** The caseload's orders, as its "Sort by" list offers them. */
export const SORT_LABELS: Record<B.SortBy, string> = {
  reference: "Reference",
  risk: "Highest risk first",
  next_hearing: "Next hearing",
  last_contact: "Longest since contact",
  escalation: "Escalating first",
};

/** How an order ends, as the order forms offer it. */
export const EXPIRY_LABELS: Record<Expiry["kind"], string> = {
  on: "On a date",
  until_further_order: "Until further order",
  until_application_decided: "Until the application is decided",
  not_set: "Not set",
};

/**
 * Who authorised pre-charge bail, as the order forms offer it. The core
 * sends no list for it (BailAuthority is not among the vocabularies); these
 * are its labels in waymark-domain's vocab.rs.
 */
export const BAIL_AUTHORITIES: Record<B.BailAuthority, string> = {
  first_grant: "First grant",
  inspector: "Inspector",
  superintendent: "Superintendent",
  court: "Court",
};

/** How an order ends, inside a sentence: "until 12 Mar 2028", "until further order". */
export function expiryText(expiry: Expiry): string {
  return expiry.kind === "on" ? `until ${showDate(expiry.date)}` : EXPIRY_LABELS[expiry.kind].toLowerCase();
}

/** Each kind of record, as the audit trail and the sync screen name it. */
export const RECORD_KINDS: Record<B.RecordKind, string> = {
  case: "case",
  victim: "victim",
  perpetrator: "perpetrator",
  incident: "incident",
  incident_amendment: "incident amendment",
  risk_assessment: "risk assessment",
  safety_plan: "safety plan",
  hearing: "hearing",
  order: "order",
  breach: "breach",
  referral: "referral",
  clinic_review: "clinic review",
  contact: "contact",
  escalation_review: "escalation review",
  task: "task",
};

/** A stored name that has no label of its own (an audit action, a field), with its underscores as spaces. */
export const spaced = (name: string): string => name.replace(/_/g, " ");

/** A record kind in words; the audit trail stores it as text, so a kind this build does not know is shown spaced. */
export function recordKindLabel(kind: string | null | undefined): string {
  if (!kind) return "";
  return (RECORD_KINDS as Record<string, string | undefined>)[kind] ?? spaced(kind);
}

/**
 * The agencies that own a clinic review's actions. The core sends no labels
 * for them (Agency is not among the vocabularies), so they are worded here.
 */
export const AGENCIES: Record<Known<B.Agency>, string> = {
  police: "police",
  cps: "cps",
  probation: "probation",
  mental_health: "mental health",
  victims_charity: "victims charity",
};

export function agencyLabel(agency: B.Agency): string {
  return typeof agency === "string" ? AGENCIES[agency] : agency.other;
}
