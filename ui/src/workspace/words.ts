// The workspace's own words: what the desktop has no need of (staff roles)
// and the few ways it shows a value. Vocabulary labels and dates come from
// the desktop's lib/labels.ts and lib/format.ts, so the two never differ.
import type { Agency, EscalationSign, RecordKind, Severity, SortBy, Warning } from "../lib/bindings";
import type { Choice, Escalation, Finding, Vocabularies } from "../lib/types";
import { londonLocalNow, showDate } from "../lib/format";
import { dueStatus } from "../lib/access";
import { labelIn, recordKindLabel, spaced, wireLabel } from "../lib/labels";
import type {
  AccessItem,
  AccessRequest,
  AccessSubject,
  AuditAction,
  ExemptionReason,
  IntakeStatus,
  MatchedOn,
  MeetingView,
  PathwayKind,
  PathwayStage,
  PathwayStep,
  SamePerson,
  StaffRole,
  WithheldBecause,
} from "./types";

/** What the sign-in screen says on arrival: why the last session ended, or that it did. */
export type Notice = { text: string; alert: boolean };

/**
 * The caseload's filters and order, kept while a case is open; `overdue`,
 * only cases whose risk review is overdue; `escalating`, only cases escalating.
 */
export type Filters = {
  advocate: string;
  status: string;
  risk: string;
  overdue: boolean;
  escalating: boolean;
  sort: SortBy;
};

export const ROLE_LABELS: Record<StaffRole, string> = {
  administrator: "Administrator",
  coordinator: "Coordinator",
  manager: "Advocates' manager",
  panel_member: "Panel member",
  advocate: "Advocate",
  referrer: "Referrer",
};

export const yesNo = (value: boolean): string => (value ? "Yes" : "No");

/** Today's date in the UK, as "2026-11-22". */
export const londonToday = (now: Date = new Date()): string => londonLocalNow(now).slice(0, 10);

/** An instant's date in the UK ("22 Nov 2026"); "" for none. */
export function londonDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : showDate(londonToday(at));
}

/** Text with a capital first letter. */
export const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A server's message as a sentence: it may start in lower case and end without a full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return "";
  const capital = capitalised(trimmed);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const SEVERITY_ORDER: Record<Severity, number> = { danger: 0, caution: 1, info: 2 };

/** Warnings danger first, keeping the server's order within each severity. */
export const dangerFirst = (warnings: Warning[]): Warning[] =>
  [...warnings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);

/**
 * Whether the escalation analysis flags anything about a case that no
 * advocate has reviewed (a row from a server without the analysis has none).
 */
export const isEscalating = (e: Escalation | null | undefined): boolean => !!e?.findings?.length;

/** The signs a case's escalation flags, each once, in the findings' order (most telling first). */
export const escalationSigns = (e: Escalation | null | undefined): EscalationSign[] => [
  ...new Set((e?.findings ?? []).map((f) => f.sign)),
];

/** When the newest evidence any finding rests on was recorded, in milliseconds; -Infinity for none. */
export function newestEvidence(e: Escalation | null | undefined): number {
  return (e?.findings ?? []).reduce((newest, f) => {
    const at = Date.parse(f.evidence_at);
    return Number.isNaN(at) ? newest : Math.max(newest, at);
  }, -Infinity);
}

/** A sign of escalation in the core's words (`Vocabularies.escalation_signs`). */
export const signLabel = (vocab: Vocabularies | null | undefined, sign: EscalationSign): string =>
  labelIn(vocab, "escalation_signs", sign);

/** A finding in words: "More frequent incidents: 3 incidents in the last 7 days, …". */
export const findingWords = (vocab: Vocabularies | null | undefined, f: Finding): string =>
  `${signLabel(vocab, f.sign)}: ${f.text}`;

/** Where a referral stands, as its lists and its page say it. */
export const INTAKE_STATUS_LABELS: Record<IntakeStatus, string> = {
  submitted: "Waiting for screening",
  accepted: "Accepted",
  declined: "Declined",
};

/** Who a person is in a case or a referral, inside a sentence. */
export const PERSON_WORDS: Record<SamePerson, string> = {
  victim: "the victim",
  perpetrator: "the perpetrator",
};

