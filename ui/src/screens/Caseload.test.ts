import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Caseload from "./Caseload.svelte";
import { caseloadRow, escalating, escalation, finding, mockCommands, vocabularies } from "../test-kit";

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

  it("shows an escalating case's badge with its count of signs and its findings, and sorts escalating first", async () => {
    // Two breaches of two orders are one sign: the badge counts signs, the words list every finding.
    const breaches = escalation({
      findings: [
        finding({ sign: "breach", text: "a breach of the Stalking Protection Order on 20 November" }),
        finding({ sign: "breach", text: "a breach of the Court bail on 18 November" }),
        finding({ sign: "risk_review_due", text: "re-assess risk: no risk assessment is recorded" }),
      ],
    });
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseload: ({ sort }) =>
        sort === "escalation"
          ? [
              caseloadRow({ case_id: "c2", reference: "T-2", escalation: breaches }),
              caseloadRow({ case_id: "c3", reference: "T-3", escalation: escalating() }),
              caseloadRow(),
            ]
          : [caseloadRow(), caseloadRow({ case_id: "c2", reference: "T-2", escalation: breaches })],
    });
    render(Caseload, { onopen: () => {} });
    await screen.findByRole("button", { name: "T-2" });
    expect(screen.getByRole("columnheader", { name: "Escalation" })).toBeTruthy();
    const user = userEvent.setup();
    const sort = screen.getByLabelText("Sort by") as HTMLSelectElement;
    await vi.waitFor(() => expect(within(sort).getByRole("option", { name: "Escalating first" })).toBeTruthy());
    await user.selectOptions(sort, "escalation");
    expect(ipc.last("caseload")).toEqual([{ status: null, risk: null, search: null, sort: "escalation" }]);
    await vi.waitFor(() => expect(screen.getAllByRole("row")).toHaveLength(4));

    const [first, second, third] = screen.getAllByRole("row").slice(1);
    expect(within(first).getByRole("button").textContent).toBe("T-2");
    const badge = first.querySelector(".badge.escalating") as HTMLElement;
    expect(badge.textContent).toBe("Escalating (2 signs)");
    expect(badge.title).toBe(
      "Breach of an order or condition: a breach of the Stalking Protection Order on 20 November; " +
        "Breach of an order or condition: a breach of the Court bail on 18 November; " +
        "Risk review due: re-assess risk: no risk assessment is recorded",
    );
    // What a screen reader hears in the cell: the badge and each finding.
    const cell = badge.closest("td") as HTMLElement;
    expect(cell.textContent).toContain("a breach of the Court bail on 18 November");
    expect(second.querySelector(".badge.escalating")?.textContent).toBe("Escalating (2 signs)");
    // A case with nothing flagged has no badge.
    expect(third.querySelector(".badge")).toBeNull();
  });
});
