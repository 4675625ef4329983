import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Workspace from "./Workspace.svelte";
import Retention from "./Retention.svelte";
import { seriousA11yProblems, vocabularies } from "../test-kit";
import { CSRF_HEADER } from "./api";
import {
  erasedAtClinic,
  erasedCase,
  invalidForm,
  mockServer,
  refusal,
  retentionRow,
  retentionView,
  signedIn,
  signedOut,
  type Route,
} from "./server-mock";
import type { RetentionView, SignedIn } from "./types";

afterEach(() => vi.unstubAllGlobals());

const REVIEW = "GET /w/api/retention";
const CSRF = "csrf-token-from-sign-in";

/** The vocabularies, with the retention schedule's lists in the core's words. */
const VOCAB = vocabularies({
  hold_reasons: [
    { value: "ongoing_proceedings", label: "Ongoing criminal or civil proceedings" },
    { value: "review", label: "A domestic homicide or safeguarding review" },
  ],
  retention_bases: [
    { value: "no_service_taken_up", label: "No service taken up" },
    { value: "not_contactable", label: "Could not be contacted" },
    { value: "after_last_contact", label: "After last contact" },
  ],
  erasure_reasons: [
    { value: "retention_due", label: "Due for deletion under the retention schedule" },
    { value: "erasure_request", label: "The person asked for their data to be erased" },
  ],
});

const DUE = retentionRow({ case_id: "c7", reference: "T-7", advocate: "ADV2" });
const HELD = retentionRow({
  case_id: "c3",
  reference: "T-3",
  closed_on: "2019-02-14",
  retention: {
    basis: "after_last_contact",
    counted_from: "2019-03-01",
    due_on: "2025-03-01",
    held: { reason: "ongoing_proceedings", since: "2026-10-05" },
  },
  due: false,
});
const KEPT = retentionRow({
  case_id: "c9",
  reference: "T-9",
  closed_on: "2026-10-20",
  closure_reason: { other: "Moved abroad" },
  retention: { basis: "no_service_taken_up", counted_from: "2026-10-20", due_on: "2026-12-01", held: null },
  due: false,
});
/** The server's order: due first, then the others; the page keeps it. */
const REVIEWED: RetentionView = retentionView({
  cases: [DUE, HELD, KEPT],
  erased: [
    // 1 July is in summer time (UTC+1); 2 November is not.
    erasedCase({ case_id: "a1b2c3d4-0000-4000-8000-000000000001", erased_at: "2026-07-01T13:05:00Z" }),
    erasedCase({
      case_id: "a1b2c3d4-0000-4000-8000-000000000002",
      erased_at: "2026-11-02T09:30:00Z",
      erased_by: "MGR2",
      reason: "erasure_request",
    }),
  ],
});
const ERASE_T7 = "POST /w/api/cases/c7/erase";

function show(routes: Record<string, Route> = {}) {
  const api = mockServer({ [REVIEW]: { body: REVIEWED }, ...routes });
  render(Retention, { csrf: CSRF, vocabularies: async () => VOCAB });
  return api;
}

/** The closed cases' table. */
const closed = async () => within(await screen.findByRole("table", { name: /^Closed cases/ }));
/** A closed case's row, by its reference. */
const rowOf = (reference: string) => screen.getByRole("rowheader", { name: reference }).closest("tr") as HTMLElement;
const cells = (reference: string) =>
  within(rowOf(reference))
    .getAllByRole("cell")
    .map((c) => c.textContent?.replace(/\s+/g, " ").trim());

/** Opens the erase dialog of a case. */
async function openErase(user: ReturnType<typeof userEvent.setup>, reference: string) {
  await user.click(await screen.findByRole("button", { name: `Erase… case ${reference}` }));
  return within(screen.getByRole("dialog", { name: `Erase case ${reference}?` }));
}

