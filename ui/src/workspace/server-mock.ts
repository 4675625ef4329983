// A stand-in for the clinic server in the workspace's tests: `globalThis.fetch`
// answered route by route ("GET /w/api/me"), every request logged with its
// headers and body. A route the test does not answer fails loudly.
import { vi } from "vitest";
import type { CaseAnswer, Caseload } from "./api";
import type {
  AccessItem,
  AccessRequest,
  AccessRequestRow,
  AccessReview,
  ActionView,
  AdvocateView,
  ApiError,
  AttendanceView,
  CaseBrief,
  CriterionMet,
  MeetingCase,
  MeetingDetail,
  ResearchView,
  SelectionRow,
  SelectionView,
  AuditLine,
  AuditView,
  DeviceEntry,
  DuplicateView,
  AgendaItemView,
  ErasedAtClinic,
  ErasedCase,
  IdentityCheck,
  IssuedCode,
  MeetingView,
  NewSecondFactor,
  PanelMemberView,
  PathwayFigures,
  PathwayStep,
  PathwaysView,
  PathwayView,
  PendingDuplicateView,
  ReferralRecords,
  ReferralRow,
  ReferralView,
  RetentionRow,
  RetentionView,
  SignedIn,
  StaffEntry,
} from "./types";
import type * as B from "../lib/bindings";
import {
  caseloadRow,
  caseRecord,
  escalating as escalatingSigns,
  perpetrator,
  quarterlyReturn,
  returnFigure,
  returnRow,
  victim,
} from "../test-kit";

/** A request as the server received it; `path` without the query, which is `query`. */
export type Sent = { method: string; path: string; query: URLSearchParams; headers: Headers; body: unknown };
export type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
export type Route = Answer | ((sent: Sent) => Answer | Promise<Answer>);

export interface MockServer {
  /** Every request, in order. */
  readonly log: Sent[];
  /** The requests to one route ("POST /w/api/sign-out"). */
  sent(route: string): Sent[];
  /** Answers (or re-answers) a route from now on. */
  answer(route: string, with_: Route): void;
}

export function mockServer(routes: Record<string, Route>): MockServer {
  const table = new Map(Object.entries(routes));
  const log: Sent[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "https://clinic.example/w/");
    const sent: Sent = {
      method: (init.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    log.push(sent);
    const route = table.get(`${sent.method} ${sent.path}`);
    if (!route) throw new Error(`The test does not answer ${sent.method} ${sent.path}.`);
    const answer = typeof route === "function" ? await route(sent) : route;
    const status = answer.status ?? 200;
    const body = status === 204 || answer.body === undefined ? null : JSON.stringify(answer.body);
    return new Response(body, {
      status,
      headers: { "content-type": "application/json", ...(answer.headers ?? {}) },
    });
  });
  vi.stubGlobal("fetch", fetch);
  return {
    log,
    sent: (route) => log.filter((s) => `${s.method} ${s.path}` === route),
    answer: (route, with_) => table.set(route, with_),
  };
}

export const refusal = (status: number, code: string, message: string, headers?: Record<string, string>): Answer => ({
  status,
  body: { code, message } satisfies ApiError,
  headers,
});

/** A form the server refuses, naming each field within the form (`victim.name`) and the rule it broke. */
export const invalidForm = (message: string, fields: B.FieldError[]): Answer => ({
  status: 400,
  body: { code: "invalid", message, fields } satisfies ApiError,
});

export const SIGNED_OUT = "You are not signed in, or your session ended; sign in again";
export const signedOut = () => refusal(401, "signed_out", SIGNED_OUT);

export function signedIn(overrides: Partial<SignedIn> = {}): SignedIn {
  return {
    staff_code: "COORD1",
    name: "Casey Coordinator",
    role: "coordinator",
    csrf: "csrf-token-from-sign-in",
    ends_at: "2099-01-01T00:00:00Z",
    ...overrides,
  };
}

