// What the workspace's own sources may not do, read as text: it is a web
// page under a strict CSP (no inline script or style, no eval), showing
// personal data (never as HTML, never in the console or browser storage),
// and it has no Tauri: its only way out is fetch to its own server.
import { describe, expect, it } from "vitest";

const sources = import.meta.glob(["./**/*.{ts,svelte}", "!./**/*.test.ts", "!./server-mock.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;
/** The shared code the workspace runs, which must keep to the same rules. */
const shared = import.meta.glob(
  [
    "../lib/labels.ts",
    "../lib/format.ts",
    "../lib/idle.ts",
    "../lib/forms.ts",
    "../lib/failure.ts",
    "../lib/people.ts",
    "../lib/ukdate.ts",
    "../components/Warnings.svelte",
    "../components/RecordForm.svelte",
    "../components/DateTimeField.svelte",
    "../components/DateField.svelte",
  ],
  {
    query: "?raw",
    import: "default",
    eager: true,
  },
) as Record<string, string>;

/** Each line matching `pattern`, as "file:line: text". */
function found(pattern: RegExp, files: Record<string, string> = sources): string[] {
  return Object.entries(files).flatMap(([file, text]) =>
    text
      .split("\n")
      .map((line, n) => ({ line, at: `${file}:${n + 1}: ${line.trim()}` }))
      .filter(({ line }) => pattern.test(line))
      .map(({ at }) => at),
  );
}

describe("the workspace's sources", () => {
  it("are all read", () => {
    expect(Object.keys(sources)).toEqual(
      expect.arrayContaining(["./Workspace.svelte", "./api.ts", "./main.ts", "./SignIn.svelte", "./Case.svelte"]),
    );
    expect(Object.keys(shared).length).toBe(11);
  });

  it("never reach Tauri or the desktop's commands, and import the desktop's bindings for their types only", () => {
    const all = { ...sources, ...shared };
    expect(found(/@tauri-apps|lib\/api["']/, all)).toEqual([]);
    expect(found(/^\s*import\s+(?!type\b).*lib\/(bindings|types)["']/, all)).toEqual([]);
    // The shared files name the desktop's door and the bindings from inside lib/.
    expect(found(/^\s*import\s+(?!type\b).*["']\.\/(api|bindings|types)["']/, shared)).toEqual([]);
  });

  it("render no HTML from data, run no strings as code, and set no inline style", () => {
    const all = { ...sources, ...shared };
    expect(found(/\{@html|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, all)).toEqual(
      [],
    );
    expect(found(/\sstyle\s*=|<style/, all)).toEqual([]);
  });

  it("keep nothing in browser storage or cookies, log nothing, and talk to no other origin", () => {
    expect(found(/localStorage|sessionStorage|indexedDB|document\.cookie|console\./)).toEqual([]);
    expect(found(/https?:\/\//)).toEqual([]);
    // One place sends requests.
    expect(found(/\bfetch\(/).map((line) => line.split(":")[0])).toEqual(["./api.ts"]);
  });
});
