import { describe, expect, it } from "vitest";

// Every .svelte source, as text.
const sources = import.meta.glob("./**/*.svelte", { query: "?raw", import: "default", eager: true }) as Record<
  string,
  string
>;

describe("date fields", () => {
  it("never use the web view's date and time inputs, which follow the system locale", () => {
    // Why: under a US or C locale WebKitGTK shows month/day/year, so 11/12 would
    // be saved as 12 November. DateTimeField and DateField are used instead.
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const native = /type\s*=\s*["']?(date|time|datetime-local|month|week)\b|datetime-local/;
    for (const tag of ['<input type="date" />', "<input type='time'>", '<input type={t ? "datetime-local" : t} />'])
      expect(native.test(tag), tag).toBe(true);
    expect(native.test('<input type="text" />')).toBe(false);
    const found = Object.entries(sources)
      .flatMap(([file, text]) => text.split("\n").map((line, n) => ({ file, line: n + 1, text: line.trim() })))
      .filter(({ text }) => native.test(text));
    expect(found).toEqual([]);
  });
});
