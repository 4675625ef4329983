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

/** What the server answers this browser's session for a path, as JSON; anything but 200 fails the test. */
async function serverJson(path) {
  const answer = await browser.executeAsync((p, done) => {
    fetch(p).then(
      (r) =>
        r.json().then(
          (body) => done({ status: r.status, body }),
          () => done({ status: r.status, body: null }),
        ),
      () => done({ status: 0, body: null }),
    );
  }, path);
  assert.equal(answer.status, 200, `the server answers ${path}`);
  return answer.body;
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

/** A calendar day ("2026-11-22") as the workspace's date fields take it typed in ("22/11/2026"). */
const ukDate = (day) => day.split("-").reverse().join("/");

/** A calendar day as the page shows it ("22 Nov 2026"), made in the browser so the month's abbreviation is its own. */
const shownDate = (day) =>
  browser.execute(
    (d) =>
      new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" }).format(
        new Date(`${d}T00:00:00Z`),
      ),
    day,
  );

/** The text of the page's status line, once it says what `pattern` matches. */
async function statusSays(pattern, what) {
  const status = await browser.$("main [role=status]");
  await browser.waitUntil(async () => pattern.test(await status.getText()), { timeout: 15_000, timeoutMsg: what });
}

/** The meeting of `day` with `reference` on its agenda, as the coordinator's list of meetings has it. */
async function meetingOf(day, reference) {
  const found = (await serverJson("/w/api/meetings")).filter(
    (m) => m.meets_on === day && m.agenda.some((a) => a.reference === reference),
  );
  assert.equal(found.length, 1, `one meeting of ${day} with ${reference}`);
  return found[0];
}

