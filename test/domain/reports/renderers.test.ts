import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CHECK_IDS } from "../../../src/domain/audit/checks.ts";
import { renderReport, REPORT_RENDERERS } from "../../../src/domain/reports/index.ts";
import { csvCell } from "../../../src/domain/reports/csv.ts";
import { escapeHtml, scoreChartSvg } from "../../../src/domain/reports/html.ts";
import { formatTime, REPORT_FORMATS } from "../../../src/domain/reports/report.ts";
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

  test("formatTime reads as UTC date and time, and leaves non-times alone", () => {
    assert.equal(formatTime("2025-06-01T06:00:42.123Z"), "2025-06-01 06:00 UTC");
    assert.equal(formatTime("2025-06-01T08:00:42+02:00", { seconds: true }), "2025-06-01 06:00:42 UTC");
    assert.equal(formatTime("not a time"), "not a time");
  });

  test("markdown has the ID column, the not-evaluated mark, only the checks with open findings, and the decisions", () => {
    const { body } = renderReport(SAMPLE_REPORT, "md");
    assert.match(body, /\| Severity \| ID \| Status \| Check \|/);
    for (const f of SAMPLE_FINDINGS) assert.ok(body.includes(`\`${f.id}\``), f.id);
    assert.match(body, /open \(not evaluated in this run\): DNS zone/);
    const checks = body.slice(body.indexOf("## Open findings by check"), body.indexOf("## Score over recent runs"));
    assert.ok(!checks.includes("`capacity`"));
    assert.match(checks, /`rules-unusable`/);
    assert.match(body, /## Decisions since the previous run/);
    assert.match(body, /1 approved, 1 rejected, 1 left for a human, 1 revoked/);
    assert.match(body, /\| 2025-05-31 09:00 UTC \| rejected \| pe-partner \|/);
    assert.match(body, /\| CHG0012345 \| Partner contract ended \|/);
  });

  test("csv, sarif and json carry the not-evaluated mark; json carries the decisions", () => {
    const csv = renderReport(SAMPLE_REPORT, "csv").body;
    assert.match(csv.split("\r\n")[0]!, /,status,notEvaluatedReason,/);
    assert.match(csv, /,open,DNS zone privatelink\.azure-api\.net was not examined in this run,/);
    const sarif = JSON.parse(renderReport(SAMPLE_REPORT, "sarif").body) as { runs: { results: { ruleId: string; properties: Record<string, unknown> }[] }[] };
    const result = sarif.runs[0]!.results.find((r) => r.ruleId === "dns-record-wrong-ips")!;
    assert.equal(result.properties["notEvaluatedInThisRun"], true);
    const json = JSON.parse(renderReport(SAMPLE_REPORT, "json").body) as { decisions: { decisions: unknown[] }; findings: { notEvaluated?: unknown }[] };
    assert.equal(json.decisions.decisions.length, 4);
    assert.equal(json.findings.filter((f) => f.notEvaluated !== undefined).length, 1);
  });

  test("markdown escapes table-breaking and HTML characters", () => {
    const { body } = renderReport(SAMPLE_REPORT, "md");
    assert.match(body, /\*\*Compliance score: 25 \/ 100\*\*/);
    assert.ok(!body.includes("<script>"));
    assert.ok(body.includes("&lt;script&gt;alert(\"x\")&lt;/script&gt; \\| =HYPERLINK"));
    assert.match(body, /## contoso-apim \(API Management, score 65\)/);
    assert.match(body, /## Resources not audited in this run \(gone, or outside its scope\)/);
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
      assert.match(body, /Resources not audited in this run \(gone, or outside its scope\)/);
      assert.match(body, /suppressed by alice@contoso.example/);
    });

    test("the chart copes with no history and with one run", () => {
      assert.match(scoreChartSvg([]), /no runs yet/);
      assert.equal((scoreChartSvg([{ runId: "r", startedAt: "2025-06-01T00:00:00.000Z", score: 80 }]).match(/<circle /g) ?? []).length, 1);
    });

    test("every finding shows its ID in a one-click-selectable element, in an ID column, with the suppress command in its tooltip", () => {
      assert.match(body, /<th>Severity<\/th><th>ID<\/th>/);
      for (const f of SAMPLE_FINDINGS) {
        assert.ok(body.includes(`<code class="finding-id" title="Finding ID (one click selects it): portcullis audit suppress ${f.id} `), f.id);
        assert.ok(body.includes(`${f.id.replace(/-/g, "-<wbr>")}</code>`), `${f.id} is shown, breakable only between its words`);
      }
      assert.match(body, /code\.finding-id\{user-select:all/);
    });

    test("a decisions section lists what was approved, rejected, left for a human and revoked, by whom, with the ticket", () => {
      const section = body.slice(body.indexOf(`<h2 id="decisions">`), body.indexOf("</table>", body.indexOf(`<h2 id="decisions">`)));
      assert.match(section, /Decisions recorded from the previous run \(<time datetime="2025-05-31T06:00:00.000Z">2025-05-31 06:00 UTC<\/time>\) to this run/);
      for (const label of ["approved", "rejected", "left for a human", "revoked"]) assert.match(section, new RegExp(`<b>1</b><span>${label}</span>`));
      assert.equal((section.match(/<tr class="decision">/g) ?? []).length, 4);
      assert.match(section, /rule approve-internal v3/);
      assert.match(section, /<code class="ticket">CHG0012345<\/code>/);
      assert.ok(section.includes(escapeHtml(HOSTILE)), "a decider's name is escaped like any other text");
      assert.ok(!section.includes(HOSTILE));
    });

    test("findings above the fold: the per-check summary lists only checks with open findings, the others folded", () => {
      const open = body.slice(body.indexOf(`<table id="open-checks">`), body.indexOf("</table>", body.indexOf(`<table id="open-checks">`)));
      assert.equal((open.match(/<tr><td>/g) ?? []).length, 3, "rules-unusable, public-network-access, pending-too-long");
      assert.ok(!open.includes("capacity"));
      assert.match(body, /<details id="quiet-checks"><summary>\d+ check\(s\) with no open findings<\/summary>/);
      assert.ok(body.indexOf(`id="open-checks"`) < body.indexOf("<figure>"), "before the charts");
    });

    test("a finding the run could not evaluate is marked, with the reason", () => {
      assert.match(body, /<b>not evaluated in this run<\/b>: DNS zone privatelink\.azure-api\.net was not examined in this run/);
    });

    test("times read as UTC date and time; check IDs wrap only between their words", () => {
      assert.match(body, /<time datetime="2025-06-01T06:00:00.000Z">2025-06-01 06:00:00 UTC<\/time>/);
      assert.ok(!/\dT\d\d:\d\d:\d\d\.\d{3}Z</.test(body), "no raw ISO timestamp is shown as text");
      assert.match(body, /<code class="check">prerequisite-<wbr>|<code class="check">public-<wbr>network-<wbr>access<\/code>/);
      assert.ok(!/word-break:break-all/.test(body));
    });

    test("the chart labels runs by date and time and says when there is only one run", () => {
      const svg = scoreChartSvg(SAMPLE_REPORT.history);
      assert.equal((svg.match(/class="run-label"/g) ?? []).length, 6);
      assert.match(svg, /<tspan[^>]*>2025-05-03<\/tspan><tspan[^>]*>06:00 UTC<\/tspan>/);
      assert.match(svg, /<tspan[^>]*>2025-06-01<\/tspan>/);
      const one = scoreChartSvg([{ runId: "r", startedAt: "2025-06-01T06:30:00.000Z", score: 80 }]);
      assert.match(one, /Only one run so far/);
      assert.match(one, /2025-06-01<\/tspan><tspan[^>]*>06:30 UTC/);
      assert.doesNotMatch(scoreChartSvg(SAMPLE_REPORT.history), /Only one run/);
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
