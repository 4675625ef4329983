// The one door to the Rust side. Generated bindings return {status, data|error};
// this turns an error into a thrown DeskFailure that forms can show inline.
import { commands } from "./bindings";
import type { DeskError } from "./types";
import { FieldFailure } from "./failure";

/** The core's refusal: its message, its code, and each field it names. */
export class DeskFailure extends FieldFailure {
  readonly error: DeskError;
  constructor(error: DeskError, shownAs: Record<string, string> = {}) {
    super(error.message, error.fields, shownAs);
    this.error = error;
  }
  /** The same failure with the core's field paths turned into the form's own field names. */
  renamed(rename: (path: string) => string): DeskFailure {
    const shownAs: Record<string, string> = { ...this.shownAs };
    const fields = this.error.fields.map((f) => {
      const name = rename(f.field);
      if (name !== f.field) shownAs[name] = f.field;
      return { ...f, field: name };
    });
    return new DeskFailure({ ...this.error, fields }, shownAs);
  }
}

export type Outcome<T> = { status: "ok"; data: T } | { status: "error"; error: DeskError };

export async function call<T>(pending: Promise<Outcome<T>>): Promise<T> {
  const result = await pending;
  if (result.status === "error") throw new DeskFailure(result.error);
  return result.data;
}

let cachedVocabularies: ReturnType<typeof commands.vocabularies> | null = null;

/** The enumerations never change while the app runs, so they are fetched once. */
export function vocabularies(): ReturnType<typeof commands.vocabularies> {
  cachedVocabularies ??= commands.vocabularies();
  return cachedVocabularies;
}

export { commands };
