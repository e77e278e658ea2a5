import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CHECK_IDS } from "../../../src/domain/audit/checks.ts";
import { renderReport, REPORT_RENDERERS } from "../../../src/domain/reports/index.ts";
import { csvCell } from "../../../src/domain/reports/csv.ts";
import { escapeHtml, scoreChartSvg } from "../../../src/domain/reports/html.ts";
import { REPORT_FORMATS } from "../../../src/domain/reports/report.ts";
import { loadSarifValidator } from "./sarif-schema.ts";
import { HOSTILE, SAMPLE_FINDINGS, SAMPLE_REPORT } from "./sample-report.ts";

describe("report renderers", () => {
  test("every format has a renderer, and rendering is deterministic", () => {
    assert.deepEqual(Object.keys(REPORT_RENDERERS).sort(), [...REPORT_FORMATS].sort());
    for (const format of REPORT_FORMATS) assert.equal(renderReport(SAMPLE_REPORT, format).body, renderReport(SAMPLE_REPORT, format).body);
  });

  test("json carries every finding with its lifecycle fields", () => {
    const rendered = renderReport(SAMPLE_REPORT, "json");
    assert.match(rendered.contentType, /^application\/json/);
    const parsed = JSON.parse(rendered.body) as { reportVersion: number; findings: { id: string; status: string; firstSeenAt: string }[]; history: unknown[] };
    assert.equal(parsed.reportVersion, 1);
    assert.deepEqual(parsed.findings.map((f) => f.id), SAMPLE_FINDINGS.map((f) => f.id));
    assert.equal(parsed.history.length, 30);
  });

  describe("csv", () => {
    test("one row per finding, RFC 4180 quoting, CRLF line ends", () => {
      const { body } = renderReport(SAMPLE_REPORT, "csv");
      const lines = body.split("\r\n");
      assert.equal(lines.at(-1), "");
      assert.match(lines[0]!, /^runId,findingId,checkId,severity,status,/);
      assert.equal(lines.length - 2, SAMPLE_FINDINGS.length);
      assert.ok(body.includes(`"Connection <script>alert(""x"")</script> | =HYPERLINK(""http://evil.example"") & 'quoted' has been Pending for 30 h"`));
    });

    test("defuses spreadsheet formulas in cells", () => {
      assert.equal(csvCell("=SUM(A1)"), "'=SUM(A1)");
      assert.equal(csvCell("@cmd"), "'@cmd");
      assert.equal(csvCell("-1+1"), "'-1+1");
      assert.equal(csvCell("plain"), "plain");
      assert.equal(csvCell('a,"b"'), '"a,""b"""');
    });
  });

  test("markdown escapes table-breaking and HTML characters", () => {
    const { body } = renderReport(SAMPLE_REPORT, "md");
    assert.match(body, /\*\*Compliance score: 25 \/ 100\*\*/);
    assert.ok(!body.includes("<script>"));
    assert.ok(body.includes("&lt;script&gt;alert(\"x\")&lt;/script&gt; \\| =HYPERLINK"));
    assert.match(body, /## contoso-apim \(score 65\)/);
    assert.match(body, /## Instances no longer audited/);
    for (const line of body.split("\n").filter((l) => l.startsWith("| "))) {
      const cells = line.split(/(?<!\\)\|/).length;
      assert.ok(cells >= 3, line);
    }
  });

  describe("html", () => {
    const { body, contentType } = renderReport(SAMPLE_REPORT, "html");

    test("is a self-contained page: no scripts, no external references, a CSP that forbids fetching", () => {
      assert.match(contentType, /^text\/html/);
      assert.ok(!/<script/i.test(body), "no script element (the hostile name is escaped)");
      assert.ok(!/\s(src|href)=/i.test(body), "no src/href attributes");
      assert.ok(!/url\(/i.test(body), "no CSS url()");
      assert.match(body, /Content-Security-Policy" content="default-src 'none'/);
      assert.ok(body.includes(escapeHtml(HOSTILE)));
    });

    test("has the score, the trend chart, severity chart, a table per instance and print styles", () => {
      assert.match(body, /<b>25<\/b><span>compliance score/);
      assert.equal((body.match(/<svg /g) ?? []).length, 2);
      assert.equal((body.match(/<circle /g) ?? []).length, 30);
      assert.match(body, /<section class="instance"><h3>contoso-apim/);
      assert.match(body, /@media print/);
      assert.match(body, /Instances no longer audited/);
      assert.match(body, /suppressed by alice@contoso.example/);
    });

    test("the chart copes with no history and with one run", () => {
      assert.match(scoreChartSvg([]), /no runs yet/);
      assert.equal((scoreChartSvg([{ runId: "r", startedAt: "2025-06-01T00:00:00.000Z", score: 80 }]).match(/<circle /g) ?? []).length, 1);
    });

    test("escapes all five HTML-special characters", () => {
      assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    });
  });

  describe("sarif", () => {
    const log = JSON.parse(renderReport(SAMPLE_REPORT, "sarif").body) as {
      version: string;
      runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; level: string; suppressions?: unknown[]; locations: { logicalLocations: { fullyQualifiedName: string }[] }[] }[] }[];
    };

    test("validates against the SARIF 2.1.0 schema in test/fixtures/schemas", () => {
      const validate = loadSarifValidator();
      assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    });

    test("the schema really rejects a broken log", () => {
      const validate = loadSarifValidator();
      assert.equal(validate({ version: "2.1.0", runs: [{ results: [] }] }), false, "a run without a tool is invalid");
      assert.equal(validate({ ...log, version: "2.0.0" }), false);
      const run = log.runs[0]!;
      const withResult = (result: Record<string, unknown>) => ({ ...log, runs: [{ ...run, results: [{ ...run.results[0]!, ...result }] }] });
      assert.equal(validate(withResult({ level: "critical" })), false, "level is none | note | warning | error");
      assert.equal(validate(withResult({ message: {} })), false, "a message needs text or id");
      assert.equal(validate(withResult({ rule_id: "x" })), false, "unknown properties are refused");
    });

    test("one rule per check; results point at their rule and resource; resolved findings are not results", () => {
      const run = log.runs[0]!;
      assert.deepEqual(run.tool.driver.rules.map((r) => r.id), CHECK_IDS);
      assert.equal(run.results.length, SAMPLE_FINDINGS.filter((f) => f.status !== "resolved").length);
      for (const result of run.results) assert.equal(run.tool.driver.rules[result.ruleIndex]!.id, result.ruleId);
      const critical = run.results.find((r) => r.ruleId === "rules-unusable")!;
      assert.equal(critical.level, "error");
      assert.equal(critical.locations[0]!.logicalLocations[0]!.fullyQualifiedName, "/portcullis/rules");
      assert.equal(run.results.find((r) => r.ruleId === "lingering-rejected")!.suppressions?.length, 1);
    });
  });
});