/** What made two people look the same, inside a sentence. */
export const MATCHED_ON_LABELS: Record<MatchedOn, string> = {
  name: "name",
  date_of_birth: "date of birth",
  phone: "phone number",
};

/** What made two people look the same, inside a sentence: "name and date of birth". */
export const matchedOnWords = (on: MatchedOn[]): string => inWords(on.map((m) => MATCHED_ON_LABELS[m] ?? m));

/** What a page leaves out (its `withheld`: `kind.field`, or `kind` for a whole kind), inside a sentence, in this order. */
const WITHHELD_WORDS: Record<string, string> = {
  "victim.address": "the victim's address",
  "victim.safe_contact": "how to reach the victim safely",
  "victim.dependants": "the victim's dependants",
  safety_plan: "the safety plan",
  contact: "the notes of contacts",
};
export const withheldWords = (path: string): string => WITHHELD_WORDS[path] ?? spaced(path.replace(/\./g, " "));
const WITHHELD_ORDER = Object.keys(WITHHELD_WORDS);
/** What a page leaves out, in words and in one order whatever the server's: the victim's details first. */
export function withheldInWords(withheld: string[]): string {
  const rank = (path: string) => (WITHHELD_ORDER.includes(path) ? WITHHELD_ORDER.indexOf(path) : WITHHELD_ORDER.length);
  return inWords([...withheld].sort((a, b) => rank(a) - rank(b)).map(withheldWords));
}

/** A list inside a sentence: "a", "a and b", "a, b and c". */
export function inWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** A count of a noun: "1 open case", "3 open cases". */
export const counted = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Where a panel meeting stands: made, its agenda published to its members, or its follow-up closed. */
export type MeetingState = "draft" | "published" | "closed";
export const meetingState = (m: MeetingView): MeetingState =>
  m.closed_at ? "closed" : m.published_at ? "published" : "draft";
export const MEETING_STATE_LABELS: Record<MeetingState, string> = {
  draft: "Draft",
  published: "Published",
  closed: "Follow-up closed",
};
/** A meeting's title: "Panel of 10 Dec 2026". */
export const meetingTitle = (m: Pick<MeetingView, "meets_on">): string => `Panel of ${showDate(m.meets_on)}`;
/** The minutes an agenda takes: "3 cases, 45 minutes". */
export function agendaLength(agenda: { minutes: number | null | undefined }[]): string {
  const minutes = agenda.reduce((sum, item) => sum + (Number.isFinite(item.minutes) ? (item.minutes as number) : 0), 0);
  return `${counted(agenda.length, "case")}, ${counted(minutes, "minute")}`;
}

/** What a line of the audit records, in words. */
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  quarantine_released: "Quarantine released",
  quarantine_discarded: "Quarantine discarded",
  password_set: "Password set",
  second_factor_reset: "New authenticator",
  signed_in: "Signed in",
  signed_out: "Signed out",
  viewed: "Viewed",
  refused: "Refused",
  referral_submitted: "Referral submitted",
  referral_accepted: "Referral accepted",
  referral_declined: "Referral declined",
  case_reassigned: "Case reassigned",
  enrolment_issued: "Enrolment code issued",
  device_revoked: "Laptop revoked",
  meeting_saved: "Meeting saved",
  meeting_published: "Agenda published",
  meeting_closed: "Follow-up closed",
  selection_changed: "Panel selection changed",
  research_returned: "Research returned",
  attendance_recorded: "Attendance recorded",
  panel_case_recorded: "Case recorded at the panel",
  action_updated: "Panel action updated",
  minutes_made: "Minutes or an agency's extract made",
  pathway_recorded: "Pathway step recorded",
  return_made: "Quarterly return made",
  case_erased: "Case erased",
  access_requested: "Subject access request recorded",
  access_released: "Subject access item released",
  access_withheld: "Subject access item withheld under an exemption",
  access_exported: "Subject access answer made",
  access_identity_checked: "Subject access requester's identity checked",
  unrecognised: "Not recognised (written by a newer version)",
};
/** An audit line's action in words; one this page does not know, as the server wrote it. */
export const auditActionWords = (action: string): string =>
  Object.hasOwn(AUDIT_ACTION_LABELS, action) ? AUDIT_ACTION_LABELS[action as AuditAction] : action;

