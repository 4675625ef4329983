// The workspace's own types, as the clinic server sends them (waymark-clinic's workspace.rs).
// The answers the server's tests compare field by field (they read each
// type's fields up to its first closing brace) are written one level deep,
// with a named type for anything nested.
import type * as B from "../lib/bindings";
import type { Fields } from "../lib/forms";

export type StaffRole = "administrator" | "coordinator" | "manager" | "panel_member" | "advocate" | "referrer";
export type SignedIn = { staff_code: string; name: string; role: StaffRole; csrf: string; ends_at: string };
export type StaffEntry = { code: string; name: string; role: StaffRole; active: boolean; added_at: string };
export type DeviceEntry = {
  id: string;
  advocate: string;
  confirmed: boolean;
  status: "active" | "revoked";
  enrolled_at: string;
  revoked_at: string | null;
  last_seen_at: string | null;
  acked_through: number;
};
/** A refusal; `fields`, with `invalid` from a form, names each field the form got wrong and the rule it broke. */
export type ApiError = { code: string; message: string; fields?: B.FieldError[] };

/** Where a referral stands (the clinic store's `IntakeStatus`). */
export type IntakeStatus = "submitted" | "accepted" | "declined";
/**
 * Why screening declined a referral (waymark-domain's `DeclineReason`). No
 * desktop command carries one, so the bindings have none; its labels come
 * with the vocabularies (`decline_reasons`).
 */
export type DeclineReason =
  "outside_criteria" | "outside_area" | "existing_case" | "not_contactable" | "support_declined";
/** Which of a referral's people an existing case shares (waymark-domain's `intake::SamePerson`). */
export type SamePerson = "victim" | "perpetrator";
/** What made two people look the same (`intake::MatchedOn`). */
export type MatchedOn = "name" | "date_of_birth" | "phone";

/** A referral form as the page sends it: each record's fields by name, as the desktop's forms send them. */
export type ReferralFields = { case: Fields; victim: Fields; perpetrator: Fields };
/** What the sender of a referral learns back: its id, and the number to quote. */
export type ReferralReceipt = { id: string; number: number };
/**
 * A referral in a list. A referrer's list holds only their own, with
 * `source` null, `criteria` empty and `advocate` null: never the people in it.
 */
export type ReferralRow = {
  id: string;
  number: number;
  submitted_at: string;
  their_reference: string | null;
  status: IntakeStatus;
  decline_reason: DeclineReason | null;
  source: B.ReferralSource | null;
  criteria: B.ReferralCriterion[];
  advocate: string | null;
};
/**
 * An existing case that may hold the referral's victim or perpetrator: its
 * reference and advocate, never its people. `there` is what the person is in
 * the other case: a victim there may be the perpetrator here.
 */
export type DuplicateView = {
  case_id: string;
  reference: string;
  advocate: string;
  who: SamePerson;
  there: SamePerson;
  matched_on: MatchedOn[];
};
/** Another referral, still waiting for screening, that may be about the same people. */
export type PendingDuplicateView = {
  referral_id: string;
  number: number;
  who: SamePerson;
  there: SamePerson;
  matched_on: MatchedOn[];
};
/** The victim as the clinic's screens receive one: what stays on the advocate's laptop (`at_clinic`) is absent, not empty. */
export type VictimAtClinic = Omit<B.Victim_Serialize, "address" | "safe_contact" | "dependants">;
/**
 * The victim of a case as the workspace receives one: where they live, how
 * to reach them and their dependants come only to a panel member whose
 * agency the victim's consent or a lawful basis covers; `withheld` says so.
 */
export type VictimOnCase = VictimAtClinic &
  Partial<Pick<B.Victim_Serialize, "address" | "safe_contact" | "dependants">>;
/** A referral's three records, as screening reads them. */
export type ReferralRecords = { case: B.Case_Serialize; victim: VictimAtClinic; perpetrator: B.Perpetrator_Serialize };
/**
 * A referral as screening sees it: `withheld` names what stayed out of
 * `form` (`victim.address`), `case_id` is the case it became once accepted.
 */
