/**
 * POST /api/audits (Admin): runs a compliance audit now, exactly as the timer does (same settings, same
 * remediation switches and mode), and answers 201 with the stored run's summary and `Location` of its report.
 * The audit runs within the request, so a very large estate can outlast the HTTP timeout; the timer is the
 * primary path. Takes an Idempotency-Key like every POST: a replay answers with the first run's summary.
 */
import type { Principal } from "../http/auth.ts";
import { runSummarySchema } from "../domain/audit/schemas.ts";
import { auditEstate } from "../workflows/audit-estate.ts";
import { apiRoute } from "./api-runtime.ts";
import { auditOptionsFromSettings, describeAuditRun } from "./compliance-audit.ts";

/** Who asked for a manual run, as recorded in its summary: the caller's name, else its object ID. */
export function requestedByOf(principal: Principal): string {
  return principal.name !== undefined ? `${principal.name} (principal:${principal.objectId})` : `principal:${principal.objectId}`;
}

export const startAudit = apiRoute({
  name: "startAudit",
  method: "POST",
  route: "audits",
  summary: "Run a compliance audit now",
  description: "Audits every managed instance with the deployment's settings and stores the run; the report is then at the Location.",
  tags: ["audits"],
  role: "Portcullis.Admin",
  idempotent: true,
  responses: {
    201: { description: "The audit ran; the stored run's summary.", schema: runSummarySchema, headers: { Location: "The run's report: /api/reports/{runId}." } },
  },
  async handle({ principal }, { services, log }) {
    const deps = await services.auditDeps((message) => log.warn(message));
    const summary = await auditEstate(deps, auditOptionsFromSettings(services.settings, "manual", requestedByOf(principal)));
    log.info(describeAuditRun(summary));
    return { status: 201, headers: { location: `/api/reports/${summary.runId}` }, body: summary };
  },
});
