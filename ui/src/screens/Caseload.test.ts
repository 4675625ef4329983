import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import Caseload from "./Caseload.svelte";

const vocab = {
  case_statuses: [{ value: "open", label: "Open" }],
  risk_levels: [{ value: "high", label: "High" }],
};
const row = {
  case_id: "c1",
  reference: "T-1",
  status: "open",
  risk_level: "high",
  risk_review_on: null,
  victim: "Test Person",
  advocate: "ADV1",
  incidents: 12,
  next_hearing: "2027-01-14T10:00:00.000000Z",
  last_contact: null,
  days_since_contact: 9,
};

describe("Caseload", () => {
  it("shows risk, next hearing in UK time and days since contact, and sends the chosen filters", async () => {
    const queries: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "vocabularies") return vocab;
      if (cmd === "caseload") {
        queries.push((args as { query: unknown }).query);
        return [row];
      }
    });
    let opened = "";
    render(Caseload, { onopen: (id: string) => (opened = id) });
    const link = await screen.findByRole("button", { name: "T-1" });
    await vi.waitFor(() => expect(link.closest("tr")?.textContent).toContain("High"));
    const cells = link.closest("tr")?.textContent ?? "";
    expect(cells).toContain("Thu, 14 Jan 2027, 10:00");
    expect(cells).toContain("9 days");
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Risk"), "high");
    await user.selectOptions(screen.getByLabelText("Sort by"), "next_hearing");
    expect(queries.at(-1)).toEqual({ status: null, risk: "high", search: null, sort: "next_hearing" });
    await user.click(link);
    expect(opened).toBe("c1");
  });

  it("shows a long caseload's first rows at once and every row soon after", async () => {
    // Nobody waits for rows below the fold, and no case is left out of the list.
    const many = Array.from({ length: 150 }, (_, n) => ({ ...row, case_id: `c${n}`, reference: `T-${n}` }));
    mockIPC((cmd) => (cmd === "vocabularies" ? vocab : cmd === "caseload" ? many : undefined));
    render(Caseload, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-0" });
    await vi.waitFor(() => expect(document.querySelectorAll("table.caseload tbody tr").length).toBe(150));
    expect(screen.getByText("150 cases")).toBeTruthy();
  });
});