export type ReferralView = {
  id: string;
  number: number;
  submitted_by: string;
  submitted_at: string;
  status: IntakeStatus;
  decided_by: string | null;
  decided_at: string | null;
  decline_reason: DeclineReason | null;
  advocate: string | null;
  case_id: string | null;
  reference: string | null;
  form: ReferralRecords;
  withheld: string[];
  postcode_district: string | null;
  duplicates: DuplicateView[];
  pending_duplicates: PendingDuplicateView[];
};
/** An advocate a case can go to, and how many open cases they hold. */
export type AdvocateView = { code: string; name: string; open_cases: number };
/** An active panel member the coordinator can invite to a meeting, and the agency they sit for. */
export type PanelMemberView = { code: string; name: string; agency: B.Agency | null };
/** What accepting a referral made. */
export type Accepted = { case_id: string; reference: string };
/** The administrator's own password and authenticator code, asked again before they change someone's sign-in. */
export type Reconfirm = { password: string; code: string };
/** A one-time enrolment code for an advocate's laptop, shown once: its text, the same as a QR code (SVG), and when it stops working. */
export type IssuedCode = { code: string; qr_svg: string; expires_at: string };
/** A new authenticator secret, shown once: the text to type in, and the same as a QR code (SVG). */
export type NewSecondFactor = { secret: string; qr_svg: string };

/** A case on a meeting's agenda, in order, with the minutes the panel gives it; `reference` is the case's. */
export type AgendaItemView = { case_id: string; reference: string; minutes: number };
/**
 * A panel meeting (clinic.md, "The flow of a case", steps 4 and 5): staff
 * codes and case references, no one's details. `meets_on` is a UK date; its
 * invited members see its cases from `published_at` until `closed_at`.
 */
export type MeetingView = {
  id: string;
  meets_on: string;
  chair: string;
  invited: string[];
  agenda: AgendaItemView[];
  published_at: string | null;
  closed_at: string | null;
  research_due_on: string | null;
};
/** A case on a meeting as the coordinator sends it. */
export type AgendaItem = { case_id: string; minutes: number };
/** A meeting as the coordinator saves it; `id` is null for a new one. */
export type MeetingFields = {
  id: string | null;
  meets_on: string;
  chair: string;
  invited: string[];
  agenda: AgendaItem[];
  research_due_on: string | null;
};

/** Where the panel's selection found a criterion met (waymark-domain's `SelectionBasis`); labels in `selection_bases`. */
export type SelectionBasis = "referral" | "records" | "coordinator";
/** A member's place at a meeting (`Attendance`); labels in `attendance`. */
export type AttendanceMark = "present" | "apologies";
/** Why an action closed after its due date (`OverdueClosure`); labels in `overdue_closures`. */
export type OverdueClosure = "circumstances_changed" | "not_done_by_agency";
/** Where a panel action stands; labels in `action_statuses`. */
export type ActionStatus = B.ActionStatus;
/** What the panel decided for a case (`PanelDecision`, an open list); labels in `panel_decisions`. */
export type PanelDecisionValue = B.PanelDecision;

/** A criterion a case meets, where that was found (`basis`) and why, in words made of counts and dates. */
export type CriterionMet = { criterion: B.ReferralCriterion; basis: SelectionBasis; why: string };
/** A criterion the service selects by, and the guidance it comes from. */
export type CriterionSource = { criterion: B.ReferralCriterion; source: string };
/**
 * A case the selection offers. `removed` is the coordinator's reason when
 * they took it off; `review_due_on`, set once twelve months have passed
 * since the panel last heard it; `next_meeting`, the date of the next
 * meeting with it on its agenda.
 */
export type SelectionRow = {
  case_id: string;
  reference: string;
  advocate: string;
  met: CriterionMet[];
  removed: string | null;
  last_heard_on: string | null;
  review_due_on: string | null;
  next_meeting: string | null;
};
export type SelectionView = { rows: SelectionRow[]; criteria: CriterionSource[] };
/** The coordinator's hand on the selection: a case added (with the criterion it meets, if one) or taken off, and why. */
export type SelectionChange = {
  case_id: string;
  include: boolean;
  criterion: B.ReferralCriterion | null;
  reason: string;
};

/** An agency's research on a case for a meeting; `late`, returned after the meeting's research deadline. */
export type ResearchView = { agency: B.Agency; summary: string; by: string; at: string; late: boolean };
/**
 * Research as the page sends it. A panel member's agency is their own, from
 * the staff register: they send none. The coordinator names the agency whose
 * research they enter.
 */