export const caseload = (rows: B.CaseloadRow_Serialize[]): Answer => ({ body: { rows } satisfies Caseload });
/** The escalating cases' answer (`GET /w/api/escalating`): caseload rows, in the order the server sends them. */
export const escalating = (rows: B.CaseloadRow_Serialize[]): Answer => ({ body: { rows } satisfies Caseload });
/**
 * A caseload row escalating on two signs, more frequent incidents and a
 * risk review due, unless `escalation` says otherwise.
 */
export const escalatingRow = (overrides: Partial<B.CaseloadRow_Serialize> = {}): B.CaseloadRow_Serialize =>
  caseloadRow({ escalation: escalatingSigns(), ...overrides });
/**
 * A case as the server sends it: where the victim is and how to reach them
 * withheld, unless `shared` (a panel member whose agency the victim's
 * consent or a lawful basis covers); the safety plan always.
 */
export const caseAnswer = (
  file: B.CaseFile_Serialize,
  warnings: B.Warning[] = [],
  { shared = false }: { shared?: boolean } = {},
): Answer => {
  const { address: _a, safe_contact: _s, dependants: _d, ...victim } = file.victim ?? ({} as B.Victim);
  const sentVictim = file.victim ? (shared ? file.victim : victim) : null;
  // The patterns never leave the laptop's copy for the workspace.
  const { patterns: _p, ...rest } = file;
  const sent = { ...rest, victim: sentVictim, safety_plans: [], contacts: [] } as CaseAnswer["file"];
  const withheld = shared
    ? ["safety_plan"]
    : ["safety_plan", "victim.address", "victim.dependants", "victim.safe_contact"];
  return { body: { file: sent, warnings, withheld } satisfies CaseAnswer };
};

export function staffEntry(overrides: Partial<StaffEntry> = {}): StaffEntry {
  return {
    code: "ADMIN1",
    name: "Alex Administrator",
    role: "administrator",
    active: true,
    added_at: "2026-10-01T09:00:00Z",
    ...overrides,
  };
}

export function deviceEntry(overrides: Partial<DeviceEntry> = {}): DeviceEntry {
  return {
    id: "0f8fad5b-d9cb-469f-a165-70867728950e",
    advocate: "ADV1",
    confirmed: true,
    status: "active",
    enrolled_at: "2026-10-02T09:00:00Z",
    revoked_at: null,
    last_seen_at: "2026-11-22T14:05:00Z",
    acked_through: 10,
    ...overrides,
  };
}

/** A referral in a coordinator's list; a referrer's has no source, criteria or advocate. */
export function referralRow(overrides: Partial<ReferralRow> = {}): ReferralRow {
  const base = {
    id: "r1",
    number: 7,
    submitted_at: "2026-11-20T10:15:00Z",
    their_reference: "CRIME-77",
    status: "submitted",
    decline_reason: null,
    source: "police",
    criteria: ["professional_judgement", "escalation"],
    advocate: null,
  } satisfies ReferralRow;
  return { ...base, ...overrides };
}

/** A referral's records as screening receives them: the victim without address, safe contact and dependants. */
export function referralRecords(): ReferralRecords {
  const {
    address: _a,
    safe_contact: _s,
    dependants: _d,
    ...sent
  } = victim({
    name: "Avery Sample",
    date_of_birth: "1991-03-04",
    sharing_without_consent: [],
  });
  return {
    case: caseRecord({
      id: "c9",
      reference: "REFERRAL",
      advocate: "clinic",
      referral: {
        ...caseRecord().referral,
        referrer: "DC Example",
        referrer_contact: "0113 496 0000",
        their_reference: "CRIME-77",
        reason: "Repeated unwanted contact and following",
        criteria: ["professional_judgement", "escalation"],
        victim_aware: true,
        consent_recorded: true,
        afraid_of: "Her former partner",
      },
    }),
    victim: sent,
    perpetrator: perpetrator({ names: ["Jordan Sample"], date_of_birth: "1980-05-06" }),
  };
}

