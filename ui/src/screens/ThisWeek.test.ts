import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import ThisWeek from "./ThisWeek.svelte";
import {
  deskError,
  dueItem,
  escalatingCase,
  mockCommands,
  seriousA11yProblems,
  task,
  thisWeek,
  vocabularies,
} from "../test-kit";

// Sunday 22 November 2026.
const TODAY = "2026-11-22";

const overdueTask = dueItem({
  reminder: { kind: "task", due_on: "2026-11-15", what: "Chase the police", linked: { kind: "task", id: "t7" } },
  reference: "T-7",
});
const hearingToday = dueItem({
  reminder: { kind: "hearing", due_on: TODAY, what: "Hearing: Trial", linked: { kind: "hearing", id: "h1" } },
  reference: "T-2",
});
const reviewSoon = dueItem({
  reminder: {
    kind: "risk_review",
    due_on: "2026-11-23",
    case_id: "c3",
    what: "Risk review due",
    linked: { kind: "case", id: "c3" },
  },
  reference: "T-3",
});

const full = thisWeek({
  today: TODAY,
  escalating: [escalatingCase({ case_id: "c9", reference: "T-9" })],
  overdue: [overdueTask],
  due_today: [hearingToday],
  next_seven_days: [reviewSoon],
  snoozed: 2,
});

/** The rows of one list on the screen, by its heading. */
function rowsOf(title: string): HTMLElement[] {
  const section = screen.getByRole("heading", { name: title }).closest("section") as HTMLElement;
  return within(section).queryAllByRole("row").slice(1);
}

