// The clinic server, as the workspace talks to it: same-origin JSON over
// fetch, and nothing else. The session is an HttpOnly cookie the page never
// sees; the CSRF token comes with `SignedIn`, lives in the caller's memory
// only (never in storage or a cookie), and goes with every POST after
// sign-in. No request or refusal is logged to the console: answers carry
// case content and names.
import type * as B from "../lib/bindings";
import { FieldFailure } from "../lib/failure";
import type {
  AccessRequest,
  AccessRequestFields,
  AccessRequestsView,
  AccessReview,
  Accepted,
  ActionsView,
  ActionUpdate,
  AdvocateView,
  ApiError,
  AttendanceFields,
  AuditView,
  CaseRecordFields,
  DeclineReason,
  DeviceEntry,
  EraseFields,
  ErasedAtClinic,
  ExemptionReason,
  IssuedCode,
  MeetingDetail,
  MeetingFields,
  MeetingView,
  NewSecondFactor,
  PanelMemberView,
  PathwaysView,
  PathwayStepFields,
  Reconfirm,
  ReferralFields,
  ReferralReceipt,
  ReferralRow,
  ReferralView,
  ResearchFields,
  RetentionView,
  SelectionChange,
  SelectionView,
  SignedIn,
  StaffEntry,
  VictimOnCase,
} from "./types";

/** Where the server answers; the page itself is served at /w/. */
export const API = "/w/api";
/** The header a change echoes the session's CSRF token in. */
export const CSRF_HEADER = "x-waymark-csrf";

/** The caseload's rows; the escalating cases' answer is the same shape. */
export type Caseload = { rows: B.CaseloadRow_Serialize[] };
/**
 * What the server withholds at the clinic (the kinds' `at_clinic` rule) is
 * absent, not empty; the patterns (which tally places as the advocate wrote
 * them) never come.
 */
export type WorkspaceCaseFile = Omit<B.CaseFile_Serialize, "victim" | "safety_plans" | "contacts" | "patterns"> & {
  victim: VictimOnCase | null;
  safety_plans: [];
  contacts: [];
};
/** `withheld` names what stayed on the advocate's laptop: `kind` or `kind.field`. */
export type CaseAnswer = { file: WorkspaceCaseFile; warnings: B.Warning[]; withheld: string[] };

/**
 * A request the server refused, or that never reached it; `message` is for
 * the user. A form's refusal (`invalid`) names its fields as the form does
 * (`victim.name`), so a RecordForm marks them as it marks the core's.
 */
export class WorkspaceFailure extends FieldFailure {
  readonly status: number;
  readonly code: string;
  /** For `rate_limited`: the seconds the server's Retry-After asks to wait. */
  readonly retryAfter: number | null;

  constructor(status: number, error: ApiError, retryAfter: number | null = null) {
    super(error.message, fieldsOf(error));
    this.name = "WorkspaceFailure";
    this.status = status;
    this.code = error.code;
    this.retryAfter = retryAfter;
  }
}

export const UNREACHABLE =
  "The clinic server could not be reached. Check the connection, then try again; if it keeps happening, tell the clinic administrator.";

const unexpected = (status: number) =>
  `The clinic server answered with an error (${status}). Try again; if it keeps happening, tell the clinic administrator.`;

type SignedOutListener = (failure: WorkspaceFailure) => void;
const signedOutListeners = new Set<SignedOutListener>();

/** Calls `listener` whenever any request is refused as `signed_out`; returns the unsubscribe. */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function isApiError(value: unknown): value is ApiError {
  const v = value as Partial<ApiError> | null;
  return typeof v === "object" && v !== null && typeof v.code === "string" && typeof v.message === "string";
}

/** The fields a refusal names, those of the server's shape only. */
function fieldsOf(error: ApiError): B.FieldError[] {
  const fields: unknown = error.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter(
    (f): f is B.FieldError => typeof f?.field === "string" && typeof (f as Partial<B.FieldError>).rule === "string",
  );
}

