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
// The laptop the demo clinic syncs with: the real CLI, its vault and passphrase file.
const CLI = process.env.WAYMARK_CLI;
const VAULT_ENV = {
  ...process.env,
  WAYMARK_VAULT: process.env.WAYMARK_VAULT,
  WAYMARK_PASSPHRASE_FILE: process.env.WAYMARK_PASSPHRASE_FILE,
};

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

/** The authenticator step each member last signed in with: a code counts once, so a second sign-in waits for the next. */
const lastStep = {};
const STEP_MS = 30_000;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** A code from a step after the member's last, and the step it came from (read either side of oathtool, so a code made as the step turns is not misfiled). */
async function freshCode(code) {
  for (let tries = 0; tries < 4; tries++) {
    const before = Math.floor(Date.now() / STEP_MS);
    if (lastStep[code] !== undefined && before <= lastStep[code]) {
      await sleep((lastStep[code] + 1) * STEP_MS - Date.now() + 500);
      continue;
    }
    const made = totp(code);
    if (Math.floor(Date.now() / STEP_MS) !== before) continue;
    lastStep[code] = before;
    return made;
  }
  throw new Error("no fresh authenticator code after four steps");
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
  await browser.$("#sign-in-code").setValue(await freshCode(code));
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
  // The coordinator opens on the referrals; the caseload is the nav's next screen.
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  await audit("referrals");
  await browser.$("button=Caseload").click();
  await browser.$("h1=Caseload").waitForDisplayed({ timeout: 15_000 });
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
  // The escalating cases: the demo data may or may not escalate, so rows each marked so, or the empty state.
  await browser.$('nav[aria-label="Main"]').$("button=Escalating").click();
  await browser.$("h1=Escalating cases").waitForDisplayed({ timeout: 15_000 });
  const listed = () =>
    browser.execute(() => {
      const rows = [...document.querySelectorAll("main table tbody tr")];
      return {
        rows: rows.length,
        marked: rows.filter((tr) => /Escalating \(\d+/.test(tr.textContent ?? "")).length,
        none: (document.querySelector("main")?.textContent ?? "").includes("No case is escalating."),
      };
    });
  await browser.waitUntil(
    async () => {
      const now = await listed();
      return now.none || now.rows > 0;
    },
    { timeout: 15_000, timeoutMsg: "the escalating cases, or that none is escalating" },
  );
  const seen = await listed();
  assert.ok(seen.none || (seen.marked > 0 && seen.marked === seen.rows), "each escalating case is marked Escalating");
  await audit("escalating");
  await signOut();
  assert.equal(await serverAnswer("/w/api/caseload"), 401, "the session ended with sign-out");
});

test("a panel member not invited to an agenda is refused the case by the server", async () => {
  assert.ok(caseId, "the coordinator's test found a case");
  await signIn("PNL1");
  await audit("panel member's home");
  // Off their agenda, a case answers as one that does not exist.
  assert.equal(await serverAnswer(`/w/api/cases/${caseId}`), 404);
  assert.equal(await serverAnswer("/w/api/caseload"), 403);
  await signOut();
});

/** Runs the real CLI on the demo laptop's vault; its JSON answer when asked. */
function laptop(args) {
  return execFileSync(CLI, args, { env: VAULT_ENV, stdio: ["ignore", "pipe", "pipe"] }).toString();
}

let referenceMade;

