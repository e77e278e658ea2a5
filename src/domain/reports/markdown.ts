/**
 * Markdown rendering: a summary a pull request or wiki can show. Text from resources is escaped so a crafted
 * name cannot break a table or inject HTML into a renderer that allows it.
 */
import { AUDIT_CHECKS, CHECK_IDS } from "../audit/checks.ts";
import { SEVERITIES, type Finding } from "../audit/findings.ts";
import { countDecisions, DECISION_KIND_LABEL, REPORTED_DECISION_KINDS, REPORTED_DECISIONS_LIMIT, type DecisionsSection } from "./decisions.ts";
import {
  findingsByInstance,
  findingsOfOtherInstances,
  findingType,
  formatTime,
  instanceFacts,
  instancesByType,
  instanceType,
  shortName,
  statusText,
  suppressCommand,
  typeLabel,
  type AuditReport,
  type RenderedReport,
} from "./report.ts";

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

const FINDING_HEADERS = ["Severity", "ID", "Status", "Check", "Type", "Resource", "Message", "First seen"] as const;

function findingRows(findings: readonly Finding[]): string[][] {
  return findings.map((f) => [
    f.severity,
    `\`${f.id}\``,
    escapeMarkdown(f.notEvaluated !== undefined ? `${statusText(f)}: ${f.notEvaluated.reason}` : statusText(f)),
    `\`${f.checkId}\``,
    escapeMarkdown(typeLabel(findingType(f))),
    escapeMarkdown(shortName(f.resourceId)),
    escapeMarkdown(f.message),
    escapeMarkdown(formatTime(f.firstSeenAt)),
  ]);
}

function decisionLines(section: DecisionsSection): string[] {
  const window = section.from === undefined
    ? `before this run (${formatTime(section.to)}; the first run)`
    : `from the previous run (${formatTime(section.from)}) to this run (${formatTime(section.to)})`;
  const counts = countDecisions(section);
  const lines = ["", "## Decisions since the previous run", "", `Recorded ${escapeMarkdown(window)}: ` + REPORTED_DECISION_KINDS.map((k) => `${counts[k]} ${DECISION_KIND_LABEL[k]}`).join(", ") + ".", ""];
  if (section.decisions.length === 0) return lines;
  lines.push(
    ...table(
      ["When", "Decision", "Connection", "By", "Ticket", "Reason", "Outcome"],
      section.decisions.map((d) => [
        escapeMarkdown(formatTime(d.recordedAt)),
        DECISION_KIND_LABEL[d.kind],
        escapeMarkdown(shortName(d.connectionId)),
        escapeMarkdown(d.decidedBy),
        d.ticket !== undefined ? escapeMarkdown(d.ticket) : "none",
        escapeMarkdown(d.reason),
        d.outcome,
      ]),
    ),
  );
  if (section.truncated) lines.push("", `Only the first ${REPORTED_DECISIONS_LIMIT} decisions are listed.`);
  return lines;
}

export function renderMarkdownReport(report: AuditReport): RenderedReport {
  const { summary } = report;
  const lines: string[] = [
    `# Portcullis compliance report`,
    "",
    `Run \`${escapeMarkdown(summary.runId)}\` (${summary.trigger}${summary.requestedBy ? ` by ${escapeMarkdown(summary.requestedBy)}` : ""}, mode ${summary.mode}), ` +
      `${escapeMarkdown(formatTime(summary.startedAt, { seconds: true }))} to ${escapeMarkdown(formatTime(summary.finishedAt, { seconds: true }))}.`,
    "",
    `**Compliance score: ${summary.score} / 100**`,
    "",
    ...table(
      ["Instances", "Unreadable", "Connections", "Open", "Suppressed", "Resolved this run", "Opened this run", "Not evaluated in this run"],
      [[
        String(summary.instances), String(summary.unreadableInstances), String(summary.connections.total), String(summary.findings.open),
        String(summary.findings.suppressed), String(summary.resolvedInRun), String(summary.opened), String(summary.findings.notEvaluated),
      ]],
    ),
    "",
    "## Resources by type",
    "",
    ...(report.instances.length > 0
      ? table(["Type", "ARM type", "Audited"], instancesByType(report.instances).map((t) => [escapeMarkdown(typeLabel(t.resourceType)), `\`${escapeMarkdown(t.resourceType || "unknown")}\``, String(t.count)]))
      : ["No resource was audited."]),
    "",
    "## Open findings by severity",
    "",
    ...table(["Severity", "Open"], SEVERITIES.map((s) => [s, String(summary.openBySeverity[s])])),
    "",
    "## Open findings by check",
    "",
    ...(CHECK_IDS.some((id) => (summary.openByCheck[id] ?? 0) > 0)
      ? table(
          ["Check", "Title", "Open"],
          CHECK_IDS.filter((id) => (summary.openByCheck[id] ?? 0) > 0).map((id) => [`\`${id}\``, AUDIT_CHECKS[id].title, String(summary.openByCheck[id])]),
        )
      : ["No check has open findings."]),
    "",
    `The other ${CHECK_IDS.filter((id) => (summary.openByCheck[id] ?? 0) === 0).length} check(s) have no open findings.`,
    "",
    "## Score over recent runs",
    "",
    ...(report.history.length === 1 ? ["Only one run so far: the trend starts with the next run.", ""] : []),
    ...table(["Run", "Started", "Score"], report.history.map((p) => [`\`${escapeMarkdown(p.runId)}\``, escapeMarkdown(formatTime(p.startedAt)), String(p.score)])),
    ...decisionLines(report.decisions),
  ];

  const groups = findingsByInstance(report.findings);
  const estate = groups.get("") ?? [];
  if (estate.length > 0) {
    lines.push("", "## Estate-wide findings", "", ...table([...FINDING_HEADERS], findingRows(estate)));
  }
  for (const instance of report.instances) {
    const findings = groups.get(instance.instanceId.toLowerCase()) ?? [];
    lines.push(
      "",
      `## ${escapeMarkdown(instance.name)} (${escapeMarkdown(typeLabel(instanceType(instance)))}, score ${instance.score})`,
      "",
      `\`${escapeMarkdown(instance.instanceId)}\``,
      "",
      `${instanceFacts(instance).map((f) => `${f.label} ${escapeMarkdown(f.value ?? "unknown")}`).join(", ").replace(/^./, (c) => c.toUpperCase())}; ` +
        `connections: ${instance.connections.approved} approved, ${instance.connections.pending} pending, ${instance.connections.rejected} rejected.`,
      "",
    );
    if (findings.length === 0) lines.push("No findings.");
    else lines.push(...table([...FINDING_HEADERS], findingRows(findings)));
  }
  const others = findingsOfOtherInstances(report);
  if (others.length > 0) {
    lines.push("", "## Resources not audited in this run (gone, or outside its scope)", "", ...table([...FINDING_HEADERS], findingRows(others)));
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
  lines.push("", `Times are UTC. Suppress a finding by its ID: \`${suppressCommand("<finding-id>")}\`.`);
  return { contentType: "text/markdown; charset=utf-8", fileExtension: "md", body: `${lines.join("\n")}\n` };
}
