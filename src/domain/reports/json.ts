/**
 * JSON rendering: the whole report, for pipelines and SIEMs that want every field. Fields added without breaking
 * readers keep the version: findings' `notEvaluated`, the summary's `findings.notEvaluated`, `decisions`.
 */
import type { AuditReport, RenderedReport } from "./report.ts";

/** Version of the JSON report's shape; bumped on any incompatible change. */
export const JSON_REPORT_VERSION = 1;

export function renderJsonReport(report: AuditReport): RenderedReport {
  const body = JSON.stringify(
    {
      reportVersion: JSON_REPORT_VERSION,
      summary: report.summary,
      history: report.history,
      instances: report.instances,
      findings: report.findings,
      remediations: report.remediations,
      decisions: report.decisions,
    },
    null,
    2,
  );
  return { contentType: "application/json; charset=utf-8", fileExtension: "json", body: `${body}\n` };
}
