// The clinic server, as the workspace talks to it: same-origin JSON over
// fetch, and nothing else. The session is an HttpOnly cookie the page never
// sees; the CSRF token comes with `SignedIn`, lives in the caller's memory
// only (never in storage or a cookie), and goes with every POST after
// sign-in. No request or refusal is logged to the console: answers carry
// case content and names.
import type * as B from "../lib/bindings";
import type { ApiError, DeviceEntry, SignedIn, StaffEntry } from "./types";

/** Where the server answers; the page itself is served at /w/. */
export const API = "/w/api";
/** The header a change echoes the session's CSRF token in. */
export const CSRF_HEADER = "x-waymark-csrf";

export type Caseload = { rows: B.CaseloadRow_Serialize[] };
/** What the server withholds at the clinic (the kinds' `at_clinic` rule) is absent, not empty. */
type SentVictim = Omit<NonNullable<B.CaseFile_Serialize["victim"]>, "address" | "safe_contact" | "dependants">;
export type WorkspaceCaseFile = Omit<B.CaseFile_Serialize, "victim" | "safety_plans" | "contacts"> & {
  victim: SentVictim | null;
  safety_plans: [];
  contacts: [];
};
/** `withheld` names what stayed on the advocate's laptop: `kind` or `kind.field`. */
export type CaseAnswer = { file: WorkspaceCaseFile; warnings: B.Warning[]; withheld: string[] };

/** A request the server refused, or that never reached it; `message` is for the user. */
export class WorkspaceFailure extends Error {
  readonly status: number;
  readonly code: string;
  /** For `rate_limited`: the seconds the server's Retry-After asks to wait. */
  readonly retryAfter: number | null;

  constructor(status: number, error: ApiError, retryAfter: number | null = null) {
    super(error.message);
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

function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

async function send<T>(
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; csrf?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.csrf !== undefined) headers[CSRF_HEADER] = options.csrf;
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
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
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new WorkspaceFailure(response.status, { code: "bad_answer", message: unexpected(response.status) });
    }
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not the server's error shape: said in general words below.
  }
  const error = isApiError(body) ? body : { code: "unexpected", message: unexpected(response.status) };
  const failure = new WorkspaceFailure(response.status, error, retryAfter(response));
  if (failure.code === "signed_out") for (const listener of [...signedOutListeners]) listener(failure);
  throw failure;
}

/** Signs in; the server sets the session cookie. No CSRF token exists yet, so none is sent. */
export const signIn = (staff_code: string, password: string, code: string) =>
  send<SignedIn>("POST", "/sign-in", { body: { staff_code, password, code } });
/** Who is signed in, for a page opened with a session already running. */
export const me = () => send<SignedIn>("GET", "/me");
export const signOut = (csrf: string) => send<void>("POST", "/sign-out", { csrf });
export const vocabularies = () => send<B.Vocabularies>("GET", "/vocabularies");
export const caseload = () => send<Caseload>("GET", "/caseload");
export const caseFile = (id: string) => send<CaseAnswer>("GET", `/cases/${encodeURIComponent(id)}`);
export const staff = () => send<StaffEntry[]>("GET", "/staff");
export const devices = () => send<DeviceEntry[]>("GET", "/devices");
