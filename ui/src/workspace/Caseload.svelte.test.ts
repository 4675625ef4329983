// A .svelte.test.ts file, so $state can stand in for the filters the workspace binds.
import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Caseload from "./Caseload.svelte";
import { caseloadRow, escalation, finding, vocabularies } from "../test-kit";
import { caseload, escalatingRow, mockServer, refusal } from "./server-mock";
import type { Filters } from "./words";

afterEach(() => vi.unstubAllGlobals());

const ROWS = [
  caseloadRow({ case_id: "c1", reference: "T-2", advocate: "ADV1", risk_level: "medium", days_since_contact: 3 }),
  caseloadRow({
    case_id: "c2",
    reference: "T-10",
    advocate: "ADV2",
    risk_level: "high",
    days_since_contact: null,
    next_hearing: null,
    risk_review_on: "2000-01-01",
  }),
  caseloadRow({
    case_id: "c3",
    reference: "T-1",
    advocate: "ADV1",
    status: "closed",
    risk_level: null,
    days_since_contact: 40,
    next_hearing: "2026-12-01T10:00:00Z",
    risk_review_on: "2999-01-01",
  }),
];

function filters(): Filters {
  const kept = $state<Filters>({
    advocate: "",
    status: "",
    risk: "",
    overdue: false,
    escalating: false,
    sort: "reference",
  });
  return kept;
}

function show(rows = ROWS, onopen: (id: string) => void = () => {}) {
  mockServer({ "GET /w/api/caseload": caseload(rows) });
  return render(Caseload, { vocabularies: async () => vocabularies(), filters: filters(), onopen });
}

/** The references in the table, top to bottom. */
const references = () =>
  within(screen.getByRole("table"))
    .queryAllByRole("rowheader")
    .map((cell) => cell.textContent?.trim());

