// The workspace's own words: what the desktop has no need of (staff roles)
// and the few ways it shows a value. Vocabulary labels and dates come from
// the desktop's lib/labels.ts and lib/format.ts, so the two never differ.
import type { Severity, SortBy, Warning } from "../lib/bindings";
import { londonLocalNow, showDate } from "../lib/format";
import type { StaffRole } from "./types";

/** What the sign-in screen says on arrival: why the last session ended, or that it did. */
export type Notice = { text: string; alert: boolean };

/** The caseload's filters and order, kept while a case is open. */
export type Filters = { advocate: string; status: string; risk: string; sort: SortBy };

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

/** A server's message as a sentence: it may start in lower case and end without a full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return "";
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const SEVERITY_ORDER: Record<Severity, number> = { danger: 0, caution: 1, info: 2 };

/** Warnings danger first, keeping the server's order within each severity. */
export const dangerFirst = (warnings: Warning[]): Warning[] =>
  [...warnings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
