import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import SubjectAccess from "./SubjectAccess.svelte";
import {
  accessRequest,
  type CommandMocks,
  caseloadRow,
  deskError,
  mockCommands,
  seriousA11yProblems,
  vocabularies,
} from "../test-kit";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

// Due dates are counted against today in London: Sunday 22 November 2026 here.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-22T12:00:00Z"));
});
afterEach(() => vi.useRealTimers());

// As the core sorts them: the soonest due first.
const REQUESTS = [
  accessRequest({
    id: "r-late",
    case_id: "c2",
    received_on: "2026-10-19",
    due_on: "2026-11-19",
    identity_checked: { on: "2026-10-20", by: "ADV1" },
  }),
  accessRequest({
    id: "r-today",
    case_id: "c1",
    subject: "perpetrator",
    perpetrator_id: "p1",
    received_on: "2026-10-22",
    due_on: "2026-11-22",
  }),
  accessRequest({ id: "r-soon", case_id: "c1", received_on: "2026-10-23", due_on: "2026-11-23" }),
  accessRequest({ id: "r-later", case_id: "c3", received_on: "2026-11-01", due_on: "2026-12-01" }),
];

function backend(overrides: CommandMocks = {}) {
  return mockCommands({
    vocabularies: () => vocabularies(),
    accessRequests: () => REQUESTS,
    caseload: () => [
      caseloadRow({ case_id: "c1", reference: "T-1" }),
      caseloadRow({ case_id: "c2", reference: "T-2", status: "closed" }),
    ],
    ...overrides,
  });
}

/** The table's rows, each as its cells' text. */
function shownRows(table: HTMLElement): string[][] {
  return within(table)
    .getAllByRole("row")
    .slice(1)
    .map((tr) =>
      [...tr.querySelectorAll("th, td")].map((cell) =>
        (cell.textContent ?? "")
          .replace(/\s+/g, " ")
          .replace(/^Open .*/, "Open")
          .trim(),
      ),
    );
}

describe("the laptop's subject access requests", () => {
  it("lists every request, the soonest due first, with whether each is overdue in words", async () => {
    const ipc = backend();
    render(SubjectAccess, { onopen: () => {} });
    const table = await screen.findByRole("table", { name: "Subject access requests, the soonest due first" });
    // Every case's requests, and every case's reference, closed ones too.
    expect(ipc.calls("accessRequests")).toEqual([[null]]);
    expect(ipc.last("caseload")).toEqual([{ status: null, risk: null, search: null, sort: "reference" }]);
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((th) => th.textContent),
    ).toEqual(["Case", "Whose request", "Received on", "Answer due on", "Status", "Identity", "Review"]);
    expect(shownRows(table)).toEqual([
      ["T-2", "The victim", "19/10/2026", "19/11/2026", "Overdue by 3 days", "Identity checked", "Open"],
      ["T-1", "The perpetrator", "22/10/2026", "22/11/2026", "Due today", "Identity not checked yet", "Open"],
      ["T-1", "The victim", "23/10/2026", "23/11/2026", "Due tomorrow", "Identity not checked yet", "Open"],
      [
        "a case not on this laptop",
        "The victim",
        "01/11/2026",
        "01/12/2026",
        "Due in 9 days",
        "Identity not checked yet",
        "Open",
      ],
    ]);
    // Overdue is said in words, in a marked label of its own, never by colour alone.
    const [late, dueToday] = within(table).getAllByRole("row").slice(1);
    expect(within(late).getByText("Overdue by 3 days").tagName).toBe("STRONG");
    expect(within(dueToday).queryByText(/Overdue/)).toBeNull();
    expect(document.getElementById("access-count")?.textContent).toBe("1 request is overdue");
    expect(table.getAttribute("aria-describedby")).toBe("access-count");
    expect(screen.getByRole("heading", { level: 1, name: "Subject access" })).toBeTruthy();
    expect(await seriousA11yProblems()).toEqual([]);
  });

  it("says in words, row by row, whether the requester's identity was checked", async () => {
    backend({
      accessRequests: () => [
        accessRequest({ id: "a", identity_checked: { on: "2026-11-02", by: "ADV2" } }),
        accessRequest({ id: "b" }),
      ],
    });
    render(SubjectAccess, { onopen: () => {} });
    const table = await screen.findByRole("table");
    const identity = within(table)
      .getAllByRole("row")
      .slice(1)
      .map((tr) => tr.querySelectorAll("td")[4]?.textContent?.trim());
    expect(identity).toEqual(["Identity checked", "Identity not checked yet"]);
  });

  it("opens a request's review from its row, each Open button naming its request", async () => {
    backend();
    const onopen = vi.fn();
    render(SubjectAccess, { onopen });
    const open = await screen.findByRole("button", {
      name: "Open the request of the perpetrator on T-1, received 22/10/2026",
    });
    await userEvent.setup().click(open);
    expect(onopen).toHaveBeenCalledWith("r-today");
  });

  it("counts overdue requests in the plural, and none as none", async () => {
    backend({
      accessRequests: () => [
        accessRequest({ id: "a", due_on: "2026-11-21" }),
        accessRequest({ id: "b", due_on: "2026-11-02" }),
      ],
    });
    const first = render(SubjectAccess, { onopen: () => {} });
    expect(await screen.findByText("2 requests are overdue")).toBeTruthy();
    expect(screen.getByText("Overdue by 1 day")).toBeTruthy();
    expect(screen.getByText("Overdue by 20 days")).toBeTruthy();
    first.unmount();
    backend({ accessRequests: () => [REQUESTS[3]] });
    render(SubjectAccess, { onopen: () => {} });
    expect(await screen.findByText("No request is overdue")).toBeTruthy();
  });

  it("says so when no request is recorded, with no table", async () => {
    backend({ accessRequests: () => [] });
    render(SubjectAccess, { onopen: () => {} });
    expect(await screen.findByText("No subject access request is recorded on this laptop.")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("shows the core's refusal as an alert, and no list", async () => {
    backend({
      accessRequests: () => {
        throw deskError({ code: "locked", message: "Waymark is locked. Unlock it to carry on." });
      },
    });
    render(SubjectAccess, { onopen: () => {} });
    expect((await screen.findByRole("alert")).textContent).toBe("Waymark is locked. Unlock it to carry on.");
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByText("Loading…")).toBeNull();
  });
});