describe("the retention review", () => {
  it("lists the closed cases in the server's order, due first, with held ones marked in words", async () => {
    const api = show();
    expect(screen.getByRole("heading", { level: 1, name: "Retention" })).toBeTruthy();
    expect(screen.getByText(/removes it from the clinic, and from every laptop that holds it/)).toBeTruthy();
    expect(
      screen.getByText(/cannot be undone: all that is kept is who erased which case id, when and why/),
    ).toBeTruthy();
    const table = await closed();
    expect(screen.getByRole("table", { name: "Closed cases, 3 in all, 1 due for deletion" })).toBeTruthy();
    expect(
      table
        .getAllByRole("columnheader")
        .map((h) => h.textContent?.trim())
        .slice(0, 6),
    ).toEqual(["Reference", "Advocate", "Closed on", "Why kept", "Kept until", "Status"]);
    expect(table.getAllByRole("rowheader").map((h) => h.textContent)).toEqual(["T-7", "T-3", "T-9"]);
    expect(cells("T-7").slice(0, 5)).toEqual([
      "ADV2",
      "01/05/2020",
      "After last contact",
      "01/05/2026",
      "Due for deletion",
    ]);
    expect(cells("T-3").slice(0, 5)).toEqual([
      "ADV1",
      "14/02/2019",
      "After last contact",
      "01/03/2025",
      "Held: Ongoing criminal or civil proceedings since 05/10/2026",
    ]);
    expect(cells("T-9").slice(0, 5)).toEqual([
      "ADV1",
      "20/10/2026",
      "No service taken up",
      "01/12/2026",
      "Kept until 01/12/2026",
    ]);
    // Every row can be erased: the server judges holds and dates.
    expect(table.getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Erase… case T-7",
      "Erase… case T-3",
      "Erase… case T-9",
    ]);
    expect(api.sent(REVIEW)).toHaveLength(1);
    expect(api.sent(REVIEW)[0].headers.has(CSRF_HEADER)).toBe(false);
  });

  it("lists the cases erased, when in UK time, by whom and why", async () => {
    show();
    await screen.findByRole("heading", { level: 2, name: "Erased" });
    const erased = within(screen.getByRole("table", { name: "Erased cases, 2 in all" }));
    expect(erased.getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Case id", "When", "By", "Why"]);
    const rows = erased
      .getAllByRole("row")
      .slice(1)
      .map((r) => [...r.querySelectorAll("th, td")].map((c) => c.textContent));
    expect(rows).toEqual([
      [
        "a1b2c3d4-0000-4000-8000-000000000001",
        "01/07/2026 14:05",
        "MGR1",
        "Due for deletion under the retention schedule",
      ],
      [
        "a1b2c3d4-0000-4000-8000-000000000002",
        "02/11/2026 09:30",
        "MGR2",
        "The person asked for their data to be erased",
      ],
    ]);
  });

  it("says when nothing is kept or erased", async () => {
    show({ [REVIEW]: { body: retentionView({ cases: [], erased: [] }) } });
    expect(await screen.findByText("No closed case is kept at the clinic.")).toBeTruthy();
    expect(screen.getByText("No case has been erased.")).toBeTruthy();
  });

  it("says the server's refusal of the list", async () => {
    show({ [REVIEW]: refusal(403, "forbidden", "that is not something your role can do") });
    expect((await screen.findByRole("alert")).textContent).toBe("That is not something your role can do.");
    expect(screen.queryByRole("table")).toBeNull();
  });
});