test("a whole panel cycle: selection, two agencies' research, the meeting's SRP and actions, the laptop's review and task, and an overdue action chased at the next meeting", async () => {
  // Why: the panel's work is one cycle across four people and a laptop; each
  // step only means something if the one before really happened on the
  // server, so the cycle is driven through the pages in order, and what
  // reaches the advocate's laptop is read from the real CLI.
  assert.ok(referenceMade, "the screening test made a case");
  // Meeting A met two weeks ago with its research due the day before, so
  // every return now is late; its police action fell due a week ago (after
  // the meeting, as a record requires) and is overdue today; meeting B is
  // next week, and the charity's action is due on its day.
  const dayA = londonDay(14);
  const researchDue = londonDay(15);
  const policeDue = londonDay(7);
  const dayB = londonDay(-7);
  const charityDue = londonDay(-7);
  const policeAction = "Apply for a Stalking Protection Order (DEMO)";
  const charityAction = "Review the safety plan with her (DEMO)";
  const nav = () => browser.$('nav[aria-label="Main"]');

  // 1. The coordinator's selection offers the case, for the criterion its referrer ticked.
  await signIn("CRD1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  await nav().$("button=Selection").click();
  await browser.$("h1=Selection for the panel").waitForDisplayed({ timeout: 15_000 });
  const selectedRow = await browser.$(`//main//table/tbody/tr[th/button[normalize-space()="${referenceMade}"]]`);
  await selectedRow.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${referenceMade} is on the selection` });
  assert.match(
    await selectedRow.getText(),
    /The referrer's professional judgement\s*\(ticked on the referral\)/,
    "the criterion, and that the referral is where it was found",
  );
  await audit("selection");
  await shot("workspace-selection");

  // 2. Meeting A, in the past: both panel members invited, the case added from the selection.
  await nav().$("button=Panel").click();
  await browser.$("h1=Panel").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=New meeting").click();
  await browser.$("#ws-meeting-date").waitForDisplayed({ timeout: 15_000 });
  await browser.$("#ws-meeting-date").setValue(ukDate(dayA));
  await browser.$("#ws-meeting-research").setValue(ukDate(researchDue));
  await browser.$("#ws-meeting-chair").selectByAttribute("value", "CRD1");
  for (const member of ["PNL1", "PNL2"]) {
    const label = await browser.$(`label*=${member}`);
    await label.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${member} is offered to invite` });
    await label.click();
    assert.ok(await label.$("input").isSelected(), `${member} is invited`);
  }
  // Only the cases the selection offers, then this one by its reference.
  await browser.$("#ws-agenda-selected").waitForEnabled({ timeout: 15_000, timeoutMsg: "the selection loads" });
  await browser.$("#ws-agenda-selected").click();
  await browser.$("#ws-agenda-search").setValue(referenceMade);
  const offer = await browser.$(`button=Add ${referenceMade}`);
  await offer.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${referenceMade} is offered as selected for panel` });
  assert.match(await offer.parentElement().getText(), /selected: The referrer's professional judgement/);
  await offer.click();
  await browser.$("button=Save the meeting").click();
  await browser.$("button=Publish the agenda").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=Publish the agenda").click();
  await browser.$("button=Publish").click();
  await statusSays(/The agenda is published/, "meeting A's agenda is published");
  const meetingA = await meetingOf(dayA, referenceMade);
  const madeId = meetingA.agenda.find((a) => a.reference === referenceMade).case_id;
  assert.deepEqual([...meetingA.invited].sort(), ["PNL1", "PNL2"]);
  assert.equal(meetingA.research_due_on, researchDue);
  await signOut();

  // 3. Each member returns their own agency's research: late, past the date it was due.
  const research = { PNL1: "Police: two call-outs (DEMO)", PNL2: "Charity: weekly support calls (DEMO)" };
  for (const member of ["PNL1", "PNL2"]) {
    await signIn(member);
    await browser.$("h1=My agenda").waitForDisplayed({ timeout: 15_000 });
    // PNL1 also has the earlier test's meeting with this case: meeting A's section only.
    const sectionOfA = `section[aria-labelledby="ws-agenda-${meetingA.id}"]`;
    const section = await browser.$(sectionOfA);
    const form = await browser.$(`${sectionOfA} form[aria-label="Research on ${referenceMade}"]`);
    await form.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${member}'s research form on meeting A` });
    await form.$("textarea").setValue(research[member]);
    await form.$("button=Return the research").click();
    await statusSays(new RegExp(`Your research on ${referenceMade} is sent`), `${member}'s research is sent`);
    await browser.waitUntil(async () => new RegExp(`by ${member}\\s+Late`).test(await section.getText()), {
      timeout: 15_000,
      timeoutMsg: `${member}'s return is marked late`,
    });
    if (member === "PNL2") {
      // The police's words stay the police's: not in the page, nor in what the server sent it.
      const seen = await browser.execute(() =>
        [
          document.querySelector("main")?.innerText ?? "",
          ...[...document.querySelectorAll("main textarea")].map((t) => t.value),
        ].join("\n"),
      );
      assert.doesNotMatch(seen, /two call-outs/);
      const theirs = await serverJson(`/w/api/meetings/${meetingA.id}`);
      assert.doesNotMatch(JSON.stringify(theirs), /two call-outs/);
      assert.deepEqual(
        theirs.cases.flatMap((c) => c.research.map((r) => r.agency)),
        ["victims_charity"],
      );
      await audit("panel member's research");
    }
    await signOut();
  }

  // 4. The coordinator at meeting A: both returns in, who came, and the case recorded.
  await signIn("CRD1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  await nav().$("button=Panel").click();
  await browser.$("h1=Panel").waitForDisplayed({ timeout: 15_000 });
  const shownA = await shownDate(dayA);
  const openA = await browser.$(`//main//table//button[normalize-space()="${shownA}"]`);
  await openA.waitForDisplayed({ timeout: 15_000, timeoutMsg: "meeting A is listed" });
  await openA.click();
  await browser.$(`h1=Panel of ${shownA}`).waitForDisplayed({ timeout: 15_000 });
  const present = await browser.$('input[name="ws-attendance-PNL1"][value="present"]');
  await present.waitForDisplayed({ timeout: 15_000, timeoutMsg: "the attendance form of a published meeting" });
  const caseSection = await browser.$(`section[aria-labelledby="ws-mcase-${madeId}"]`);
  const returned = await caseSection.getText();
  assert.match(returned, /Police, returned .+ by PNL1\s+Late/);
  assert.match(returned, /Victims' charity, returned .+ by PNL2\s+Late/);
  assert.ok(returned.includes(research.PNL1) && returned.includes(research.PNL2), "both agencies' research");
  assert.doesNotMatch(returned, /Awaited from/);
  await present.click();
  await browser.$('input[name="ws-attendance-PNL2"][value="apologies"]').click();
  await browser.$("button=Save attendance").click();
  await statusSays(/Attendance is saved: 1 present, 1 sending apologies/, "the attendance is saved");

  const record = `ws-record-${madeId}`;
  await browser.$(`#${record}`).waitForDisplayed({ timeout: 15_000 });
  /** The id prefixes of the form's information or action rows. */
  const rowsOf = (kind) =>
    browser.execute(
      (form, k) =>
        [...document.querySelectorAll(`#${form} select[id*="-${k}-"][id$="-agency"]`)].map((s) =>
          s.id.replace(/-agency$/, ""),
        ),
      record,
      kind,
    );
  /** Adds a row with the form's button, and gives the new row's id prefix. */
  const addRow = async (kind, button) => {
    const before = await rowsOf(kind);
    await browser.$(`#${record}-${button}`).click();
    let made;
    await browser.waitUntil(
      async () => {
        made = (await rowsOf(kind)).find((id) => !before.includes(id));
        return made !== undefined;
      },
      { timeout: 15_000, timeoutMsg: `a new ${kind} row` },
    );
    return made;
  };
  for (const [agency, text] of [
    ["police", "Two call-outs this year (DEMO)"],
    ["victims_charity", "Weekly support calls; she is frightened (DEMO)"],
  ]) {
    const row = await addRow("info", "add-info");
    await browser.$(`#${row}-agency`).selectByAttribute("value", agency);
    await browser.$(`#${row}-text`).setValue(text);
  }
  await browser.$(`#${record}-typology`).selectByAttribute("value", "rejected");
  const srp = {
    violence: ["high", "A first threat to kill (DEMO)"],
    persistence: ["high", "Months of contact after the end (DEMO)"],
    recurrence: ["moderate", "Stopped once when warned (DEMO)"],
    psychosocial_damage: ["moderate", "She has changed her routes (DEMO)"],
  };
  for (const [domain, [rating, rationale]] of Object.entries(srp)) {
    await browser.$(`#${record}-srp-${domain}-rating`).selectByAttribute("value", rating);
    await browser.$(`#${record}-srp-${domain}-rationale`).setValue(rationale);
  }
  await browser.$(`#${record} input[type=checkbox][value="spo_application"]`).click();
  const police = await addRow("action", "add-action");
  await browser.$(`#${police}-agency`).selectByAttribute("value", "police");
  await browser.$(`#${police}-named_owner`).setValue("DS Demo (DEMO)");
  await browser.$(`#${police}-action`).setValue(policeAction);
  await browser.$(`#${police}-due_on`).setValue(ukDate(policeDue));
  const charity = await addRow("action", "add-action");
  await browser.$(`#${charity}-agency`).selectByAttribute("value", "victims_charity");
  await browser.$(`#${charity}-action`).setValue(charityAction);
  await browser.$(`#${charity}-due_on`).setValue(ukDate(charityDue));
  await browser.$(`#${record}`).$("button=Save the record").click();
  await statusSays(new RegExp(`What the panel recorded of ${referenceMade} is saved`), "the case's record is saved");
  const recorded = (await serverJson(`/w/api/meetings/${meetingA.id}`)).cases.find((c) => c.case_id === madeId);
  assert.equal(recorded.record.typology, "rejected");
  assert.deepEqual(recorded.record.decisions, ["spo_application"]);
  const agreed = Object.fromEntries(recorded.actions.map((a) => [a.agency, a]));
  assert.equal(recorded.actions.length, 2);
  assert.equal(agreed.police.overdue, true, "due a week ago and open: overdue today");
  assert.equal(agreed.victims_charity.overdue, false);
  await audit("meeting record");
  await shot("workspace-meeting-record");

  // 5. The advocate's laptop holds the review, and the charity's action as its own task.
  laptop(["sync", "now"]);
  const file = JSON.parse(laptop(["--json", "case", "show", referenceMade]));
  const reviews = file.clinic_reviews.filter((r) => r.meeting_on === dayA);
  assert.equal(reviews.length, 1, `one review of the meeting of ${dayA}`);
  const [review] = reviews;
  assert.deepEqual(review.agencies_present, ["police"], "the agencies present: the charity sent apologies");
  assert.equal(review.typology, "rejected");
  assert.deepEqual(Object.keys(review.srp).sort(), Object.keys(srp).sort());
  for (const [domain, [rating, rationale]] of Object.entries(srp))
    assert.deepEqual(review.srp[domain], { rating, rationale }, `the SRP's ${domain}`);
  assert.deepEqual(review.decisions, ["spo_application"]);
  assert.equal(review.actions.length, 2);
  const onLaptop = Object.fromEntries(review.actions.map((a) => [a.owner, a]));
  assert.deepEqual(onLaptop.police, {
    action: policeAction,
    owner: "police",
    named_owner: "DS Demo (DEMO)",
    due_on: policeDue,
    status: "open",
  });
  assert.equal(onLaptop.victims_charity.action, charityAction);
  assert.equal(onLaptop.victims_charity.due_on, charityDue);
  const tasks = file.tasks.filter((t) => t.what.includes("Review the safety plan with her"));
  assert.equal(tasks.length, 1, "the charity's action is one task");
  assert.equal(tasks[0].linked?.kind, "clinic_review");
  assert.equal(tasks[0].linked?.id, review.id, "linked to the review it came from");
  assert.equal(tasks[0].due_on, charityDue);
  assert.equal(tasks[0].status, "open");
  assert.ok(
    !file.tasks.some((t) => t.what.includes(policeAction)),
    "the police's action is theirs, not the advocate's",
  );

  // 6. Meeting B, next week: the police action is chased there, and closed late with a reason.
  await nav().$("button=Panel").click();
  await browser.$("h1=Panel").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=New meeting").click();
  await browser.$("#ws-meeting-date").waitForDisplayed({ timeout: 15_000 });
  await browser.$("#ws-meeting-date").setValue(ukDate(dayB));
  const pnl1 = await browser.$("label*=PNL1");
  await pnl1.waitForDisplayed({ timeout: 15_000 });
  await pnl1.click();
  await browser.$("#ws-agenda-search").setValue(referenceMade);
  await browser.$(`button=Add ${referenceMade}`).waitForDisplayed({ timeout: 15_000 });
  await browser.$(`button=Add ${referenceMade}`).click();
  await browser.$("button=Save the meeting").click();
  await browser.$("button=Publish the agenda").waitForDisplayed({ timeout: 15_000 });
  await browser.$("button=Publish the agenda").click();
  await browser.$("button=Publish").click();
  await statusSays(/The agenda is published/, "meeting B's agenda is published");
  const meetingB = await meetingOf(dayB, referenceMade);
  assert.deepEqual(meetingB.invited, ["PNL1"]);
  const earlier = (await serverJson(`/w/api/meetings/${meetingB.id}`)).cases.find(
    (c) => c.case_id === madeId,
  ).earlier_open;
  const chased = earlier.find((a) => a.action === policeAction);
  assert.ok(chased, "meeting A's police action is open before meeting B");
  assert.equal(chased.overdue, true);
  assert.ok(
    earlier.some((a) => a.action === charityAction),
    "the charity's action, not yet due, is open too",
  );
  await browser.$("h4=Open actions from earlier meetings").waitForDisplayed({ timeout: 15_000 });
  const item = await browser.$(`article[aria-labelledby="ws-action-${chased.id}-title"]`);
  await item.waitForDisplayed({ timeout: 15_000 });
  assert.match(await item.getText(), /Overdue/);
  await browser.$(`#ws-action-${chased.id}-status`).selectByAttribute("value", "done");
  // Closed after its due date: the page asks why before it sends anything.
  await item.$("button=Save").click();
  const why = await item.$("[role=alert]");
  await why.waitForDisplayed({ timeout: 15_000 });
  assert.match(await why.getText(), /Say why it closed after its due date/);
  await browser.$(`#ws-action-${chased.id}-overdue`).selectByVisibleText("Circumstances changed");
  await item.$("button=Save").click();
  await item.waitForExist({
    reverse: true,
    timeout: 15_000,
    timeoutMsg: "the closed action leaves the open actions from earlier meetings",
  });
  await statusSays(/is saved: done/, "the action is saved as done");
  const closed = (await serverJson("/w/api/actions")).actions.find((a) => a.id === chased.id);
  assert.equal(closed.status, "done");
  assert.equal(closed.overdue_closure, "circumstances_changed");
  assert.equal(closed.overdue, false);
  await audit("next meeting");
  await signOut();

  // 7. The server, not the page: the police member reads their agency's actions, and a
  // member not invited to meeting B is refused it as one that does not exist.
  await signIn("PNL1");
  assert.equal(await serverAnswer("/w/api/actions"), 200);
  const policeActions = (await serverJson("/w/api/actions")).actions;
  assert.ok(
    policeActions.some((a) => a.id === chased.id),
    "the police member sees the action they owned",
  );
  assert.ok(
    policeActions.every((a) => a.agency === "police"),
    "and no other agency's",
  );
  await signOut();
  await signIn("PNL2");
  assert.equal(await serverAnswer(`/w/api/meetings/${meetingB.id}`), 404, "a meeting they are not invited to");
  await signOut();
});

