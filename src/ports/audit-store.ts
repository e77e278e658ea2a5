/**
 * Where audit runs, their findings, suppressions and connection sightings live. Implemented over Table
 * Storage by src/adapters/tables/audit-store.ts (keys documented there) and in memory for unit tests.
 *
 * A run becomes visible (latest pointer, score history) only through `completeRun`, after all its findings
 * are stored, so a run that dies half-way never becomes the "previous run" of the next one.
 * Storage failures throw a PortcullisError of kind `transient`.
 */
import type { Finding, Suppression } from "../domain/audit/findings.ts";
import type { AuditRunSummary, InstanceSummary, RemediationRecord, ScorePoint } from "../domain/audit/run.ts";
import type { ConnectionSighting } from "../domain/audit/sightings.ts";
import type { OperationOptions } from "./arm.ts";

/** The scope of findings that belong to no instance (rules, unreadable zones). */
export const ESTATE_SCOPE = "";

export interface AuditStore {
  /** The latest completed run, or undefined before the first. */
  getLatestRunId(options?: OperationOptions): Promise<string | undefined>;
  getRunSummary(runId: string, options?: OperationOptions): Promise<AuditRunSummary | undefined>;
  /** The scores of up to `limit` completed runs that started at or before `until`, oldest first. */
  listScoreHistory(until: AuditRunSummary, limit: number, options?: OperationOptions): Promise<ScorePoint[]>;
  listInstanceSummaries(runId: string, options?: OperationOptions): AsyncIterable<InstanceSummary>;
  /** A run's findings in one scope: an instance ID, or ESTATE_SCOPE. */
  listFindings(runId: string, scope: string, options?: OperationOptions): Promise<Finding[]>;
  /** Every finding of a run, scope by scope. */
  listAllFindings(runId: string, options?: OperationOptions): AsyncIterable<Finding>;
  listRemediations(runId: string, options?: OperationOptions): AsyncIterable<RemediationRecord>;

  /** Stores (replaces) a run's findings of one scope. */
  putFindings(runId: string, scope: string, findings: readonly Finding[], options?: OperationOptions): Promise<void>;
  putInstanceSummary(runId: string, summary: InstanceSummary, options?: OperationOptions): Promise<void>;
  putRemediation(record: RemediationRecord, options?: OperationOptions): Promise<void>;
  /** Stores the summary, adds the run to the score history and moves the latest pointer to it. */
  completeRun(summary: AuditRunSummary, options?: OperationOptions): Promise<void>;

  listSuppressions(options?: OperationOptions): Promise<Suppression[]>;
  /** Creates or replaces the suppression of one finding. */
  putSuppression(suppression: Suppression, options?: OperationOptions): Promise<void>;
  /** Removes a suppression; resolves also when there was none. */
  deleteSuppression(findingId: string, options?: OperationOptions): Promise<void>;

  /** When audits first saw each connection of an instance in its current status. */
  listSightings(instanceId: string, options?: OperationOptions): Promise<ConnectionSighting[]>;
  /** Applies sighting changes for one instance. */
  updateSightings(
    instanceId: string,
    changes: { readonly upserts: readonly ConnectionSighting[]; readonly deletes: readonly ConnectionSighting[] },
    options?: OperationOptions,
  ): Promise<void>;
}
