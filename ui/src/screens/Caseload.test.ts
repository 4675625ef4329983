import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Caseload from "./Caseload.svelte";
import { caseloadRow, mockCommands, vocabularies } from "../test-kit";

describe("Caseload", () => {
  it("shows risk, next hearing in UK time and days since contact, and sends the chosen filters", async () => {
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseload: () => [caseloadRow(), caseloadRow({ case_id: "c2", reference: "T-2", risk_level: null })],
    });
    let opened = "";
    render(Caseload, { onopen: (id: string) => (opened = id) });
    const link = await screen.findByRole("button", { name: "T-1" });
    await vi.waitFor(() => expect(link.closest("tr")?.textContent).toContain("High"));
    const cells = link.closest("tr")?.textContent ?? "";
    expect(cells).toContain("Open");
    expect(cells).toContain("Thu, 14 Jan 2027, 10:00");
    expect(cells).toContain("9 days");
    expect(screen.getByRole("button", { name: "T-2" }).closest("tr")?.textContent).toContain("Not assessed");
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Risk"), "high");
    await user.selectOptions(screen.getByLabelText("Sort by"), "next_hearing");
    expect(ipc.last("caseload")).toEqual([{ status: null, risk: "high", search: null, sort: "next_hearing" }]);
    await user.click(link);
    expect(opened).toBe("c1");
  });

  it("shows a long caseload's first rows at once and every row soon after", async () => {
    // Nobody waits for rows below the fold, and no case is left out of the list.
    const many = Array.from({ length: 150 }, (_, n) => caseloadRow({ case_id: `c${n}`, reference: `T-${n}` }));
    mockCommands({ vocabularies: () => vocabularies(), caseload: () => many });
    render(Caseload, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-0" });
    await vi.waitFor(() => expect(document.querySelectorAll("table.caseload tbody tr").length).toBe(150));
    expect(screen.getByText("150 cases")).toBeTruthy();
  });
});
