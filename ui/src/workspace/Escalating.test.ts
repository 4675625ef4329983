import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Escalating from "./Escalating.svelte";
import { escalation, finding, vocabularies } from "../test-kit";
import { escalating, escalatingRow, mockServer, refusal, type Route } from "./server-mock";

afterEach(() => vi.unstubAllGlobals());

// The server's order, which is neither the references' nor the number of signs':
// the page keeps it as it came.
const ROWS = [
  escalatingRow({
    case_id: "c10",
    reference: "T-10",
    advocate: "ADV2",
    risk_level: "medium",
    escalation: escalation({
      findings: [
        finding({
          sign: "breach",
          text: "a breach of the order of 15 October, on 20 November",
          since: "2026-11-20",
          evidence_at: "2026-11-20T18:00:00Z",
        }),
      ],
    }),
  }),
  escalatingRow({ case_id: "c2", reference: "T-2", advocate: "ADV1", risk_level: null }),
];

function show(answer: Route = escalating(ROWS), onopen: (id: string) => void = () => {}) {
  const api = mockServer({ "GET /w/api/escalating": answer });
  render(Escalating, { vocabularies: async () => vocabularies(), onopen });
  return api;
}

/** The references in the table, top to bottom. */
const references = () =>
  within(screen.getByRole("table"))
    .getAllByRole("rowheader")
    .map((cell) => cell.textContent?.trim());

/** A row's cells, as text with its spaces made single. */
const cells = (reference: string) =>
  within(screen.getByRole("button", { name: reference }).closest("tr") as HTMLElement)
    .getAllByRole("cell")
    .map((c) => c.textContent?.replace(/\s+/g, " ").trim());

/** A row's findings, one item each. */
const findings = (reference: string) =>
  within(screen.getByRole("button", { name: reference }).closest("tr") as HTMLElement)
    .getAllByRole("listitem")
    .map((li) => li.textContent?.replace(/\s+/g, " ").trim());

describe("the escalating cases", () => {
  it("lists the rows in the server's order, each finding's sign in the core's words, its text and since when", async () => {
    const api = show();
    expect(await screen.findByRole("heading", { level: 1, name: "Escalating cases" })).toBeTruthy();
    await screen.findByRole("table", { name: "2 escalating cases" });
    expect(references()).toEqual(["T-10", "T-2"]);
    expect(cells("T-10").slice(0, 3)).toEqual(["ADV2", "Medium", "Escalating (1 sign)"]);
    expect(findings("T-10")).toEqual([
      "Breach of an order or condition: a breach of the order of 15 October, on 20 November (since 20/11/2026)",
    ]);
    expect(cells("T-2").slice(0, 3)).toEqual(["ADV1", "Not assessed", "Escalating (2 signs)"]);
    expect(findings("T-2")).toEqual([
      "More frequent incidents: 3 incidents in the last 7 days, against about 1 a week before (since 16/11/2026)",
      "Risk review due: re-assess risk: the last assessment was on 1 October, before this (since 16/11/2026)",
    ]);
    expect(
      within(screen.getByRole("table"))
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Reference", "Advocate", "Risk", "Escalation", "What changed"]);
    expect(screen.queryByText("No case is escalating.")).toBeNull();
    expect(api.sent("GET /w/api/escalating")).toHaveLength(1);
  });

  it("opens a case from its reference", async () => {
    const onopen = vi.fn();
    show(escalating(ROWS), onopen);
    await userEvent.setup().click(await screen.findByRole("button", { name: "T-2" }));
    expect(onopen).toHaveBeenCalledWith("c2");
  });

  it("says so when no case is escalating", async () => {
    show(escalating([]));
    expect(await screen.findByText("No case is escalating.")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("says the server's message when the role may not see them", async () => {
    show(refusal(403, "forbidden", "your role does not let you do this; ask the clinic coordinator"));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your role does not let you do this; ask the clinic coordinator.",
    );
    expect(screen.queryByText("No case is escalating.")).toBeNull();
  });
});
