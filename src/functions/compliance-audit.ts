/**
 * Timer trigger `complianceAudit` (schedule: the PORTCULLIS_AUDIT_SCHEDULE setting, default daily at 06:00): one
 * compliance audit of every managed instance. Thin: settings -> audit options, run the audit, log the summary.
 * One bad instance never fails the run (it becomes a finding); a storage failure does, and the next run retries.
 */
import type azf from "@azure/functions";
import { settings as appSettings, type Settings } from "../config.ts";
import { auditDeps, composition } from "../composition.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import { recordAuditTelemetry } from "../telemetry/runs.ts";
import type { AuditRunSummary, AuditTrigger } from "../domain/audit/run.ts";
import { auditEstate, type AuditEstateDependencies, type AuditEstateOptions } from "../workflows/audit-estate.ts";
import type { TimerFunctionDefinition } from "./definition.ts";

/** The audit's options from app settings: scope, zones, desired state, remediation and mode. */
export function auditOptionsFromSettings(s: Settings, trigger: AuditTrigger, requestedBy?: string): AuditEstateOptions {
  return {
    managedInstanceIds: s.PORTCULLIS_MANAGED_INSTANCES,
    managedSubscriptionIds: s.PORTCULLIS_MANAGED_SUBSCRIPTIONS,
    managedResourceTypes: ["Microsoft.ApiManagement/service"],
    defaultAction: s.PORTCULLIS_DEFAULT_ACTION,
    dnsZoneIds: s.PORTCULLIS_DNS_ZONE_IDS,
    policy: {
      publicAccessExemptIds: s.PORTCULLIS_PUBLIC_ACCESS_EXEMPT,
      publicAccessDisabledRequired: s.PORTCULLIS_PUBLIC_ACCESS_REQUIRE_DISABLED,
      pendingMaxAgeHours: s.PORTCULLIS_PENDING_MAX_AGE_HOURS,
      rejectedMaxAgeDays: s.PORTCULLIS_REJECTED_MAX_AGE_DAYS,
      capacityWarning: s.PORTCULLIS_CAPACITY_WARNING,
    },
    remediations: s.PORTCULLIS_REMEDIATE,
    mode: s.PORTCULLIS_MODE,
    concurrency: s.PORTCULLIS_ARM_CONCURRENCY,
    trigger,
    ...(requestedBy !== undefined ? { requestedBy } : {}),
  };
}

/** One line per run for the Functions log: score, counts and remediation outcomes. */
export function describeAuditRun(summary: AuditRunSummary): string {
  const severities = Object.entries(summary.openBySeverity).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ") || "none";
  const remediations = Object.entries(summary.remediations).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`).join(", ") || "none";
  return (
    `Audit ${summary.runId}: score ${summary.score}; ${summary.instances} instance(s) (${summary.unreadableInstances} unreadable), ` +
    `${summary.connections.total} connection(s); open findings: ${severities}; opened ${summary.opened}, resolved ${summary.resolvedInRun}; ` +
    `remediations: ${remediations}.`
  );
}

/** Runs one scheduled audit with the given dependencies (tests pass their own; the trigger uses the app's), logs it and records its score. */
export async function runComplianceAudit(
  context: azf.InvocationContext,
  getDeps: (warn: (message: string) => void) => Promise<AuditEstateDependencies>,
  s: Settings,
  telemetry: Telemetry = noTelemetry,
): Promise<AuditRunSummary> {
  const deps = await getDeps((message) => context.warn(message));
  const summary = await auditEstate(deps, auditOptionsFromSettings(s, "timer"));
  context.log(describeAuditRun(summary));
  recordAuditTelemetry(summary, telemetry);
  return summary;
}

export const complianceAudit: TimerFunctionDefinition = {
  kind: "timer",
  name: "complianceAudit",
  schedule: "%PORTCULLIS_AUDIT_SCHEDULE%",
  handler: async (_timer, context) => {
    await runComplianceAudit(context, auditDeps, appSettings(), await composition().telemetry());
  },
};
