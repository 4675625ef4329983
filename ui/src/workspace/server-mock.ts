// A stand-in for the clinic server in the workspace's tests: `globalThis.fetch`
// answered route by route ("GET /w/api/me"), every request logged with its
// headers and body. A route the test does not answer fails loudly.
import { vi } from "vitest";
import type { CaseAnswer, Caseload } from "./api";
import type { ApiError, DeviceEntry, SignedIn, StaffEntry } from "./types";
import type * as B from "../lib/bindings";

export type Sent = { method: string; path: string; headers: Headers; body: unknown };
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
export const caseAnswer = (file: B.CaseFile_Serialize, warnings: B.Warning[] = []): Answer => {
  // As the server sends it: where the victim is and how to reach them withheld.
  const { address: _a, safe_contact: _s, dependants: _d, ...victim } = file.victim ?? ({} as B.Victim);
  const sent = { ...file, victim: file.victim ? victim : null, safety_plans: [], contacts: [] } as CaseAnswer["file"];
  const withheld = ["safety_plan", "victim.address", "victim.dependants", "victim.safe_contact"];
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