test("the manager makes the service's quarterly return and downloads it; a panel member may not", async () => {
  await signIn("MGR1");
  await browser.$("button=Reports").click();
  const table = await browser.$("table");
  await table.waitForDisplayed({ timeout: 30_000 });
  const page = await browser.$("main").getText();
  assert.match(page, /Quarterly return/);
  assert.match(page, /Referrals received, by source/);
  assert.match(page, /Outcomes at closure/);
  const quarter = await browser.$("#ws-return-quarter").getValue();
  assert.match(quarter, /^\d{4}-\d{2}-Q[1-4]$/, "the last full quarter is chosen");
  await audit("reports");
  await shot("workspace-reports");
  // The downloads are the server's own files for the quarter shown.
  const href = await browser.$("a=Download CSV").getAttribute("href");
  assert.match(href, new RegExp(`quarter=${quarter}&format=csv`));
  const csv = await browser.executeAsync((p, done) => {
    fetch(p).then(
      (r) => r.text().then((body) => done({ status: r.status, type: r.headers.get("content-type"), body })),
      () => done({ status: 0 }),
    );
  }, href);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  assert.ok(csv.body.startsWith("quarter,section,figure_key"), "a CSV with its header row");
  assert.doesNotMatch(csv.body, /\(DEMO\)/, "no demo person's name in the return");
  await signOut();
  await signIn("PNL1");
  assert.equal(await serverAnswer("/w/api/reports/quarterly"), 403, "a panel member makes no return");
  await signOut();
});

