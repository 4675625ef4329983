// End to end: the real app (release UI bundle, debug binary) driven through
// tauri-driver and WebKitWebDriver under Xvfb. First run, a case, incidents, a
// hearing, lock, unlock, and the data still there after a restart. An axe-core
// audit runs on every screen visited.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { remote } from "webdriverio";
import { audit as axeAudit } from "../webdriver-kit.mjs";

const APP = process.env.WAYMARK_APP;
const CLINIC = process.env.WAYMARK_CLINIC;
const DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";
const SHOTS = process.env.WAYMARK_SCREENSHOTS;
const PASSPHRASE = "lantern orbit marmalade";
// Fictional canaries: after locking, neither may be anywhere in the page.
const VICTIM = "Ezra Canary (E2E)";
const REFERENCE = "E2E-0001";

const vault = mkdtempSync(join(tmpdir(), "waymark-e2e-"));
let driver;
let browser;
let clinic;
let clinicCode;
const clinicDir = mkdtempSync(join(tmpdir(), "waymark-e2e-clinic-"));
// The clinic reads its passphrase from a file only its owner can read, never from the environment.
const clinicPassFile = join(clinicDir, "passphrase");
writeFileSync(clinicPassFile, "e2e clinic pass words\n", { mode: 0o600 });
const clinicEnv = {
  ...process.env,
  WAYMARK_CLINIC_PASSPHRASE_FILE: clinicPassFile,
  WAYMARK_CLINIC_DIR: join(clinicDir, "clinic"),
};

/** A real clinic server on a loopback port, and a one-time enrolment code for it. */
async function startClinic() {
  execFileSync(
    CLINIC,
    ["init", "--host", "127.0.0.1", "--work-factor", "10", "--recovery-out", join(clinicDir, "recovery.txt")],
    { env: clinicEnv },
  );
  clinic = spawn(CLINIC, ["serve", "--listen", "127.0.0.1:0"], { env: clinicEnv, stdio: ["ignore", "pipe", "ignore"] });
  const port = await new Promise((resolve, reject) => {
    clinic.stdout.once("data", (chunk) => resolve(String(chunk).trim().split(":").pop()));
    clinic.once("exit", () => reject(new Error("the clinic stopped")));
  });
  // Codes are bound to an advocate in the clinic's staff register: the one the app is set up as.
  execFileSync(CLINIC, ["staff", "add", "E2E-ADV", "--name", "End-to-end advocate", "--role", "advocate"], {
    env: clinicEnv,
  });
  const out = execFileSync(
    CLINIC,
    ["enrol", "--advocate", "E2E-ADV", "--url", `https://127.0.0.1:${port}`, "--no-qr"],
    { env: clinicEnv },
  ).toString();
  clinicCode = out.split("\n").find((line) => line.startsWith("WAYMARK1-"));
}

async function startApp() {
  browser = await remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "warn",
    capabilities: { "tauri:options": { application: APP } },
  });
}

async function waitForPort() {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch("http://127.0.0.1:4444/status");
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("tauri-driver did not start");
}

before(async () => {
  assert.ok(APP, "WAYMARK_APP must name the desktop binary");
  assert.ok(CLINIC, "WAYMARK_CLINIC must name the clinic server binary");
  await startClinic();
  driver = spawn(DRIVER, [], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, WAYMARK_VAULT: vault },
  });
  await waitForPort();
  await startApp();
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  driver?.kill();
  // WebKitWebDriver can outlive its parent when session creation fails.
  spawn("pkill", ["-f", "WebKitWebDriver"]).on("error", () => {});
  // So can the app, if the driver went first; it holds the test runner's
  // output open, and the runner would wait for it for ever.
  try {
    execFileSync("pkill", ["-f", APP]);
  } catch {
    // Nothing left to stop.
  }
  clinic?.kill();
  rmSync(vault, { recursive: true, force: true });
  rmSync(clinicDir, { recursive: true, force: true });
});

async function shot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await browser.execute(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    const main = document.getElementById("main");
    if (main) main.scrollTop = 0;
  });
  await browser.pause(200);
  await browser.saveScreenshot(join(SHOTS, `${name}.png`));
}

