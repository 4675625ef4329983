// The one door to the Rust side. Generated bindings return {status, data|error};
// this turns an error into a thrown DeskFailure that forms can show inline.
import { commands } from "./bindings";
import type { DeskError } from "./types";

export class DeskFailure extends Error {
  readonly error: DeskError;
  constructor(error: DeskError) {
    super(error.message);
    this.error = error;
  }
  /** The rule broken by one field, for an inline message. */
  fieldError(field: string): string | undefined {
    const hit = this.error.fields.find((f) => f.field === field || f.field.startsWith(field + "."));
    return hit ? `${hit.field.replace(/_/g, " ")} ${hit.rule}` : undefined;
  }
}

type Outcome<T> = { status: "ok"; data: T } | { status: "error"; error: DeskError };

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