test("the manager erases a closed case that is due; the laptop erases it at its next sync", async () => {
  // Why: erasure is only real when the clinic's decision reaches the laptop
  // through the real sync, and the page only offers what the server decides.
  const reference = "ERASE-DEMO-1";
  laptop([
    "case",
    "add",
    `reference=${reference}`,
    "referral.source=police",
    "referral.reason=Fictional (DEMO)",
    "referral.received_on=2020-01-06",
    "opened_on=2020-01-06",
  ]);
  laptop(["victim", "add", reference, "name=Erasable Person (DEMO)"]);
  // No service taken up: kept six weeks after closing, so long due.
  laptop(["case", "close", reference, "--reason", "victim-declined", "--on", "2020-02-03"]);
  laptop(["sync", "now"]);
  const row = () => browser.$(`//tr[th[normalize-space()="${reference}"]]`);

  await signIn("MGR1");
  await browser.$("button=Retention").click();
  await browser.waitUntil(async () => (await row()).isExisting(), {
    timeout: 30_000,
    timeoutMsg: "the closed case is on the review list",
  });
  assert.match(await (await row()).getText(), /Due for deletion/);
  await audit("retention");
  await shot("workspace-retention");
  await (await row()).$("button").click();
  const confirm = await browser.$("#ws-erase-reference");
  await confirm.waitForDisplayed({ timeout: 15_000 });
  const erase = await browser.$("button=Erase case");
  assert.equal(await erase.isEnabled(), false, "not until the reference is typed");
  await confirm.setValue(reference);
  await audit("erase dialog");
  await erase.click();
  await statusSays(new RegExp(`Case ${reference} is erased`), "the page says the case is erased");
  assert.equal(await (await row()).isExisting(), false, "no longer on the list of closed cases");
  const review = await serverJson("/w/api/retention");
  assert.equal(review.erased.length, 1, "the server lists the erasure");
  assert.equal(review.erased[0].erased_by, "MGR1");
  await signOut();

  // The laptop erases it when it next syncs: the case and its victim are gone.
  assert.match(laptop(["case", "show", reference]), /Erasable Person/, "still here before the sync");
  laptop(["sync", "now"]);
  assert.throws(() => laptop(["case", "show", reference]), "the case is gone from the laptop");
  const kept = JSON.parse(laptop(["--json", "retention"]));
  assert.ok(!kept.some((r) => r.reference === reference), "nor on the laptop's retention list");

  await signIn("CRD1");
  assert.equal(await serverAnswer("/w/api/retention"), 403, "only the manager reviews and erases");
  await signOut();
});