/** axe-core in the page itself: the WebdriverIO builder opens windows Tauri refuses. */
const audit = (screen) => axeAudit(browser, screen);

// Date fields are plain text inputs typed as day/month/year and 24-hour time
// (DateTimeField), so they are typed into like any other field.
async function setValue(selector, value) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10_000 });
  await el.setValue(value);
}

async function valueOf(selector) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10_000 });
  return el.getValue();
}

async function choose(selector, value) {
  const el = await browser.$(selector);
  await el.selectByAttribute("value", value);
}

async function click(selector) {
  const el = await browser.$(selector);
  await el.waitForClickable({ timeout: 10_000 });
  await el.click();
}

async function textOf(selector) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 10_000 });
  return el.getText();
}

async function waitForText(selector, expected) {
  await browser.waitUntil(async () => (await textOf(selector)).includes(expected), {
    timeout: 10_000,
    timeoutMsg: `${selector} never showed "${expected}"`,
  });
}

async function unlock(passphrase) {
  await setValue("#unlock-passphrase", passphrase);
  await click("form[aria-labelledby='unlock-title'] button[type='submit']");
}

/** A button by its words, inside what `within` (an XPath) finds: robust to the order of buttons around it. */
const button = (within, words) => `${within}//button[normalize-space()="${words}"]`;

/** A screen of the main navigation, by its name. */
const nav = (name) => click(button("//nav[@aria-label='Main']", name));

/** Waits until nothing matches `selector`. */
async function waitForGone(selector, what) {
  await browser.waitUntil(async () => !(await (await browser.$(selector)).isExisting()), {
    timeout: 10_000,
    timeoutMsg: `${what} never went`,
  });
}

