import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Workspace from "./Workspace.svelte";
import { caseFile, caseloadRow, caseRecord, victim, vocabularies } from "../test-kit";
import {
  caseAnswer,
  caseload,
  deviceEntry,
  escalating,
  escalatingRow,
  mockServer,
  referralRow,
  refusal,
  SIGNED_OUT,
  signedIn,
  signedOut,
  staffEntry,
  referralView,
  advocateView,
  auditView,
  duplicateView,
  pendingDuplicateView,
  agendaItemView,
  actionView,
  meetingDetail,
  meetingView,
  panelMembers,
  selectionView,
  accessRequest,
  accessRequestRow,
  accessReview,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { SignedIn } from "./types";

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

const REFUSED = "The staff code, password or authenticator code is not right; check them and try again.";
const CONFIRM_REFUSED = "Your own password or authenticator code is not right; nothing was changed.";

/** A server with no session running, that signs `who` in. */
function server(who: SignedIn = signedIn(), routes: Record<string, Route> = {}) {
  return mockServer({
    "GET /w/api/me": signedOut(),
    "POST /w/api/sign-in": { body: who },
    "POST /w/api/sign-out": { status: 204 },
    "GET /w/api/vocabularies": { body: vocabularies() },
    "GET /w/api/caseload": caseload([caseloadRow()]),
    "GET /w/api/referrals": { body: [] },
    "GET /w/api/panel-members": panelMembers(),
    ...routes,
  });
}

async function signIn(user = userEvent.setup(), staffCode = "COORD1") {
  await user.type(await screen.findByLabelText("Staff code"), staffCode);
  await user.type(screen.getByLabelText("Password"), "correct horse battery staple");
  await user.type(screen.getByLabelText("Authenticator code"), "123456");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

/** From the coordinator's first screen, the referrals, to the caseload. */
async function toCaseload(user: ReturnType<typeof userEvent.setup>) {
  const nav = within(await screen.findByRole("navigation", { name: "Main" }));
  await user.click(nav.getByRole("button", { name: "Caseload" }));
  await screen.findByRole("heading", { level: 1, name: "Caseload" });
}

describe("signing in", () => {
  it("opens a coordinator on the referrals, the caseload a click away, and sends no CSRF token with the sign-in", async () => {
    const api = server();
    render(Workspace);
    // No session at load is the usual start: nothing to say about it.
    await screen.findByRole("heading", { level: 1, name: "Sign in to the clinic workspace" });
    expect(screen.queryByRole("alert")).toBeNull();
    const user = await signIn();
    expect(await screen.findByRole("heading", { level: 1, name: "Referrals" })).toBeTruthy();
    await toCaseload(user);
    expect(await screen.findByRole("button", { name: "T-1" })).toBeTruthy();
    const [sent] = api.sent("POST /w/api/sign-in");
    expect(sent.body).toEqual({ staff_code: "COORD1", password: "correct horse battery staple", code: "123456" });
    expect(sent.headers.has(CSRF_HEADER)).toBe(false);
    // Reads carry no token either; only changes do.
    expect(api.sent("GET /w/api/caseload")[0].headers.has(CSRF_HEADER)).toBe(false);
    const banner = screen.getByRole("banner");
    expect(banner.textContent).toContain("Casey Coordinator, Coordinator");
    const nav = within(screen.getByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Referrals",
      "Caseload",
      "Escalating",
      "Selection",
      "Panel",
      "Actions",
      "Pathways",
      "Reports",
      "Subject access",
      "Audit",
    ]);
    expect(nav.getByRole("button", { name: "Caseload" }).getAttribute("aria-current")).toBe("page");
    // The token is kept in memory only.
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain("csrf-token-from-sign-in");
  });

  it("says the server's message after a refusal and clears the password and the code", async () => {
    server(signedIn(), { "POST /w/api/sign-in": refusal(401, "sign_in_refused", REFUSED) });
    render(Workspace);
    await signIn();
    expect((await screen.findByRole("alert")).textContent).toBe(REFUSED);
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("");
    expect((screen.getByLabelText("Authenticator code") as HTMLInputElement).value).toBe("");
    expect((screen.getByLabelText("Staff code") as HTMLInputElement).value).toBe("COORD1");
    expect(screen.queryByRole("heading", { name: "Caseload" })).toBeNull();
  });

  it("says how many seconds to wait when the server asks to slow down", async () => {
    server(signedIn(), {
      "POST /w/api/sign-in": refusal(429, "rate_limited", "Too many sign-in attempts from this address", {
        "retry-after": "30",
      }),
    });
    render(Workspace);
    await signIn();
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Too many sign-in attempts from this address.");
    expect(alert.textContent).toContain("You can try again in 30 seconds.");
    expect((screen.getByRole("button", { name: "Sign in" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("asks for the 6-digit code before sending anything", async () => {
    const api = server();
    render(Workspace);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Staff code"), "COORD1");
    await user.type(screen.getByLabelText("Password"), "pw");
    await user.type(screen.getByLabelText("Authenticator code"), "12a4");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toContain("6-digit code");
    expect(api.sent("POST /w/api/sign-in")).toEqual([]);
    expect(document.activeElement).toBe(screen.getByLabelText("Authenticator code"));
  });

  it("opens on the member's screens when a session is already running", async () => {
    server(signedIn(), { "GET /w/api/me": { body: signedIn() } });
    render(Workspace);
    expect(await screen.findByRole("heading", { level: 1, name: "Referrals" })).toBeTruthy();
  });
});

describe("signing out", () => {
  it("sends the CSRF token from the sign-in, and leaves nothing of the session in the page", async () => {
    const api = server(signedIn({ csrf: "token-42" }));
    render(Workspace);
    const user = await signIn();
    await toCaseload(user);
    await screen.findByRole("button", { name: "T-1" });
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect((await screen.findByRole("status")).textContent).toBe("You have signed out.");
    const [sent] = api.sent("POST /w/api/sign-out");
    expect(sent.headers.get(CSRF_HEADER)).toBe("token-42");
    expect(screen.queryByText("T-1")).toBeNull();
    expect(screen.queryByText("Test Person")).toBeNull();
    expect(screen.queryByRole("banner")).toBeNull();
  });

  it.each([
    ["the referrals", { "GET /w/api/referrals": signedOut() }, null],
    ["the caseload", { "GET /w/api/caseload": signedOut() }, "caseload"],
    ["a case", { "GET /w/api/cases/c1": signedOut() }, "case"],
    ["the vocabularies", { "GET /w/api/vocabularies": signedOut() }, null],
  ] as const)("goes back to sign-in with the server's message when %s answers signed out", async (_, routes, open) => {
    server(signedIn(), routes);
    render(Workspace);
    const user = await signIn();
    if (open) {
      const nav = within(await screen.findByRole("navigation", { name: "Main" }));
      await user.click(nav.getByRole("button", { name: "Caseload" }));
    }
    if (open === "case") await user.click(await screen.findByRole("button", { name: "T-1" }));
    expect((await screen.findByRole("alert")).textContent).toBe(`${SIGNED_OUT}.`);
    expect(screen.getByRole("heading", { level: 1, name: "Sign in to the clinic workspace" })).toBeTruthy();
    expect(screen.queryByRole("banner")).toBeNull();
  });
});

describe("the nav", () => {
  it("gives an administrator Staff, Devices and Enrol a laptop, and no Caseload", async () => {
    const api = server(signedIn({ name: "Alex Administrator", role: "administrator" }), {
      "GET /w/api/staff": {
        body: [staffEntry(), staffEntry({ code: "MGR1", name: "Morgan", role: "manager", active: false })],
      },
      "GET /w/api/devices": {
        body: [
          deviceEntry(),
          deviceEntry({ id: "aaaaaaaa-0000", status: "revoked", revoked_at: "2026-11-01T10:00:00Z" }),
        ],
      },
    });
    render(Workspace);
    const user = await signIn(undefined, "ADMIN1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Staff",
      "Devices",
      "Enrol a laptop",
      "Audit",
    ]);
    expect(screen.queryByRole("button", { name: "Caseload" })).toBeNull();
    const staff = await screen.findByRole("table", { name: /Staff/ });
    const morgan = within(staff).getByText("MGR1").closest("tr")?.textContent ?? "";
    expect(morgan).toContain("Advocates' manager");
    expect(morgan).toContain("No");
    expect(within(staff).getByText("ADMIN1").closest("tr")?.textContent).toContain("1 Oct 2026");
    await user.click(nav.getByRole("button", { name: "Devices" }));
    const devices = await screen.findByRole("table", { name: /Enrolled laptops/ });
    const first = within(devices).getByTitle("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(first.textContent).toBe("0f8fad5b…");
    expect(within(devices).getByTitle("aaaaaaaa-0000").closest("tr")?.textContent).toContain("Revoked on 1 Nov 2026");
    await user.click(nav.getByRole("button", { name: "Enrol a laptop" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Enrol a laptop" })).toBeTruthy();
    expect(document.activeElement?.id).toBe("main");
    expect(nav.getByRole("button", { name: "Enrol a laptop" }).getAttribute("aria-current")).toBe("page");
    expect(await screen.findByLabelText("Advocate")).toBeTruthy();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
    expect(api.sent("GET /w/api/vocabularies")).toEqual([]);
  });

  it("gives the coordinator and the administrator the audit, its heading focused, and the manager none", async () => {
    for (const who of [signedIn(), signedIn({ staff_code: "ADMIN1", role: "administrator" })]) {
      const api = server(who, {
        "GET /w/api/staff": { body: [staffEntry()] },
        "GET /w/api/audit": { body: auditView() },
      });
      const { unmount } = render(Workspace);
      const user = await signIn(undefined, who.staff_code);
      const nav = within(await screen.findByRole("navigation", { name: "Main" }));
      await user.click(nav.getByRole("button", { name: "Audit" }));
      expect(await screen.findByRole("heading", { level: 1, name: "Audit" })).toBeTruthy();
      expect(document.activeElement?.id).toBe("main");
      expect(nav.getByRole("button", { name: "Audit" }).getAttribute("aria-current")).toBe("page");
      await screen.findByRole("table", { name: "All 2 lines" });
      expect(api.sent("GET /w/api/audit")).toHaveLength(1);
      unmount();
      vi.unstubAllGlobals();
    }
    server(signedIn({ staff_code: "MGR1", role: "manager" }));
    render(Workspace);
    await signIn(undefined, "MGR1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.queryByRole("button", { name: "Audit" })).toBeNull();
  });

  it("gives the coordinator subject access: a request opens on its review under the same nav entry, and back", async () => {
    const api = server(signedIn(), {
      "GET /w/api/access-requests": { body: { requests: [accessRequestRow()] } },
      "GET /w/api/access-requests/sar1": { body: accessReview() },
    });
    render(Workspace);
    const user = await signIn();
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    await user.click(nav.getByRole("button", { name: "Subject access" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Subject access" })).toBeTruthy();
    expect(nav.getByRole("button", { name: "Subject access" }).getAttribute("aria-current")).toBe("page");
    await user.click(await screen.findByRole("button", { name: "Open the request from the victim on T-1" }));
    expect(
      await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" }),
    ).toBeTruthy();
    expect(document.activeElement?.id).toBe("main");
    expect(nav.getByRole("button", { name: "Subject access" }).getAttribute("aria-current")).toBe("page");
    // The nav entry goes back to the list, as the back button does.
    await user.click(nav.getByRole("button", { name: "Subject access" }));
    await screen.findByRole("table", { name: /^Subject access requests/ });
    await user.click(screen.getByRole("button", { name: "Open the request from the victim on T-1" }));
    await user.click(await screen.findByRole("button", { name: "Back to subject access" }));
    await screen.findByRole("table", { name: /^Subject access requests/ });
    expect(api.sent("GET /w/api/access-requests")).toHaveLength(3);
    expect(api.sent("GET /w/api/access-requests/sar1")).toHaveLength(2);
  });

  it("gives no one but the coordinator subject access", async () => {
    for (const who of [
      signedIn({ staff_code: "MGR1", role: "manager" }),
      signedIn({ staff_code: "PNL1", role: "panel_member" }),
      signedIn({ staff_code: "REF1", role: "referrer" }),
      signedIn({ staff_code: "ADMIN1", role: "administrator" }),
    ]) {
      const api = server(who, {
        "GET /w/api/meetings": { body: [] },
        "GET /w/api/staff": { body: [staffEntry()] },
        "GET /w/api/access-requests": { body: { requests: [accessRequestRow(accessRequest())] } },
      });
      const { unmount } = render(Workspace);
      await signIn(undefined, who.staff_code);
      const nav = within(await screen.findByRole("navigation", { name: "Main" }));
      expect(nav.getAllByRole("button").length).toBeGreaterThan(0);
      expect(nav.queryByRole("button", { name: "Subject access" })).toBeNull();
      expect(api.sent("GET /w/api/access-requests")).toEqual([]);
      unmount();
      vi.unstubAllGlobals();
    }
  });

  it("gives the coordinator and the manager the escalating cases, in the server's order, each opening its case and back", async () => {
    for (const who of [signedIn(), signedIn({ staff_code: "MGR1", name: "Morgan Manager", role: "manager" })]) {
      const api = server(who, {
        "GET /w/api/escalating": escalating([
          escalatingRow({ case_id: "c9", reference: "T-9", advocate: "ADV2" }),
          escalatingRow({ case_id: "c3", reference: "T-3" }),
        ]),
        "GET /w/api/cases/c3": caseAnswer(
          caseFile({ case: caseRecord({ id: "c3", reference: "T-3" }), escalation: escalatingRow().escalation }),
        ),
      });
      const { unmount } = render(Workspace);
      const user = await signIn(undefined, who.staff_code);
      const nav = within(await screen.findByRole("navigation", { name: "Main" }));
      await user.click(nav.getByRole("button", { name: "Escalating" }));
      expect(await screen.findByRole("heading", { level: 1, name: "Escalating cases" })).toBeTruthy();
      expect(document.activeElement?.id).toBe("main");
      expect(nav.getByRole("button", { name: "Escalating" }).getAttribute("aria-current")).toBe("page");
      const table = await screen.findByRole("table", { name: "2 escalating cases" });
      expect(
        within(table)
          .getAllByRole("rowheader")
          .map((cell) => cell.textContent),
      ).toEqual(["T-9", "T-3"]);
      expect(within(table).getAllByText("More frequent incidents")).toHaveLength(2);
      await user.click(within(table).getByRole("button", { name: "T-3" }));
      expect(await screen.findByRole("heading", { level: 1, name: "Case T-3" })).toBeTruthy();
      expect(screen.getByRole("region", { name: "Escalating" })).toBeTruthy();
      expect(nav.getByRole("button", { name: "Escalating" }).getAttribute("aria-current")).toBe("page");
      await user.click(screen.getByRole("button", { name: "Back to escalating cases" }));
      expect(await screen.findByRole("table", { name: "2 escalating cases" })).toBeTruthy();
      expect(api.sent("GET /w/api/escalating")).toHaveLength(2);
      unmount();
      vi.unstubAllGlobals();
    }
  });

  it("gives no panel member, referrer or administrator the escalating cases", async () => {
    for (const who of [
      signedIn({ staff_code: "PNL1", role: "panel_member" }),
      signedIn({ staff_code: "REF1", role: "referrer" }),
      signedIn({ staff_code: "ADMIN1", role: "administrator" }),
    ]) {
      const api = server(who, {
        "GET /w/api/meetings": { body: [] },
        "GET /w/api/staff": { body: [staffEntry()] },
        "GET /w/api/escalating": escalating([escalatingRow()]),
      });
      const { unmount } = render(Workspace);
      await signIn(undefined, who.staff_code);
      const nav = within(await screen.findByRole("navigation", { name: "Main" }));
      expect(nav.getAllByRole("button").length).toBeGreaterThan(0);
      expect(nav.queryByRole("button", { name: "Escalating" })).toBeNull();
      expect(screen.queryByRole("heading", { name: "Escalating cases" })).toBeNull();
      expect(api.sent("GET /w/api/escalating")).toEqual([]);
      unmount();
      vi.unstubAllGlobals();
    }
  });

  it("gives an advocate a short page and nothing else", async () => {
    const api = server(signedIn({ role: "advocate" }));
    render(Workspace);
    await signIn();
    expect(await screen.findByRole("heading", { level: 1, name: "Advocates work on their laptops" })).toBeTruthy();
    expect(screen.queryByRole("navigation")).toBeNull();
    expect(screen.getByRole("button", { name: "Sign out" })).toBeTruthy();
    expect(api.log.map((s) => `${s.method} ${s.path}`)).toEqual(["GET /w/api/me", "POST /w/api/sign-in"]);
  });

  it("gives the manager the panel's meetings to read, and the coordinator the means to make them", async () => {
    server(signedIn({ role: "manager", staff_code: "MGR1" }), { "GET /w/api/meetings": { body: [meetingView()] } });
    render(Workspace);
    const user = await signIn(undefined, "MGR1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Referrals",
      "Caseload",
      "Escalating",
      "Selection",
      "Panel",
      "Actions",
      "Pathways",
      "Reports",
      "Retention",
    ]);
    await user.click(nav.getByRole("button", { name: "Panel" }));
    await screen.findByRole("table", { name: /Panel meetings/ });
    expect(screen.queryByRole("button", { name: "New meeting" })).toBeNull();
  });
});

describe("the referrals", () => {
  it("gives a referrer their referrals and the form, and nothing else", async () => {
    const api = server(signedIn({ staff_code: "REF1", name: "Robin Referrer", role: "referrer" }), {
      "GET /w/api/referrals": {
        body: [referralRow({ source: null, criteria: [], status: "declined", decline_reason: null })],
      },
    });
    render(Workspace);
    await signIn(undefined, "REF1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").map((b) => b.textContent)).toEqual(["Referrals"]);
    expect(await screen.findByRole("heading", { level: 1, name: "Referrals" })).toBeTruthy();
    expect(await screen.findByRole("heading", { level: 2, name: "My referrals" })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 2, name: "New referral" })).toBeTruthy();
    expect(screen.getByText("Declined")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Caseload" })).toBeNull();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
  });

  it("takes the coordinator from a referral to a case it may duplicate and back", async () => {
    server(signedIn(), {
      "GET /w/api/referrals": { body: [referralRow()] },
      "GET /w/api/referrals/r1": {
        body: referralView({
          duplicates: [duplicateView({ who: "perpetrator", there: "perpetrator" })],
        }),
      },
      "GET /w/api/advocates": { body: [advocateView()] },
      "GET /w/api/cases/c1": caseAnswer(caseFile()),
    });
    render(Workspace);
    const user = await signIn();
    await user.click(await screen.findByRole("button", { name: "Referral 7" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Referral 7" })).toBeTruthy();
    expect(document.activeElement?.id).toBe("main");
    await user.click(await screen.findByRole("button", { name: "T-1" }));
    await screen.findByRole("heading", { level: 1, name: "Case T-1" });
    const nav = within(screen.getByRole("navigation", { name: "Main" }));
    expect(nav.getByRole("button", { name: "Referrals" }).getAttribute("aria-current")).toBe("page");
    await user.click(screen.getByRole("button", { name: "Back to the referral" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Referral 7" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Back to referrals" }));
    expect(await screen.findByRole("button", { name: "Referral 7" })).toBeTruthy();
  });

  it("takes the coordinator from a referral to another waiting that may be about the same people", async () => {
    server(signedIn(), {
      "GET /w/api/referrals": { body: [referralRow()] },
      "GET /w/api/referrals/r1": { body: referralView({ pending_duplicates: [pendingDuplicateView()] }) },
      "GET /w/api/referrals/r9": { body: referralView({ id: "r9", number: 9 }) },
      "GET /w/api/advocates": { body: [advocateView()] },
    });
    render(Workspace);
    const user = await signIn();
    await user.click(await screen.findByRole("button", { name: "Referral 7" }));
    await user.click(await screen.findByRole("button", { name: "referral 9" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Referral 9" })).toBeTruthy();
    expect(document.activeElement?.id).toBe("main");
  });
});

describe("the panel", () => {
  const PUBLISHED = meetingView({
    published_at: "2026-12-01T10:00:00Z",
    agenda: [agendaItemView(), agendaItemView({ case_id: "c2", reference: "T-2", minutes: 20 })],
  });
  const panelMember = signedIn({ staff_code: "PNL1", name: "Pat Panel", role: "panel_member" });

  it("opens a panel member on their agenda, each case a button opening it, with what was withheld said", async () => {
    const api = server(panelMember, {
      "GET /w/api/meetings": { body: [PUBLISHED] },
      "GET /w/api/meetings/m1": { body: meetingDetail(PUBLISHED, { attendance: [] }) },
      "GET /w/api/cases/c2": caseAnswer(caseFile({ case: caseRecord({ id: "c2", reference: "T-2" }) })),
    });
    render(Workspace);
    const user = await signIn(undefined, "PNL1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getAllByRole("button").map((b) => b.textContent)).toEqual(["My agenda", "Our actions"]);
    expect(await screen.findByRole("heading", { level: 1, name: "My agenda" })).toBeTruthy();
    const meeting = screen.getByRole("region", { name: "Panel of 10 Dec 2026" });
    expect(
      within(meeting)
        .getAllByRole("listitem")
        .map((li) => li.textContent?.replace(/\s+/g, " ").trim()),
    ).toEqual(["T-1: 15 minutes", "T-2: 20 minutes"]);
    await user.click(within(meeting).getByRole("button", { name: "T-2" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Case T-2" })).toBeTruthy();
    expect(document.activeElement?.id).toBe("main");
    expect(nav.getByRole("button", { name: "My agenda" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByText(/^Kept on the advocate's laptop, and not shown here/).textContent).toBe(
      "Kept on the advocate's laptop, and not shown here: the victim's address, how to reach the victim safely, the victim's dependants and the safety plan.",
    );
    expect(document.body.textContent).not.toContain("1 Test Street");
    expect(screen.queryByRole("button", { name: "Reassign" })).toBeNull();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Back to my agenda" }));
    expect(await screen.findByRole("region", { name: "Panel of 10 Dec 2026" })).toBeTruthy();
  });

  it("shows a panel member the victim's contact details the server shares with their agency, marked so", async () => {
    const shared = victim({
      address: { lines: ["1 Test Street", "Testtown"], postcode: "TE1 1ST", do_not_disclose: true },
      dependants: [
        { id: "d1", name: "Kit", date_of_birth: "2019-05-01", relationship: "son of both", school: null, notes: null },
      ],
    });
    server(panelMember, {
      "GET /w/api/meetings": { body: [PUBLISHED] },
      "GET /w/api/meetings/m1": { body: meetingDetail(PUBLISHED, { attendance: [] }) },
      "GET /w/api/cases/c1": caseAnswer(caseFile({ victim: shared }), [], { shared: true }),
    });
    render(Workspace);
    const user = await signIn(undefined, "PNL1");
    await user.click(await screen.findByRole("button", { name: "T-1" }));
    expect(await screen.findByRole("heading", { level: 3, name: "Shared with your agency" })).toBeTruthy();
    const text = document.body.textContent?.replace(/\s+/g, " ") ?? "";
    expect(text).toContain("1 Test Street, Testtown, TE1 1ST Do not disclose");
    expect(text).toContain("Kit, born 1 May 2019 (son of both)");
    expect(text).toContain("Kept on the advocate's laptop, and not shown here: the safety plan.");
  });

  it("says the server's message for a case no longer on the panel member's agenda", async () => {
    const NOT_FOUND = "there is no such record, or it is not one you may see; go back to your list";
    server(panelMember, {
      "GET /w/api/meetings": { body: [PUBLISHED] },
      "GET /w/api/meetings/m1": { body: meetingDetail(PUBLISHED, { attendance: [] }) },
      "GET /w/api/cases/c1": refusal(404, "not_found", NOT_FOUND),
    });
    render(Workspace);
    const user = await signIn(undefined, "PNL1");
    await user.click(await screen.findByRole("button", { name: "T-1" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "There is no such record, or it is not one you may see; go back to your list.",
    );
    expect(screen.getByRole("button", { name: "Back to my agenda" })).toBeTruthy();
  });

  it("says so when a panel member has no published agenda", async () => {
    server(panelMember, { "GET /w/api/meetings": { body: [] } });
    render(Workspace);
    await signIn(undefined, "PNL1");
    expect(await screen.findByText(/You are invited to no meeting whose agenda is published/)).toBeTruthy();
  });

  it("takes the coordinator from the panel to a meeting, one of its cases and back", async () => {
    server(signedIn(), {
      "GET /w/api/meetings": { body: [PUBLISHED] },
      "GET /w/api/meetings/m1": { body: meetingDetail(PUBLISHED) },
      "GET /w/api/cases/c2": caseAnswer(caseFile({ case: caseRecord({ id: "c2", reference: "T-2" }) })),
    });
    render(Workspace);
    const user = await signIn();
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    await user.click(nav.getByRole("button", { name: "Panel" }));
    await user.click(await screen.findByRole("button", { name: "10 Dec 2026" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
    expect(nav.getByRole("button", { name: "Panel" }).getAttribute("aria-current")).toBe("page");
    await user.click(screen.getByRole("button", { name: "T-2" }));
    await screen.findByRole("heading", { level: 1, name: "Case T-2" });
    expect(nav.getByRole("button", { name: "Panel" }).getAttribute("aria-current")).toBe("page");
    await user.click(screen.getByRole("button", { name: "Back to the meeting" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Back to the panel" }));
    expect(await screen.findByRole("button", { name: "New meeting" })).toBeTruthy();
  });

  it("takes the coordinator from the selection to a case and back, under Selection", async () => {
    server(signedIn(), {
      "GET /w/api/selection": { body: selectionView() },
      "GET /w/api/cases/c1": caseAnswer(caseFile()),
    });
    render(Workspace);
    const user = await signIn();
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    await user.click(nav.getByRole("button", { name: "Selection" }));
    await user.click(await screen.findByRole("button", { name: "T-1" }));
    await screen.findByRole("heading", { level: 1, name: "Case T-1" });
    expect(nav.getByRole("button", { name: "Selection" }).getAttribute("aria-current")).toBe("page");
    await user.click(screen.getByRole("button", { name: "Back to the selection" }));
    expect(await screen.findByRole("table", { name: "1 case selected for the panel" })).toBeTruthy();
  });

  it("gives a panel member their agency's actions under Our actions", async () => {
    const api = server(panelMember, {
      "GET /w/api/meetings": { body: [] },
      "GET /w/api/actions": { body: { actions: [actionView()] } },
    });
    render(Workspace);
    const user = await signIn(undefined, "PNL1");
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    await user.click(nav.getByRole("button", { name: "Our actions" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Our actions" })).toBeTruthy();
    expect(await screen.findByRole("form", { name: "Update T-1: Apply for a Stalking Protection Order" })).toBeTruthy();
    expect(nav.getByRole("button", { name: "Our actions" }).getAttribute("aria-current")).toBe("page");
    expect(api.sent("GET /w/api/actions")).toHaveLength(1);
  });

  it("keeps a new meeting on screen once saved, and a case opened from it returns to it", async () => {
    const saved = meetingView({ id: "m7" });
    const api = server(signedIn(), {
      "GET /w/api/meetings": { body: [] },
      "POST /w/api/meetings": { body: saved },
      "GET /w/api/meetings/m7": { body: meetingDetail(saved) },
      "GET /w/api/selection": { body: selectionView({ rows: [] }) },
      "GET /w/api/cases/c1": caseAnswer(caseFile()),
    });
    render(Workspace);
    const user = await signIn();
    await user.click(
      within(await screen.findByRole("navigation", { name: "Main" })).getByRole("button", { name: "Panel" }),
    );
    await user.click(await screen.findByRole("button", { name: "New meeting" }));
    expect(await screen.findByRole("heading", { level: 1, name: "New panel meeting" })).toBeTruthy();
    await user.type(screen.getByLabelText(/^Date of the meeting/), "10/12/2026");
    await user.click(screen.getByRole("button", { name: "Save the meeting" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "T-1" }));
    await screen.findByRole("heading", { level: 1, name: "Case T-1" });
    api.answer("GET /w/api/meetings", { body: [saved] });
    await user.click(screen.getByRole("button", { name: "Back to the meeting" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Panel of 10 Dec 2026" })).toBeTruthy();
  });
});

describe("the administrator's changes to a sign-in", () => {
  it("keep the administrator signed in when the server refuses their confirmation", async () => {
    server(signedIn({ name: "Alex Administrator", role: "administrator", staff_code: "ADMIN1" }), {
      "GET /w/api/staff": { body: [staffEntry(), staffEntry({ code: "MGR1", name: "Morgan", role: "manager" })] },
      "POST /w/api/staff/MGR1/second-factor": refusal(403, "confirm_refused", CONFIRM_REFUSED),
    });
    render(Workspace);
    const user = await signIn(undefined, "ADMIN1");
    await user.click(await screen.findByRole("button", { name: "New authenticator for Morgan (MGR1)" }));
    await user.type(screen.getByLabelText("Your password"), "not mine");
    await user.type(screen.getByLabelText("Your authenticator code"), "123456");
    await user.click(screen.getByRole("button", { name: "Make a new authenticator" }));
    expect((await screen.findByRole("alert")).textContent).toBe(CONFIRM_REFUSED);
    expect(screen.getByRole("banner").textContent).toContain("Alex Administrator");
    expect(screen.getByRole("heading", { level: 1, name: "Staff" })).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Sign in to the clinic workspace" })).toBeNull();
  });
});

describe("moving about", () => {
  it("keeps the caseload's filters while a case is open, and moves the focus to the new screen", async () => {
    server(signedIn(), {
      "GET /w/api/caseload": caseload([
        caseloadRow(),
        caseloadRow({ case_id: "c2", reference: "T-2", advocate: "ADV2", risk_review_on: "2000-01-01" }),
        caseloadRow({ case_id: "c3", reference: "T-3", advocate: "ADV2" }),
      ]),
      "GET /w/api/cases/c2": caseAnswer(caseFile({ case: caseRecord({ id: "c2", reference: "T-2" }) })),
    });
    render(Workspace);
    const user = await signIn();
    await toCaseload(user);
    await screen.findByRole("button", { name: "T-1" });
    await user.selectOptions(screen.getByLabelText("Advocate"), "ADV2");
    await user.click(screen.getByRole("checkbox", { name: "Risk review overdue only" }));
    expect(screen.queryByRole("button", { name: "T-3" })).toBeNull();
    expect(screen.queryByRole("button", { name: "T-1" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "T-2" }));
    await screen.findByRole("heading", { level: 1, name: "Case T-2" });
    expect(document.activeElement?.id).toBe("main");
    await user.click(screen.getByRole("button", { name: "Back to caseload" }));
    await screen.findByRole("button", { name: "T-2" });
    expect((screen.getByLabelText("Advocate") as HTMLSelectElement).value).toBe("ADV2");
    expect((screen.getByRole("checkbox", { name: "Risk review overdue only" }) as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByRole("button", { name: "T-1" })).toBeNull();
    expect(screen.queryByRole("button", { name: "T-3" })).toBeNull();
  });

  it("offers a skip link to the main content", async () => {
    server();
    render(Workspace);
    await signIn();
    await screen.findByRole("heading", { level: 1, name: "Referrals" });
    expect(screen.getByRole("link", { name: "Skip to main content" }).getAttribute("href")).toBe("#main");
    expect(document.getElementById("main")?.tagName).toBe("MAIN");
  });
});

describe("personal data", () => {
  it("shows a victim's name that holds markup as text, in the caseload and the case", async () => {
    const name = "<img src=x onerror=alert(1)>";
    server(signedIn(), {
      "GET /w/api/caseload": caseload([caseloadRow({ victim: name })]),
      "GET /w/api/cases/c1": caseAnswer(caseFile({ victim: victim({ name, preferred_name: name }) })),
    });
    render(Workspace);
    const user = await signIn();
    await toCaseload(user);
    await screen.findByRole("button", { name: "T-1" });
    expect(screen.getByText(name).tagName).toBe("TD");
    expect(document.querySelector("img")).toBeNull();
    await user.click(screen.getByRole("button", { name: "T-1" }));
    await screen.findByRole("heading", { level: 2, name: "Victim" });
    expect(screen.getAllByText(name).length).toBe(2);
    expect(document.querySelector("img")).toBeNull();
    // The page's title never carries case data.
    expect(document.title).toBe("Waymark clinic workspace");
  });
});
