/**
 * Markdown rendering: a summary a pull request or wiki can show. Text from resources is escaped so a crafted
 * name cannot break a table or inject HTML into a renderer that allows it.
 */
import { AUDIT_CHECKS, type CheckId } from "../audit/checks.ts";
import { SEVERITIES, type Finding } from "../audit/findings.ts";
import { findingsByInstance, findingsOfOtherInstances, shortName, type AuditReport, type RenderedReport } from "./report.ts";

/** Escapes text for a Markdown table cell or paragraph. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/[|`*_[\]#<>]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : `\\${c}`))
    .replace(/\r?\n|\r/g, " ");
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

function findingRows(findings: readonly Finding[]): string[][] {
  return findings.map((f) => [
    f.severity,
    f.status,
    `\`${f.checkId}\``,
    escapeMarkdown(shortName(f.resourceId)),
    escapeMarkdown(f.message),
    escapeMarkdown(f.firstSeenAt),
  ]);
}

export function renderMarkdownReport(report: AuditReport): RenderedReport {
  const { summary } = report;
  const lines: string[] = [
    `# Portcullis compliance report`,
    "",
    `Run \`${escapeMarkdown(summary.runId)}\` (${summary.trigger}${summary.requestedBy ? ` by ${escapeMarkdown(summary.requestedBy)}` : ""}, mode ${summary.mode}), ` +
      `${escapeMarkdown(summary.startedAt)} to ${escapeMarkdown(summary.finishedAt)}.`,
    "",
    `**Compliance score: ${summary.score} / 100**`,
    "",
    ...table(
      ["Instances", "Unreadable", "Connections", "Open", "Suppressed", "Resolved this run", "Opened this run"],
      [[
        String(summary.instances), String(summary.unreadableInstances), String(summary.connections.total), String(summary.findings.open),
        String(summary.findings.suppressed), String(summary.resolvedInRun), String(summary.opened),
      ]],
    ),
    "",
    "## Open findings by severity",
    "",
    ...table(["Severity", "Open"], SEVERITIES.map((s) => [s, String(summary.openBySeverity[s])])),
    "",
    "## Open findings by check",
    "",
    ...table(
      ["Check", "Title", "Open"],
      (Object.keys(AUDIT_CHECKS) as CheckId[]).map((id) => [`\`${id}\``, AUDIT_CHECKS[id].title, String(summary.openByCheck[id] ?? 0)]),
    ),
    "",
    "## Score over recent runs",
    "",
    ...table(["Run", "Started", "Score"], report.history.map((p) => [`\`${escapeMarkdown(p.runId)}\``, escapeMarkdown(p.startedAt), String(p.score)])),
  ];

  const groups = findingsByInstance(report.findings);
  const estate = groups.get("") ?? [];
  if (estate.length > 0) {
    lines.push("", "## Estate-wide findings", "", ...table(["Severity", "Status", "Check", "Resource", "Message", "First seen"], findingRows(estate)));
  }
  for (const instance of report.instances) {
    const findings = groups.get(instance.instanceId.toLowerCase()) ?? [];
    lines.push(
      "",
      `## ${escapeMarkdown(instance.name)} (score ${instance.score})`,
      "",
      `\`${escapeMarkdown(instance.instanceId)}\``,
      "",
      `Tier ${escapeMarkdown(instance.skuName ?? "unknown")}, platform ${escapeMarkdown(instance.platformVersion ?? "unknown")}, ` +
        `VNet ${escapeMarkdown(instance.virtualNetworkType ?? "unknown")}, public access ${escapeMarkdown(instance.publicNetworkAccess ?? "unknown")}; ` +
        `connections: ${instance.connections.approved} approved, ${instance.connections.pending} pending, ${instance.connections.rejected} rejected.`,
      "",
    );
    if (findings.length === 0) lines.push("No findings.");
    else lines.push(...table(["Severity", "Status", "Check", "Resource", "Message", "First seen"], findingRows(findings)));
  }
  const others = findingsOfOtherInstances(report);
  if (others.length > 0) {
    lines.push("", "## Instances no longer audited", "", ...table(["Severity", "Status", "Check", "Resource", "Message", "First seen"], findingRows(others)));
  }
  if (report.remediations.length > 0) {
    lines.push(
      "",
      "## Remediations",
      "",
      ...table(
        ["#", "Change", "Target", "Outcome", "Message"],
        report.remediations.map((r) => [
          String(r.sequence),
          r.change.kind,
          escapeMarkdown(r.change.kind === "disable-public-network-access" ? r.change.instanceId : `${shortName(r.change.zoneId)}/${r.change.recordName}`),
          r.outcome,
          escapeMarkdown(r.message ?? ""),
        ]),
      ),
    );
  }
  return { contentType: "text/markdown; charset=utf-8", fileExtension: "md", body: `${lines.join("\n")}\n` };
}
