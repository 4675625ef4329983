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
/** The administrator's forms that set a member's sign-in, confirmed with their own password and code. */
const STAFF = "./workspace/Staff.svelte";
const CREDENTIALS = /\sautocomplete="(username|current-password|new-password|one-time-code)"/;
const signInCredential = (file: string, tag: string) => (file === SIGN_IN || file === STAFF) && CREDENTIALS.test(tag);

describe("form fields", () => {
  it("never offer the web view's autofill, which would keep what was typed about a victim", () => {
    // Why: an autofill store outlives the vault's lock and its encryption.
    const tags = Object.entries(sources).flatMap(([file, text]) => fieldTags(text).map((tag) => ({ file, tag })));
    expect(tags.length).toBeGreaterThan(20);
    const missing = tags.filter(({ file, tag }) => !tag.includes('autocomplete="off"') && !signInCredential(file, tag));
    expect(missing).toEqual([]);
  });

  it("let the clinic workspace's browser offer its password manager for sign-in credentials alone", () => {
    // Why: a staff code, a password and an authenticator code are no victim's data, and a
    // password manager beats a password written down. Nothing else in the workspace is offered:
    // the sign-in's, and the administrator's own confirmation and a member's new password.
    const offered = (file: string) =>
      fieldTags(sources[file] ?? "")
        .filter((tag) => signInCredential(file, tag))
        .map((tag) => tag.match(/autocomplete="([^"]*)"/)?.[1]);
    expect(offered(SIGN_IN)).toEqual(["username", "current-password", "one-time-code"]);
    expect(offered(STAFF)).toEqual(["new-password", "new-password", "current-password", "one-time-code"]);
  });
});
