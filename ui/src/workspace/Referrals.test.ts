import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Referrals from "./Referrals.svelte";
import { vocabularies } from "../test-kit";
import { mockServer, referralRow, refusal } from "./server-mock";
import type { ReferralRow, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

/** A referrer's list, as the server sends it: their own referrals, none of the people in them. */
const OWN: ReferralRow[] = [
  referralRow({ id: "r8", number: 8, source: null, criteria: [], their_reference: "CRIME-88" }),
  referralRow({
    id: "r7",
    number: 7,
    source: null,
    criteria: [],
    status: "declined",
    // Why it was declined is the coordinator's to tell: the server sends a referrer none.
    decline_reason: null,
    submitted_at: "2026-10-02T23:30:00Z",
  }),
  referralRow({ id: "r6", number: 6, source: null, criteria: [], status: "accepted", their_reference: null }),
];

const ALL: ReferralRow[] = [
  referralRow({ id: "r8", number: 8 }),
  referralRow({ id: "r7", number: 7, status: "declined", decline_reason: "outside_area" }),
  referralRow({ id: "r6", number: 6, status: "accepted", advocate: "ADV2", source: { other: "Faith leader" } }),
];

function show(role: StaffRole, rows: ReferralRow[]) {
  const api = mockServer({
    "GET /w/api/referrals": { body: rows },
    "POST /w/api/referrals": { body: { id: "r9", number: 9 } },
  });
  const onopen = vi.fn();
  const onnew = vi.fn();
  render(Referrals, { role, csrf: "csrf-1", vocabularies: async () => vocabularies(), onopen, onnew });
  return { api, onopen, onnew };
}

/** Each body row's header and cells, as text. */
const cellsOf = (table: HTMLElement) =>
  [...table.querySelectorAll("tbody tr")].map((row) => [...row.children].map((c) => c.textContent?.trim()));

describe("a referrer's referrals", () => {
  it("lists their own by number, date, their reference and where each stands, and no names", async () => {
    const { api } = show("referrer", OWN);
    const table = await screen.findByRole("table", { name: /Your referrals/ });
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Referral", "Received", "Your reference", "Status"]);
    expect(cellsOf(table)).toEqual([
      ["8", "20 Nov 2026", "CRIME-88", "Waiting for screening"],
      // Received just before midnight UTC on 2 Oct: 3 Oct in the UK.
      ["7", "3 Oct 2026", "CRIME-77", "Declined"],
      ["6", "20 Nov 2026", "", "Accepted"],
    ]);
    // A referrer opens none: the screening page is not theirs.
    expect(within(table).queryAllByRole("button")).toEqual([]);
    expect(screen.queryByRole("button", { name: "New referral" })).toBeNull();
    expect(table.textContent).not.toMatch(/Police|ADV|Avery|Jordan/);
    expect(api.log.map((s) => `${s.method} ${s.path}`)).toEqual(["GET /w/api/referrals"]);
  });

  it("says only that a referral was declined, even were a reason sent", async () => {
    show("referrer", [
      referralRow({ source: null, criteria: [], status: "declined", decline_reason: "existing_case" }),
    ]);
    const table = await screen.findByRole("table", { name: /Your referrals/ });
    expect(cellsOf(table)).toEqual([["7", "20 Nov 2026", "CRIME-77", "Declined"]]);
    expect(table.textContent).not.toContain("Already a case");
  });

  it("has the form below the list, and lists a referral sent from it at once", async () => {
    const { api } = show("referrer", OWN);
    await screen.findByRole("table", { name: /Your referrals/ });
    const form = screen.getByRole("form", { name: "New referral" });
    const user = userEvent.setup();
    await user.click(within(form).getByRole("button", { name: "Send the referral" }));
    expect((await screen.findByRole("status")).textContent).toContain("Referral 9 received.");
    expect(api.sent("GET /w/api/referrals").length).toBe(2);
  });

  it("says the server's message when the list cannot be had", async () => {
    mockServer({ "GET /w/api/referrals": refusal(403, "forbidden", "your role does not let you do this") });
    render(Referrals, {
      role: "referrer",
      csrf: "c",
      vocabularies: async () => vocabularies(),
      onopen: () => {},
      onnew: () => {},
    });
    expect((await screen.findByRole("alert")).textContent).toBe("Your role does not let you do this.");
  });
});

describe("the coordinator's and the manager's referrals", () => {
  it("shows where each came from, the criteria, where it stands and who has it, in the core's words", async () => {
    const { onopen } = show("coordinator", ALL);
    const table = await screen.findByRole("table", { name: /^Referrals/ });
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual([
      "Referral",
      "Received",
      "Referrer's own reference",
      "Referred by",
      "Criteria met",
      "Status",
      "Advocate",
    ]);
    expect(cellsOf(table)).toEqual([
      [
        "Referral 8",
        "20 Nov 2026",
        "CRIME-77",
        "Police",
        "The referrer's professional judgement; Escalation (3 or more incidents in 12 months)",
        "Waiting for screening",
        "",
      ],
      [
        "Referral 7",
        "20 Nov 2026",
        "CRIME-77",
        "Police",
        "The referrer's professional judgement; Escalation (3 or more incidents in 12 months)",
        "Declined: Outside the clinic's area",
        "",
      ],
      [
        "Referral 6",
        "20 Nov 2026",
        "CRIME-77",
        "Faith leader",
        "The referrer's professional judgement; Escalation (3 or more incidents in 12 months)",
        "Accepted",
        "ADV2",
      ],
    ]);
    await userEvent.setup().click(within(table).getByRole("button", { name: "Referral 6" }));
    expect(onopen).toHaveBeenCalledWith("r6");
  });

  it("gives the coordinator, and only the coordinator, a new referral", async () => {
    const { onnew } = show("coordinator", ALL);
    await userEvent.setup().click(await screen.findByRole("button", { name: "New referral" }));
    expect(onnew).toHaveBeenCalled();
    expect(screen.queryByRole("form", { name: "New referral" })).toBeNull();
  });

  it("gives the manager no new referral", async () => {
    show("manager", ALL);
    await screen.findByRole("table", { name: /^Referrals/ });
    expect(screen.queryByRole("button", { name: "New referral" })).toBeNull();
    expect(screen.queryByRole("form")).toBeNull();
  });
});
