/**
 * JSON rendering: the whole report, for pipelines and SIEMs that want every field. Fields added without breaking
 * readers keep the version: findings' `notEvaluated`, the summary's `findings.notEvaluated`, `decisions`, and each
 * finding's and instance's `resourceType` (filled in for runs stored before it was recorded).
 */
import { findingType, instanceType, type AuditReport, type RenderedReport } from "./report.ts";

/** Version of the JSON report's shape; bumped on any incompatible change. */
export const JSON_REPORT_VERSION = 1;

export function renderJsonReport(report: AuditReport): RenderedReport {
  const body = JSON.stringify(
    {
      reportVersion: JSON_REPORT_VERSION,
      summary: report.summary,
      history: report.history,
      instances: report.instances.map((i) => ({ ...i, resourceType: instanceType(i) || undefined })),
      findings: report.findings.map((f) => ({ ...f, resourceType: findingType(f) || undefined })),
      remediations: report.remediations,
      decisions: report.decisions,
    },
    null,
    2,
  );
  return { contentType: "application/json; charset=utf-8", fileExtension: "json", body: `${body}\n` };
}