describe("the workspace's caseload", () => {
  it("narrows the rows to one advocate's cases", async () => {
    show();
    await screen.findByRole("table");
    const user = userEvent.setup();
    const advocate = screen.getByLabelText("Advocate") as HTMLSelectElement;
    expect([...advocate.options].map((o) => o.textContent)).toEqual(["Any", "ADV1", "ADV2"]);
    await user.selectOptions(advocate, "ADV1");
    expect(references()).toEqual(["T-1", "T-2"]);
    await user.selectOptions(advocate, "ADV2");
    expect(references()).toEqual(["T-10"]);
    expect(screen.getByText("1 of 3 cases shown")).toBeTruthy();
  });

  it("filters by the vocabularies' status and risk, and says when nothing matches", async () => {
    show();
    await screen.findByRole("table");
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Status"), "Closed");
    expect(references()).toEqual(["T-1"]);
    await user.selectOptions(screen.getByLabelText("Risk"), "High");
    expect(references()).toEqual([]);
    expect(screen.getByText("No case matches these filters.")).toBeTruthy();
  });

  it("narrows the rows to cases whose risk review is overdue, and back", async () => {
    show();
    await screen.findByRole("table");
    const user = userEvent.setup();
    const overdue = screen.getByRole("checkbox", { name: "Risk review overdue only" });
    await user.click(overdue);
    expect(references()).toEqual(["T-10"]);
    expect(screen.getByText("1 of 3 cases shown")).toBeTruthy();
    await user.selectOptions(screen.getByLabelText("Advocate"), "ADV1");
    expect(references()).toEqual([]);
    await user.selectOptions(screen.getByLabelText("Advocate"), "");
    await user.click(overdue);
    expect(references()).toEqual(["T-1", "T-2", "T-10"]);
  });

  it("sorts by reference, risk, time since contact and next hearing", async () => {
    show();
    await screen.findByRole("table");
    expect(references()).toEqual(["T-1", "T-2", "T-10"]);
    const user = userEvent.setup();
    const sort = screen.getByLabelText("Sort by");
    await user.selectOptions(sort, "risk");
    expect(references()).toEqual(["T-10", "T-2", "T-1"]);
    await user.selectOptions(sort, "last_contact");
    expect(references()).toEqual(["T-10", "T-1", "T-2"]);
    await user.selectOptions(sort, "next_hearing");
    expect(references()).toEqual(["T-1", "T-2", "T-10"]);
  });

  it("shows each column in words: labels, UK times, days and an overdue review", async () => {
    show();
    await screen.findByRole("table");
    const cells = (ref: string) =>
      within(screen.getByText(ref).closest("tr") as HTMLElement)
        .getAllByRole("cell")
        .map((c) => c.textContent?.trim());
    expect(cells("T-2")).toEqual([
      "Test Person",
      "ADV1",
      "Open",
      "Medium",
      "",
      "3 days",
      "Thu, 14 Jan 2027, 10:00",
      "",
    ]);
    expect(cells("T-10")).toEqual(["Test Person", "ADV2", "Open", "High", "", "never", "", "1 Jan 2000 overdue"]);
    expect(cells("T-1")).toEqual([
      "Test Person",
      "ADV1",
      "Closed",
      "Not assessed",
      "",
      "40 days",
      "Tue, 1 Dec 2026, 10:00",
      "1 Jan 2999",
    ]);
    const headers = within(screen.getByRole("table"))
      .getAllByRole("columnheader")
      .map((h) => h.textContent);
    expect(headers).toEqual([
      "Reference",
      "Victim",
      "Advocate",
      "Status",
      "Risk",
      "Escalation",
      "Days since contact",
      "Next hearing",
      "Risk review",
    ]);
  });

  it("sorts escalating cases first: the most signs, then the newest evidence, the rest by reference", async () => {
    const one = (evidence_at: string) =>
      escalation({ findings: [finding({ sign: "more_serious", evidence_at, since: evidence_at.slice(0, 10) })] });
    show([
      ...ROWS,
      // One sign, the older evidence.
      caseloadRow({ case_id: "c4", reference: "T-4", escalation: one("2026-11-02T09:00:00Z") }),
      // Two signs: first, whatever its evidence or reference.
      escalatingRow({ case_id: "c30", reference: "T-30" }),
      // One sign, the newest evidence.
      caseloadRow({ case_id: "c20", reference: "T-20", escalation: one("2026-11-25T09:00:00Z") }),
    ]);
    await screen.findByRole("table");
    expect(references()).toEqual(["T-1", "T-2", "T-4", "T-10", "T-20", "T-30"]);
    await userEvent.setup().selectOptions(screen.getByLabelText("Sort by"), "escalation");
    expect(references()).toEqual(["T-30", "T-20", "T-4", "T-1", "T-2", "T-10"]);
    expect(screen.getByRole("table", { name: "Cases, escalating first" })).toBeTruthy();
  });

  it("marks an escalating case with its signs, its findings in words for screen readers, and shows it alone when asked", async () => {
    show([...ROWS, escalatingRow({ case_id: "c30", reference: "T-30" })]);
    await screen.findByRole("table");
    const row = screen.getByRole("button", { name: "T-30" }).closest("tr") as HTMLElement;
    const badge = within(row).getByText(/^Escalating/);
    expect(badge.textContent).toBe("Escalating (2 signs)");
    expect(badge.closest("td")?.textContent).toBe(
      "Escalating (2 signs): More frequent incidents: 3 incidents in the last 7 days, against about 1 a week before;" +
        " Risk review due: re-assess risk: the last assessment was on 1 October, before this",
    );
    // The other rows have no badge.
    expect(within(screen.getByRole("table")).getAllByText(/^Escalating \(/)).toHaveLength(1);
    const user = userEvent.setup();
    const only = screen.getByRole("checkbox", { name: "Escalating only" });
    await user.click(only);
    expect(references()).toEqual(["T-30"]);
    expect(screen.getByText("1 of 4 cases shown")).toBeTruthy();
    await user.click(only);
    expect(references()).toEqual(["T-1", "T-2", "T-10", "T-30"]);
  });

  it("counts the cases per advocate, and opens a case from its reference", async () => {
    const onopen = vi.fn();
    show(ROWS, onopen);
    await screen.findByRole("table");
    const summary = screen.getByRole("heading", { level: 2, name: "Cases per advocate" }).nextElementSibling;
    const items = within(summary as HTMLElement)
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(items).toEqual(["ADV1: 2 cases", "ADV2: 1 case"]);
    await userEvent.setup().click(screen.getByRole("button", { name: "T-10" }));
    expect(onopen).toHaveBeenCalledWith("c2");
  });

  it("says the server's message when the role may not see the caseload", async () => {
    mockServer({
      "GET /w/api/caseload": refusal(
        403,
        "forbidden",
        "your role does not let you do this; ask the clinic coordinator",
      ),
    });
    render(Caseload, { vocabularies: async () => vocabularies(), filters: filters(), onopen: () => {} });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your role does not let you do this; ask the clinic coordinator.",
    );
  });
});