describe("This week", () => {
  it("shows escalating cases first, then overdue, today and the next 7 days, each item dated and with its case", async () => {
    mockCommands({ vocabularies: () => vocabularies(), thisWeek: () => full });
    const opened: string[] = [];
    render(ThisWeek, { onopen: (id: string) => opened.push(id) });
    await screen.findByRole("button", { name: "T-9" });
    const headings = screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent);
    expect(headings).toEqual(["Escalating", "Overdue", "Today", "Next 7 days"]);

    // The escalating case: its risk and each finding by its sign's label.
    const escalating = screen.getByRole("heading", { name: "Escalating" }).closest("section") as HTMLElement;
    await vi.waitFor(() => expect(escalating.textContent).toContain("Risk: High"));
    const findings = within(escalating)
      .getAllByRole("listitem")
      .filter((li) => li.closest(".findings"))
      .map((li) => li.textContent);
    expect(findings).toEqual([
      "More frequent incidents: 3 incidents in the last 7 days, against about 1 a week before",
      "Risk review due: re-assess risk: the last assessment was on 1 October, before this",
    ]);

    // Dates in UK style: a day past in full, a day to come by its weekday.
    const [overdue] = rowsOf("Overdue");
    expect(overdue.textContent).toContain("15/11/2026 (7 days ago)");
    expect(overdue.textContent).toContain("Chase the police");
    expect(rowsOf("Today")[0].textContent).toContain("Hearing: Trial");
    expect(rowsOf("Next 7 days")[0].textContent).toContain("Mon 23 Nov");
    expect(screen.getByText(/2 reminders are snoozed/)).toBeTruthy();

    expect(await seriousA11yProblems()).toEqual([]);

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "T-9" }));
    await user.click(within(rowsOf("Next 7 days")[0]).getByRole("button", { name: "T-3" }));
    expect(opened).toEqual(["c9", "c3"]);
  });

  it("offers Done for a task only, and snoozing only where the reminder can be put off", async () => {
    mockCommands({ vocabularies: () => vocabularies(), thisWeek: () => full });
    render(ThisWeek, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-9" });
    const buttons = (row: HTMLElement) =>
      within(row)
        .getAllByRole("button")
        .map((b) => b.textContent);
    expect(buttons(rowsOf("Overdue")[0])).toEqual(["T-7", "Done", "Snooze 1 day", "Snooze 7 days"]);
    // A hearing happens whatever anyone does.
    expect(buttons(rowsOf("Today")[0])).toEqual(["T-2"]);
    expect(buttons(rowsOf("Next 7 days")[0])).toEqual(["T-3", "Snooze 1 day", "Snooze 7 days"]);
  });

  it("never offers to put an order's expiry off past its own day", async () => {
    // Reminded of only up to the day it expires: a week's snooze three days
    // before would make it vanish, so the core's latest day decides.
    const expiring = dueItem({
      reminder: {
        kind: "order_expires",
        due_on: "2026-11-25",
        what: "Restraining order on conviction expires",
        linked: { kind: "order", id: "o1" },
      },
      reference: "T-4",
    });
    expect(expiring.snooze_latest).toBe("2026-11-25");
    mockCommands({
      vocabularies: () => vocabularies(),
      thisWeek: () => thisWeek({ today: TODAY, next_seven_days: [expiring] }),
    });
    render(ThisWeek, { onopen: () => {} });
    const row = await screen.findByRole("button", { name: "T-4" });
    const buttons = within(row.closest("tr") as HTMLElement)
      .getAllByRole("button")
      .map((b) => b.textContent);
    expect(buttons).toEqual(["T-4", "Snooze 1 day"]);
  });

  it("snoozes a reminder by its key and shows the list the core sends back", async () => {
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      thisWeek: () => full,
      snoozeReminder: () => ({ ...full, next_seven_days: [], snoozed: 3 }),
    });
    render(ThisWeek, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-9" });
    await userEvent.setup().click(within(rowsOf("Next 7 days")[0]).getByRole("button", { name: "Snooze 7 days" }));
    await screen.findByText("Nothing is due in the next 7 days.");
    expect(ipc.calls("snoozeReminder")).toEqual([[reviewSoon.key, 7]]);
    expect(reviewSoon.key).toBe("risk_review:c3:2026-11-23");
    expect(screen.getByText(/3 reminders are snoozed/)).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Next 7 days" }));
  });

  it("marks a task done by its task id and shows the week afresh", async () => {
    let done = false;
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      thisWeek: () => (done ? { ...full, overdue: [] } : full),
      completeTask: (taskId) => {
        done = true;
        return task({ id: taskId, status: "done", done_on: TODAY });
      },
    });
    render(ThisWeek, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-9" });
    await userEvent.setup().click(within(rowsOf("Overdue")[0]).getByRole("button", { name: "Done" }));
    await screen.findByText("Nothing is overdue.");
    expect(ipc.calls("completeTask")).toEqual([["t7"]]);
    expect(ipc.calls("thisWeek")).toHaveLength(2);
    expect(ipc.calls("snoozeReminder")).toEqual([]);
  });

  it("says so when nothing is escalating or due, and nothing is snoozed", async () => {
    mockCommands({ vocabularies: () => vocabularies(), thisWeek: () => thisWeek() });
    render(ThisWeek, { onopen: () => {} });
    expect(await screen.findByText("No case has escalation waiting for a review.")).toBeTruthy();
    expect(screen.getByText("Nothing is overdue.")).toBeTruthy();
    expect(screen.getByText("Nothing is due today.")).toBeTruthy();
    expect(screen.getByText("Nothing is due in the next 7 days.")).toBeTruthy();
    expect(screen.getByText(/No reminder is snoozed/)).toBeTruthy();
    expect(screen.queryAllByRole("table")).toEqual([]);
  });

  it("shows the core's refusal of a snooze and keeps the reminder", async () => {
    mockCommands({
      vocabularies: () => vocabularies(),
      thisWeek: () => full,
      snoozeReminder: () => {
        throw deskError({ code: "invalid", message: "A snooze is for 1 to 28 days." });
      },
    });
    render(ThisWeek, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-9" });
    await userEvent.setup().click(within(rowsOf("Overdue")[0]).getByRole("button", { name: "Snooze 1 day" }));
    expect((await screen.findByRole("alert")).textContent).toBe("A snooze is for 1 to 28 days.");
    expect(rowsOf("Overdue")).toHaveLength(1);
  });
});
