import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Retention from "./Retention.svelte";
import type * as B from "../lib/bindings";
import { type CommandMocks, choices, deskError, mockCommands, seriousA11yProblems, vocabularies } from "../test-kit";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

/** The vocabularies with the retention lists, in the core's words (waymark-domain's vocab.rs). */
const vocab = () =>
  vocabularies({
    hold_reasons: choices("hold_reasons", {
      ongoing_proceedings: "Ongoing criminal or civil proceedings",
      review: "A domestic homicide or safeguarding review",
    }),
    retention_bases: choices("retention_bases", {
      no_service_taken_up: "No service taken up",
      not_contactable: "Could not be contacted",
      after_last_contact: "After last contact",
    }),
    erasure_reasons: choices("erasure_reasons", { retention_due: "Due for deletion under the retention schedule" }),
  });

/** One closed case on the review, as the core sends it; by default kept and not yet due. */
function retentionRow(
  overrides: Partial<Omit<B.RetentionRow_Serialize, "retention">> & {
    retention?: Partial<B.Retention_Serialize>;
  } = {},
): B.RetentionRow_Serialize {
  const { retention, ...rest } = overrides;
  const base = {
    case_id: "c1",
    reference: "T-1",
    advocate: "ADV1",
    closed_on: "2026-10-01",
    closure_reason: "support_complete",
    retention: {
      basis: "after_last_contact",
      counted_from: "2026-10-14",
      due_on: "2032-10-14",
      held: null,
      ...retention,
    },
    due: false,
  } satisfies B.RetentionRow_Serialize;
  return { ...base, ...rest };
}

// As the core sorts them: the due ones first.
const ROWS = [
  retentionRow({
    case_id: "c3",
    reference: "T-3",
    closed_on: "2026-09-01",
    closure_reason: "victim_declined",
    retention: { basis: "no_service_taken_up", counted_from: "2026-09-01", due_on: "2026-10-13" },
    due: true,
  }),
  retentionRow({
    case_id: "c4",
    reference: "T-4",
    closed_on: "2026-05-04",
    retention: { basis: "not_contactable", counted_from: "2026-05-04", due_on: "2026-11-04" },
    due: true,
  }),
  retentionRow({
    case_id: "c2",
    reference: "T-2",
    closed_on: "2026-08-20",
    closure_reason: "victim_declined",
    retention: {
      basis: "no_service_taken_up",
      counted_from: "2026-08-20",
      due_on: "2026-10-01",
      held: { reason: "ongoing_proceedings", since: "2026-09-30" },
    },
  }),
  retentionRow(),
];

function backend(overrides: CommandMocks = {}) {
  return mockCommands({ vocabularies: () => vocab(), retentionReview: () => ROWS, ...overrides });
}

/** The table's rows, each as its cells' text. */
function shownRows(table: HTMLElement): string[][] {
  return within(table)
    .getAllByRole("row")
    .slice(1)
    .map((tr) =>
      [...tr.querySelectorAll("th, td")].map((cell) => (cell.textContent ?? "").replace(/\s+/g, " ").trim()),
    );
}

describe("the retention review on the laptop", () => {
  it("lists the closed cases in the core's order, the due ones marked first, held ones with their reason", async () => {
    const ipc = backend();
    render(Retention, { onopen: () => {} });
    const table = await screen.findByRole("table", { name: "Closed cases against the retention schedule" });
    expect(ipc.calls("retentionReview")).toEqual([[]]);
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((th) => th.textContent),
    ).toEqual(["Reference", "Closed on", "Why kept", "Counted from", "Status"]);
    expect(shownRows(table)).toEqual([
      ["T-3", "01/09/2026", "No service taken up", "01/09/2026", "Due for deletion since 13/10/2026"],
      ["T-4", "04/05/2026", "Could not be contacted", "04/05/2026", "Due for deletion since 04/11/2026"],
      [
        "T-2",
        "20/08/2026",
        "No service taken up",
        "20/08/2026",
        "Held: Ongoing criminal or civil proceedings since 30/09/2026",
      ],
      ["T-1", "01/10/2026", "After last contact", "14/10/2026", "Kept until 14/10/2032"],
    ]);
    // Due is said in words, in a marked label of its own, not by colour alone.
    const [due, alsoDue, held, kept] = within(table).getAllByRole("row").slice(1);
    expect(within(due).getByText("Due for deletion").tagName).toBe("STRONG");
    expect(within(alsoDue).getByText("Due for deletion").classList.contains("due-mark")).toBe(true);
    expect(within(held).queryByText("Due for deletion")).toBeNull();
    expect(within(kept).queryByText("Due for deletion")).toBeNull();
    expect(screen.getByText("2 cases due for deletion")).toBeTruthy();
    expect(table.getAttribute("aria-describedby")).toBe("retention-count");
    expect(document.getElementById("retention-count")?.textContent).toBe("2 cases due for deletion");
    expect(await seriousA11yProblems()).toEqual([]);
  });

  it("says what the schedule is and that only the clinic's manager erases", async () => {
    backend();
    render(Retention, { onopen: () => {} });
    expect(await screen.findByRole("heading", { level: 1, name: "Retention" })).toBeTruthy();
    const about = (screen.getByText(/retention schedule says/).textContent ?? "").replace(/\s+/g, " ");
    expect(about).toMatch(/6 weeks after closing when no service was taken up/);
    expect(about).toMatch(/6 months when the person could not be contacted/);
    expect(about).toMatch(/6 years after the last contact/);
    expect(about).toMatch(/legal hold on a case stops the schedule/);
    expect(about).toMatch(/Erasing is for the clinic's manager, never this laptop/);
    expect(screen.queryByRole("button", { name: /erase|delete/i })).toBeNull();
  });

  it("opens a case from its reference, as the caseload does", async () => {
    backend();
    const onopen = vi.fn();
    render(Retention, { onopen });
    await userEvent.setup().click(await screen.findByRole("button", { name: "T-2" }));
    expect(onopen).toHaveBeenCalledWith("c2");
  });

  it("counts one due case in the singular, and none as none", async () => {
    backend({ retentionReview: () => [ROWS[0], ROWS[3]] });
    const first = render(Retention, { onopen: () => {} });
    expect(await screen.findByText("1 case due for deletion")).toBeTruthy();
    first.unmount();
    backend({ retentionReview: () => [ROWS[2], ROWS[3]] });
    render(Retention, { onopen: () => {} });
    expect(await screen.findByText("No case is due for deletion")).toBeTruthy();
    expect(screen.queryByText("Due for deletion")).toBeNull();
  });

  it("says so when there are no closed cases, with no table", async () => {
    backend({ retentionReview: () => [] });
    render(Retention, { onopen: () => {} });
    expect(await screen.findByText("There are no closed cases on this laptop.")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByText(/due for deletion/)).toBeNull();
  });

  it("shows the core's refusal as an alert, and no list", async () => {
    backend({
      retentionReview: () => {
        throw deskError({ code: "locked", message: "The vault is locked." });
      },
    });
    render(Retention, { onopen: () => {} });
    expect((await screen.findByRole("alert")).textContent).toBe("The vault is locked.");
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByText("Loading…")).toBeNull();
  });
});