export type ResearchFields = { case_id: string; summary: string; agency?: B.Agency };
/** An action the panel agreed, with its case's reference; `overdue`, open past its due date today. */
export type ActionView = {
  id: string;
  case_id: string;
  reference: string;
  meeting_id: string;
  meeting_on: string | null;
  agency: B.Agency;
  named_owner: string | null;
  action: string;
  due_on: string;
  status: ActionStatus;
  overdue: boolean;
  overdue_closure: OverdueClosure | null;
  note: string | null;
  task_done: boolean | null;
};
/** The actions a viewer may see, overdue first. */
export type ActionsView = { actions: ActionView[] };
/** A change to an action: `overdue` says why it closed after its due date, and is sent only then. */
export type ActionUpdate = {
  status: ActionStatus;
  overdue: OverdueClosure | null;
  note: string | null;
  named_owner: string | null;
};
/** A rating of one of the SRP's domains, and why. */
export type SrpJudgementView = { rating: "low" | "moderate" | "high"; rationale: string };
/** What one agency shared about a case at the meeting. */
export type SharedInformation = { agency: B.Agency; text: string };
/** What a meeting recorded of a case: `srp` by domain (`violence`, `persistence`, …). */
export type CaseRecordView = {
  information: SharedInformation[];
  typology: B.Typology | null;
  srp: Record<string, SrpJudgementView>;
  decisions: PanelDecisionValue[];
  decision_note: string | null;
  recorded_by: string;
  recorded_at: string;
};
/**
 * A case's record in brief, for the coordinator and the advocates' manager:
 * `risk_review_on` a date, `next_hearing` an instant, `days_since_contact`
 * null when no contact is recorded, and `escalation` the escalation
 * analysis's findings in words, empty when nothing is flagged.
 */
export type CaseBrief = {
  advocate: string;
  risk_level: B.RiskLevel | null;
  risk_review_on: string | null;
  incidents: number;
  next_hearing: string | null;
  days_since_contact: number | null;
  escalation: string[];
};
/**
 * One case on a meeting's page: why the selection offers it, its record in
 * brief (`brief`, null for a panel member), the research returned and the
 * invited agencies still awaited, what the meeting recorded, the actions it
 * agreed and those still open from earlier meetings.
 */
export type MeetingCase = {
  case_id: string;
  reference: string;
  minutes: number;
  met: CriterionMet[];
  research: ResearchView[];
  awaiting: B.Agency[];
  record: CaseRecordView | null;
  actions: ActionView[];
  earlier_open: ActionView[];
  brief: CaseBrief | null;
};
/** An invited member and how the coordinator marked them; `mark` null until marked. */
export type AttendanceView = { code: string; name: string; agency: B.Agency | null; mark: AttendanceMark | null };
/** A member's mark as the coordinator sends it. */
export type AttendanceFields = { code: string; mark: AttendanceMark };
/**
 * A meeting whole. A panel member's has no attendance, no criteria and no
 * record, and only their own agency's research and actions.
 */
export type MeetingDetail = { meeting: MeetingView; attendance: AttendanceView[]; cases: MeetingCase[] };
/** An action as the coordinator records it at the meeting; `id`, one this meeting agreed before, corrected. */
export type ActionFields = {
  id?: string;
  agency: B.Agency;
  named_owner: string | null;
  action: string;
  due_on: string;
};
/** What a meeting recorded of a case, as the coordinator sends it; this meeting's actions left out are cancelled. */
export type CaseRecordFields = {
  information: SharedInformation[];
  typology: B.Typology | null;
  srp: Record<string, SrpJudgementView>;
  decisions: PanelDecisionValue[];
  decision_note: string | null;
  actions: ActionFields[];
};

/** A perpetrator's pathway the panel tracks (waymark-domain's `PathwayKind`); labels in `pathway_kinds`. */
export type PathwayKind = "mental_health" | "mappa";
/** A step on a pathway, in the order they come (`PathwayStage`); labels in `pathway_stages`. */
export type PathwayStage = "referred" | "accepted" | "declined" | "started" | "completed" | "reoffended";
/** A step on a pathway: `on` the UK date it happened, `by` the staff code who recorded it, `at` when. */
export type PathwayStep = { stage: PathwayStage; on: string; by: string; at: string };
/** A perpetrator's pathway of one kind, its steps in order: the perpetrator by record id, never a name. */
export type PathwayView = {
  perpetrator_id: string;
  case_id: string;
  reference: string;
  kind: PathwayKind;
  steps: PathwayStep[];
};
/** How many perpetrators reached each stage of a pathway: the commissioner's figures. */
export type PathwayFigures = {
  kind: PathwayKind | null;
  referred: number;
  accepted: number;
  declined: number;
  started: number;
  completed: number;
  reoffended: number;
};
/** Every pathway, by case reference, and the figures for each kind. */
export type PathwaysView = { pathways: PathwayView[]; figures: PathwayFigures[] };
/** A step as the coordinator records it; `on` is "YYYY-MM-DD". */
export type PathwayStepFields = {
  case_id: string;
  perpetrator_id: string;
  kind: PathwayKind;
  stage: PathwayStage;
  on: string;
};

