/**
 * Builds a compliance report from a stored run (the latest, or one by ID): its summary, instances, findings,
 * remediations and the scores of up to 30 runs ending with it. Reports are always rendered from what was
 * stored, never from a live read, so the same run renders the same report tomorrow.
 */
import { compareFindings, type Finding } from "../domain/audit/findings.ts";
import type { InstanceSummary, RemediationRecord } from "../domain/audit/run.ts";
import type { AuditReport } from "../domain/reports/report.ts";
import type { OperationOptions } from "../ports/arm.ts";
import type { AuditStore } from "../ports/audit-store.ts";

/** How many runs the score chart shows. */
export const SCORE_HISTORY_RUNS = 30;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** The report of run `runId` ("latest" for the latest completed run); undefined when there is no such run. */
export async function loadAuditReport(store: AuditStore, runId: string, options: OperationOptions = {}): Promise<AuditReport | undefined> {
  const id = runId === "latest" ? await store.getLatestRunId(options) : runId;
  if (id === undefined) return undefined;
  const summary = await store.getRunSummary(id, options);
  if (summary === undefined) return undefined;
  const [instances, findings, remediations, history] = await Promise.all([
    collect(store.listInstanceSummaries(id, options)),
    collect(store.listAllFindings(id, options)),
    collect(store.listRemediations(id, options)),
    store.listScoreHistory(summary, SCORE_HISTORY_RUNS, options),
  ]);
  return {
    summary,
    instances: instances.sort((a: InstanceSummary, b: InstanceSummary) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId)),
    findings: findings.sort((a: Finding, b: Finding) => compareFindings(a, b)),
    remediations: remediations.sort((a: RemediationRecord, b: RemediationRecord) => a.sequence - b.sequence),
    history,
  };
}
