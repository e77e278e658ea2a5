/**
 * `portcullis audit run` and `portcullis report show`: one compliance audit through auditEstate (the same workflow,
 * options and stores as the `complianceAudit` timer), and any stored run rendered by the same report renderers as
 * GET /api/reports. `--fail-on` turns open findings into exit code 1, so a pipeline can gate on the estate.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { SEVERITIES, severityRank, type Finding, type Severity } from "../../domain/audit/findings.ts";
import type { AuditRunSummary } from "../../domain/audit/run.ts";
import { findingType, REPORT_FORMATS, shortName, statusText, typeLabel, type AuditReport, type ReportFormat } from "../../domain/reports/report.ts";
import type { ArmPorts } from "../../ports/arm.ts";
import type { AuditStore } from "../../ports/audit-store.ts";
import type { loadAuditReport as LoadAuditReport } from "../../workflows/audit-report.ts";
import type { CommandContext } from "../context.ts";
import { CliError, EXIT, type ExitCode } from "../exit-codes.ts";
import { choiceOption, withExamples, type CommandHost } from "../program.ts";
import { registerSuppressionCommands } from "./suppressions.ts";
import { PLAIN_STYLE, renderTable, type Style } from "../terminal.ts";

type CliFormat = "table" | ReportFormat;

interface ReportOptions {
  readonly format?: CliFormat;
  readonly json?: boolean;
  readonly out?: string;
  readonly failOn?: Severity;
}

const FORMAT_OPTION = () => choiceOption("--format <format>", "table (for terminals), or a report format: md, json, csv, sarif, html", ["table", ...REPORT_FORMATS]).default("table");
const FAIL_ON_OPTION = () => choiceOption("--fail-on <severity>", "exit 1 when an open finding is at least this severe", [...SEVERITIES]);

function styleSeverity(style: Style, severity: Severity, text: string): string {
  return severity === "critical" || severity === "high" ? style.red(text) : severity === "medium" ? style.yellow(text) : style.dim(text);
}

/** Open findings at or above the threshold (SEVERITIES runs from critical down). */
function countAtOrAbove(summary: AuditRunSummary, threshold: Severity): number {
  return SEVERITIES.filter((s) => severityRank(s) <= severityRank(threshold)).reduce((sum, s) => sum + summary.openBySeverity[s], 0);
}

/** The report as a terminal table: the run's summary, then its open and suppressed findings, most severe first. */
function renderTableReport(report: AuditReport, style: Style): string {
  const s = report.summary;
  const severities = SEVERITIES.map((sev) => `${s.openBySeverity[sev]} ${sev}`).join(", ");
  const lines = [
    `${style.bold(`Audit ${s.runId}`)} · started ${s.startedAt} · ${s.trigger}${s.requestedBy ? ` by ${s.requestedBy}` : ""} · mode ${s.mode}`,
    `Score ${style.bold(`${s.score}/100`)} · ${s.instances} resource(s)${s.unreadableInstances > 0 ? ` (${s.unreadableInstances} unreadable)` : ""} · ` +
      `${s.connections.total} connection(s): ${s.connections.pending} Pending, ${s.connections.approved} Approved, ${s.connections.rejected} Rejected`,
    `Open findings: ${severities} · ${s.findings.suppressed} suppressed · opened ${s.opened}, resolved ${s.resolvedInRun} in this run`,
    "",
  ];
  const shown = report.findings.filter((f) => f.status !== "resolved");
  if (shown.length === 0) return `${lines.join("\n")}No open findings.\n`;
  return (
    lines.join("\n") +
    renderTable<Finding>(
      shown,
      [
        { header: "SEVERITY", value: (f) => f.severity, style: (text, f) => styleSeverity(style, f.severity, text) },
        { header: "CHECK", value: (f) => f.checkId },
        { header: "TYPE", value: (f) => typeLabel(findingType(f)) },
        { header: "RESOURCE", value: (f) => shortName(f.resourceId) },
        { header: "STATUS", value: (f) => statusText(f) },
        { header: "ID", value: (f) => f.id },
        { header: "MESSAGE", value: (f) => f.message },
      ],
      style.bold,
    )
  );
}

/** Loads a stored run's report (the workflow module is imported on use, keeping start-up light). */
async function loadReport(...args: Parameters<typeof LoadAuditReport>): ReturnType<typeof LoadAuditReport> {
  const { loadAuditReport } = await import("../../workflows/audit-report.ts");
  return loadAuditReport(...args);
}

/** Renders to stdout or --out, then applies --fail-on. */
async function emitReport(context: CommandContext, report: AuditReport, options: ReportOptions): Promise<ExitCode> {
  const { renderReport } = await import("../../domain/reports/index.ts");
  const format: CliFormat = options.json ? "json" : (options.format ?? "table");
  const { terminal } = context;
  const body = format === "table" ? renderTableReport(report, options.out === undefined ? terminal.style : PLAIN_STYLE) : renderReport(report, format).body;
  if (options.out !== undefined) {
    writeFileSync(options.out, body);
    terminal.info(`wrote the ${format} report of run ${report.summary.runId} to ${options.out}`);
  } else {
    terminal.out(body);
  }
  if (options.failOn === undefined) return EXIT.success;
  const failing = countAtOrAbove(report.summary, options.failOn);
  if (failing === 0) return EXIT.success;
  terminal.info(terminal.errStyle.red(`${failing} open finding(s) at or above ${options.failOn} (--fail-on ${options.failOn})`));
  return EXIT.findings;
}

