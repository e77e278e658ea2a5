/**
 * The HTML report of a stored run, opened in headless Chromium (Debian's chromium, installed by
 * scripts/ensure-chromium.sh when missing): it renders without console errors, asks the network for
 * nothing, shows its sections (the checks with open findings above the fold, every finding's ID selectable in one
 * click, the decisions since the previous run), and a screenshot is written to .artifacts/report.png.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { renderReport } from "../../src/domain/reports/index.ts";
import { decisionRecordId, type DecisionRecord } from "../../src/domain/decisions/decision.ts";
import { FINDING_ID_PATTERN } from "../../src/domain/audit/suppressions.ts";
import { loadAuditReport } from "../../src/workflows/audit-report.ts";
import { decisionRecord } from "../fakes/decision-records.ts";
import { HUB_ZONE_ID, INSTANCE_ID, startAuditStack } from "./audit-harness.ts";

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

/** Decisions made between the fifth and the sixth run: one of each kind the report lists. */
function decisionsOfTheLastDay(): DecisionRecord[] {
  const connection = (name: string) => `${INSTANCE_ID}/privateEndpointConnections/${name}`;
  const at = (hour: number) => new Date(Date.UTC(2025, 5, 5, hour));
  const base = (hour: number, name: string) => ({ id: decisionRecordId(at(hour), name), connectionId: connection(name), resourceId: INSTANCE_ID, startedAt: at(hour), outcome: "applied" as const });
  return [
    decisionRecord({ ...base(9, "pe-approved"), action: "approve", actor: "rule:allow-consumer", ruleId: "allow-consumer", ruleVersion: 2, reason: "consumer subscription is trusted", statusAfter: "Approved" }),
    decisionRecord({ ...base(10, "pe-rejected"), action: "reject", actor: "principal:0b0b0b0b-0000-4000-8000-00000000000d", actorName: "Dana Reviewer", ticket: "CHG0012345", reason: "not an approved partner", statusAfter: "Rejected" }),
    decisionRecord({ ...base(11, "pe-waiting"), action: "manual", actor: "default", reason: "no rule matched" }),
    decisionRecord({ ...base(12, "pe-revoked"), action: "revoke", actor: "principal:0c0c0c0c-0000-4000-8000-00000000000e", actorName: "Sam Owner", ticket: "CHG0012399", reason: "application decommissioned", statusBefore: "Approved", statusAfter: "Rejected" }),
  ];
}

/** Six daily runs over a changing estate, so the chart has a line and the report has every kind of row. */
async function renderedEstateReport(): Promise<string> {
  const stack = await startAuditStack("audit-clashing-endpoints", "report");
  try {
    await stack.recordApprovals();
    const days = ["01", "02", "03", "04", "05", "06"];
    for (const [i, day] of days.entries()) {
      stack.clock.set(`2025-06-${day}T06:00:00.000Z`);
      if (i === 2) await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4", "10.20.1.4"], { ttl: 10 });
      if (i === 4) await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4", "10.20.1.4", "10.30.1.9"], { ttl: 10 });
      if (i === 5) for (const record of decisionsOfTheLastDay()) await stack.decisionLog.append(record);
      await stack.audit({ requestedBy: i === 5 ? "security-team@contoso.example" : undefined, trigger: i === 5 ? "manual" : "timer" });
    }
    const report = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, "latest");
    assert.ok(report);
    assert.equal(report.history.length, 6);
    assert.equal(report.decisions.decisions.length, 4, "the window is the last day: the approvals of May are not in it");
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
      assert.equal(await page.locator("figure svg .run-label").count(), 6, "every run labelled by date and time");
      assert.match((await page.locator("figure svg .run-label").last().textContent()) ?? "", /^2025-06-0606:00 UTC$/);

      // Findings above the fold: the checks with open findings are on the first screen; the quiet ones are folded.
      const openChecks = await page.locator("#open-checks").boundingBox();
      assert.ok(openChecks && openChecks.y + openChecks.height < 900, `the open checks fit the first screen (${JSON.stringify(openChecks)})`);
      assert.equal(await page.locator("#quiet-checks").getAttribute("open"), null);
      assert.equal(await page.locator("#quiet-checks table").isVisible(), false);

      // Every finding's ID is shown, valid, and one click selects all of it (what `audit suppress` takes).
      const findingRows = await page.locator("tr.finding").count();
      const ids = await page.locator("tr.finding code.finding-id").allTextContents();
      assert.ok(findingRows >= 2 && ids.length === findingRows, `${ids.length} IDs for ${findingRows} findings`);
      for (const id of ids) assert.match(id, FINDING_ID_PATTERN, "the text copied is the bare ID (<wbr> adds no characters)");
      await page.locator("tr.finding code.finding-id").first().click();
      assert.equal(await page.evaluate("document.getSelection().toString()"), ids[0], "one click selects the whole ID");

      // The decisions since the previous run, with who decided and the ticket.
      assert.equal(await page.locator("#decisions").isVisible(), true);
      const decisions = page.locator("tr.decision");
      assert.equal(await decisions.count(), 4);
      const rows = (await decisions.allInnerTexts()).map((t) => t.replace(/\s+/g, " "));
      assert.match(rows[0]!, /2025-06-05 09:00 UTC approved pe-approved .*rule allow-consumer v2 none consumer subscription is trusted applied/);
      assert.match(rows[1]!, /rejected pe-rejected .*Dana Reviewer \(principal:0b0b0b0b-0000-4000-8000-00000000000d\) CHG0012345/);
      assert.match(rows[2]!, /left for a human pe-waiting .*default action/);
      assert.match(rows[3]!, /revoked pe-revoked .*Sam Owner .* CHG0012399/);

      // Long names wrap instead of widening the page: at laptop width every table fits as it is; on a phone the
      // page still does not scroll sideways (a wide table scrolls inside its own box).
      const widest = "Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, ...[...document.querySelectorAll('.table-scroll')].map((d) => d.scrollWidth - d.clientWidth))";
      await page.setViewportSize({ width: 1024, height: 900 });
      assert.ok((await page.evaluate<number>(widest)) <= 0, "no table is wider than the page at 1024 px");
      await page.setViewportSize({ width: 520, height: 900 });
      assert.ok((await page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth")) <= 0, "no sideways scrolling of the page at 520 px");
      await page.setViewportSize({ width: 1280, height: 900 });

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
