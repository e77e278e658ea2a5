/** One entry point for every report format, so the API and tests pick a renderer by name from one map. */
import { renderCsvReport } from "./csv.ts";
import { renderHtmlReport } from "./html.ts";
import { renderJsonReport } from "./json.ts";
import { renderMarkdownReport } from "./markdown.ts";
import type { AuditReport, RenderedReport, ReportFormat } from "./report.ts";
import { renderSarifReport } from "./sarif.ts";

export const REPORT_RENDERERS: Readonly<Record<ReportFormat, (report: AuditReport) => RenderedReport>> = {
  json: renderJsonReport,
  md: renderMarkdownReport,
  csv: renderCsvReport,
  sarif: renderSarifReport,
  html: renderHtmlReport,
};

/** Renders a stored run's report in one of the supported formats. */
export function renderReport(report: AuditReport, format: ReportFormat): RenderedReport {
  return REPORT_RENDERERS[format](report);
}