describe("erasing a case", () => {
  it("keeps Erase case disabled until the case's reference is typed, and offers the schedule's reason only when due", async () => {
    const api = show();
    const user = userEvent.setup();
    let dialog = await openErase(user, "T-7");
    const reasons = within(dialog.getByRole("group", { name: "Why it is erased" }));
    expect(reasons.getAllByRole("radio").map((r) => r.closest("label")?.textContent?.trim())).toEqual([
      "Due for deletion under the retention schedule",
      "The person asked for their data to be erased",
    ]);
    expect((reasons.getByRole("radio", { name: /retention schedule/ }) as HTMLInputElement).checked).toBe(true);
    const button = dialog.getByRole("button", { name: "Erase case" }) as HTMLButtonElement;
    const input = dialog.getByLabelText("Type the case reference to confirm");
    expect(button.disabled).toBe(true);
    await user.type(input, "T-");
    expect(button.disabled).toBe(true);
    await user.type(input, "1");
    expect(button.disabled).toBe(true);
    await user.clear(input);
    await user.type(input, "t-7");
    expect(button.disabled).toBe(true);
    await user.clear(input);
    await user.type(input, "T-7");
    expect(button.disabled).toBe(false);
    await user.type(input, "0");
    expect(button.disabled).toBe(true);
    // A disabled button sends nothing, even submitted by Enter.
    await user.type(input, "{Enter}");
    expect(api.sent(ERASE_T7)).toEqual([]);
    await user.click(dialog.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();

    // A case not yet due is erased early only at the person's request.
    dialog = await openErase(user, "T-9");
    const only = dialog.getAllByRole("radio") as HTMLInputElement[];
    expect(only.map((r) => [r.value, r.checked])).toEqual([["erasure_request", true]]);
    expect(dialog.getByText(/not due for deletion under the schedule until 01\/12\/2026/)).toBeTruthy();
  });

  it("sends the reason and the typed reference with the CSRF token, says what went, and reloads the list", async () => {
    const api = show({ [ERASE_T7]: { body: erasedAtClinic() } });
    const user = userEvent.setup();
    const dialog = await openErase(user, "T-7");
    await user.type(dialog.getByLabelText("Type the case reference to confirm"), "T-7");
    // After the erasure the server lists the case as erased, and no longer as closed.
    api.answer(REVIEW, {
      body: retentionView({
        cases: [HELD, KEPT],
        erased: [...REVIEWED.erased, erasedCase({ case_id: "c7", erased_at: "2026-11-22T10:00:00Z" })],
      }),
    });
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    const status = await screen.findByText(/^Case T-7 is erased from the clinic/);
    expect(status.textContent).toBe(
      "Case T-7 is erased from the clinic: 12 changes in its feed, 0 refused changes, 0 quarantined changes, " +
        "1 referral, 0 panel documents and 2 warnings went with it. Each laptop that holds it erases it when it next syncs.",
    );
    const [sent] = api.sent(ERASE_T7);
    expect(sent.body).toEqual({ reason: "retention_due", reference: "T-7" });
    expect(sent.headers.get(CSRF_HEADER)).toBe(CSRF);
    expect(sent.headers.get("content-type")).toBe("application/json");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.sent(REVIEW)).toHaveLength(2);
    expect((await closed()).getAllByRole("rowheader").map((h) => h.textContent)).toEqual(["T-3", "T-9"]);
    expect(screen.getByRole("table", { name: "Erased cases, 3 in all" })).toBeTruthy();
    expect(screen.getByRole("rowheader", { name: "c7" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("status"));
  });

  it("sends the person's request for a case not yet due", async () => {
    const api = show({ "POST /w/api/cases/c9/erase": { body: erasedAtClinic({ feed_ops: 1, referrals: 0 }) } });
    const user = userEvent.setup();
    const dialog = await openErase(user, "T-9");
    await user.type(dialog.getByLabelText("Type the case reference to confirm"), " T-9 ");
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    await screen.findByText(/^Case T-9 is erased from the clinic: 1 change in its feed/);
    expect(api.sent("POST /w/api/cases/c9/erase")[0].body).toEqual({ reason: "erasure_request", reference: "T-9" });
  });

  it("says a legal hold's refusal, with its code, keeps the dialog open and reloads the list", async () => {
    const held = "that case is under a legal hold; lift the hold on the advocate's laptop before it can be erased";
    const api = show({ "POST /w/api/cases/c3/erase": refusal(409, "case_held", held) });
    const user = userEvent.setup();
    const dialog = await openErase(user, "T-3");
    expect(dialog.getByText(/It is held: Ongoing criminal or civil proceedings since 05\/10\/2026\./)).toBeTruthy();
    expect((dialog.getAllByRole("radio") as HTMLInputElement[]).map((r) => r.value)).toEqual(["erasure_request"]);
    await user.type(dialog.getByLabelText("Type the case reference to confirm"), "T-3");
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    const alert = await dialog.findByRole("alert");
    expect(alert.textContent).toBe(
      "That case is under a legal hold; lift the hold on the advocate's laptop before it can be erased. (code: case_held)",
    );
    expect(screen.getByRole("dialog")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("");
    expect(api.sent("POST /w/api/cases/c3/erase")[0].body).toEqual({ reason: "erasure_request", reference: "T-3" });
    expect(api.sent(REVIEW)).toHaveLength(2);
  });

  it("says a case not due and a case already erased, each with its code", async () => {
    show({
      [ERASE_T7]: refusal(
        409,
        "not_due",
        "that case is not due for deletion under the retention schedule (or is still open); erase it early only on the person's request",
      ),
    });
    const user = userEvent.setup();
    const dialog = await openErase(user, "T-7");
    await user.type(dialog.getByLabelText("Type the case reference to confirm"), "T-7");
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    expect((await dialog.findByRole("alert")).textContent).toMatch(
      /^That case is not due for deletion.*\(code: not_due\)$/,
    );
  });

  it("marks the reference by its field when the server refuses it", async () => {
    show({
      [ERASE_T7]: invalidForm("the form has fields to put right (reference); correct them and send it again", [
        { field: "reference", rule: "must be the case's reference, typed to confirm which case is erased" },
      ]),
    });
    const user = userEvent.setup();
    const dialog = await openErase(user, "T-7");
    const input = dialog.getByLabelText("Type the case reference to confirm");
    await user.type(input, "T-7");
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    expect((await dialog.findByRole("alert")).textContent).toBe(
      "The form has fields to put right (reference); correct them and send it again. (code: invalid)",
    );
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const described = (input.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id));
    expect(described.map((el) => el?.textContent)).toEqual([
      "Type T-7 exactly as it is shown.",
      "The reference must be the case's reference, typed to confirm which case is erased.",
    ]);
    expect(document.activeElement).toBe(input);
  });

  it("holds the focus in the dialog, and Escape gives it back to the row's button", async () => {
    show();
    const user = userEvent.setup();
    const opener = await screen.findByRole("button", { name: "Erase… case T-7" });
    await user.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Erase case T-7?" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(dialog);
    expect(await seriousA11yProblems()).toEqual([]);
    // Tab: the reasons (one stop), the reference, Cancel; Erase case is disabled; then round again.
    await user.tab();
    expect(document.activeElement).toBe(within(dialog).getByRole("radio", { name: /retention schedule/ }));
    await user.tab();
    expect(document.activeElement).toBe(within(dialog).getByLabelText("Type the case reference to confirm"));
    await user.tab();
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Cancel" }));
    await user.tab();
    expect(document.activeElement).toBe(within(dialog).getByRole("radio", { name: /retention schedule/ }));
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Cancel" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});

describe("the Retention screen in the workspace", () => {
  /** A server with no session running, that signs `who` in. */
  function server(who: SignedIn) {
    return mockServer({
      "GET /w/api/me": signedOut(),
      "POST /w/api/sign-in": { body: who },
      "GET /w/api/vocabularies": { body: VOCAB },
      "GET /w/api/referrals": { body: [] },
      "GET /w/api/meetings": { body: [] },
      "GET /w/api/staff": { body: [] },
      [REVIEW]: { body: REVIEWED },
    });
  }

  async function signIn(code: string) {
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Staff code"), code);
    await user.type(screen.getByLabelText("Password"), "pw");
    await user.type(screen.getByLabelText("Authenticator code"), "123456");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    return user;
  }

  it("is in the manager's nav, last, and opens the review", async () => {
    const api = server(signedIn({ role: "manager", staff_code: "MGR1", name: "Morgan Manager" }));
    render(Workspace);
    const user = await signIn("MGR1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").at(-1)?.textContent).toBe("Retention");
    expect(api.sent(REVIEW)).toEqual([]);
    await user.click(nav.getByRole("button", { name: "Retention" }));
    expect(nav.getByRole("button", { name: "Retention" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByRole("heading", { level: 1, name: "Retention" })).toBeTruthy();
    expect((await closed()).getAllByRole("rowheader").map((h) => h.textContent)).toEqual(["T-7", "T-3", "T-9"]);
    // The token the sign-in gave goes with the erasure.
    api.answer(ERASE_T7, { body: erasedAtClinic() });
    const dialog = await openErase(user, "T-7");
    await user.type(dialog.getByLabelText("Type the case reference to confirm"), "T-7");
    await user.click(dialog.getByRole("button", { name: "Erase case" }));
    await screen.findByText(/^Case T-7 is erased from the clinic/);
    expect(api.sent(ERASE_T7)[0].headers.get(CSRF_HEADER)).toBe(CSRF);
  });

  it.each([
    ["the coordinator", signedIn()],
    ["the administrator", signedIn({ role: "administrator", staff_code: "ADMIN1" })],
    ["a panel member", signedIn({ role: "panel_member", staff_code: "PNL1" })],
    ["a referrer", signedIn({ role: "referrer", staff_code: "REF1" })],
  ])("is not in the nav of %s", async (_who, who) => {
    const api = server(who);
    render(Workspace);
    await signIn(who.staff_code);
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").length).toBeGreaterThan(0);
    expect(nav.queryByRole("button", { name: "Retention" })).toBeNull();
    expect(api.sent(REVIEW)).toEqual([]);
  });
});
