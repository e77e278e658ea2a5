/**
 * In-memory stand-ins for the audit workflow's non-ARM ports: an AuditStore with the Table adapter's
 * semantics (a run is visible only once completed; findings per scope), a decision log, a rule store and a
 * notification recorder. Values are cloned through JSON on the way in and out, as storage would.
 */
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import { latestDecisionsByConnection } from "../../src/domain/decisions/latest-decisions.ts";
import { resourceIdKey } from "../../src/domain/resource-id.ts";
import type { Finding, Suppression } from "../../src/domain/audit/findings.ts";
import type { AuditRunSummary, InstanceSummary, RemediationRecord } from "../../src/domain/audit/run.ts";
import type { ConnectionSighting } from "../../src/domain/audit/sightings.ts";
import type { RuleSetSnapshot } from "../../src/domain/rules/rule-set.ts";
import type { AuditStore } from "../../src/ports/audit-store.ts";
import type { ComplianceNotification, ComplianceNotificationPublisher } from "../../src/ports/compliance-notifications.ts";
import type { DecisionLog } from "../../src/ports/decision-log.ts";
import type { RuleStore } from "../../src/ports/rule-store.ts";
import type { WrittenRecord } from "../../src/domain/audit/ownership.ts";
import type { DnsOwnershipStore } from "../../src/ports/dns-ownership-store.ts";
import { decisionRecord } from "../fakes/decision-records.ts";

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export interface MemoryAuditStore extends AuditStore {
  readonly runs: Map<string, { summary?: AuditRunSummary; instances: Map<string, InstanceSummary>; findings: Map<string, Finding[]>; remediations: RemediationRecord[] }>;
  readonly suppressions: Map<string, Suppression>;
  readonly sightings: Map<string, Map<string, ConnectionSighting>>;
  /** Every finding of a run, all scopes. */
  findingsOf(runId: string): Finding[];
}

export function createMemoryAuditStore(): MemoryAuditStore {
  const runs: MemoryAuditStore["runs"] = new Map();
  const completed: string[] = [];
  const suppressions = new Map<string, Suppression>();
  const sightings = new Map<string, Map<string, ConnectionSighting>>();
  const runOf = (runId: string) => {
    let run = runs.get(runId);
    if (!run) {
      run = { instances: new Map(), findings: new Map(), remediations: [] };
      runs.set(runId, run);
    }
    return run;
  };
  const scopeKey = (scope: string) => resourceIdKey(scope);
  return {
    runs,
    suppressions,
    sightings,
    findingsOf: (runId) => [...(runs.get(runId)?.findings.values() ?? [])].flat().map(clone),
    async getLatestRunId() {
      return completed.at(-1);
    },
    async getRunSummary(runId) {
      const summary = runs.get(runId)?.summary;
      return summary && clone(summary);
    },
    async listScoreHistory(until, limit) {
      const index = completed.indexOf(until.runId);
      return completed.slice(Math.max(0, index + 1 - limit), index + 1).map((runId) => {
        const s = runs.get(runId)!.summary!;
        return { runId, startedAt: s.startedAt, score: s.score };
      });
    },
    async *listInstanceSummaries(runId) {
      for (const s of runs.get(runId)?.instances.values() ?? []) yield clone(s);
    },
    async listFindings(runId, scope) {
      return clone(runs.get(runId)?.findings.get(scopeKey(scope)) ?? []);
    },
    async *listAllFindings(runId) {
      for (const list of runs.get(runId)?.findings.values() ?? []) yield* clone(list);
    },
    async *listRemediations(runId) {
      yield* clone(runs.get(runId)?.remediations ?? []);
    },
    async putFindings(runId, scope, findings) {
      runOf(runId).findings.set(scopeKey(scope), clone([...findings]));
    },
    async putInstanceSummary(runId, summary) {
      runOf(runId).instances.set(resourceIdKey(summary.instanceId), clone(summary));
    },
    async putRemediation(record) {
      runOf(record.runId).remediations.push(clone(record));
    },
    async completeRun(summary) {
      runOf(summary.runId).summary = clone(summary);
      completed.push(summary.runId);
    },
    async listSuppressions() {
      return [...suppressions.values()].map(clone);
    },
    async putSuppression(s) {
      suppressions.set(s.findingId, clone(s));
    },
    async deleteSuppression(findingId) {
      suppressions.delete(findingId);
    },
    async listSightings(instanceId) {
      return [...(sightings.get(resourceIdKey(instanceId))?.values() ?? [])].map(clone);
    },
    async updateSightings(instanceId, changes) {
      const map = sightings.get(resourceIdKey(instanceId)) ?? new Map<string, ConnectionSighting>();
      for (const s of changes.upserts) map.set(resourceIdKey(s.connectionId), clone(s));
      for (const s of changes.deletes) map.delete(resourceIdKey(s.connectionId));
      sightings.set(resourceIdKey(instanceId), map);
    },
  };
}

/** A decision log holding the given records (the latest decisions of an instance, which is all the audit reads). */
export function createMemoryDecisionLog(records: DecisionRecord[] = []): Pick<DecisionLog, "listLatestByResource"> & { records: DecisionRecord[] } {
  return {
    records,
    async listLatestByResource(resourceId) {
      return latestDecisionsByConnection(records.filter((r) => resourceIdKey(r.resourceId) === resourceIdKey(resourceId)));
    },
  };
}

/** A rule store whose rule set the test sets. */
export function createStaticRuleStore(snapshot: RuleSetSnapshot = { status: "usable", rules: [], version: "v0" }): Pick<RuleStore, "getRuleSet"> & { snapshot: RuleSetSnapshot } {
  const store = {
    snapshot,
    async getRuleSet() {
      return store.snapshot;
    },
  };
  return store;
}

export function createNotificationRecorder(): ComplianceNotificationPublisher & { sent: ComplianceNotification[] } {
  const sent: ComplianceNotification[] = [];
  return {
    sent,
    async publish(notifications) {
      sent.push(...notifications);
    },
  };
}

/** A decision record approving a connection through a rule (the fields the audit reads; the rest neutral). */
export function approvalRecord(connectionId: string, resourceId: string, at: Date): DecisionRecord {
  return decisionRecord({
    id: `d-${at.getTime()}`,
    connectionId,
    resourceId,
    ruleId: "allow-app-one",
    ruleVersion: 1,
    action: "approve",
    actor: "rule:allow-app-one",
    reason: "trusted subscription",
    statusAfter: "Approved",
    outcome: "applied",
    startedAt: at,
  });
}

/** An in-memory DNS ownership store, keyed like the Table adapter (zone, lower-case record name). */
export function createMemoryDnsOwnershipStore(): DnsOwnershipStore & { readonly entries: Map<string, WrittenRecord> } {
  const entries = new Map<string, WrittenRecord>();
  const key = (zoneId: string, recordName: string) => `${resourceIdKey(zoneId)}|${recordName.toLowerCase()}`;
  return {
    entries,
    async listWrittenRecords(zoneId) {
      return [...entries.values()].filter((r) => resourceIdKey(r.zoneId) === resourceIdKey(zoneId)).map(clone);
    },
    async putWrittenRecord(record) {
      entries.set(key(record.zoneId, record.recordName), clone(record));
    },
    async deleteWrittenRecord(zoneId, recordName) {
      entries.delete(key(zoneId, recordName));
    },
  };
}
