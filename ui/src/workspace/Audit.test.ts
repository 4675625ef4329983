import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import Audit from "./Audit.svelte";
import { auditLine, auditView, mockServer, refusal, type Route } from "./server-mock";
import { auditActionWords, auditDetail } from "./words";

afterEach(() => vi.unstubAllGlobals());

const AUDIT = "GET /w/api/audit";
const HEAD = "2:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const text = (element: Element | null | undefined) => element?.textContent?.replace(/\s+/g, " ").trim() ?? "";

function show(answer: Route = { body: auditView() }) {
  const api = mockServer({ [AUDIT]: answer });
  render(Audit);
  return api;
}

/** The table's rows, each as its cells' text. */
async function rows(): Promise<string[][]> {
  const table = await screen.findByRole("table");
  return within(table)
    .getAllByRole("row")
    .slice(1)
    .map((row) => Array.from(row.querySelectorAll("th, td")).map(text));
}

describe("the audit", () => {
  it("says the chain verifies, with the head to keep elsewhere, and lists the lines newest first", async () => {
    const api = show();
    expect(screen.getByRole("heading", { level: 1, name: "Audit" })).toBeTruthy();
    await screen.findByRole("table", { name: "All 2 lines" });
    expect(screen.getByText(/chain verifies/).textContent).toBe(
      "The audit's chain verifies: 2 lines, none changed or removed.",
    );
    const head = screen.getByText(HEAD);
    expect(head.tagName).toBe("CODE");
    expect(text(screen.getByText(/Keep this line somewhere else/))).toBe(
      "Keep this line somewhere else; waymark-clinic audit verify --expect <it> later shows nothing up to it changed.",
    );
    expect(screen.queryByRole("alert")).toBeNull();
    expect(
      within(screen.getByRole("table"))
        .getAllByRole("columnheader")
        .map((c) => c.textContent),
    ).toEqual(["Line", "When", "Who", "What", "On what", "Detail"]);
    expect(await rows()).toEqual([
      ["2", "Sun, 22 Nov 2026, 14:05", "COORD1", "Viewed", "caseload", ""],
      ["1", "Sun, 22 Nov 2026, 14:00", "COORD1", "Signed in", "", ""],
    ]);
    // Reading is a GET: no token goes with it.
    expect(api.sent(AUDIT)).toHaveLength(1);
  });

  it("shows UK time in summer", async () => {
    show({ body: auditView({ lines: [auditLine({ at: "2026-07-01T09:30:00Z" })], total: 1 }) });
    await screen.findByRole("table", { name: "All 1 line" });
    expect((await rows())[0][1]).toBe("Wed, 1 Jul 2026, 10:30");
  });

  it("says the newest lines only when the audit holds more than it sent", async () => {
    const lines = Array.from({ length: 500 }, (_, i) => auditLine({ seq: 1200 - i }));
    show({ body: auditView({ lines, total: 1200 }) });
    await screen.findByRole("table", { name: "The newest 500 lines" });
    expect(screen.getByText(/chain verifies/).textContent).toBe(
      "The audit's chain verifies: 1200 lines, none changed or removed.",
    );
    expect(await rows()).toHaveLength(500);
  });

  it("says in an alert where a broken chain stops verifying, and still shows the lines", async () => {
    show({ body: auditView({ verified: false, broken_at: 7, head: null, total: 12 }) });
    const alert = await screen.findByRole("alert");
    expect(text(alert)).toBe(
      "The audit does not verify from line 7: it was changed or lines were removed. Keep the database as it is and tell the service's IT lead.",
    );
    expect(screen.queryByText(/chain verifies/)).toBeNull();
    expect(screen.queryByText(/Keep this line/)).toBeNull();
    expect(await screen.findByRole("table", { name: "The newest 2 lines" })).toBeTruthy();
    expect(await rows()).toHaveLength(2);
  });

  it("names each action in words, and one it does not know as written", async () => {
    const lines = [
      auditLine({ seq: 5, action: "refused", target: "/w/api/staff" }),
      auditLine({ seq: 4, action: "referral_accepted", target: "r1", detail: { case: "c1", advocate: "ADV2" } }),
      auditLine({ seq: 3, action: "device_revoked", target: "0f8fad5b" }),
      auditLine({ seq: 2, action: "something_new" as never, target: null }),
      auditLine({ seq: 1, action: "unrecognised", target: null }),
    ];
    show({ body: auditView({ lines, total: 5 }) });
    await screen.findByRole("table");
    expect((await rows()).map((cells) => cells[3])).toEqual([
      "Refused",
      "Referral accepted",
      "Laptop revoked",
      "something_new",
      "Not recognised (written by a newer version)",
    ]);
    expect(auditActionWords("viewed")).toBe("Viewed");
    expect(auditActionWords("toString")).toBe("toString");
  });

  it("shows the detail as compact text, never as markup", async () => {
    const lines = [
      auditLine({ seq: 3, action: "meeting_saved", target: "m1", detail: { invited: 2, cases: 3, published: false } }),
      auditLine({ seq: 2, action: "case_reassigned", target: "c1", detail: { from: "ADV1", to: "ADV2" } }),
      auditLine({ seq: 1, action: "refused", target: "x", detail: { code: "<b>x</b>", ids: ["a", "b"], none: null } }),
    ];
    show({ body: auditView({ lines, total: 3 }) });
    await screen.findByRole("table");
    const details = (await rows()).map((cells) => cells[5]);
    expect(details).toEqual([
      "invited: 2; cases: 3; published: false",
      "from: ADV1; to: ADV2",
      "code: <b>x</b>; ids: a, b; none: none",
    ]);
    const cell = screen.getByText(/code: <b>x<\/b>/);
    expect(cell.querySelector("b")).toBeNull();
    expect(document.querySelector("table b")).toBeNull();
    expect(auditDetail({ nested: { a: 1 } })).toBe('nested: {"a":1}');
  });

  it("says the server's message when it refuses", async () => {
    show(refusal(403, "forbidden", "that is not for your role"));
    expect((await screen.findByRole("alert")).textContent).toBe("That is not for your role.");
    expect(screen.queryByRole("table")).toBeNull();
  });
});
