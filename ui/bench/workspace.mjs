// The clinic workspace's caseload page in Debian's Chromium, against the
// clinic the clinic benchmark left (5,000 cases across 80 advocates): first
// contentful paint, and when the whole table was painted, for the caseload
// page of a signed-in coordinator (opened from the nav: the coordinator's
// first screen is the referrals), against the sign-in page in the same
// browser. Run by `cargo xtask bench-clinic`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chromium } from "../webdriver-kit.mjs";

const URL = process.env.WAYMARK_WORKSPACE_URL;
const bench = JSON.parse(readFileSync(process.env.WAYMARK_BENCH_CLINIC, "utf8"));
const { browser, close } = await chromium(9516);

const paint = () => browser.execute(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);

async function median(measure, runs = 5) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await measure());
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

try {
  // The sign-in page: the smallest page the workspace has.
  const signInPaint = await median(async () => {
    await browser.url(`${URL}/w/`);
    await browser.$("#sign-in-staff").waitForDisplayed({ timeout: 30_000 });
    return paint();
  });
  await browser.$("#sign-in-staff").setValue(bench.staff_code);
  await browser.$("#sign-in-password").setValue(bench.password);
  const code = execFileSync("oathtool", ["--totp", "-b", bench.secret]).toString().trim();
  await browser.$("#sign-in-code").setValue(code);
  await browser.$("button[type=submit]").click();
  await browser.$("button=Sign out").waitForDisplayed({ timeout: 60_000 });
  // Reloading with the session, then the caseload: the coordinator opens on the referrals.
  const measured = [];
  for (let i = 0; i < 5; i++) {
    await browser.url(`${URL}/w/`);
    await browser.$("button=Caseload").waitForClickable({ timeout: 60_000 });
    const chosen = await browser.execute(() => performance.now());
    await browser.$("button=Caseload").click();
    await browser.waitUntil(
      () => browser.execute(() => performance.getEntriesByName("waymark:workspace-caseload-shown").length > 0),
      { timeout: 120_000, interval: 50, timeoutMsg: "the caseload is shown" },
    );
    const rows = await browser.execute(() => document.querySelectorAll("table tbody tr").length);
    const painted = await browser.execute(
      () => performance.getEntriesByName("waymark:workspace-caseload-shown")[0].startTime,
    );
    measured.push({ fcp: await paint(), shown: painted - chosen, rows });
  }
  const mid = (key) => measured.map((m) => m[key]).sort((a, b) => a - b)[2];
  console.log(
    `caseload page in Chromium (${measured[0].rows} rows): first contentful paint ${mid("fcp").toFixed(0)} ms, ` +
      `whole table painted ${mid("shown").toFixed(0)} ms after choosing Caseload; the sign-in page paints at ` +
      `${signInPaint.toFixed(0)} ms (${(mid("shown") / signInPaint).toFixed(1)}x)`,
  );
} finally {
  await close();
}
