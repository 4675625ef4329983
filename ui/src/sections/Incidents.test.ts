import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Incidents from "./Incidents.svelte";
import type { Vocabularies } from "../lib/types";
import {
  askedFields,
  caseView,
  dayByHour,
  incident,
  mockCommands,
  orderEntry,
  patterns,
  seriousA11yProblems,
  somePatterns,
  vocabularies,
  withField,
} from "../test-kit";

const vocab = vocabularies();

/** The incident fields a person fills in, as the core presents them: its list, less what it sets itself. */
const formFields = (v: Vocabularies) => askedFields(v, "incident", "when_made");

/** The quick-add form. */
const quickAdd = () => screen.getByRole("form", { name: "Log an incident" });

/** A label's words without the mark a required field adds. */
const words = (text: string | null | undefined) => (text ?? "").replace(/\s*\*$/, "").trim();

/** The control a field's label names: a group of chips by its legend, any other input by its label. */
function control(label: string): HTMLElement {
  const form = within(quickAdd());
  return form.queryByRole("group", { name: label }) ?? form.getByLabelText((text) => words(text) === label);
}

describe("Incidents", () => {
  it("asks for every incident field the core presents and does not set itself, in its order and words", () => {
    // Why: the core's presented list is the one place that says what an incident shows; a field the form leaves out is one the advocate cannot record.
    render(Incidents, { view: caseView(), vocab, onsaved: () => {} });
    const expected = formFields(vocab);
    expect(expected.length).toBeGreaterThan(10);
    const shown = [...quickAdd().querySelectorAll(".field")].map((f) =>
      words(f.querySelector("legend, label")?.textContent),
    );
    expect(shown).toEqual(expected.map((p) => p.label));
    for (const { field, label } of expected) {
      const c = control(label);
      // The label names this field's own input, not just some text in the form.
      if (c.tagName !== "FIELDSET") expect(c.id, label).toBe(`incident-add-${field}`);
    }
  });

  it("shows a field the core adds as a text input, under the core's label", () => {
    // Why: the form derives from the presented list rather than repeating it, so a field new in Rust appears even before the form knows how to ask for it.
    const added = withField("incident", { field: "weather", label: "Weather", asked: "when_made" }, "breaches_order");
    render(Incidents, { view: caseView(), vocab: added, onsaved: () => {} });
    const weather = within(quickAdd()).getByRole("textbox", { name: "Weather" }) as HTMLInputElement;
    expect(weather.tagName).toBe("INPUT");
    expect(weather.type).toBe("text");
    expect(weather.id).toBe("incident-add-weather");
    expect(formFields(added).map((p) => p.field)).toContain("weather");
  });

  it("sends witnesses as a list of names and the breached order by its id", async () => {
    // Why: the core reads witnesses as a string list and breaches_order as an OrderId; a label or a single string would be refused or stored wrong.
    const view = caseView({
      file: { orders: [orderEntry({ order: { id: "o7", order_type: "spo", made_on: "2026-10-15" } })] },
    });
    const ipc = mockCommands({ addRecord: () => incident() });
    const onsaved = vi.fn();
    render(Incidents, { view, vocab, onsaved });
    const form = within(quickAdd());
    const user = userEvent.setup();
    await user.click(form.getByRole("button", { name: "Following" }));
    await user.selectOptions(form.getByRole("combobox", { name: "How" }), "in_person");
    await user.type(form.getByRole("textbox", { name: "What happened" }), "Followed her to the station.");
    await user.type(form.getByRole("textbox", { name: "Witnesses" }), "A. Neighbour{Enter}  {Enter}B. Passer-by");
    await user.type(form.getByRole("textbox", { name: "Evidence held" }), "Doorbell video");
    const breach = form.getByRole("combobox", { name: "Breach of" }) as HTMLSelectElement;
    expect(within(breach).getByRole("option", { name: /Stalking Protection Order/ })).toBeTruthy();
    await user.selectOptions(breach, "o7");
    await user.click(form.getByRole("button", { name: "Save incident" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    const [kind, caseId, fields] = ipc.last("addRecord");
    expect([kind, caseId]).toEqual(["incident", "c1"]);
    expect(fields.witnesses).toEqual(["A. Neighbour", "B. Passer-by"]);
    expect(fields.breaches_order).toBe("o7");
    expect(fields.evidence).toEqual([{ description: "Doorbell video" }]);
    expect(Object.keys(fields)).not.toContain("recorded_at");
  });

  describe("patterns", () => {
    const shown = somePatterns();
    const renderWith = (p = shown) =>
      render(Incidents, { view: caseView({ file: { patterns: p } }), vocab, onsaved: () => {} });
    const part = (title: string) => screen.getByRole("heading", { name: title }).closest("section") as HTMLElement;

    it("draws the day-and-hour grid Monday first, and its table holds the same figures", async () => {
      renderWith();
      const when = part("When");
      const cells = [...when.querySelectorAll("svg rect")];
      expect(cells).toHaveLength(7 * 24);
      const drawn = dayByHour();
      for (const cell of cells)
        drawn[Number(cell.getAttribute("data-day"))][Number(cell.getAttribute("data-hour"))] = Number(
          cell.getAttribute("data-count"),
        );
      expect(drawn).toEqual(shown.day_by_hour);
      // The busiest hour is drawn darkest, an empty one lightest.
      const at = (day: number, hour: number) =>
        cells.find((c) => c.getAttribute("data-day") === `${day}` && c.getAttribute("data-hour") === `${hour}`);
      expect(at(0, 22)?.getAttribute("class")).toBe("heat-4");
      expect(at(2, 8)?.getAttribute("class")).toBe("heat-2");
      expect(at(3, 3)?.getAttribute("class")).toBe("heat-0");

      const table = within(when).getByRole("table");
      const rows = within(table).getAllByRole("row").slice(1);
      expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual([
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
      ]);
      const tabled = rows.map((r) =>
        within(r)
          .getAllByRole("cell")
          .map((c) => Number(c.textContent)),
      );
      expect(tabled.map((r) => r.slice(0, 24))).toEqual(shown.day_by_hour);
      expect(tabled.map((r) => r[24])).toEqual([3, 0, 1, 0, 0, 0, 1]);
      expect(when.textContent).toContain("Most often: Monday, 22:00 to 23:00 (3 of 5 incidents)");
      expect(await seriousA11yProblems()).toEqual([]);
    });

    it.each([
      ["How", "channels"],
      ["Behaviours", "behaviours"],
      ["Where", "locations"],
    ] as const)("draws %s as bars, longest for the most, and its table holds the same figures", (title, list) => {
      renderWith();
      const section = part(title);
      const bars = [...section.querySelectorAll("svg.bar rect")].map((r) => ({
        label: r.getAttribute("data-label"),
        count: Number(r.getAttribute("data-count")),
        width: Number(r.getAttribute("width")),
      }));
      expect(bars.map(({ label, count }) => ({ label, count }))).toEqual(shown[list]);
      const most = Math.max(...bars.map((b) => b.count));
      for (const bar of bars) expect(bar.width).toBeCloseTo((100 * bar.count) / most);
      const tabled = within(within(section).getByRole("table"))
        .getAllByRole("row")
        .slice(1)
        .map((r) => ({
          label: within(r).getByRole("rowheader").textContent,
          count: Number(within(r).getByRole("cell").textContent),
        }));
      expect(tabled).toEqual(shown[list]);
    });

    it("shows the ten most frequent places in the chart and every place in the table", () => {
      const many = Array.from({ length: 12 }, (_, n) => ({ label: `Place ${n + 1}`, count: 12 - n }));
      renderWith(patterns({ ...shown, locations: many }));
      const where = part("Where");
      expect(where.querySelectorAll("svg.bar rect")).toHaveLength(10);
      expect(within(within(where).getByRole("table")).getAllByRole("row")).toHaveLength(13);
      expect(where.textContent).toContain("The 10 most frequent of 12");
    });

    it("are not shown for a case with no incidents", () => {
      renderWith(patterns());
      expect(screen.queryByRole("heading", { name: "Patterns" })).toBeNull();
      expect(document.querySelector(".heat-chart")).toBeNull();
    });
  });
});
