// The one door to the Rust side. Generated bindings return {status, data|error};
// this turns an error into a thrown DeskFailure that forms can show inline.
import { commands } from "./bindings";
import type { DeskError } from "./types";
import { spaced } from "./labels";

export class DeskFailure extends Error {
  readonly error: DeskError;
  /** The core's path of a field renamed to the form's name, so messages keep the core's words. */
  private readonly shownAs: Record<string, string>;
  constructor(error: DeskError, shownAs: Record<string, string> = {}) {
    super(error.message);
    this.error = error;
    this.shownAs = shownAs;
  }
  private hit(field: string) {
    return this.error.fields.find((f) => f.field === field || f.field.startsWith(field + "."));
  }
  /** The rule broken by one field, for an inline message. */
  fieldError(field: string): string | undefined {
    const hit = this.hit(field);
    return hit ? `${spaced(this.shownAs[hit.field] ?? hit.field)} ${hit.rule}` : undefined;
  }
  /** The rule alone, for a form that names the field itself. */
  ruleOf(field: string): string | undefined {
    return this.hit(field)?.rule;
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
