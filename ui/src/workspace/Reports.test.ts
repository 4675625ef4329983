import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Workspace from "./Workspace.svelte";
import Reports from "./Reports.svelte";
import { vocabularies } from "../test-kit";
import {
  LAST_QUARTER,
  mockServer,
  quarterlyReturnRoute,
  refusal,
  signedIn,
  signedOut,
  type Route,
} from "./server-mock";
import type { SignedIn } from "./types";

afterEach(() => vi.unstubAllGlobals());

const RETURN = "GET /w/api/reports/quarterly";

/** A server with no session running, that signs `who` in and answers the return. */
function server(who: SignedIn = signedIn(), routes: Record<string, Route> = {}) {
  return mockServer({
    "GET /w/api/me": signedOut(),
    "POST /w/api/sign-in": { body: who },
    "GET /w/api/vocabularies": { body: vocabularies() },
    "GET /w/api/referrals": { body: [] },
    "GET /w/api/meetings": { body: [] },
    [RETURN]: quarterlyReturnRoute,
    ...routes,
  });
}

async function signIn(user = userEvent.setup()) {
  await user.type(await screen.findByLabelText("Staff code"), "COORD1");
  await user.type(screen.getByLabelText("Password"), "pw");
  await user.type(screen.getByLabelText("Authenticator code"), "123456");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

const links = () =>
  screen
    .getAllByRole("link", { name: /^Download/ })
    .map((a) => [a.textContent, a.getAttribute("href"), a.hasAttribute("download")]);

describe("the quarterly return at the clinic", () => {
  it("is in the coordinator's nav and shows the whole service's figures for the last full quarter", async () => {
    const api = server();
    render(Workspace);
    const user = await signIn();
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    await user.click(nav.getByRole("button", { name: "Reports" }));
    expect(nav.getByRole("button", { name: "Reports" }).getAttribute("aria-current")).toBe("page");
    expect(await screen.findByRole("heading", { level: 2, name: /^Q2 2026\/27 \(1 July/ })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1, name: "Quarterly return" })).toBeTruthy();
    expect(
      screen.getByText(/The whole service's figures for the commissioner, counted from the clinic's records/),
    ).toBeTruthy();
    expect(screen.getByText("Made on 22/11/2026")).toBeTruthy();
    const referrals = within(screen.getByRole("table", { name: "Referrals" }));
    expect(
      referrals.getByRole("rowheader", { name: "Referrals declined at screening" }).nextElementSibling?.textContent,
    ).toBe("8");
    expect(screen.getByRole("table", { name: "Multi-agency panel" })).toBeTruthy();
    // At the clinic, "[x]" is only "not available": nothing is held elsewhere.
    expect(screen.getByText("[x] Not available")).toBeTruthy();
    const [sent] = api.sent(RETURN);
    expect(Object.fromEntries(sent.query)).toEqual({ format: "json" });
    expect((screen.getByLabelText("Quarter") as HTMLSelectElement).value).toBe(LAST_QUARTER);
  });

  it("asks again with the quarter's wire value when another is chosen", async () => {
    const api = server();
    render(Reports);
    const user = userEvent.setup();
    const quarter = (await screen.findByLabelText("Quarter")) as HTMLSelectElement;
    expect(
      within(quarter)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual([
      "Q2 2026/27",
      "Q1 2026/27",
      "Q4 2025/26",
      "Q3 2025/26",
      "Q2 2025/26",
      "Q1 2025/26",
      "Q4 2024/25",
      "Q3 2024/25",
    ]);
    await user.selectOptions(quarter, "Q4 2025/26");
    expect(
      await screen.findByRole("heading", { level: 2, name: /^Q4 2025\/26 \(1 January to 31 March 2026\)/ }),
    ).toBeTruthy();
    expect(api.sent(RETURN).map((s) => Object.fromEntries(s.query))).toEqual([
      { format: "json" },
      { quarter: "2025-26-Q4", format: "json" },
    ]);
    expect(
      within(screen.getByRole("table", { name: "Multi-agency panel" })).getByRole("rowheader", {
        name: "Cases reviewed",
      }).nextElementSibling?.textContent,
    ).toBe("11");
    expect(quarter.value).toBe("2025-26-Q4");
  });

  it("links each download to the quarter shown, in its format", async () => {
    server();
    render(Reports);
    await screen.findByRole("heading", { level: 2, name: /^Q2 2026\/27/ });
    expect(links()).toEqual([
      ["Download PDF", "/w/api/reports/quarterly?quarter=2026-27-Q2&format=pdf", true],
      ["Download CSV", "/w/api/reports/quarterly?quarter=2026-27-Q2&format=csv", true],
      ["Download Excel workbook", "/w/api/reports/quarterly?quarter=2026-27-Q2&format=xlsx", true],
    ]);
    await userEvent.setup().selectOptions(screen.getByLabelText("Quarter"), "Q1 2025/26");
    await screen.findByRole("heading", { level: 2, name: /^Q1 2025\/26/ });
    expect(links().map(([, href]) => href)).toEqual([
      "/w/api/reports/quarterly?quarter=2025-26-Q1&format=pdf",
      "/w/api/reports/quarterly?quarter=2025-26-Q1&format=csv",
      "/w/api/reports/quarterly?quarter=2025-26-Q1&format=xlsx",
    ]);
  });

  it("says the server's refusal and shows no figures or links", async () => {
    server(signedIn(), {
      [RETURN]: refusal(403, "forbidden", "that is not something your role can see"),
    });
    render(Reports);
    expect((await screen.findByRole("alert")).textContent).toBe("That is not something your role can see.");
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByRole("link")).toBeNull();
  });

  it("is in the manager's nav too, and not in a panel member's", async () => {
    server(signedIn({ role: "manager", staff_code: "MGR1" }));
    const { unmount } = render(Workspace);
    await signIn();
    expect(
      within(await screen.findByRole("navigation", { name: "Main" })).getByRole("button", { name: "Reports" }),
    ).toBeTruthy();
    unmount();
    vi.unstubAllGlobals();
    const api = server(signedIn({ role: "panel_member", staff_code: "PNL1" }));
    render(Workspace);
    await signIn();
    const nav = within(await screen.findByRole("navigation", { name: "Main" }));
    expect(nav.getByRole("button", { name: "My agenda" })).toBeTruthy();
    expect(nav.queryByRole("button", { name: "Reports" })).toBeNull();
    expect(api.sent(RETURN)).toEqual([]);
  });
});
