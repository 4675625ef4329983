// A refusal a form can show: its message, and the rule each named field broke
// for an inline message by that field. Apart from lib/api.ts, which reaches
// Tauri, so the clinic workspace's forms show the server's refusals the same way.
import type { FieldError } from "./bindings";
import { spaced } from "./labels";

export class FieldFailure extends Error {
  /** Each field the refusal names, by the form's own name, and the rule it broke. */
  readonly fields: FieldError[];
  /** The core's path of a field the form names otherwise, so messages keep the core's words. */
  protected readonly shownAs: Record<string, string>;

  constructor(message: string, fields: FieldError[] = [], shownAs: Record<string, string> = {}) {
    super(message);
    this.fields = fields;
    this.shownAs = shownAs;
  }

  private hit(field: string) {
    return this.fields.find((f) => f.field === field || f.field.startsWith(field + "."));
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
}