/** What a line of the clinic's audit records (the clinic store's `AdminAction`); `unrecognised`, written by a newer waymark-clinic. */
export type AuditAction =
  | "quarantine_released"
  | "quarantine_discarded"
  | "password_set"
  | "second_factor_reset"
  | "signed_in"
  | "signed_out"
  | "viewed"
  | "refused"
  | "referral_submitted"
  | "referral_accepted"
  | "referral_declined"
  | "case_reassigned"
  | "enrolment_issued"
  | "device_revoked"
  | "meeting_saved"
  | "meeting_published"
  | "meeting_closed"
  | "selection_changed"
  | "research_returned"
  | "attendance_recorded"
  | "panel_case_recorded"
  | "action_updated"
  | "minutes_made"
  | "pathway_recorded"
  | "return_made"
  | "case_erased"
  | "access_requested"
  | "access_released"
  | "access_withheld"
  | "access_exported"
  | "access_identity_checked"
  | "unrecognised";
/**
 * A line of the clinic's audit: who (a staff code) did what, to what, when.
 * `detail` holds ids, counts and codes only; `hash` is its link in the
 * chain, null for lines written before the chain began.
 */
export type AuditLine = {
  seq: number;
  at: string;
  actor: string;
  action: AuditAction;
  target: string | null;
  detail: Record<string, unknown>;
  hash: string | null;
};
/**
 * The audit's newest lines (at most 500, newest first), how many it holds,
 * and whether its chain verifies: `broken_at` is the first line found
 * changed or missing when it does not; `head` the last line's number and
 * hash ("42:ab12…") when it does.
 */
export type AuditView = {
  lines: AuditLine[];
  total: number;
  verified: boolean;
  broken_at: number | null;
  head: string | null;
};

/** Why a case was erased (waymark-domain's `ErasureReason`); labels in `erasure_reasons`. */
export type ErasureReason = "retention_due" | "erasure_request";
/**
 * A closed case on the clinic's retention review (waymark-domain's
 * `RetentionRow`): its reference, advocate (a staff code) and dates only.
 * `due` when the schedule says it should be erased now: due and not held.
 */
export type RetentionRow = B.RetentionRow_Serialize;
/** A case erased at the clinic: which case id, when, by whom (a staff code) and why; nothing else of it is kept. */
export type ErasedCase = { case_id: string; erased_at: string; erased_by: string; reason: ErasureReason };
/** The manager's retention review: the closed cases, those due for deletion first, and the cases erased so far. */
export type RetentionView = { cases: RetentionRow[]; erased: ErasedCase[] };
/** An erasure as the manager sends it: why, and the case's reference typed to confirm which case goes. */
export type EraseFields = { reason: ErasureReason; reference: string };
/** What erasing a case removed at the clinic, in counts (the clinic store's `ErasedAtClinic`). */
export type ErasedAtClinic = {
  feed_ops: number;
  refused: number;
  quarantined: number;
  referrals: number;
  panel_docs: number;
  warnings: number;
};

/**
 * Subject access: the core's own types (waymark-domain's `access`), so the
 * clinic's answers and the laptop's are one shape. Labels in
 * `access_subjects`, `withheld_reasons`, `exemption_reasons`, `panel_parts`.
 */
export type AccessSubject = B.AccessSubject;
export type WithheldBecause = B.WithheldBecause;
export type ExemptionReason = B.ExemptionReason;
export type PanelPart = B.PanelPart;
export type IdentityCheck = B.IdentityCheck;
export type AccessRequest = B.AccessRequest_Serialize;
/** A request on the coordinator's list, with its case's reference; `reference` is empty once the case is erased: the request is still owed an answer, that nothing is held. */
export type AccessRequestRow = { request: AccessRequest; reference: string; case_erased: boolean };
/** The coordinator's requests, the soonest due first. */
export type AccessRequestsView = { requests: AccessRequestRow[] };
export type AccessItem = B.AccessItem_Serialize;
/** One of the requester's own items withheld under an exemption: its key, and why. */
export type AccessExemption = [string, ExemptionReason];
export type AccessReview = B.AccessReview_Serialize;
/** A request as the coordinator records it: `perpetrator_id` only for a perpetrator's; `received_on` as "YYYY-MM-DD". */
export type AccessRequestFields = {
  case_id: string;
  subject: AccessSubject;
  perpetrator_id?: string;
  received_on: string;
};
