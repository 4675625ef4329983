import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import ReturnTable, {
  bySection,
  previousQuarter,
  quarterName,
  recentQuarters,
  SECTION_HEADINGS,
} from "./ReturnTable.svelte";
import { quarterlyReturn, returnFigure } from "../test-kit";
import type { QuarterlyReturn } from "../lib/bindings";

const words = (el: Element) => el.textContent?.replace(/\s+/g, " ").trim();
/** Each row of a table as the words of its cells, the visually hidden ones left out. */
const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .map((r) =>
      [...r.querySelectorAll("th, td")].map((cell) => {
        const copy = cell.cloneNode(true) as Element;
        copy.querySelectorAll(".visually-hidden").forEach((hidden) => hidden.remove());
        return words(copy);
      }),
    );

describe("the return's tables", () => {
  it("gives each section its own table, in the order the figures come, with the words the core gave each cell", () => {
    render(ReturnTable, { report: quarterlyReturn() });
    const tables = screen.getAllByRole("table");
    expect(tables.map((t) => t.querySelector("caption")?.textContent)).toEqual([
      "Referrals",
      "Victims supported",
      "Time from referral to first contact",
    ]);
    expect(rowsOf(screen.getByRole("table", { name: "Referrals" }))).toEqual([
      ["Figure", "Value"],
      ["Referrals received, by source", "12"],
      ["Police", "9"],
      ["Self-referral", "[c]"],
      ["Another source", "[c]"],
      ["Referrals declined at screening", "[x]"],
    ]);
    expect(rowsOf(screen.getByRole("table", { name: "Time from referral to first contact" }))).toEqual([
      ["Figure", "Value"],
      ["Median days from referral to first contact", "1.5 days"],
      ["First contact within the service's target", "6 of 7 (86%)"],
      ["Referrals still awaiting first contact", "[z]"],
    ]);
  });

  it("shows `shown` even where the value would say otherwise, and never a figure's or a row's key", () => {
    // Why: the core words every cell once, for the screen and every file alike; the UI must not word it again.
    const report: QuarterlyReturn = quarterlyReturn({
      figures: [returnFigure({ value: { kind: "count", n: 99 }, shown: "12 (as the core says)" })],
    });
    render(ReturnTable, { report });
    expect(screen.getByText("12 (as the core says)")).toBeTruthy();
    expect(screen.queryByText("99")).toBeNull();
    render(ReturnTable, { report: quarterlyReturn() });
    const text = document.body.textContent ?? "";
    for (const key of ["referrals_received", "referrals_declined", "first_contact_awaited", "victims_new", "self"])
      expect(text).not.toMatch(new RegExp(`\\b${key}\\b`));
  });

  it("sets the breakdown's rows apart under their figure, which is bold, and names the figure for screen readers", () => {
    render(ReturnTable, { report: quarterlyReturn() });
    const table = screen.getByRole("table", { name: "Referrals" });
    const figure = within(table).getByRole("rowheader", { name: "Referrals received, by source" });
    expect(figure.closest("tr")?.classList.contains("figure")).toBe(true);
    const row = within(table).getByRole("rowheader", { name: "Referrals received, by source: Self-referral" });
    expect(row.closest("tr")?.classList.contains("breakdown")).toBe(true);
    expect(row.closest("tr")?.previousElementSibling?.textContent).toContain("Police");
    expect(
      within(table)
        .getAllByRole("row")
        .filter((r) => r.classList.contains("breakdown")),
    ).toHaveLength(3);
  });

  it("explains the symbols, saying on a laptop that [x] is held at the clinic, and the suppression threshold", () => {
    render(ReturnTable, { report: quarterlyReturn({ suppress_below: 5 }) });
    const key = within(screen.getByRole("region", { name: "What the symbols mean" }));
    expect(key.getAllByRole("listitem").map(words)).toEqual([
      "[c] Suppressed: a count of people small enough to identify someone, or one that would give such a count away",
      "[x] Not available here: held at the clinic, not on an advocate's laptop",
      "[z] Not applicable: nothing to measure this quarter",
    ]);
    expect(key.getByText("Counts of people by something about them from 1 to 4 are suppressed.")).toBeTruthy();
  });

  it("says only that [x] is not available in the whole service's return", () => {
    render(ReturnTable, { report: quarterlyReturn({ scope: "service", suppress_below: 10 }) });
    const key = within(screen.getByRole("region", { name: "What the symbols mean" }));
    expect(key.getAllByRole("listitem").map(words)[1]).toBe("[x] Not available");
    expect(key.getByText("Counts of people by something about them from 1 to 9 are suppressed.")).toBeTruthy();
  });

  it("groups figures by section, sections in the order they first appear", () => {
    const figures = [
      returnFigure({ key: "victims_new", section: "victims" }),
      returnFigure({ key: "referrals_received", section: "referrals" }),
      returnFigure({ key: "victims_closed", section: "victims" }),
    ];
    expect(bySection(figures).map((g) => [g.heading, g.figures.map((f) => f.key)])).toEqual([
      ["Victims supported", ["victims_new", "victims_closed"]],
      ["Referrals", ["referrals_received"]],
    ]);
    expect(Object.keys(SECTION_HEADINGS)).toHaveLength(10);
  });
});

describe("the quarters", () => {
  it("names a quarter as the commissioner does", () => {
    expect(quarterName("2026-27-Q3")).toBe("Q3 2026/27");
    expect(quarterName("2099-00-Q4")).toBe("Q4 2099/00");
  });

  it("steps back a quarter, from Q1 to the previous financial year's Q4", () => {
    expect(previousQuarter("2026-27-Q3")).toBe("2026-27-Q2");
    expect(previousQuarter("2026-27-Q1")).toBe("2025-26-Q4");
    expect(previousQuarter("2000-01-Q1")).toBe("1999-00-Q4");
    expect(() => previousQuarter("2026-Q3")).toThrow();
  });

  it("offers the last eight quarters, newest first, from the one the core counted", () => {
    expect(recentQuarters("2026-27-Q2")).toEqual([
      { value: "2026-27-Q2", label: "Q2 2026/27" },
      { value: "2026-27-Q1", label: "Q1 2026/27" },
      { value: "2025-26-Q4", label: "Q4 2025/26" },
      { value: "2025-26-Q3", label: "Q3 2025/26" },
      { value: "2025-26-Q2", label: "Q2 2025/26" },
      { value: "2025-26-Q1", label: "Q1 2025/26" },
      { value: "2024-25-Q4", label: "Q4 2024/25" },
      { value: "2024-25-Q3", label: "Q3 2024/25" },
    ]);
    expect(recentQuarters("2026-27-Q3", 2).map((q) => q.value)).toEqual(["2026-27-Q3", "2026-27-Q2"]);
  });
});
