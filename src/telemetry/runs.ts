/**
 * Metrics of whole runs, recorded by their triggers after the workflow returns: the sweep's duration (with whether
 * the rule set was usable), the Pending age of every connection it left for a human, and the audit's score.
 */
import type { AuditRunSummary } from "../domain/audit/run.ts";
import { resourceIdKey } from "../domain/resource-id.ts";
import type { Telemetry } from "../ports/telemetry.ts";
import type { EngineDeps } from "../workflows/engine-deps.ts";
import type { ReconcileSummary } from "../workflows/reconcile-pending.ts";
import { ATTR, METRIC } from "./names.ts";

const CONNECTIONS_SEGMENT = "/privateendpointconnections/";

/** The instance a connection ID belongs to (the ID up to /privateEndpointConnections/). */
function resourceIdOf(connectionId: string): string | undefined {
  const at = connectionId.toLowerCase().indexOf(CONNECTIONS_SEGMENT);
  return at === -1 ? undefined : connectionId.slice(0, at);
}

/**
 * Records the sweep's duration and, for each connection still Pending for a human, how long since Portcullis first
 * recorded it (one read of the decision log's latest decisions per instance; only when telemetry is on).
 */
export async function recordSweepTelemetry(summary: ReconcileSummary, deps: Pick<EngineDeps, "decisionLog" | "clock">, telemetry: Telemetry, warn: (message: string) => void): Promise<void> {
  if (!telemetry.enabled) return;
  const failures = summary.instanceFailures.length + summary.connectionFailures.length;
  telemetry.record(METRIC.sweepDuration, (summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000, {
    // A string, not a boolean: customDimensions holds strings, and the alert rules compare with "false".
    [ATTR.ruleSetUsable]: String(summary.ruleSetProblems === undefined),
    [ATTR.outcome]: failures > 0 ? "failures" : "ok",
    [ATTR.inventory]: summary.inventory,
  });
  const byService = new Map<string, string[]>();
  for (const connectionId of summary.awaitingManual) {
    const resourceId = resourceIdOf(connectionId);
    if (resourceId !== undefined) byService.set(resourceId, [...(byService.get(resourceId) ?? []), connectionId]);
  }
  const now = deps.clock.now().getTime();
  for (const [resourceId, connectionIds] of byService) {
    try {
      const latest = await deps.decisionLog.listLatestByResource(resourceId);
      for (const connectionId of connectionIds) {
        const since = latest.get(resourceIdKey(connectionId))?.firstRecordAt;
        if (since === undefined) continue;
        telemetry.record(METRIC.pendingAge, Math.max(0, (now - since.getTime()) / 1000), { [ATTR.connectionId]: connectionId, [ATTR.resourceId]: resourceId });
      }
    } catch (error) {
      warn(`Could not read Pending ages on ${resourceId} for telemetry: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Records an audit run's compliance score. */
export function recordAuditTelemetry(summary: AuditRunSummary, telemetry: Telemetry): void {
  telemetry.record(METRIC.auditScore, summary.score, { [ATTR.auditTrigger]: summary.trigger });
}