test("an advocate sets up, records a case, locks, unlocks and finds it all after a restart", async () => {
  // First run.
  await waitForText("#first-run-title", "Set up Waymark");
  await audit("first run");
  await shot("first-run");
  await setValue("#advocate", "E2E-ADV");
  await setValue("#passphrase", PASSPHRASE);
  await setValue("#confirm", PASSPHRASE);
  await click("form[aria-labelledby='first-run-title'] button[type='submit']");
  // This week is the first screen; an empty vault has nothing on it.
  await waitForText("#this-week-title", "This week");
  await waitForText("section[aria-labelledby='week-escalating']", "No case has escalation");

  // A new case with its victim.
  await nav("New case");
  await waitForText("#new-case-screen-title", "New case");
  await setValue("#new-case-case-reference", REFERENCE);
  await choose("#new-case-case-referral-source", "police");
  await setValue("#new-case-case-referral-reason", "Repeated unwanted contact after separation");
  await click("#new-case-case-referral-consent_recorded");
  await setValue("#new-case-victim-name", VICTIM);
  await setValue("#new-case-victim-address-lines", "1 Fictional Row");
  await audit("new case");
  await click("form[aria-labelledby='new-case-title'] button[type='submit']");
  await waitForText("#case-title", REFERENCE);
  await waitForText(".warnings", "Address: do not disclose");

  // Two incidents: one saved with Ctrl+Enter, one with the button.
  for (const [n, account] of ["Waited outside the house at night", "Sent twelve texts in an hour"].entries()) {
    await click("form[aria-labelledby='incident-add-title'] .chip:nth-child(" + (n + 1) + ")");
    await choose("#incident-add-channel", n === 0 ? "in_person" : "text");
    await setValue("#incident-add-account", account);
    if (n === 0) {
      await browser.keys(["Control", "Enter"]);
    } else {
      await click("form[aria-labelledby='incident-add-title'] button[type='submit']");
    }
    await waitForText("#panel h2", `Incident diary (${n + 1})`);
  }
  await audit("case: incidents");
  await shot("case-incidents");

  // A refused save keeps what was typed and names the field.
  await setValue("#incident-add-location", "Outside the school");
  await click("form[aria-labelledby='incident-add-title'] button[type='submit']");
  await (
    await browser.$("form[aria-labelledby='incident-add-title'] .form-error")
  ).waitForDisplayed({ timeout: 10_000 });
  assert.equal(await (await browser.$("#incident-add-location")).getValue(), "Outside the school");

  // A hearing.
  await click("#tab-court");
  await click(".section-actions button:nth-child(1)");
  await setValue("#hearing-add-court", "Example Magistrates' Court");
  await choose(
    "#hearing-add-hearing_type",
    await (await browser.$("#hearing-add-hearing_type option:nth-child(2)")).getAttribute("value"),
  );
  // Day first whatever LANG says: 11/12 is 11 December, never 12 November.
  await setValue("#hearing-add-starts_at", "11/12/2027");
  await setValue("#hearing-add-starts_at-time", "14:30");
  await click("form[aria-labelledby='hearing-add-title'] button[type='submit']");
  await waitForText("#panel table", "Example Magistrates' Court");
  const when = await textOf("#panel table tbody tr td:first-child");
  assert.ok(
    when.includes("11 Dec 2027") && when.includes("14:30"),
    `the hearing shows as 11 Dec 2027 at 14:30, not "${when}"`,
  );
  await click("#panel table button");
  await setValue("#hearing-outcome-outcome", "Adjourned for trial");
  await click("form[aria-labelledby='hearing-outcome-title'] button[type='submit']");
  await waitForText("#panel table", "Adjourned for trial");
  await audit("case: court");
  await shot("case-court");

  // A first safety plan version, with one action in the Emergency section.
  await click("#tab-plan");
  await click(".section-actions button");
  await choose("#plan-new-section", "emergency");
  await click("#plan-new-section + button");
  await setValue("#a-0-0", "Dial 999 and press 55 if it is not safe to speak");
  await setValue("#w-0-0", "Victim");
  await click("form[aria-labelledby='plan-edit-title'] fieldset:last-of-type > button");
  await setValue("#sn-0", "Sam Example");
  await setValue("#sl-0", "Gym friend");
  await setValue("#plan-review", "5/1/2027");
  await audit("safety plan editor");
  await click("form[aria-labelledby='plan-edit-title'] button[type='submit']");
  await waitForText("#panel h2", "Version 1");
  await waitForText("#panel h2", "review 5 Jan 2027");
  await waitForText("#panel", "printed as “Gym friend”");
  // Reopened, the stored date reads back as day/month/year.
  await click(".section-actions button");
  assert.equal(await valueOf("#plan-review"), "05/01/2027");
  await click("form[aria-labelledby='plan-edit-title'] > button:last-child");
  await browser.waitUntil(
    async () => !(await (await browser.$("form[aria-labelledby='plan-edit-title']")).isExisting()),
    { timeout: 10_000 },
  );

  // Print: the discreet plan is the default; its preview pages come from the real renderer.
  await click(".case-title-row button:not(.quiet)");
  await waitForText("#print-title", "Print");
  assert.equal(await (await browser.$("input[name='discreet']")).isSelected(), true, "discreet is the default");
  await click(".print-controls button[type='submit']");
  await (await browser.$(".print-pages img")).waitForDisplayed({ timeout: 30_000 });
  assert.equal(await (await browser.$(".print-pages img")).getAttribute("alt"), "Page 1 of 1");
  await audit("print preview");
  await shot("print-preview");
  await click(".print-controls form .actions button[type='button']");
  await browser.waitUntil(async () => !(await (await browser.$(".print-dialog")).isExisting()), { timeout: 10_000 });

  for (const tab of ["victim", "perpetrator", "risk", "plan", "referrals", "contacts", "tasks", "audit"]) {
    await click(`#tab-${tab}`);
    await audit(`case: ${tab}`);
  }
  await click("#tab-risk");
  await shot("case-risk");

  // Enrol with the clinic as a new user would, and let the app sync.
  await nav("Sync");
  await waitForText("#sync-title", "Sync with the clinic");
  await audit("sync: not enrolled");
  await browser.execute((code) => {
    const box = document.querySelector("#enrol-code");
    box.value = code;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }, clinicCode);
  await click(".sync form button[type='submit']");
  await waitForText(".sync .summary", "https://127.0.0.1:");
  await waitForText(".sync .summary", "0 changes");
  await waitForText(".statusbar .sync-indicator", "0 waiting");
  await audit("sync");
  await shot("sync");

  await nav("Caseload");
  await waitForText("table.caseload", REFERENCE);
  await audit("caseload");
  await shot("caseload");

  // Lock with Ctrl+L: nothing of the case stays in the page or the title.
  await browser.keys(["Control", "l"]);
  await waitForText("#unlock-title", "locked");
  const page = await browser.getPageSource();
  assert.ok(!page.includes("Canary") && !page.includes(REFERENCE), "no case data in the DOM while locked");
  assert.equal(await browser.getTitle(), "Waymark");
  await audit("unlock");
  await shot("unlock");

  // A wrong passphrase shows the wait; then the right one opens the vault.
  await unlock("not the passphrase at all");
  await waitForText("form[aria-labelledby='unlock-title'] .form-error", "wrong");
  await waitForText("form[aria-labelledby='unlock-title']", "try again in");
  await browser.pause(2_500);
  await unlock(PASSPHRASE);
  await waitForText("#this-week-title", "This week");
  await nav("Caseload");
  await waitForText("table.caseload", REFERENCE);

  // Restart the app: the data is still there.
  await browser.deleteSession();
  await startApp();
  await waitForText("#unlock-title", "locked");
  await unlock(PASSPHRASE);
  await waitForText("#this-week-title", "This week");
  await nav("Caseload");
  await waitForText("table.caseload", REFERENCE);
  await click("table.caseload button.link");
  await waitForText("#panel h2", "Incident diary (2)");
  await click("#tab-court");
  await waitForText("#panel table", "Adjourned for trial");
});