export function referralView(overrides: Partial<ReferralView> = {}): ReferralView {
  const base = {
    id: "r1",
    number: 7,
    submitted_by: "REF1",
    submitted_at: "2026-11-20T10:15:00Z",
    status: "submitted",
    decided_by: null,
    decided_at: null,
    decline_reason: null,
    advocate: null,
    case_id: null,
    reference: null,
    form: referralRecords(),
    withheld: ["victim.address", "victim.safe_contact", "victim.dependants"],
    postcode_district: "ZZ99",
    duplicates: [],
    pending_duplicates: [],
  } satisfies ReferralView;
  return { ...base, ...overrides };
}

export function advocateView(overrides: Partial<AdvocateView> = {}): AdvocateView {
  return { code: "ADV1", name: "Ash Advocate", open_cases: 12, ...overrides };
}

/** An existing case that may hold one of a referral's people: by default the same victim, matched on name. */
export function duplicateView(overrides: Partial<DuplicateView> = {}): DuplicateView {
  return {
    case_id: "c1",
    reference: "T-1",
    advocate: "ADV1",
    who: "victim",
    there: "victim",
    matched_on: ["name"],
    ...overrides,
  };
}

/** Another referral waiting that may be about one of the same people. */
export function pendingDuplicateView(overrides: Partial<PendingDuplicateView> = {}): PendingDuplicateView {
  return { referral_id: "r9", number: 9, who: "victim", there: "victim", matched_on: ["phone"], ...overrides };
}

/** A tiny SVG standing in for the QR codes the clinic draws. */
export const QR_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="21" height="21"><rect width="7" height="7" fill="#000"/></svg>';

export function issuedCode(overrides: Partial<IssuedCode> = {}): IssuedCode {
  return { code: "WAYMARK-ENROL-1:abcdef0123456789", qr_svg: QR_SVG, expires_at: "2026-11-23T10:00:00Z", ...overrides };
}

export function newSecondFactor(overrides: Partial<NewSecondFactor> = {}): NewSecondFactor {
  return { secret: "JBSWY3DPEHPK3PXP", qr_svg: QR_SVG, ...overrides };
}

export function agendaItemView(overrides: Partial<AgendaItemView> = {}): AgendaItemView {
  return { case_id: "c1", reference: "T-1", minutes: 15, ...overrides };
}

/** An active panel member as the coordinator's invitation list receives one: by default the police's. */
export function panelMemberView(overrides: Partial<PanelMemberView> = {}): PanelMemberView {
  return { code: "PNL1", name: "Pat Panel (DEMO)", agency: "police", ...overrides };
}

/** The panel members a meeting can invite: PNL1 (police), PNL2 (probation), PNL3 (an agency the service added). */
export const panelMembers = (): Answer => ({
  body: [
    panelMemberView(),
    panelMemberView({ code: "PNL3", name: "Sam Support", agency: { other: "Local housing team" } }),
    panelMemberView({ code: "PNL2", name: "Robin Probation", agency: "probation" }),
  ] satisfies PanelMemberView[],
});

/** A meeting as the server sends it: by default a draft, chaired by the coordinator, with one case and one member. */
export function meetingView(overrides: Partial<MeetingView> = {}): MeetingView {
  const base = {
    id: "m1",
    meets_on: "2026-12-10",
    chair: "COORD1",
    invited: ["PNL1"],
    agenda: [agendaItemView()],
    published_at: null,
    closed_at: null,
    research_due_on: null,
  } satisfies MeetingView;
  return { ...base, ...overrides };
}

/** A line of the audit: by default the coordinator viewing the caseload. */
export function auditLine(overrides: Partial<AuditLine> = {}): AuditLine {
  return {
    seq: 1,
    at: "2026-11-22T14:05:00Z",
    actor: "COORD1",
    action: "viewed",
    target: "caseload",
    detail: {},
    hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ...overrides,
  };
}