function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/** One request to the server, as every call makes it; a network failure is said in words. */
async function call(
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; csrf?: string; accept?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.csrf !== undefined) headers[CSRF_HEADER] = options.csrf;
  try {
    return await fetch(`${API}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw new WorkspaceFailure(0, { code: "unreachable", message: UNREACHABLE });
  }
}

/** The failure a refused response names, the signed-out listeners told. */
async function refusalOf(response: Response): Promise<WorkspaceFailure> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not the server's error shape: said in general words below.
  }
  const error = isApiError(body) ? body : { code: "unexpected", message: unexpected(response.status) };
  const failure = new WorkspaceFailure(response.status, error, retryAfter(response));
  if (failure.code === "signed_out") for (const listener of [...signedOutListeners]) listener(failure);
  return failure;
}

async function send<T>(
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; csrf?: string } = {},
): Promise<T> {
  const response = await call(method, path, options);
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new WorkspaceFailure(response.status, { code: "bad_answer", message: unexpected(response.status) });
    }
  }
  throw await refusalOf(response);
}

/** A file the server sent to download: its bytes, and the name its Content-Disposition gives it. */
export type Downloaded = { blob: Blob; fileName: string };

/** The file name in a Content-Disposition header (`attachment; filename="a.pdf"`), or null; never a path. */
export function attachmentName(header: string | null): string | null {
  const m = /filename="([^"]*)"/i.exec(header ?? "") ?? /filename=([^;\s]+)/i.exec(header ?? "");
  const name = m?.[1].split(/[\\/]/).pop()?.trim();
  return name ? name : null;
}

/** Fetches a file to download; a refusal is a WorkspaceFailure, as for any other request. */
async function file(path: string, accept: string, fallbackName: string): Promise<Downloaded> {
  const response = await call("GET", path, { accept: `${accept}, application/json` });
  if (!response.ok) throw await refusalOf(response);
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    throw new WorkspaceFailure(response.status, { code: "bad_answer", message: unexpected(response.status) });
  }
  return { blob, fileName: attachmentName(response.headers.get("content-disposition")) ?? fallbackName };
}

/** Signs in; the server sets the session cookie. No CSRF token exists yet, so none is sent. */
export const signIn = (staff_code: string, password: string, code: string) =>
  send<SignedIn>("POST", "/sign-in", { body: { staff_code, password, code } });
/** Who is signed in, for a page opened with a session already running. */
export const me = () => send<SignedIn>("GET", "/me");
export const signOut = (csrf: string) => send<void>("POST", "/sign-out", { csrf });
export const vocabularies = () => send<B.Vocabularies>("GET", "/vocabularies");
export const caseload = () => send<Caseload>("GET", "/caseload");
/**
 * The open cases the escalation analysis flags and no advocate has reviewed,
 * as caseload rows, already in order: the most signs, then the newest
 * evidence, first. For the coordinator and the manager.
 */
export const escalating = () => send<Caseload>("GET", "/escalating");
const casePath = (id: string) => `/cases/${encodeURIComponent(id)}`;
export const caseFile = (id: string) => send<CaseAnswer>("GET", casePath(id));
/** The manager moves a case to another advocate (a staff code); their laptop receives the whole case. */
export const reassignCase = (id: string, advocate: string, csrf: string) =>
  send<void>("POST", `${casePath(id)}/reassign`, { body: { advocate }, csrf });
export const staff = () => send<StaffEntry[]>("GET", "/staff");
export const devices = () => send<DeviceEntry[]>("GET", "/devices");
/** Revokes a laptop: at its next contact with the clinic it erases its vault. */
export const revokeDevice = (id: string, csrf: string) =>
  send<void>("POST", `/devices/${encodeURIComponent(id)}/revoke`, { csrf });
/** A one-time enrolment code for `advocate`'s laptop, which reaches the clinic at `url`. Shown once, never kept. */
export const issueEnrolment = (advocate: string, url: string, csrf: string) =>
  send<IssuedCode>("POST", "/enrolments", { body: { advocate, url }, csrf });
const staffPath = (code: string) => `/staff/${encodeURIComponent(code)}`;
/**
 * Sets a member's password. `confirm` is the administrator's own password
 * and code again; a wrong one is refused as `confirm_refused`, which does
 * not end the administrator's session. A weak password is refused first,
 * before the confirmation spends the code.
 */
export const setStaffPassword = (code: string, password: string, confirm: Reconfirm, csrf: string) =>
  send<void>("POST", `${staffPath(code)}/password`, { body: { password, confirm }, csrf });
/** Gives a member a new authenticator secret, shown once; `confirm` as for a password. */
export const newSecondFactor = (code: string, confirm: Reconfirm, csrf: string) =>
  send<NewSecondFactor>("POST", `${staffPath(code)}/second-factor`, { body: { confirm }, csrf });
/** Sends a referral form; the server sets the case's reference, advocate, dates and status itself. */
export const submitReferral = (form: ReferralFields, csrf: string) =>
  send<ReferralReceipt>("POST", "/referrals", { body: form, csrf });
/** Unscreened first. A referrer's holds only their own, and none of the people in them. */
export const referrals = () => send<ReferralRow[]>("GET", "/referrals");
const referralPath = (id: string) => `/referrals/${encodeURIComponent(id)}`;
export const referral = (id: string) => send<ReferralView>("GET", referralPath(id));
/** Accepts a referral and assigns its case to an advocate (a staff code). */
export const acceptReferral = (id: string, advocate: string, csrf: string) =>
  send<Accepted>("POST", `${referralPath(id)}/accept`, { body: { advocate }, csrf });
export const declineReferral = (id: string, reason: DeclineReason, csrf: string) =>
  send<void>("POST", `${referralPath(id)}/decline`, { body: { reason }, csrf });
/** The active advocates a case can go to, with their open cases. */
export const advocates = () => send<AdvocateView[]>("GET", "/advocates");
/** The active panel members a meeting can invite, each with their agency. */
export const panelMembers = () => send<PanelMemberView[]>("GET", "/panel-members");
/** Panel meetings: every one for the coordinator and the manager; a panel member's, published and open, only. */
export const meetings = () => send<MeetingView[]>("GET", "/meetings");
/**
 * Saves a meeting (a new one when `id` is null). A refusal names its fields
 * (`chair`, `invited[1]`, `agenda[0].minutes`); a meeting whose follow-up is
 * closed is refused as `meeting_closed`.
 */
export const saveMeeting = (meeting: MeetingFields, csrf: string) =>
  send<MeetingView>("POST", "/meetings", { body: meeting, csrf });
const meetingPath = (id: string) => `/meetings/${encodeURIComponent(id)}`;
/** Publishes the agenda: its invited members see its cases from now. */
export const publishMeeting = (id: string, csrf: string) =>
  send<MeetingView>("POST", `${meetingPath(id)}/publish`, { csrf });
/** Closes the follow-up: its members no longer see its cases, and it cannot change after. */
export const closeMeeting = (id: string, csrf: string) =>
  send<MeetingView>("POST", `${meetingPath(id)}/close`, { csrf });
/**
 * A meeting whole: its attendance, and each case with its research, record
 * and actions. A panel member's holds their own agency's research and actions
 * only, and is refused (as not found) once the meeting no longer opens its
 * cases to them.
 */
export const meetingDetail = (id: string) => send<MeetingDetail>("GET", meetingPath(id));
/**
 * An agency as the server's `?agency=` names it: a known one by its wire
 * name, a service's own as `other:<name>`, trimmed and in lower case.
 */
export const agencyParam = (agency: B.Agency): string =>
  typeof agency === "string" ? agency : `other:${agency.other.trim().toLowerCase()}`;
/** The meeting's whole minutes as a PDF download, for the coordinator and the manager. A link's href, not fetched. */
export const minutesUrl = (id: string) => `${API}${meetingPath(id)}/minutes`;
/**
 * One agency's extract of the meeting's minutes (its own research and
 * actions only) as a PDF download; a link's href, not fetched. The
 * coordinator and the manager name the agency; a panel member names none and
 * always gets their own agency's.
 */
export function extractUrl(id: string, agency?: B.Agency): string {
  const url = `${API}${meetingPath(id)}/extract`;
  return agency === undefined ? url : `${url}?agency=${encodeURIComponent(agencyParam(agency))}`;
}
/**
 * Returns an agency's research on a case on the meeting's agenda; sent again,
 * it replaces the last. A panel member sends no `agency` (theirs is in the
 * staff register); the coordinator names the agency they enter it for.
 */
export const returnResearch = (id: string, research: ResearchFields, csrf: string) =>
  send<MeetingDetail>("POST", `${meetingPath(id)}/research`, { body: research, csrf });
/** Marks who came: each invited member present or sending apologies. */
export const recordAttendance = (id: string, marks: AttendanceFields[], csrf: string) =>
  send<MeetingDetail>("POST", `${meetingPath(id)}/attendance`, { body: { marks }, csrf });
/**
 * Records what the meeting decided on one case; it goes to the advocate's
 * laptop as the clinic's review. This meeting's actions left out of
 * `actions` are cancelled. Refused naming `attendance` until someone is
 * marked present, and naming each field at fault (`actions[0].due_on`,
 * `srp.violence.rationale`).
 */
export const recordCase = (id: string, caseId: string, record: CaseRecordFields, csrf: string) =>
  send<MeetingDetail>("POST", `${meetingPath(id)}/cases/${encodeURIComponent(caseId)}`, { body: record, csrf });
/** The panel's actions, overdue first: all for the coordinator and the manager, a panel member's agency's own. */
export const actions = () => send<ActionsView>("GET", "/actions");
/**
 * Updates an action. Closing one after its due date needs `overdue` (the
 * refusal names it), and `overdue` is refused otherwise.
 */
export const updateAction = (id: string, update: ActionUpdate, csrf: string) =>
  send<ActionsView>("POST", `/actions/${encodeURIComponent(id)}`, { body: update, csrf });
/** The open cases the panel should hear, why, and the coordinator's additions and removals; with the service's criteria. */
export const selection = () => send<SelectionView>("GET", "/selection");
/** The coordinator adds a case to the selection (with a criterion, if one) or takes it off, saying why. */
export const changeSelection = (change: SelectionChange, csrf: string) =>
  send<SelectionView>("POST", "/selection", { body: change, csrf });
/** Each perpetrator's mental-health pathway and MAPPA referral, and the commissioner's figures; for the coordinator and the manager. */
export const pathways = () => send<PathwaysView>("GET", "/pathways");
/**
 * The coordinator records a step on a perpetrator's pathway. Refused naming
 * `stage` (out of order, already recorded, after a declined referral), `on`
 * (in the future, or before the last step), `perpetrator_id` or `case_id`.
 */
export const recordPathwayStep = (step: PathwayStepFields, csrf: string) =>
  send<PathwaysView>("POST", "/pathways", { body: step, csrf });
/** The audit's newest lines (at most 500), and whether its whole chain verifies. Reading it is a line too. */
export const audit = () => send<AuditView>("GET", "/audit");
/** The forms the quarterly return downloads in, beside the figures the screen shows. */
export type ReturnDownload = "pdf" | "csv" | "xlsx";
const RETURN_PATH = "/reports/quarterly";
/**
 * The commissioner's quarterly return for the whole service, counted from
 * the clinic's records: `quarter` as "2026-27-Q3", the last full quarter when
 * none is named. For the coordinator and the manager; each return made is audited.
 */
export function quarterlyReturn(quarter?: string): Promise<B.QuarterlyReturn> {
  const query = new URLSearchParams();
  if (quarter !== undefined) query.set("quarter", quarter);
  query.set("format", "json");
  return send<B.QuarterlyReturn>("GET", `${RETURN_PATH}?${query}`);
}
/** The quarterly return as a PDF, CSV or Excel workbook download; a link's href, not fetched. */
export const quarterlyReturnUrl = (quarter: string, format: ReturnDownload) =>
  `${API}${RETURN_PATH}?quarter=${encodeURIComponent(quarter)}&format=${format}`;
/**
 * The retention review, for the manager: every closed case in the clinic's
 * copy against the schedule, those due for deletion first, and the cases
 * erased so far. Reading it is audited.
 */
export const retention = () => send<RetentionView>("GET", "/retention");
/**
 * Erases a case from the clinic, and from every laptop that holds it at its
 * next sync; it cannot be undone. The manager only. Refused as `invalid`
 * naming `reference` when the typed reference is not the case's, `not_due`
 * when the schedule does not yet say so (or the case is open: early only at
 * the person's request), `case_held` under a legal hold, and `case_erased`
 * when it already is.
 */
export const eraseCase = (id: string, erase: EraseFields, csrf: string) =>
  send<ErasedAtClinic>("POST", `${casePath(id)}/erase`, { body: erase, csrf });

const ACCESS_PATH = "/access-requests";
const accessPath = (id: string) => `${ACCESS_PATH}/${encodeURIComponent(id)}`;
/** The subject access requests about the clinic's records, the soonest due first; for the coordinator. Audited as a view. */
export const accessRequests = () => send<AccessRequestsView>("GET", ACCESS_PATH);
/**
 * Records a subject access request from a case's victim or one of its
 * perpetrators (`perpetrator_id`, sent only for a perpetrator's). Refused
 * naming `perpetrator_id` or `received_on`; `case_erased` for a case erased.
 */
export const makeAccessRequest = (fields: AccessRequestFields, csrf: string) =>
  send<AccessRequest>("POST", ACCESS_PATH, { body: fields, csrf });
/** Every item of a request, in record order, and what was released or withheld. Audited as a view. */
export const accessReview = (id: string) => send<AccessReview>("GET", accessPath(id));
/** Releases one withheld item that may be released; refused naming `item` otherwise. The review as it now stands. */
export const releaseAccessItem = (id: string, item: string, csrf: string) =>
  send<AccessReview>("POST", `${accessPath(id)}/release`, { body: { item }, csrf });
/** Withholds one of the requester's own items under an exemption; refused naming `item` otherwise. */
export const withholdAccessItem = (id: string, item: string, reason: ExemptionReason, csrf: string) =>
  send<AccessReview>("POST", `${accessPath(id)}/withhold`, { body: { item, reason }, csrf });
/**
 * Records that the requester's identity was checked on `on` ("YYYY-MM-DD"),
 * by the coordinator signed in: no answer is made before. Refused naming
 * `on` for a day in the future or before the request was received. The
 * request as it now stands.
 */
export const accessIdentityChecked = (id: string, on: string, csrf: string) =>
  send<AccessRequest>("POST", `${accessPath(id)}/identity`, { body: { on }, csrf });
/** The forms the answer downloads in. */
export type AnswerFormat = "pdf" | "json";
/** The answer to a request as a PDF or the requester's JSON file; the link's href. */
export const accessAnswerUrl = (id: string, format: AnswerFormat) => `${API}${accessPath(id)}/answer?format=${format}`;
/**
 * The answer as a file to download, fetched so a refusal can be said in the
 * page: a perpetrator's PDF that would show where the victim is is refused
 * as `address_in_text`, and any answer as `invalid` naming `identity_checked`
 * until the requester's identity is checked. Each answer made is audited.
 */
export const accessAnswer = (id: string, format: AnswerFormat): Promise<Downloaded> =>
  file(
    `${accessPath(id)}/answer?format=${format}`,
    format === "pdf" ? "application/pdf" : "application/json",
    `subject-access.${format}`,
  );
