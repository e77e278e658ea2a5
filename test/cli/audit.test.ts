/**
 * `portcullis audit run` and `report show` as child processes against the local stack: the stored run and its
 * report in every format, `--fail-on` as exit code 1, and progress (instances, ARM calls, throttling waits) on a
 * terminal versus one quiet summary line when piped.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseJson, runInTerminal, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

interface JsonReport {
  reportVersion: number;
  summary: { runId: string; trigger: string; requestedBy: string; instances: number; score: number; openBySeverity: Record<string, number> };
  findings: { checkId: string; severity: string; status: string }[];
}

describe("audit run and report show", () => {
  let stack: CliStack;
  let first: JsonReport;
  before(async () => {
    stack = await startCliStack();
  });
  after(() => stack.close());

  test("audit run --json stores a manual run by the local operator and prints its full report", async () => {
    const result = await runLocal(stack, ["audit", "run", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    first = parseJson<JsonReport>(result);
    assert.equal(first.reportVersion, 1);
    assert.equal(first.summary.trigger, "manual");
    assert.equal(first.summary.requestedBy, "Local operator (portcullis CLI)");
    assert.equal(first.summary.instances, 1);
    // The Approved pe-legacy has no A record in the hub zone, and the instance still allows public access.
    const checks = first.findings.filter((f) => f.status === "open").map((f) => f.checkId);
    assert.ok(checks.includes("dns-record-missing"), checks.join(", "));
    assert.ok(checks.includes("public-network-access"), checks.join(", "));
    assert.ok(first.summary.openBySeverity["high"]! > 0);
    assert.equal(first.summary.openBySeverity["critical"], 0);
    assert.match(result.stderr, new RegExp(`audit ${first.summary.runId}: 1/1 resource\\(s\\) audited · \\d+ ARM call\\(s\\) · score ${first.summary.score}`));
  });

  test("--fail-on exits 1 only when an open finding is at least that severe; --out writes the chosen format", async () => {
    const sarif = join(stack.dir, "report.sarif");
    const html = join(stack.dir, "report.html");
    const [high, critical, toFile, page] = await Promise.all([
      runLocal(stack, ["report", "show", "--fail-on", "high"]),
      runLocal(stack, ["report", "show", "--fail-on", "critical", "--format", "md"]),
      runLocal(stack, ["report", "show", first.summary.runId, "--format", "sarif", "--out", sarif, "--fail-on", "medium"]),
      runLocal(stack, ["report", "show", "--format", "html", "--out", html]),
    ]);
    assert.equal(high.code, 1, high.stderr);
    assert.match(high.stderr, /open finding\(s\) at or above high \(--fail-on high\)/);
    assert.match(high.stdout, /^SEVERITY +CHECK +TYPE +RESOURCE +STATUS +ID +MESSAGE$/m);
    assert.match(high.stdout, /^high +dns-record-missing +API Management +apim-cli +open /m);
    assert.equal(critical.code, 0, critical.stderr);
    assert.match(critical.stdout, /^# Portcullis compliance report/m);
    assert.equal(toFile.code, 1, toFile.stderr);
    assert.equal(toFile.stdout, "", "the report went to the file, not stdout");
    const log = JSON.parse(readFileSync(sarif, "utf8")) as { version: string; runs: { results: unknown[] }[] };
    assert.equal(log.version, "2.1.0");
    assert.ok(log.runs[0]!.results.length > 0);
    assert.equal(page.code, 0, page.stderr);
    assert.match(readFileSync(html, "utf8"), /^<!doctype html>/i);
  });

  test("report show names a missing run as a usage error (exit 2)", async () => {
    const missing = await runLocal(stack, ["report", "show", "20000101T000000Z-deadbeef"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /There is no audit run "20000101T000000Z-deadbeef"/);
  });

  test("under a terminal the audit shows live progress with ARM calls and throttling waits; piped it prints one line", async () => {
    // A read bucket of 1 per subscription makes ARM answer 429 + Retry-After: 1 during the run, as a busy subscription would.
    stack.emulator.throttle.configure({ enabled: true, reads: { capacity: 1, refillPerSecond: 1 } });
    try {
      const tty = await runInTerminal(["--local", "--stack-file", stack.stackFile, "audit", "run", "--fail-on", "critical"]);
      assert.equal(tty.code, 0, tty.output);
      assert.match(tty.output, /\r\u001b\[2Kauditing: 0\/[01] resource\(s\) audited · \d+ ARM call\(s\)/, "a progress line redrawn in place");
      assert.match(tty.output, /auditing: [01]\/1 resource\(s\) audited · \d+ ARM call\(s\) · throttled \d+× \(waited \d+\.\d s\)/);
      assert.match(tty.output, /audit \S+: 1\/1 resource\(s\) audited · \d+ ARM call\(s\) · throttled \d+× \(waited \d+\.\d s\) · score \d+/);
    } finally {
      stack.emulator.throttle.configure({ enabled: false });
    }
    const piped = await runLocal(stack, ["audit", "run"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /\r|\u001b/, "no progress redraws or colour when piped");
    assert.equal(piped.stderr.split("\n").filter((line) => line.startsWith("audit ")).length, 1);
    assert.match(piped.stdout, /opened 0, resolved 0 in this run/, "the third run sees the same findings as the second");
  });
});