/** A value in an audit line's detail, as plain text. */
function detailValue(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length ? value.map(detailValue).join(", ") : "none";
  return JSON.stringify(value);
}

/** An audit line's detail as compact text, "case: c1; advocate: ADV2"; "" for none. Text only: never markup. */
export function auditDetail(detail: unknown): string {
  if (detail === null || detail === undefined) return "";
  if (typeof detail !== "object" || Array.isArray(detail)) return detailValue(detail);
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${detailValue(value)}`)
    .join("; ");
}

// ---- The panel's work ----

/** The clinic panel's vocabularies, whose values the bindings do not all name (`Vocabularies`). */
export type PanelList =
  | "panel_decisions"
  | "attendance"
  | "overdue_closures"
  | "action_statuses"
  | "typologies"
  | "srp_ratings"
  | "selection_bases";

/** A panel list's choices, in the core's words; until the vocabularies come, none. */
export const panelChoices = (vocab: Vocabularies | null | undefined, list: PanelList): Choice[] => vocab?.[list] ?? [];

/** A panel list's value in words; a service's own value (`{other}`) in its own words; "" for none. */
export function panelLabel(
  vocab: Vocabularies | null | undefined,
  list: PanelList,
  value: string | { other: string } | null | undefined,
): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return value.other;
  return wireLabel(vocab, list, value);
}

/** The SRP's domains a meeting rates, by their fixed ids, in the record's order. */
export const SRP_DOMAINS: { id: string; label: string }[] = [
  { id: "violence", label: "Risk of violence" },
  { id: "persistence", label: "Risk of persistence" },
  { id: "recurrence", label: "Risk of recurrence" },
  { id: "psychosocial_damage", label: "Psychosocial damage" },
];

/** An agency as one string, for a select's value: a known one by its name, a service's own as "other:Name". */
export const agencyKey = (agency: Agency): string => (typeof agency === "string" ? agency : `other:${agency.other}`);
/** The agency a select's value names (`agencyKey`'s reverse). */
export const agencyOfKey = (key: string): Agency =>
  key.startsWith("other:") ? { other: key.slice("other:".length) } : (key as Agency);
/** An agency in words: the vocabularies' label, or a service's own name. */
export const agencyWords = (vocab: Vocabularies | null | undefined, agency: Agency | null | undefined): string =>
  labelIn(vocab, "agencies", agency);
/**
 * The agencies a form offers: the vocabularies' in their order, then each
 * service-added one named in `seen`, once.
 */
export function agencyChoices(vocab: Vocabularies | null | undefined, seen: (Agency | null | undefined)[]): Choice[] {
  const known: Choice[] = (vocab?.agencies ?? []).map((c) => ({ value: c.value, label: c.label }));
  for (const agency of seen) {
    if (!agency) continue;
    const key = agencyKey(agency);
    if (!known.some((c) => c.value === key)) known.push({ value: key, label: agencyWords(vocab, agency) });
  }
  return known;
}

// ---- Perpetrators' pathways ----

/** A pathway's stages, in the order they come. */
export const PATHWAY_STAGES: PathwayStage[] = [
  "referred",
  "accepted",
  "declined",
  "started",
  "completed",
  "reoffended",
];

/** A perpetrator as the pathways name them: never by name, by the first 8 characters of their record's id. */
export const perpetratorWords = (id: string): string => `Perpetrator ${id.slice(0, 8)}`;

/** A pathway's kind in words ("Mental-health pathway"); the figures' row of no kind is every pathway's. */
export const pathwayKindWords = (vocab: Vocabularies | null | undefined, kind: PathwayKind | null): string =>
  kind === null ? "All pathways" : wireLabel(vocab, "pathway_kinds", kind);

/** A pathway's stage in words ("Referred"). */
export const pathwayStageWords = (vocab: Vocabularies | null | undefined, stage: PathwayStage): string =>
  wireLabel(vocab, "pathway_stages", stage);

/**
 * The step that most likely comes next after `steps`: referred first, then
 * accepted, started and completed; after a declined referral or a completed
 * pathway, only reoffending is left. The server judges what may follow.
 */
export function nextPathwayStage(steps: Pick<PathwayStep, "stage">[]): PathwayStage {
  const reached = (stage: PathwayStage) => steps.some((s) => s.stage === stage);
  if (!reached("referred")) return "referred";
  if (reached("declined") || reached("completed")) return "reoffended";
  if (!reached("accepted")) return "accepted";
  if (!reached("started")) return "started";
  return "completed";
}

// ---- Subject access ----

/** Whose request it is, in the core's words ("The victim"). */
export const accessSubjectWords = (vocab: Vocabularies | null | undefined, subject: AccessSubject): string =>
  wireLabel(vocab, "access_subjects", subject);

/** Whose request it is, a perpetrator's by their record (never a name): "The perpetrator (Perpetrator 5f0c2d1e)". */
export function requesterWords(vocab: Vocabularies | null | undefined, request: AccessRequest): string {
  const who = accessSubjectWords(vocab, request.subject);
  return request.subject === "perpetrator" && request.perpetrator_id
    ? `${who} (${perpetratorWords(request.perpetrator_id)})`
    : who;
}

/**
 * When an answer is due, in words and never by colour alone, counted in
 * whole London days from `today` ("YYYY-MM-DD"): "Overdue by 3 days", "Due
 * today", "Due tomorrow", "Due in 12 days".
 */
export const dueWords = (dueOn: string, today: string = londonToday()) => dueStatus(dueOn, today);

/** Why an item is withheld, in the core's words. */
export const withheldBecauseWords = (vocab: Vocabularies | null | undefined, because: WithheldBecause): string =>
  wireLabel(vocab, "withheld_reasons", because);

/** An exemption, in the core's words. */
export const exemptionWords = (vocab: Vocabularies | null | undefined, reason: ExemptionReason): string =>
  wireLabel(vocab, "exemption_reasons", reason);

/** A record of a case as a subject access review heads its items: what it is, for a reader. */
const RECORD_HEADINGS: Record<RecordKind, string> = {
  case: "The case",
  victim: "The victim's details",
  perpetrator: "A perpetrator's details",
  incident: "An incident",
  incident_amendment: "A correction to an incident",
  risk_assessment: "A risk assessment",
  safety_plan: "A safety plan",
  hearing: "A court hearing",
  order: "A court order",
  breach: "A breach of an order",
  referral: "A referral to another service",
  clinic_review: "The clinic panel's review",
  contact: "A contact with the victim",
  escalation_review: "An escalation review",
  task: "A task",
};

/** A record's heading in the review: the panel's document by its part, any other record by its kind. */
export function accessRecordHeading(vocab: Vocabularies | null | undefined, item: AccessItem): string {
  if (item.panel) return wireLabel(vocab, "panel_parts", item.panel);
  return (RECORD_HEADINGS as Record<string, string | undefined>)[item.kind] ?? capitalised(recordKindLabel(item.kind));
}

/** One record's items, in record order, under the heading the review gives it. */
export type AccessRecordGroup = { record_id: string; heading: string; items: AccessItem[] };

/**
 * The items by record: consecutive items of one record (and, for the panel's
 * documents, of one part of them) are one record. Records that share a
 * heading are numbered in turn: "An incident (1 of 3)".
 */
export function accessRecordGroups(vocab: Vocabularies | null | undefined, items: AccessItem[]): AccessRecordGroup[] {
  const groups: AccessRecordGroup[] = [];
  let last: AccessItem | null = null;
  for (const item of items) {
    if (last && last.record_id === item.record_id && last.panel === item.panel)
      groups[groups.length - 1].items.push(item);
    else groups.push({ record_id: item.record_id, heading: accessRecordHeading(vocab, item), items: [item] });
    last = item;
  }
  const total = new Map<string, number>();
  for (const g of groups) total.set(g.heading, (total.get(g.heading) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const g of groups) {
    const of = total.get(g.heading) ?? 1;
    if (of < 2) continue;
    const n = (seen.get(g.heading) ?? 0) + 1;
    seen.set(g.heading, n);
    g.heading = `${g.heading} (${n} of ${of})`;
  }
  return groups;
}
