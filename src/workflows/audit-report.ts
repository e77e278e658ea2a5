/**
 * Builds a compliance report from a stored run (the latest, or one by ID): its summary, instances, findings,
 * remediations, the scores of up to 30 runs ending with it, and the decisions made since the run before it.
 * Reports are rendered from what was stored, never from a live read of ARM: the run's rows, and the decision
 * log's records of the window [previous run's start, this run's start), which is append-only, so the same run
 * renders the same report tomorrow.
 */
import { compareFindings, type Finding } from "../domain/audit/findings.ts";
import type { InstanceSummary, RemediationRecord } from "../domain/audit/run.ts";
import type { DecisionRecord } from "../domain/decisions/decision.ts";
import { REPORTED_DECISIONS_LIMIT, reportedDecisions, type DecisionsSection } from "../domain/reports/decisions.ts";
import type { AuditReport } from "../domain/reports/report.ts";
import type { OperationOptions } from "../ports/arm.ts";
import type { AuditStore } from "../ports/audit-store.ts";
import type { DecisionLog } from "../ports/decision-log.ts";

/** Where a report is read from: the audit's rows and the decision log. */
export interface AuditReportSources {
  readonly auditStore: AuditStore;
  readonly decisionLog: Pick<DecisionLog, "query">;
}

/** How many runs the score chart shows. */
export const SCORE_HISTORY_RUNS = 30;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/**
 * The decision log's records that started in [from, to), oldest first, at most REPORTED_DECISIONS_LIMIT (and
 * whether there were more). Paged, so a busy window costs a bounded number of reads.
 */
async function decisionsInWindow(log: AuditReportSources["decisionLog"], from: string | undefined, to: string, options: OperationOptions): Promise<DecisionsSection> {
  const records: DecisionRecord[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await log.query(
      { ...(from !== undefined ? { from: new Date(from) } : {}), to: new Date(to) },
      { ...options, pageSize: 1000, ...(continuationToken !== undefined ? { continuationToken } : {}) },
    );
    records.push(...page.items);
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined && records.length <= REPORTED_DECISIONS_LIMIT * 4);
  return reportedDecisions(records, { from, to }, continuationToken !== undefined);
}

/** The report of run `runId` ("latest" for the latest completed run); undefined when there is no such run. */
export async function loadAuditReport(sources: AuditReportSources, runId: string, options: OperationOptions = {}): Promise<AuditReport | undefined> {
  const store = sources.auditStore;
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
  const previousRunStart = history.length >= 2 ? history.at(-2)!.startedAt : undefined;
  const decisions = await decisionsInWindow(sources.decisionLog, previousRunStart, summary.startedAt, options);
  return {
    summary,
    instances: instances.sort((a: InstanceSummary, b: InstanceSummary) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId)),
    findings: findings.sort((a: Finding, b: Finding) => compareFindings(a, b)),
    remediations: remediations.sort((a: RemediationRecord, b: RemediationRecord) => a.sequence - b.sequence),
    history,
    decisions,
  };
}