/** The audit as the server sends it: by default two lines, newest first, its chain verified. */
export function auditView(overrides: Partial<AuditView> = {}): AuditView {
  return {
    lines: [
      auditLine({ seq: 2 }),
      auditLine({ seq: 1, at: "2026-11-22T14:00:00Z", action: "signed_in", target: null, detail: {} }),
    ],
    total: 2,
    verified: true,
    broken_at: null,
    head: "2:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ...overrides,
  };
}

/** A criterion a case meets: by default, visible high risk found in its records. */
export function criterionMet(overrides: Partial<CriterionMet> = {}): CriterionMet {
  return { criterion: "visible_high_risk", basis: "records", why: '14 "yes" on DASH of 1 Feb 2026', ...overrides };
}

/** A case the selection offers: by default T-1, meeting one criterion, never heard. */
export function selectionRow(overrides: Partial<SelectionRow> = {}): SelectionRow {
  return {
    case_id: "c1",
    reference: "T-1",
    advocate: "ADV1",
    met: [criterionMet()],
    removed: null,
    last_heard_on: null,
    review_due_on: null,
    next_meeting: null,
    ...overrides,
  };
}

/** The selection: by default T-1 alone, and the service's criteria with their sources. */
export function selectionView(overrides: Partial<SelectionView> = {}): SelectionView {
  return {
    rows: [selectionRow()],
    criteria: [
      { criterion: "professional_judgement", source: "MASIP guidance, 2024" },
      { criterion: "visible_high_risk", source: "DASH risk checklist" },
    ],
    ...overrides,
  };
}

/** An agency's research: by default the police's, on time. */
export function researchView(overrides: Partial<ResearchView> = {}): ResearchView {
  return {
    agency: "police",
    summary: "Two call-outs this year.",
    by: "PNL1",
    at: "2026-12-03T10:00:00Z",
    late: false,
    ...overrides,
  };
}

/** An action the panel agreed: by default the police's on T-1 at the meeting m1, open and not yet due. */
export function actionView(overrides: Partial<ActionView> = {}): ActionView {
  return {
    id: "a1",
    case_id: "c1",
    reference: "T-1",
    meeting_id: "m1",
    meeting_on: "2026-12-10",
    agency: "police",
    named_owner: null,
    action: "Apply for a Stalking Protection Order",
    due_on: "2027-01-10",
    status: "open",
    overdue: false,
    overdue_closure: null,
    note: null,
    task_done: null,
    ...overrides,
  };
}

/** A case's record in brief, as the coordinator and the manager have it: by default high risk and escalating. */
export function caseBrief(overrides: Partial<CaseBrief> = {}): CaseBrief {
  return {
    advocate: "ADV1",
    risk_level: "high",
    risk_review_on: "2026-12-20",
    incidents: 4,
    next_hearing: "2026-12-14T10:30:00Z",
    days_since_contact: 3,
    escalation: ["Three incidents in the last 14 days, up from one in the 14 days before."],
    ...overrides,
  };
}

/** A case on a meeting's page: by default T-1, nothing returned, recorded or agreed yet, and no brief (a panel member's). */
export function meetingCase(overrides: Partial<MeetingCase> = {}): MeetingCase {
  return {
    case_id: "c1",
    reference: "T-1",
    minutes: 15,
    met: [],
    research: [],
    awaiting: [],
    record: null,
    actions: [],
    earlier_open: [],
    brief: null,
    ...overrides,
  };
}

/** An invited member as the meeting's attendance lists them: by default PNL1 of the police, not marked. */
export function attendanceView(overrides: Partial<AttendanceView> = {}): AttendanceView {
  return { code: "PNL1", name: "Pat Panel (DEMO)", agency: "police", mark: null, ...overrides };
}

/**
 * A meeting whole: by default `meeting`'s agenda as its cases, each with
 * nothing yet, and its invited members unmarked.
 */
export function meetingDetail(
  meeting: MeetingView = meetingView(),
  overrides: Partial<MeetingDetail> = {},
): MeetingDetail {
  return {
    meeting,
    attendance: meeting.invited.map((code) =>
      code === "PNL1" ? attendanceView() : attendanceView({ code, name: code, agency: null }),
    ),
    cases: meeting.agenda.map((a) => meetingCase({ case_id: a.case_id, reference: a.reference, minutes: a.minutes })),
    ...overrides,
  };
}

