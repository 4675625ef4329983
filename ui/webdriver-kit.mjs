// What the WebDriver scripts share: Debian's Chromium through chromium-driver
// (the workspace's end-to-end test and benchmark), and axe-core run in the
// page itself (every end-to-end test).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { remote } from "webdriverio";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core in the page: no serious or critical violations on `screen`. */
export async function audit(browser, screen) {
  await browser.execute(axeSource);
  const violations = await browser.executeAsync((done) => {
    // eslint-disable-next-line no-undef
    axe
      .run(document, { resultTypes: ["violations"] })
      .then((r) =>
        done(
          r.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id}: ${v.nodes.length}`),
        ),
      );
  });
  assert.deepEqual(violations, [], `axe found serious or critical problems on ${screen}`);
}

/**
 * Headless Chromium through a chromium-driver of our own on `port`. The
 * clinic's certificate is its own, self-signed, for 127.0.0.1.
 * Returns the browser and a function that ends both.
 */
export async function chromium(port) {
  const driver = spawn("chromedriver", [`--port=${port}`], { stdio: "ignore" });
  // chromedriver takes a moment to listen; webdriverio retries the connection.
  const browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    connectionRetryCount: 10,
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: ["--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--window-size=1280,900"],
      },
    },
  });
  const close = async () => {
    await browser.deleteSession().catch(() => {});
    driver.kill();
  };
  return { browser, close };
}
