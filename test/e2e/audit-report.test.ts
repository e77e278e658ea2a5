/**
 * The HTML report of a stored run, opened in headless Chromium (Debian's chromium, installed by
 * scripts/ensure-chromium.sh when missing): it renders without console errors, asks the network for
 * nothing, shows its sections, and a screenshot is written to .artifacts/report.png.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { renderReport } from "../../src/domain/reports/index.ts";
import { loadAuditReport } from "../../src/workflows/audit-report.ts";
import { HUB_ZONE_ID, startAuditStack } from "./audit-harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let chromiumMissing: string | undefined;

before(() => {
  const result = spawnSync("bash", [`${ROOT}scripts/ensure-chromium.sh`], { encoding: "utf8", timeout: 300_000 });
  if (result.status !== 0) chromiumMissing = `Chromium cannot be installed here: ${(result.stderr || result.error?.message || "unknown reason").trim()}`;
});

/** Six daily runs over a changing estate, so the chart has a line and the report has every kind of row. */
async function renderedEstateReport(): Promise<string> {
  const stack = await startAuditStack("audit-clashing-endpoints", "report");
  try {
    await stack.recordApprovals();
    const days = ["01", "02", "03", "04", "05", "06"];
    for (const [i, day] of days.entries()) {
      stack.clock.set(`2025-06-${day}T06:00:00.000Z`);
      if (i === 2) await stack.arm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4", "10.20.1.4"], { ttl: 10 });
      if (i === 4) await stack.arm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4", "10.20.1.4", "10.30.1.9"], { ttl: 10 });
      await stack.audit({ requestedBy: i === 5 ? "security-team@contoso.example" : undefined, trigger: i === 5 ? "manual" : "timer" });
    }
    const report = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, "latest");
    assert.ok(report);
    assert.equal(report.history.length, 6);
    return renderReport(report, "html").body;
  } finally {
    await stack.close();
  }
}

describe("HTML compliance report in headless Chromium", () => {
  test("renders with no console errors and no network requests, and is screenshotted", async (t) => {
    if (chromiumMissing) {
      t.skip(chromiumMissing);
      return;
    }
    const html = await renderedEstateReport();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const consoleErrors: string[] = [];
      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") consoleErrors.push(`${message.type()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
      page.on("request", (request) => requests.push(request.url()));
      await page.setContent(html, { waitUntil: "load" });

      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(requests.filter((url) => !url.startsWith("about:") && !url.startsWith("data:")), []);
      assert.equal(await page.title(), `Portcullis compliance report ${html.match(/Run <code>([^<]+)<\/code>/)![1]}`);
      assert.equal(await page.locator("figure svg").count(), 2);
      assert.equal(await page.locator("figure svg circle").count(), 6, "one point per run in the chart");
      assert.equal(await page.locator("section.instance").count(), 1);
      assert.ok((await page.locator("section.instance tbody tr").count()) >= 1);
      const chart = await page.locator("figure svg").first().boundingBox();
      assert.ok(chart && chart.width > 200 && chart.height > 50, "the chart is laid out at a readable size");

      await page.emulateMedia({ media: "print" });
      const pdf = await page.pdf({ format: "A4" });
      assert.ok(pdf.length > 1000, "the page prints");
      await page.emulateMedia({ media: "screen" });

      mkdirSync(`${ROOT}.artifacts`, { recursive: true });
      await page.screenshot({ path: `${ROOT}.artifacts/report.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