test("a first threat flags the case on This week and the caseload, and a review clears it", async () => {
  // The test above leaves the case open: two approaches (following, loitering) and no risk assessment.
  // A threat to kill is more serious than anything before it, so the case escalates.
  await click("#tab-incidents");
  const incidentForm = "//form[@aria-labelledby='incident-add-title']";
  await click(button(incidentForm, "Threat to kill"));
  await choose("#incident-add-channel", "text");
  await setValue("#incident-add-account", "Texted that he would kill her if she went to court");
  await click("form[aria-labelledby='incident-add-title'] button[type='submit']");
  await waitForText("#panel h2", "Incident diary (3)");
  await waitForText("section[aria-labelledby='escalation-title']", "A more serious behaviour");
  await audit("case: escalating");

  // Patterns of the three incidents: the behaviours chart counts the threat.
  await waitForText("#patterns-title", "Patterns");
  await waitForText("section[aria-labelledby='patterns-behaviours-title'] .bar-chart", "Threat to kill");

  // After unlocking, This week shows the case under Escalating, above everything due.
  await browser.keys(["Control", "l"]);
  await waitForText("#unlock-title", "locked");
  await unlock(PASSPHRASE);
  await waitForText("#this-week-title", "This week");
  await waitForText("section[aria-labelledby='week-escalating']", REFERENCE);
  await waitForText("section[aria-labelledby='week-escalating']", "A more serious behaviour");
  await audit("this week");
  await shot("this-week");

  // On the caseload, sorted escalating first, the first row carries the badge.
  await nav("Caseload");
  await waitForText("table.caseload", REFERENCE);
  await choose("#f-sort", "escalation");
  await waitForText("table.caseload tbody tr:first-child .badge.escalating", "Escalating");
  await shot("caseload-escalation");
  await click("table.caseload tbody tr:first-child button.link");
  await waitForText("#case-title", REFERENCE);
  await waitForText("#escalation-title", "Escalating");

  // Mark it reviewed: the note says what was decided; the warning goes.
  await click(button("//section[@aria-labelledby='escalation-title']", "Mark reviewed"));
  await setValue("#escalation-review-note", "Police told of the threat; a risk assessment is booked for Tuesday");
  await audit("escalation review");
  await click("form[aria-labelledby='escalation-review-title'] button[type='submit']");
  await waitForGone("#escalation-title", "the escalation warning");
  assert.ok(
    !(await textOf(".case-header")).includes("Escalating"),
    "the case header no longer shows Escalating after the review",
  );
  // The review is kept, in the Risk section.
  await click("#tab-risk");
  await waitForText("#panel .escalation-reviews", "Police told of the threat");
});