/** Wraps a port so that what its listing method yields is counted as found. */
function countingListings<T extends object>(port: T, method: string, found: Set<string>): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property !== method) return value.bind(target);
      return async function* (...args: unknown[]) {
        for await (const item of value.apply(target, args) as AsyncIterable<{ id: string }>) {
          found.add(item.id.toLowerCase());
          yield item;
        }
      };
    },
  });
}

/** Counts what the audit does, for the progress line: resources found (of every type) and audited, through proxies of its ports. */
function observeAudit(arm: ArmPorts, store: AuditStore, explicitInstances: readonly string[]) {
  const found = new Set(explicitInstances.map((id) => id.toLowerCase()));
  let audited = 0;
  const apim = countingListings(arm.apim, "listServicesBySubscription", found);
  const privateLink = countingListings(arm.privateLink, "listResourcesBySubscription", found);
  const auditStore = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "putInstanceSummary" && typeof value === "function") {
        return async (...args: unknown[]) => {
          const result: unknown = await value.apply(target, args);
          audited += 1;
          return result;
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { arm: { ...arm, apim, privateLink }, auditStore, progress: () => ({ audited, found: found.size }) };
}

/** "3/10 instances · 57 ARM calls · throttled 2× (waited 4.0 s)" */
function progressLine(progress: { audited: number; found: number }, calls: { requests: number; throttled: number; retryAfterInMs: number }): string {
  const throttling = calls.throttled > 0 ? ` · throttled ${calls.throttled}× (waited ${(calls.retryAfterInMs / 1000).toFixed(1)} s)` : "";
  return `${progress.audited}/${progress.found} resource(s) audited · ${calls.requests} ARM call(s)${throttling}`;
}

async function runAudit(context: CommandContext, options: ReportOptions): Promise<ExitCode> {
  const { terminal, services } = context;
  // Imported on use: the timer's options builder also loads the composition root and the SDKs.
  const [{ auditOptionsFromSettings }, { auditEstate }] = await Promise.all([import("../../functions/compliance-audit.ts"), import("../../workflows/audit-estate.ts")]);
  const deps = await services.auditDeps((message) => terminal.info(terminal.errStyle.yellow(`warning: ${message}`)));
  const counter = (await services.arm()).callCounter;
  const observed = observeAudit(deps.arm, deps.auditStore, context.target.settings.PORTCULLIS_MANAGED_INSTANCES);
  const showProgress = () => terminal.progress(`auditing: ${progressLine(observed.progress(), counter.snapshot())}`);
  const ticker = terminal.stderrIsTTY ? setInterval(showProgress, 100) : undefined;
  let summary: AuditRunSummary;
  try {
    showProgress();
    summary = await auditEstate(
      { ...deps, arm: observed.arm, auditStore: observed.auditStore },
      auditOptionsFromSettings(context.target.settings, "manual", context.identity.actor.name ?? context.identity.actor.objectId),
    );
  } finally {
    clearInterval(ticker);
    terminal.progress(undefined);
  }
  terminal.info(`audit ${summary.runId}: ${progressLine(observed.progress(), counter.snapshot())} · score ${summary.score}`);
  const report = await loadReport(await services.reportSources(), summary.runId);
  if (report === undefined) throw new CliError(EXIT.unavailable, `Run ${summary.runId} finished but its report could not be read back from storage.`);
  return emitReport(context, report, options);
}

export function registerAuditCommands(program: Command, host: CommandHost): void {
  const audit = program.command("audit").description("run compliance audits of the managed resources (every governed Private Link type) and manage finding suppressions").helpGroup("Compliance:");
  withExamples(audit, [
    "portcullis --local audit run",
    "portcullis audit run --format sarif --out portcullis.sarif --fail-on high",
    'portcullis --local audit suppress <finding-id> --reason "Accepted until the cut-over" --owner platform-team@contoso.example --expires 30d',
    "portcullis --local audit suppressions",
  ]);
  withExamples(
    audit
      .command("run")
      .description("audit every managed resource now (public access, DNS drift, prerequisites, capacity, ...), store the run, print its report")
      .addOption(FORMAT_OPTION())
      .option("--json", "same as --format json")
      .option("-o, --out <file>", "write the report to this file instead of stdout")
      .addOption(FAIL_ON_OPTION())
      .action(async (options: ReportOptions, command: Command) => host.run(command, { scope: true }, (context) => runAudit(context, options))),
    [
      "portcullis --local audit run",
      "portcullis --local audit run --format html --out report.html",
      "portcullis --subscription <id> --storage-account stportcullis audit run --format sarif --out portcullis.sarif --fail-on high",
    ],
  );

  registerSuppressionCommands(audit, host);

  const report = program.command("report").description("show stored compliance reports").helpGroup("Compliance:");
  withExamples(report, ["portcullis --local report show", "portcullis report show 20250601T060000Z-ab12cd34 --format md"]);
  withExamples(
    report
      .command("show")
      .description("render a stored audit run (default: the latest) without auditing again")
      .argument("[run]", "run ID (default: latest)", "latest")
      .addOption(FORMAT_OPTION())
      .option("--json", "same as --format json")
      .option("-o, --out <file>", "write the report to this file instead of stdout")
      .addOption(FAIL_ON_OPTION())
      .action(async (runId: string, options: ReportOptions, command: Command) =>
        host.run(command, { scope: false }, async (context) => {
          const loaded = await loadReport(await context.services.reportSources(), runId);
          if (loaded === undefined) {
            throw new CliError(EXIT.usage, runId === "latest" ? "No audit run is stored yet: run `portcullis audit run` first." : `There is no audit run "${runId}".`);
          }
          return emitReport(context, loaded, options);
        }),
      ),
    ["portcullis --local report show", "portcullis report show --format html --out report.html", "portcullis report show --json | jq .summary.score"],
  );
}
