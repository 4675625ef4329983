import { describe, expect, it } from "vitest";

// Every .svelte source, as text.
const sources = import.meta.glob("./**/*.svelte", { query: "?raw", import: "default", eager: true }) as Record<
  string,
  string
>;

/** Each opening <input>, <textarea> and <select> tag, skipping `{…}` expressions that may hold a `>`. */
function fieldTags(source: string): string[] {
  const tags: string[] = [];
  const start = /<(input|textarea|select)\b/g;
  let match: RegExpExecArray | null;
  while ((match = start.exec(source)) !== null) {
    let depth = 0;
    let quote = "";
    let end = match.index + match[0].length;
    for (; end < source.length; end++) {
      const c = source[end];
      if (quote) {
        if (c === quote) quote = "";
      } else if ((c === '"' || c === "'") && depth === 0) quote = c;
      else if (c === "{") depth++;
      else if (c === "}") depth--;
      else if (c === ">" && depth === 0) break;
    }
    tags.push(source.slice(match.index, end + 1));
  }
  return tags;
}

/** The clinic workspace's sign-in form: a web page in a browser, not the desktop's web view. */
const SIGN_IN = "./workspace/SignIn.svelte";
const CREDENTIALS = /\sautocomplete="(username|current-password|one-time-code)"/;
const signInCredential = (file: string, tag: string) => file === SIGN_IN && CREDENTIALS.test(tag);

describe("form fields", () => {
  it("never offer the web view's autofill, which would keep what was typed about a victim", () => {
    // Why: an autofill store outlives the vault's lock and its encryption.
    const tags = Object.entries(sources).flatMap(([file, text]) => fieldTags(text).map((tag) => ({ file, tag })));
    expect(tags.length).toBeGreaterThan(20);
    const missing = tags.filter(({ file, tag }) => !tag.includes('autocomplete="off"') && !signInCredential(file, tag));
    expect(missing).toEqual([]);
  });

  it("let the clinic workspace's browser offer its password manager for the sign-in's credentials alone", () => {
    // Why: a staff code, a password and an authenticator code are no victim's data, and a
    // password manager beats a password written down. Nothing else in the workspace is offered.
    const credentials = fieldTags(sources[SIGN_IN] ?? "").filter((tag) => signInCredential(SIGN_IN, tag));
    expect(credentials.map((tag) => tag.match(/autocomplete="([^"]*)"/)?.[1])).toEqual([
      "username",
      "current-password",
      "one-time-code",
    ]);
  });
});
