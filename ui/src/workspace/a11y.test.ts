// axe-core on the workspace's screens as the browser would have them: no
// serious or critical violation. Colour contrast is left out (jsdom lays
// nothing out, so axe cannot measure it).
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import Workspace from "./Workspace.svelte";
import { caseFile, caseloadRow, hearing, incident, orderEntry, perpetrator, vocabularies } from "../test-kit";
import { caseAnswer, caseload, deviceEntry, mockServer, signedIn, signedOut, staffEntry } from "./server-mock";
import type { SignedIn } from "./types";

beforeAll(() => {
  document.documentElement.lang = "en-GB";
});
afterEach(() => vi.unstubAllGlobals());

async function serious(): Promise<string[]> {
  const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

function server(who: SignedIn = signedIn()) {
  const i = incident();
  mockServer({
    "GET /w/api/me": signedOut(),
    "POST /w/api/sign-in": { body: who },
    "GET /w/api/vocabularies": { body: vocabularies() },
    "GET /w/api/caseload": caseload([
      caseloadRow(),
      caseloadRow({ case_id: "c2", reference: "T-2", risk_review_on: "2000-01-01", advocate: "ADV2" }),
    ]),
    "GET /w/api/cases/c1": caseAnswer(
      caseFile({
        perpetrators: [perpetrator()],
        incidents: [{ original: i, amendments: [], current: i }],
        hearings: [hearing()],
        orders: [orderEntry()],
      }),
      [
        { kind: "address_not_disclosed", severity: "danger", text: "Address: do not disclose" },
        { kind: "order_in_force", severity: "caution", text: "Stalking Protection Order in force" },
      ],
    ),
    "GET /w/api/staff": { body: [staffEntry()] },
    "GET /w/api/devices": { body: [deviceEntry()] },
  });
}

async function signIn() {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Staff code"), "COORD1");
  await user.type(screen.getByLabelText("Password"), "pw");
  await user.type(screen.getByLabelText("Authenticator code"), "123456");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

describe("accessibility", () => {
  it("has no serious or critical violation on the sign-in screen, with and without an error", async () => {
    server();
    render(Workspace);
    await screen.findByLabelText("Staff code");
    expect(await serious()).toEqual([]);
    await userEvent.setup().click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("alert");
    expect(await serious()).toEqual([]);
  });

  it("has none on the caseload and the case", async () => {
    server();
    render(Workspace);
    const user = await signIn();
    await screen.findByRole("button", { name: "T-1" });
    expect(await serious()).toEqual([]);
    await user.click(screen.getByRole("button", { name: "T-1" }));
    await screen.findByRole("list", { name: "Warnings" });
    expect(await serious()).toEqual([]);
  });

  it("has none on the administrator's staff and devices", async () => {
    server(signedIn({ role: "administrator" }));
    render(Workspace);
    const user = await signIn();
    await screen.findByRole("table", { name: /Staff/ });
    expect(await serious()).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Devices" }));
    await screen.findByRole("table", { name: /Enrolled laptops/ });
    expect(await serious()).toEqual([]);
  });
});