/** The perpetrator `perpetrator()` makes, by a record id as the server's are (a UUID). */
export const PERPETRATOR_ID = "5f0c2d1e-8a4b-4c6d-9e7f-0a1b2c3d4e5f";

/** A step on a pathway: by default referred on 2 Nov 2026, recorded by the coordinator. */
export function pathwayStep(overrides: Partial<PathwayStep> = {}): PathwayStep {
  return { stage: "referred", on: "2026-11-02", by: "COORD1", at: "2026-11-02T10:00:00Z", ...overrides };
}

/** A perpetrator's pathway: by default the mental-health pathway on T-1, referred only. */
export function pathwayView(overrides: Partial<PathwayView> = {}): PathwayView {
  return {
    perpetrator_id: PERPETRATOR_ID,
    case_id: "c1",
    reference: "T-1",
    kind: "mental_health",
    steps: [pathwayStep()],
    ...overrides,
  };
}

/** The figures for one kind of pathway: by default the mental-health pathway's, all nought. */
export function pathwayFigures(overrides: Partial<PathwayFigures> = {}): PathwayFigures {
  return {
    kind: "mental_health",
    referred: 0,
    accepted: 0,
    declined: 0,
    started: 0,
    completed: 0,
    reoffended: 0,
    ...overrides,
  };
}

/** The pathways: by default the one `pathwayView()` makes, and the figures of both kinds to match. */
export function pathwaysView(overrides: Partial<PathwaysView> = {}): PathwaysView {
  return {
    pathways: [pathwayView()],
    figures: [pathwayFigures({ referred: 1 }), pathwayFigures({ kind: "mappa" })],
    ...overrides,
  };
}

/** The last full quarter on 22 November 2026, which the server counts when no quarter is named. */
export const LAST_QUARTER = "2026-27-Q2";

/** "2026-27-Q3" as the server names its period: "Q3 2026/27 (1 October to 31 December 2026)". */
function periodOf(quarter: string): string {
  const m = /^(\d{4})-(\d{2})-Q([1-4])$/.exec(quarter);
  if (!m) throw new Error(`"${quarter}" is not a quarter`);
  const [year, number] = [Number(m[1]), Number(m[3])];
  const dates = [
    `1 April to 30 June ${year}`,
    `1 July to 30 September ${year}`,
    `1 October to 31 December ${year}`,
    `1 January to 31 March ${year + 1}`,
  ][number - 1];
  return `Q${number} ${year}/${m[2]} (${dates})`;
}

/**
 * The whole service's return for `quarter`, as the server sends it: what a
 * laptop holds at the clinic is counted here, and small counts are suppressed.
 */
export function serviceReturn(quarter: string = LAST_QUARTER, overrides: Partial<B.QuarterlyReturn> = {}) {
  const declined = returnFigure({
    key: "referrals_declined",
    label: "Referrals declined at screening",
    value: { kind: "count", n: 8 },
    shown: "8",
    breakdown: [
      returnRow({
        key: "outside_area",
        label: "Outside the clinic's area",
        value: { kind: "count", n: 5 },
        shown: "5",
      }),
      returnRow({
        key: "outside_criteria",
        label: "Does not meet the clinic's criteria",
        value: { kind: "suppressed" },
        shown: "[c]",
      }),
      returnRow({
        key: "existing_case",
        label: "Already a case at the clinic",
        value: { kind: "suppressed" },
        shown: "[c]",
      }),
    ],
  });
  const reviewed = quarter === LAST_QUARTER ? 14 : 11;
  return quarterlyReturn({
    quarter,
    period: periodOf(quarter),
    scope: "service",
    made_on: "2026-11-22",
    figures: [
      ...quarterlyReturn().figures.map((f) => (f.key === "referrals_declined" ? declined : f)),
      returnFigure({
        key: "panel_cases_reviewed",
        section: "panel",
        label: "Cases reviewed",
        value: { kind: "count", n: reviewed },
        shown: String(reviewed),
      }),
    ],
    ...overrides,
  });
}

