// Saves that the core's address guard may refuse. The core refuses text that
// shows the victim's address (code "address_in_text"); the advocate may look
// again or save anyway, and the core records that choice in the audit trail.
import { DeskFailure, type Outcome } from "./api";
import type { FieldSpec } from "./forms";
import type { ErrorCode } from "./bindings";

// Typed against the generated union: a code the core does not have fails svelte-check.
export const ADDRESS_IN_TEXT = "address_in_text" satisfies ErrorCode;

export interface Guard {
  /** Names for the flagged fields: the form's specs, or a function for hand-built forms. Unnamed fields show their path. */
  labels?: FieldSpec[] | ((field: string) => string | undefined);
  /** The form's own name for a field the core reports by another path (an amendment's "changes.account" is the form's "account"). */
  rename?: (path: string) => string;
}

/** Asks the advocate about the flagged fields (their labels, never their text); true means save anyway. */
export type AddressAsker = (fields: string[]) => Promise<boolean>;

// The newest mounted dialog asks; a stack, so one mounted twice by mistake still leaves one that works.
const askers: AddressAsker[] = [];
// One question at a time: a second refusal waits for the first answer.
let queue: Promise<unknown> = Promise.resolve();

/** Called by the one AddressWarning dialog when it mounts; returns the detach function. */
export function attachAddressWarning(ask: AddressAsker): () => void {
  askers.push(ask);
  return () => {
    const at = askers.lastIndexOf(ask);
    if (at !== -1) askers.splice(at, 1);
  };
}

function askAdvocate(fields: string[]): Promise<boolean> {
  // No dialog on screen (locked, or a test without one): the safe answer.
  const turn = queue.then(() => askers[askers.length - 1]?.(fields) ?? false);
  queue = turn.catch(() => false);
  return turn;
}

/** The label the form gives a core path: the longest field name that is the path or a parent of it. */
export function labelOf(path: string, labels: Guard["labels"]): string | undefined {
  if (typeof labels === "function") return labels(path);
  const spec = (labels ?? [])
    .filter((f) => path === f.name || path.startsWith(f.name + "."))
    .sort((a, b) => b.name.length - a.name.length)[0];
  return spec?.label;
}

/**
 * Runs a save with `addressConfirmed = false`. If the core finds the victim's
 * address in its text, the advocate is asked; "Save anyway" runs it again with
 * `true`. Otherwise, and for every other error, this throws a DeskFailure
 * with the form's field names, so the form marks the fields inline.
 */
export async function guarded<T>(
  run: (addressConfirmed: boolean) => Promise<Outcome<T>>,
  guard: Guard = {},
): Promise<T> {
  const fail = (error: Outcome<T> & { status: "error" }) => {
    const failure = new DeskFailure(error.error);
    return guard.rename ? failure.renamed(guard.rename) : failure;
  };
  const first = await run(false);
  if (first.status === "ok") return first.data;
  const failure = fail(first);
  if (first.error.code !== ADDRESS_IN_TEXT) throw failure;
  const named = [...new Set(failure.error.fields.map((f) => labelOf(f.field, guard.labels) ?? f.field))];
  if (!(await askAdvocate(named))) throw failure;
  const second = await run(true);
  if (second.status === "error") throw fail(second);
  return second.data;
}