test("the coordinator records a victim's subject access request, releases one withheld item, checks the requester's identity, and the JSON answer holds the item and not what stays withheld", async () => {
  // Why: what reaches the requester is the server's answer file, so the
  // release made on the page is checked in that file itself, and an item
  // still withheld must not be in it in any form. No answer is made before
  // the requester's identity is checked (a perpetrator may pose as the
  // victim), so the check is recorded on the page first.
  await signIn("CRD1");
  await browser.$("h1=Referrals").waitForDisplayed({ timeout: 15_000 });
  const demo = (await serverJson("/w/api/caseload")).rows.find((r) => r.reference.startsWith("DEMO-"));
  assert.ok(demo, "a demo case synced from the laptop");
  await browser.$('nav[aria-label="Main"]').$("button=Subject access").click();
  await browser.$("h1=Subject access").waitForDisplayed({ timeout: 15_000 });
  await browser.$("main table").waitForDisplayed({ timeout: 15_000 });
  await audit("subject access");

  // The request: the case by its reference, the victim's, received today.
  await browser.$("button=Record a request").click();
  await browser
    .$(`#ws-access-case option[value="${demo.case_id}"]`)
    .waitForExist({ timeout: 15_000, timeoutMsg: `${demo.reference} is offered from the caseload` });
  await browser.$("#ws-access-case").selectByAttribute("value", demo.case_id);
  await browser.$("#ws-access-subject-victim").click();
  assert.equal(
    await browser.$("#ws-access-perpetrator").isExisting(),
    false,
    "a victim's request names no perpetrator",
  );
  await browser.$("#ws-access-received").setValue(ukDate(londonDay(0)));
  await audit("subject access request form");
  await browser.$("button=Record the request").click();
  await statusSays(
    new RegExp(`The request from the victim on ${demo.reference} is recorded`),
    "the page says the request is recorded",
  );
  const made = (await serverJson("/w/api/access-requests")).requests.filter(
    (r) => r.request.case_id === demo.case_id && r.request.subject === "victim",
  );
  assert.equal(made.length, 1, "one victim's request on the demo case");
  const request = made[0].request;
  assert.equal(request.perpetrator_id, null);
  assert.equal(request.received_on, londonDay(0));
  assert.equal(request.made_by, "CRD1");
  assert.equal(request.identity_checked, null, "a new request's requester is not checked yet");

  // Its review, opened from the list.
  const row = await browser.$(`//main//table/tbody/tr[th[normalize-space()="${demo.reference}"]]`);
  await row.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${demo.reference} is on the list of requests` });
  await row.$("button").click();
  await browser.waitUntil(
    async () => (await browser.$("main h1").getText()).includes(`from the victim on ${demo.reference}`),
    { timeout: 15_000, timeoutMsg: "the request's review opens" },
  );
  const before = await serverJson(`/w/api/access-requests/${request.id}`);
  const answerTexts = before.items.filter((i) => i.withheld === null).map((i) => i.text);
  const release = before.items.find((i) => i.withheld !== null && i.releasable);
  assert.ok(release, "the demo case holds something withheld from the victim that may be released");
  const kept = before.items.find(
    (i) =>
      i !== release &&
      i.withheld !== null &&
      i.text.trim().length >= 6 &&
      !release.text.includes(i.text) &&
      !answerTexts.some((t) => t.includes(i.text)),
  );
  assert.ok(kept, "and something else withheld, whose words are nowhere else in the answer");
  await browser.$(".ws-access-items").waitForDisplayed({ timeout: 15_000 });
  await audit("subject access review");
  await shot("workspace-subject-access");

  // The page lists the items in the server's order: the one to release is its own list item.
  const shown = await browser.$$("main .ws-access-items > li");
  assert.equal(shown.length, before.items.length, "every item is on the page");
  const item = shown[before.items.indexOf(release)];
  const flat = (text) => text.replace(/\s+/g, " ").trim();
  assert.ok(flat(await item.getText()).includes(flat(release.text)), "the item's words are shown");
  await item.$("button").click();
  const confirm = await browser.$("button=Release it");
  await confirm.waitForDisplayed({ timeout: 15_000 });
  await audit("subject access release question");
  await confirm.click();
  await statusSays(/is released: it is in the answer now/, "the page says the item is released");
  assert.match(await item.getText(), /Released: in the answer\./);
  const after = await serverJson(`/w/api/access-requests/${request.id}`);
  assert.deepEqual(after.released, [release.key], "the server keeps the release, and only it");

  // No answer before the requester's identity is checked: the page offers no download, and the server makes none.
  assert.equal(await browser.$("a=Download the answer as JSON").isExisting(), false, "no download offered yet");
  const unchecked = await browser.executeAsync((p, done) => {
    fetch(p).then(
      (r) =>
        r.json().then(
          (body) => done({ status: r.status, body }),
          () => done({ status: r.status, body: null }),
        ),
      () => done({ status: 0, body: null }),
    );
  }, `/w/api/access-requests/${request.id}/answer?format=json`);
  assert.equal(unchecked.status, 400, "the server makes no answer before the identity check");
  assert.ok(
    (unchecked.body?.fields ?? []).some((f) => f.field === "identity_checked"),
    "and names the identity check",
  );
  await browser.$("#ws-access-identity-on").setValue(ukDate(londonDay(0)));
  await audit("subject access identity check");
  await browser.$("button=Record the identity check").click();
  await statusSays(/The identity check on .* is recorded/, "the page says the identity check is recorded");
  await browser.waitUntil(
    async () => (await browser.$("main").getText()).includes(`Identity checked on ${ukDate(londonDay(0))} by CRD1`),
    { timeout: 15_000, timeoutMsg: "the page shows who checked the identity and when" },
  );
  const checked = await serverJson(`/w/api/access-requests/${request.id}`);
  assert.deepEqual(checked.request.identity_checked, { on: londonDay(0), by: "CRD1" }, "the server keeps the check");

  // The answer: downloaded by the page, and the same file fetched through this session to read it.
  const download = await browser.$("a=Download the answer as JSON");
  await download.click();
  await statusSays(
    /The answer is downloaded as subject-access-[0-9a-f]{8}-\d{4}-\d{2}-\d{2}\.json/,
    "the JSON answer downloads",
  );
  assert.equal(await browser.$("main [role=alert]").isExisting(), false, "no refusal");
  const href = await download.getAttribute("href");
  assert.equal(href, `/w/api/access-requests/${request.id}/answer?format=json`);
  const file = await browser.executeAsync((p, done) => {
    fetch(p).then(
      (r) => r.text().then((body) => done({ status: r.status, type: r.headers.get("content-type"), body })),
      () => done({ status: 0 }),
    );
  }, href);
  assert.equal(file.status, 200);
  assert.match(file.type, /^application\/json/);
  const answer = JSON.parse(file.body);
  assert.equal(answer.format, "waymark-subject-access");
  assert.equal(answer.subject, "victim");
  const texts = answer.records.flatMap((section) => section.items.map((i) => i.text));
  assert.ok(texts.includes(release.text), "the released item's words are in the answer");
  assert.ok(!texts.some((t) => t.includes(kept.text)), "a still-withheld item's words are not");
  assert.ok(!file.body.includes(JSON.stringify(kept.text).slice(1, -1)), "nowhere in the file at all");
  assert.ok(
    answer.withheld.some((w) => w.reason === kept.withheld && w.count >= 1),
    "what stays withheld is counted, by why",
  );
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