test("a police referrer sends a referral and sees only its status", async () => {
  await signIn("REF1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  await browser.$("#referral-case-referral-source").selectByAttribute("value", "police");
  await browser.$("#referral-case-referral-referrer").setValue("DC Fictional Officer (DEMO)");
  await browser.$("#referral-case-referral-referrer_contact").setValue("0113 496 0999");
  await browser.$("#referral-case-referral-their_reference").setValue("DEMO-CRIME-42");
  await browser.$("#referral-case-referral-reason").setValue("Fictional: repeated unwanted contact and following");
  await browser.$("button=The referrer's professional judgement").click();
  await browser.$("#referral-case-referral-victim_aware").selectByVisibleText("Yes");
  await browser.$("#referral-case-referral-consent_recorded").click();
  await browser.$("#referral-victim-name").setValue("Jordan Referred (DEMO)");
  await browser.$("#referral-victim-address-lines").setValue("4 Fictional Mews");
  await browser.$("#referral-victim-address-postcode").setValue("ZZ99 4FM");
  await browser.$("#referral-perpetrator-names").setValue("Casey Follower (DEMO)");
  await browser.$("#referral-perpetrator-relationship").selectByAttribute("value", "ex_intimate_partner");
  await audit("referral form");
  await shot("workspace-referral-form");
  await browser.$("button=Send the referral").click();
  await browser.waitUntil(async () => /Referral \d+ received/.test(await browser.$("[role=status]").getText()), {
    timeout: 15_000,
    timeoutMsg: "the referral is received",
  });
  // The referrer's own list: their reference and the status, never the people in it.
  const list = await browser.$("main table");
  await browser.waitUntil(async () => (await list.getText()).includes("DEMO-CRIME-42"), { timeout: 15_000 });
  assert.doesNotMatch(await list.getText(), /Jordan|Casey|Fictional Mews/);
  assert.equal(await serverAnswer("/w/api/caseload"), 403);
  await signOut();
});

test("the coordinator screens the referral and accepts it for the demo advocate; it reaches the laptop at its next sync", async () => {
  await signIn("CRD1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button.link*=Referral").click();
  await browser.$("#ws-accept-advocate").waitForDisplayed({ timeout: 15_000 });
  const page = await browser.$("main").getText();
  assert.match(page, /Jordan Referred/);
  assert.doesNotMatch(page, /Fictional Mews/, "where the victim lives stays for the advocate's laptop");
  await audit("screening");
  await shot("workspace-screening");
  await browser.$("#ws-accept-advocate").selectByAttribute("value", "DEMO-ADV");
  await browser.$("button=Accept and assign").click();
  const open = await browser.$("button.link*=Open case");
  await open.waitForDisplayed({ timeout: 15_000 });
  referenceMade = (await open.getText()).replace("Open case ", "").trim();
  assert.match(referenceMade, /^CLN-\d{4}-\d{4}$/);
  await signOut();
  // The real laptop syncs and holds the case whole, with the referral, typed once.
  laptop(["sync", "now"]);
  const file = JSON.parse(laptop(["--json", "case", "show", referenceMade]));
  assert.equal(file.case.advocate, "DEMO-ADV");
  assert.equal(file.case.referral.their_reference, "DEMO-CRIME-42");
  assert.equal(file.victim.name, "Jordan Referred (DEMO)");
  assert.deepEqual(file.victim.address.lines, ["4 Fictional Mews"]);
  assert.deepEqual(file.perpetrators[0].names, ["Casey Follower (DEMO)"]);
});

test("the coordinator puts the case on a panel agenda; the invited member sees it there, and no other case", async () => {
  assert.ok(referenceMade, "the screening test made a case");
  await signIn("CRD1");
  await browser.$("button=Panel").click();
  await browser.$("h1=Panel").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=New meeting").click();
  await browser.$("#ws-meeting-date").waitForDisplayed({ timeout: 15_000 });
  await browser.$("#ws-meeting-date").setValue("10/12/2026");
  await browser.$("label*=PNL1").click();
  await browser.$("#ws-agenda-search").setValue(referenceMade);
  await browser.$(`button=Add ${referenceMade}`).click();
  await audit("meeting form");
  await shot("workspace-meeting");
  await browser.$("button=Save the meeting").click();
  await browser.$("button=Publish the agenda").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=Publish the agenda").click();
  await browser.$("button=Publish").click();
  await browser.$("button=Close the follow-up").waitForDisplayed({ timeout: 15_000 });
  await audit("published meeting");
  await signOut();
  // The invited member's first screen is their agenda; the case opens from it.
  await signIn("PNL1");
  await browser.$("h1=My agenda").waitForDisplayed({ timeout: 15_000 });
  await audit("panel member's agenda");
  await browser.$(`button=${referenceMade}`).click();
  await browser.waitUntil(async () => (await browser.$("main h1").getText()).includes(referenceMade), {
    timeout: 15_000,
    timeoutMsg: "the case on the agenda opens",
  });
  const page = await browser.$("main").getText();
  // No consent names the police yet: where the victim lives stays on the laptop.
  assert.doesNotMatch(page, /Fictional Mews/);
  await audit("panel member's case");
  assert.equal(await serverAnswer(`/w/api/cases/${caseId}`), 404, "a case on no agenda of theirs");
  await signOut();
});

/** A London calendar day `back` days before today, as the CLI takes one (YYYY-MM-DD). */
function londonDay(back) {
  const day = new Date(Date.now() - back * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London" }).format(day);
}

/** The references the coordinator's Escalating screen lists now. */
async function escalatingReferences() {
  await browser.$('nav[aria-label="Main"]').$("button=Caseload").click();
  await browser.$("h1=Caseload").waitForDisplayed({ timeout: 15_000 });
  await browser.$('nav[aria-label="Main"]').$("button=Escalating").click();
  await browser.$("h1=Escalating cases").waitForDisplayed({ timeout: 15_000 });
  await browser.waitUntil(
    async () =>
      (await browser.$$("main table tbody tr").length) > 0 ||
      (await browser.$("main").getText()).includes("No case is escalating."),
    { timeout: 15_000, timeoutMsg: "the escalating list, or that none is" },
  );
  return browser.execute(() =>
    [...document.querySelectorAll("main table tbody tr")].map((tr) => tr.querySelector("button")?.textContent?.trim()),
  );
}

test("a case the laptop escalates is on the coordinator's Escalating list until the advocate's review syncs", async () => {
  // Why: the clinic must see what the advocate sees, from the same analysis on
  // its own copy, and the advocate's review (an op through the real sync) is
  // what takes it off, not anything a browser could set.
  assert.ok(referenceMade, "the screening test made a case");
  const incident = (back, behaviour, channel) =>
    laptop([
      "incident",
      "add",
      referenceMade,
      `behaviours+=${behaviour}`,
      `channel=${channel}`,
      "account=Fictional (DEMO)",
      `occurred_at=${londonDay(back)} 10:00`,
    ]);
  incident(12, "unwanted_contact", "text");
  incident(2, "threat_to_kill", "phone");
  laptop(["sync", "now"]);
  const findings = JSON.parse(laptop(["--json", "case", "show", referenceMade])).escalation.findings;
  const signs = findings.map((f) => f.sign);
  assert.ok(signs.includes("more_serious"), `a first threat after texts: ${signs}`);

  await signIn("CRD1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  assert.ok((await escalatingReferences()).includes(referenceMade), "listed once the laptop's diary synced");
  const page = await browser.$("main").getText();
  assert.match(page, /A more serious behaviour/);
  assert.doesNotMatch(
    page,
    /Fictional \(DEMO\)|Jordan|Fictional Mews/,
    "findings, never the diary's words or the people",
  );

  laptop([
    "escalation",
    "add",
    referenceMade,
    `signs:=${JSON.stringify([...new Set(signs)])}`,
    "note=Reviewed with her (DEMO)",
  ]);
  laptop(["sync", "now"]);
  assert.ok(!(await escalatingReferences()).includes(referenceMade), "the advocate's review took it off");
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
