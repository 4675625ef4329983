// End to end: the clinic workspace in Debian's Chromium, driven through
// chromium-driver, against a real clinic that `cargo xtask test` set up with
// fictional staff and a real laptop vault synced to it. Sign-in codes come
// from Debian's oathtool, not from our code. axe-core audits every screen;
// the server's own answers (not the page's hiding) are checked for roles
// that may not see a case.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { audit as axeAudit, chromium } from "../webdriver-kit.mjs";

const URL = process.env.WAYMARK_WORKSPACE_URL;
const SECRETS = process.env.WAYMARK_STAFF_SECRETS;
const PASSWORD = process.env.WAYMARK_STAFF_PASSWORD;
const SHOTS = process.env.WAYMARK_SCREENSHOTS;

let browser;
let close;

before(async () => {
  assert.ok(URL && SECRETS && PASSWORD, "cargo xtask test sets the clinic's address, the staff secrets and password");
  ({ browser, close } = await chromium(9515));
});

after(async () => {
  await close?.();
});

/** The code the member's authenticator shows now, from oathtool. */
function totp(code) {
  const secret = JSON.parse(readFileSync(SECRETS, "utf8"))[code];
  return execFileSync("oathtool", ["--totp", "-b", secret]).toString().trim();
}

const audit = (screen) => axeAudit(browser, screen);

async function shot(name) {
  if (SHOTS) await browser.saveScreenshot(join(SHOTS, `${name}.png`));
}

async function signIn(code) {
  // Each member starts from a browser with no session, whatever a test before left.
  await browser.url(`${URL}/w/`);
  await browser.deleteCookies();
  await browser.url(`${URL}/w/`);
  const staff = await browser.$("#sign-in-staff");
  await staff.waitForDisplayed({ timeout: 15_000 });
  await staff.setValue(code);
  await browser.$("#sign-in-password").setValue(PASSWORD);
  await browser.$("#sign-in-code").setValue(totp(code));
  await browser.$("button[type=submit]").click();
  await browser.$("button=Sign out").waitForDisplayed({ timeout: 15_000 });
}

async function signOut() {
  await browser.$("button=Sign out").click();
  await browser.$("#sign-in-staff").waitForDisplayed({ timeout: 15_000 });
}

/** What the server answers this browser's session for a path, as the page's own fetch would. */
async function serverAnswer(path) {
  return browser.executeAsync((p, done) => {
    fetch(p).then(
      (r) => done(r.status),
      () => done(0),
    );
  }, path);
}

let caseId;

test("the sign-in page passes axe and refuses a wrong code without saying which part was wrong", async () => {
  await browser.url(`${URL}/w/`);
  await browser.$("#sign-in-staff").waitForDisplayed({ timeout: 15_000 });
  await audit("sign-in");
  await shot("workspace-sign-in");
  await browser.$("#sign-in-staff").setValue("CRD1");
  await browser.$("#sign-in-password").setValue(PASSWORD);
  await browser.$("#sign-in-code").setValue("000000");
  await browser.$("button[type=submit]").click();
  const alert = await browser.$("[role=alert]");
  await alert.waitForDisplayed({ timeout: 15_000 });
  assert.match(await alert.getText(), /staff code, password or authenticator code is not right/);
  assert.equal(await browser.$("#sign-in-password").getValue(), "", "the password is cleared after a refusal");
});

test("a coordinator signs in with an oathtool code and sees the synced caseload and a case, warnings first", async () => {
  await signIn("CRD1");
  const table = await browser.$("table");
  await table.waitForDisplayed({ timeout: 15_000 });
  await browser.waitUntil(async () => (await table.getText()).includes("DEMO-"), {
    timeout: 15_000,
    timeoutMsg: "the laptop's demo cases reach the clinic's caseload",
  });
  await audit("caseload");
  await shot("workspace-caseload");
  const answer = await browser.executeAsync((done) => {
    fetch("/w/api/caseload")
      .then((r) => r.json())
      .then((body) => done(body.rows.map((r) => r.case_id)));
  });
  assert.equal(answer.length, 8, "every case the laptop synced");
  caseId = answer[0];
  const first = await browser.$("table tbody th button");
  const reference = await first.getText();
  await first.click();
  await browser.waitUntil(async () => (await browser.$("main h1").getText()).includes(reference), {
    timeout: 15_000,
    timeoutMsg: `the case ${reference} opens`,
  });
  await audit("case");
  await shot("workspace-case");
  await signOut();
  assert.equal(await serverAnswer("/w/api/caseload"), 401, "the session ended with sign-out");
});

test("a panel member not invited to an agenda is refused the case by the server", async () => {
  assert.ok(caseId, "the coordinator's test found a case");
  await signIn("PNL1");
  await audit("panel member's home");
  assert.equal(await serverAnswer(`/w/api/cases/${caseId}`), 403);
  assert.equal(await serverAnswer("/w/api/caseload"), 403);
  await signOut();
});

test("a referrer sees no caseload, and an administrator sees staff and devices but no case", async () => {
  await signIn("REF1");
  assert.equal(await serverAnswer("/w/api/caseload"), 403);
  await signOut();
  await signIn("ADM1");
  assert.equal(await serverAnswer(`/w/api/cases/${caseId}`), 403, "an administrator sees no case content");
  await browser.$("button=Staff").click();
  const staff = await browser.$("table");
  await staff.waitForDisplayed({ timeout: 15_000 });
  assert.match(await staff.getText(), /CRD1/);
  await audit("staff");
  await shot("workspace-staff");
  await browser.$("button=Devices").click();
  await browser.waitUntil(async () => (await browser.$("table").getText()).includes("DEMO-ADV"), {
    timeout: 15_000,
    timeoutMsg: "the demo laptop is listed",
  });
  await audit("devices");
  await signOut();
});
