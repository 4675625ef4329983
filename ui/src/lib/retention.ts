// A closed case against the retention schedule, in words: the Retention
// screen's status column and count, and the case screen's legal hold. The
// core decides what is due (`RetentionRow.due`); this only words it.
import type * as B from "./bindings";
import type { Vocabularies } from "./types";
import { labelIn } from "./labels";
import { formatUkDate } from "./ukdate";

export type RetentionRow = B.RetentionRow_Serialize;
export type LegalHold = B.LegalHold;

/** Where a closed case stands: due for deletion, kept by a legal hold, or kept until a date. */
export type RetentionStatus = { kind: "due" | "held" | "kept"; text: string };

/** A legal hold in words: "<reason> since 07/12/2026". */
export function holdText(vocab: Vocabularies | null | undefined, hold: LegalHold): string {
  return `${labelIn(vocab, "hold_reasons", hold.reason)} since ${formatUkDate(hold.since)}`;
}

/** A row's status. A held case is never due, whatever its date; the core says which rows are due. */
export function retentionStatus(vocab: Vocabularies | null | undefined, row: RetentionRow): RetentionStatus {
  const held = row.retention.held;
  if (held) return { kind: "held", text: `Held: ${holdText(vocab, held)}` };
  if (row.due) return { kind: "due", text: "Due for deletion" };
  return { kind: "kept", text: `Kept until ${formatUkDate(row.retention.due_on)}` };
}

/** The count line: "2 cases due for deletion", "1 case due for deletion", "No case is due for deletion". */
export function dueCountText(rows: RetentionRow[]): string {
  const due = rows.filter((r) => r.due).length;
  if (due === 0) return "No case is due for deletion";
  return `${due} ${due === 1 ? "case" : "cases"} due for deletion`;
}
