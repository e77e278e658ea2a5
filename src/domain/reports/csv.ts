/**
 * CSV rendering (RFC 4180, CRLF): one row per finding, for spreadsheets (decisions are not findings: they are in
 * the other formats and the decision log). `notEvaluatedReason` is set on findings this run carried unevaluated. Cells that a spreadsheet would
 * run as a formula (leading = + - @ tab CR) are prefixed with an apostrophe: names in findings come from
 * other people's resources.
 */
import type { Finding } from "../audit/findings.ts";
import { findingType, type AuditReport, type RenderedReport } from "./report.ts";

const COLUMNS: readonly (readonly [string, (f: Finding, runId: string) => string])[] = [
  ["runId", (_f, runId) => runId],
  ["findingId", (f) => f.id],
  ["checkId", (f) => f.checkId],
  ["severity", (f) => f.severity],
  ["status", (f) => f.status],
  ["notEvaluatedReason", (f) => f.notEvaluated?.reason ?? ""],
  ["instanceId", (f) => f.instanceId ?? ""],
  ["resourceType", (f) => findingType(f)],
  ["resourceId", (f) => f.resourceId],
  ["message", (f) => f.message],
  ["expected", (f) => f.evidence.expected],
  ["actual", (f) => f.evidence.actual],
  ["firstSeenAt", (f) => f.firstSeenAt],
  ["lastSeenAt", (f) => f.lastSeenAt],
  ["resolvedAt", (f) => f.resolvedAt ?? ""],
  ["suppressionOwner", (f) => f.suppression?.owner ?? ""],
  ["suppressionReason", (f) => f.suppression?.reason ?? ""],
  ["suppressionExpiresAt", (f) => f.suppression?.expiresAt ?? ""],
  ["remediationPortal", (f) => f.remediation.portal],
  ["remediationAzCli", (f) => f.remediation.azCli],
];

/** Quotes a CSV cell when needed and defuses spreadsheet formulas. */
export function csvCell(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replace(/"/g, '""')}"` : defused;
}

export function renderCsvReport(report: AuditReport): RenderedReport {
  const lines = [COLUMNS.map(([name]) => name).join(",")];
  for (const finding of report.findings) {
    lines.push(COLUMNS.map(([, value]) => csvCell(value(finding, report.summary.runId))).join(","));
  }
  return { contentType: "text/csv; charset=utf-8", fileExtension: "csv", body: `${lines.join("\r\n")}\r\n` };
}