/** `GET /w/api/reports/quarterly`: the return for the quarter asked for, or the last full one. */
export const quarterlyReturnRoute: Route = (sent) => ({
  body: serviceReturn(sent.query.get("quarter") ?? LAST_QUARTER),
});

/** A closed case on the retention review: by default T-1 of ADV1, closed on 1 May 2020 with support complete, due for deletion. */
export function retentionRow(overrides: Partial<RetentionRow> = {}): RetentionRow {
  return {
    case_id: "c1",
    reference: "T-1",
    advocate: "ADV1",
    closed_on: "2020-05-01",
    closure_reason: "support_complete",
    retention: { basis: "after_last_contact", counted_from: "2020-05-01", due_on: "2026-05-01", held: null },
    due: true,
    ...overrides,
  };
}

/** A case erased at the clinic: by default by the manager, when it was due. */
export function erasedCase(overrides: Partial<ErasedCase> = {}): ErasedCase {
  return {
    case_id: "0b7e4c1a-5d2f-4e8b-9a3c-6f1d2e3a4b5c",
    erased_at: "2026-11-02T09:30:00Z",
    erased_by: "MGR1",
    reason: "retention_due",
    ...overrides,
  };
}

/** The retention review: by default T-1 alone, due, and nothing erased yet. */
export function retentionView(overrides: Partial<RetentionView> = {}): RetentionView {
  return { cases: [retentionRow()], erased: [], ...overrides };
}

/** What erasing a case removed at the clinic: by default its feed of 12 changes, its referral and 2 warnings. */
export function erasedAtClinic(overrides: Partial<ErasedAtClinic> = {}): ErasedAtClinic {
  return { feed_ops: 12, refused: 0, quarantined: 0, referrals: 1, panel_docs: 0, warnings: 2, ...overrides };
}

/**
 * A subject access request: by default the victim's on c1, received on 1
 * November 2026 and due a month later, the requester's identity not checked
 * yet (so no answer can be made: give `identity_checked: identityCheck()`
 * where a test downloads one).
 */
export function accessRequest(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: "sar1",
    case_id: "c1",
    subject: "victim",
    perpetrator_id: null,
    received_on: "2026-11-01",
    due_on: "2026-12-01",
    made_at: "2026-11-02T09:00:00Z",
    made_by: "COORD1",
    identity_checked: null,
    ...overrides,
  };
}

/** A requester's identity check: by default on 3 November 2026, by COORD1. */
export function identityCheck(overrides: Partial<IdentityCheck> = {}): IdentityCheck {
  return { on: "2026-11-03", by: "COORD1", ...overrides };
}

/** A request on the coordinator's list: by default `accessRequest()` on T-1. */
export function accessRequestRow(request: AccessRequest = accessRequest(), reference = "T-1"): AccessRequestRow {
  return { request, reference, case_erased: reference === "" };
}

/** One item of an answer: by default the requester's own account of an incident, in the answer. */
export function accessItem(overrides: Partial<AccessItem> = {}): AccessItem {
  const record_id = overrides.record_id ?? "i1";
  const field = overrides.field ?? "account";
  return {
    key: `${record_id}/${field}`,
    kind: "incident",
    record_id,
    field,
    label: "What happened",
    text: "Waited outside the house all evening.",
    withheld: null,
    releasable: true,
    panel: null,
    ...overrides,
  };
}

/** A request's review: by default `accessRequest()` on T-1, with one item of its own and nothing decided. */
export function accessReview(overrides: Partial<AccessReview> = {}): AccessReview {
  return {
    request: accessRequest(),
    reference: "T-1",
    items: [accessItem()],
    released: [],
    changed_since_release: [],
    exempt: [],
    ...overrides,
  };
}
