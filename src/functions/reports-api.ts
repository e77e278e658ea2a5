/**
 * Compliance reports rendered from stored runs (Reader): GET /api/reports/latest and GET /api/reports/{runId},
 * `?format=json|md|csv|sarif|html` (default json). The body is the rendered document under its own content
 * type; the HTML page also gets a Content-Security-Policy that forbids loading anything.
 */
import { z } from "zod";
import { renderReport } from "../domain/reports/index.ts";
import { REPORT_FORMATS, type ReportFormat } from "../domain/reports/report.ts";
import { problemResponse, type ApiResponse } from "../http/problem.ts";
import { loadAuditReport, type AuditReportSources } from "../workflows/audit-report.ts";
import { apiRoute } from "./api-runtime.ts";

/** Run IDs as auditEstate makes them: start time (UTC, compact) and a hex suffix. */
export const runIdSchema = z
  .string()
  .regex(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/, "a run ID such as 20250601T060000Z-1a2b3c4d, or 'latest'")
  .meta({ description: "The run's ID (from POST /api/audits or a ReportReady event)." });

const formatQuery = z.strictObject({
  format: z.enum(REPORT_FORMATS).default("json").meta({ description: "json (default), md, csv, sarif (SARIF 2.1.0) or html." }),
});

const REPORT_RESPONSES = {
  200: { description: "The report, as application/json, text/markdown, text/csv, application/sarif+json or text/html." },
  404: { description: "No such run (or no run yet, for latest)." },
} as const;

const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async function reportResponse(sources: AuditReportSources, runId: string, format: ReportFormat): Promise<ApiResponse> {
  const report = await loadAuditReport(sources, runId);
  if (report === undefined) return problemResponse("not-found", runId === "latest" ? "No audit has completed yet." : `There is no audit run ${runId}.`);
  const rendered = renderReport(report, format);
  return {
    status: 200,
    headers: {
      "content-type": rendered.contentType,
      "content-disposition": `inline; filename="portcullis-compliance-${report.summary.runId}.${rendered.fileExtension}"`,
      ...(format === "html" ? { "content-security-policy": HTML_CSP } : {}),
    },
    body: rendered.body,
  };
}

export const getLatestReport = apiRoute({
  name: "getLatestReport",
  method: "GET",
  route: "reports/latest",
  summary: "The compliance report of the latest audit run",
  tags: ["audits"],
  role: "Portcullis.Reader",
  query: formatQuery,
  responses: REPORT_RESPONSES,
  handle: ({ query }, { services }) => reportResponse(services.reportSources(), "latest", query.format),
});

export const getReport = apiRoute({
  name: "getReport",
  method: "GET",
  route: "reports/{runId}",
  summary: "The compliance report of one audit run",
  tags: ["audits"],
  role: "Portcullis.Reader",
  params: z.strictObject({ runId: z.union([z.literal("latest"), runIdSchema]) }),
  query: formatQuery,
  responses: REPORT_RESPONSES,
  handle: ({ params, query }, { services }) => reportResponse(services.reportSources(), params.runId, query.format),
});

/** The audit's report routes, in the order the API document lists them. */
export const reportRoutes = [getLatestReport, getReport] as const;
