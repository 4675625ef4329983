import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import QuarterlyReturn from "./QuarterlyReturn.svelte";
import {
  type CommandMocks,
  deskError,
  mockCommands,
  printPreview,
  quarterlyReturn,
  returnFigure,
  returnSaved,
  seriousA11yProblems,
} from "../test-kit";

/** The core: the last full quarter when none is named, any other as asked; saving as the test says. */
function backend(overrides: CommandMocks = {}) {
  return mockCommands({
    quarterlyReturn: (quarter) =>
      quarter === null || quarter === "2026-27-Q2"
        ? quarterlyReturn()
        : quarterlyReturn({
            quarter,
            period: "Q4 2025/26 (1 January to 31 March 2026)",
            made_on: "2026-11-22",
            figures: [returnFigure({ shown: "31" })],
          }),
    quarterlyReturnSave: (_quarter, format) => returnSaved({ format }),
    printPreview: () => printPreview({ document: "quarterly_return", file_name: "quarterly-return.pdf" }),
    printClose: () => {},
    ...overrides,
  });
}

describe("the quarterly return on the laptop", () => {
  it("counts the last full quarter on opening, and says when and what it counts", async () => {
    const ipc = backend();
    render(QuarterlyReturn, {});
    expect(await screen.findByRole("heading", { name: "Q2 2026/27 (1 July to 30 September 2026)" })).toBeTruthy();
    expect(ipc.calls("quarterlyReturn")).toEqual([[null]]);
    expect(screen.getByText("Made on 22/11/2026")).toBeTruthy();
    expect(screen.getByText(/this laptop's caseload only; figures shown as \[x\] are kept at the clinic/)).toBeTruthy();
    expect(screen.getByRole("table", { name: "Referrals" })).toBeTruthy();
    expect(
      screen.getByRole("rowheader", { name: "Referrals declined at screening" }).nextElementSibling?.textContent,
    ).toBe("[x]");
    expect(screen.getByText(/Not available here: held at the clinic/)).toBeTruthy();
    const quarter = screen.getByLabelText("Quarter") as HTMLSelectElement;
    expect(quarter.value).toBe("2026-27-Q2");
    const options = within(quarter).getAllByRole("option") as HTMLOptionElement[];
    expect(options).toHaveLength(8);
    expect(options.slice(0, 3).map((o) => [o.value, o.textContent])).toEqual([
      ["2026-27-Q2", "Q2 2026/27"],
      ["2026-27-Q1", "Q1 2026/27"],
      ["2025-26-Q4", "Q4 2025/26"],
    ]);
    expect(await seriousA11yProblems()).toEqual([]);
  });

  it("asks again with the wire value when another quarter is chosen, keeping the quarters offered", async () => {
    const ipc = backend();
    render(QuarterlyReturn, {});
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Quarter"), "Q4 2025/26");
    expect(await screen.findByRole("heading", { name: "Q4 2025/26 (1 January to 31 March 2026)" })).toBeTruthy();
    expect(ipc.calls("quarterlyReturn")).toEqual([[null], ["2025-26-Q4"]]);
    expect(screen.getByText("31")).toBeTruthy();
    const quarter = screen.getByLabelText("Quarter") as HTMLSelectElement;
    expect(quarter.value).toBe("2025-26-Q4");
    expect(within(quarter).getAllByRole("option")[0].textContent).toBe("Q2 2026/27");
  });

  it("saves the shown quarter as CSV and as a workbook through the save dialog, and says so", async () => {
    const ipc = backend();
    render(QuarterlyReturn, {});
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Quarter"), "Q4 2025/26");
    await screen.findByRole("heading", { name: /^Q4 2025\/26/ });
    await user.click(screen.getByRole("button", { name: "Save as CSV…" }));
    expect((await screen.findByRole("status")).textContent).toBe("Saved.");
    await user.click(screen.getByRole("button", { name: "Save as Excel…" }));
    expect(ipc.calls("quarterlyReturnSave")).toEqual([
      ["2025-26-Q4", "csv"],
      ["2025-26-Q4", "xlsx"],
    ]);
    expect(screen.getByRole("status").textContent).toBe("Saved.");
  });

  it("says nothing when the save dialog is cancelled", async () => {
    const ipc = backend({ quarterlyReturnSave: () => null });
    render(QuarterlyReturn, {});
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Save as Excel…" }));
    expect(ipc.last("quarterlyReturnSave")).toEqual(["2026-27-Q2", "xlsx"]);
    expect(screen.getByRole("status").textContent?.trim()).toBe("");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows the core's refusal as an alert", async () => {
    backend({
      quarterlyReturnSave: () => {
        throw deskError({ code: "io", message: "The file could not be written." });
      },
    });
    render(QuarterlyReturn, {});
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Save as CSV…" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The file could not be written.");
    expect(screen.getByRole("status").textContent?.trim()).toBe("");
  });

  it("opens the print dialog for the return of the quarter shown, naming no case", async () => {
    const ipc = backend();
    render(QuarterlyReturn, {});
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Save as PDF…" }));
    const dialog = within(screen.getByRole("dialog", { name: "Print" }));
    expect(dialog.getByText("Quarterly return")).toBeTruthy();
    expect(dialog.queryByLabelText(/Discreet/)).toBeNull();
    await user.click(dialog.getByRole("button", { name: "Preview" }));
    await dialog.findByAltText("Page 1 of 2");
    expect(ipc.last("printPreview")[0]).toMatchObject({
      document: "quarterly_return",
      quarter: "2026-27-Q2",
      case_id: null,
      discreet: false,
    });
    await user.click(dialog.getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
