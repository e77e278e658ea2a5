/**
 * auditEstate: one compliance audit run. Read -> decide -> apply, one instance (governed resource of any registered
 * Private Link type) at a time with bounded concurrency, so the estate is streamed rather than held:
 *
 *   for each managed instance (listed once):  read its snapshot (ARM + decision log + sightings + what
 *                                               Portcullis wrote to its A records)
 *                                             -> checks -> lifecycle against the previous run, within what
 *                                               this run could evaluate (coverage.ts) -> plan
 *                                             -> apply the enabled part of the plan (enforce mode only),
 *                                               remembering every DNS write in the ownership store
 *                                             -> store its findings, summary, remediations; tally; notify
 *   then: estate-wide checks (rules, unreadable zones); instances of the previous run not audited now:
 *         resolve the findings of those that are gone, carry those outside the scope as not evaluated;
 *         store the summary, move the latest pointer; announce ReportReady.
 *
 * With an inventory (PORTCULLIS_INVENTORY=resource-graph) the snapshots come from Resource Graph (audit-gather.ts);
 * an instance whose inventory view would open a critical or high finding, or plan a change, is read again from ARM
 * and judged on that, since Resource Graph can lag ARM.
 *
 * One bad instance never aborts the run: ARM read failures become findings. Storage failures do abort it
 * (nothing could be recorded), and since the latest pointer moves only at the end, the half run is ignored.
 */
import { randomBytes } from "node:crypto";
import { parseResourceId, resourceIdKey } from "../domain/resource-id.ts";
import { evaluateChecks, type AuditPolicy, type CheckContext } from "../domain/audit/checks.ts";
import { coverageOfInstanceNotAudited, estateCoverage, instanceCoverage } from "../domain/audit/coverage.ts";
import { analyzeInstanceDns, type InstanceDnsAnalysis } from "../domain/audit/dns.ts";
import { severityRank, type Finding, type Observation, type Suppression } from "../domain/audit/findings.ts";
import { connectionHistory } from "../domain/audit/history.ts";
import { nextFindings, type LifecycleResult } from "../domain/audit/lifecycle.ts";
import { planRemediation, selectEnabledChanges, type PlannedChange, type RemediationName } from "../domain/audit/plan.ts";
import {
  emptyTally,
  runIdFor,
  summarizeInstance,
  summarizeRun,
  tallyInstance,
  tallyOtherFindings,
  tallyRemediations,
  type AuditRunSummary,
  type AuditTrigger,
  type RemediationOutcome,
  type RemediationRecord,
  type RunTally,
} from "../domain/audit/run.ts";
import { reconcileSightings } from "../domain/audit/sightings.ts";
import { aRecordId, type InstanceSnapshot, type RuleSetHealth } from "../domain/audit/snapshot.ts";
import { normalizeIps } from "../domain/audit/dns.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { DefaultAction } from "../domain/rules/evaluate.ts";
import type { RuleSetSnapshot } from "../domain/rules/rule-set.ts";
import type { ARecordSet } from "../domain/model.ts";
import type { ArmPorts } from "../ports/arm.ts";
import { ESTATE_SCOPE, type AuditStore } from "../ports/audit-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { ComplianceNotification, ComplianceNotificationPublisher } from "../ports/compliance-notifications.ts";
import type { DecisionLog } from "../ports/decision-log.ts";
import type { DnsOwnershipStore } from "../ports/dns-ownership-store.ts";
import type { InventoryPort } from "../ports/inventory.ts";
import type { RuleStore } from "../ports/rule-store.ts";
import { forEachConcurrently } from "./concurrency.ts";
import { createAuditGatherer, type AuditTarget, type GatheredInstance } from "./audit-gather.ts";
import { ARM_READ_BUDGET, createArmCallLimiter, type ReadBudget } from "./audit-limiter.ts";

/** Actor recorded on every remediation the audit makes. */
export const AUDIT_ACTOR = "portcullis-audit";

export interface AuditEstateDependencies {
  readonly arm: ArmPorts;
  readonly auditStore: AuditStore;
  readonly decisionLog: Pick<DecisionLog, "listLatestByResource">;
  /** What Portcullis wrote to which A record: DNS repair rewrites only records that still match it. */
  readonly dnsOwnership: DnsOwnershipStore;
  readonly ruleStore: Pick<RuleStore, "getRuleSet">;
  readonly notifications: ComplianceNotificationPublisher;
  readonly clock: Clock;
  /** Where non-fatal problems (a notification that could not be published) are reported. */
  readonly warn?: (message: string) => void;
  /**
   * PORTCULLIS_INVENTORY=resource-graph: where the managed subscriptions' instances, connections, endpoints and NICs
   * come from. Absent: ARM listings and reads.
   */
  readonly inventory?: InventoryPort | undefined;
}

export interface AuditEstateOptions {
  /** Resources named one by one (any registered type), audited whatever managedResourceTypes says. */
  readonly managedInstanceIds: readonly string[];
  /** Subscriptions whose resources of every managed type are audited. */
  readonly managedSubscriptionIds: readonly string[];
  /** The registered types the subscriptions are listed for (the engine's governed types). */
  readonly managedResourceTypes: readonly string[];
  /** What the engine does when no rule matches (PORTCULLIS_DEFAULT_ACTION): checks that ask what the rules would decide use it. */
  readonly defaultAction?: DefaultAction;
  readonly dnsZoneIds: readonly string[];
  readonly policy: AuditPolicy;
  /** Remediations switched on (PORTCULLIS_REMEDIATE); none by default. */
  readonly remediations: readonly RemediationName[];
  /** dry-run records what remediation would change and changes nothing. */
  readonly mode: "enforce" | "dry-run";
  /** At most this many ARM calls in flight (PORTCULLIS_ARM_CONCURRENCY); also the number of instances in flight. */
  readonly concurrency: number;
  /** Read pacing per subscription; default ARM's budget. `null` disables pacing. */
  readonly readBudget?: ReadBudget | null;
  /** false reads every zone again for every instance (the benchmark's naive baseline). Default true. */
  readonly cacheZones?: boolean;
  readonly trigger: AuditTrigger;
  readonly requestedBy?: string;
  readonly abortSignal?: AbortSignal;
}

function toRuleSetHealth(snapshot: Awaited<ReturnType<RuleStore["getRuleSet"]>>): RuleSetHealth {
  return snapshot.status === "usable"
    ? { status: "usable", problems: [] }
    : { status: "unusable", problems: snapshot.problems.map((p) => `${p.rowKey}: ${p.message}`) };
}

async function readRuleSet(ruleStore: AuditEstateDependencies["ruleStore"]): Promise<{ health: RuleSetHealth; ruleSet: RuleSetSnapshot | undefined }> {
  try {
    const ruleSet = await ruleStore.getRuleSet();
    return { health: toRuleSetHealth(ruleSet), ruleSet: ruleSet.status === "usable" ? ruleSet : undefined };
  } catch (error) {
    return { health: { status: "unusable", problems: [`the rule store could not be read: ${toPortcullisError(error).message}`] }, ruleSet: undefined };
  }
}

function outcomeOf(error: unknown): { outcome: RemediationOutcome; message: string } {
  const e = toPortcullisError(error);
  if (e.kind === "precondition-failed") return { outcome: "skipped-concurrent-change", message: `left alone: it changed since it was read (${e.message})` };
  if (e.kind === "invalid-input" || e.kind === "conflict" || e.kind === "forbidden") return { outcome: "refused", message: `${e.kind}: ${e.message}` };
  return { outcome: "failed", message: `${e.kind}: ${e.message}` };
}

/** The subscriptions of Portcullis' own estate: managed subscriptions, and those of managed instances and configured zones. */
function estateSubscriptionIds(options: AuditEstateOptions): string[] {
  const ofIds = [...options.managedInstanceIds, ...options.dnsZoneIds].flatMap((id) => parseResourceId(id)?.subscriptionId ?? []);
  return [...new Set([...options.managedSubscriptionIds, ...ofIds].map((s) => s.toLowerCase()))];
}

/** True when what the inventory showed would open a high-severity finding or change something: confirm it from ARM first. */
function needsArmConfirmation(observations: readonly Observation[], changes: readonly PlannedChange[]): boolean {
  return changes.length > 0 || observations.some((o) => severityRank(o.severity) <= severityRank("high"));
}

/** Runs one audit and returns its stored summary. */
export async function auditEstate(deps: AuditEstateDependencies, options: AuditEstateOptions): Promise<AuditRunSummary> {
  const { arm, auditStore, clock } = deps;
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const startedAt = clock.now();
  const runId = runIdFor(startedAt, randomBytes(4).toString("hex"));
  const limiter = createArmCallLimiter({
    concurrency: options.concurrency,
    readBudget: options.readBudget === null ? undefined : (options.readBudget ?? ARM_READ_BUDGET),
  });
  const gatherer = createAuditGatherer({
    arm,
    limiter,
    dnsOwnership: deps.dnsOwnership,
    configuredZoneIds: options.dnsZoneIds,
    cacheZones: options.cacheZones ?? true,
    inventory: deps.inventory,
    ...signal,
  });
  const { health: rules, ruleSet } = await readRuleSet(deps.ruleStore);
  const context: CheckContext = {
    policy: options.policy,
    now: startedAt,
    estateSubscriptionIds: estateSubscriptionIds(options),
    rules: ruleSet === undefined ? undefined : { ruleSet, defaultAction: options.defaultAction ?? "manual" },
  };
  const previousRunId = await auditStore.getLatestRunId(signal);
  const suppressions = new Map<string, Suppression>((await auditStore.listSuppressions(signal)).map((s) => [s.findingId, s]));
  let tally: RunTally = emptyTally();
  let sequence = 0;
  const audited = new Set<string>();

  async function notify(notifications: readonly ComplianceNotification[]): Promise<void> {
    if (notifications.length === 0) return;
    try {
      await deps.notifications.publish(notifications, signal);
    } catch (error) {
      deps.warn?.(`compliance notifications not published: ${toPortcullisError(error).message}`);
    }
  }

  function transitions(lifecycle: LifecycleResult): ComplianceNotification[] {
    const time = clock.now();
    return [
      ...lifecycle.opened.map((finding): ComplianceNotification => ({ type: "Portcullis.Compliance.FindingOpened", runId, finding, time })),
      ...lifecycle.resolved.map((finding): ComplianceNotification => ({ type: "Portcullis.Compliance.FindingResolved", runId, finding, time })),
    ];
  }

  async function withHistory(gathered: GatheredInstance): Promise<InstanceSnapshot> {
    if (gathered.failure !== undefined) return { ...gathered, connections: [] };
    const previous = await auditStore.listSightings(gathered.instanceId, signal);
    const sightings = reconcileSightings(previous, gathered.connections.map((c) => c.connection), startedAt);
    if (sightings.upserts.length > 0 || sightings.deletes.length > 0) await auditStore.updateSightings(gathered.instanceId, sightings, signal);
    const decisions = gathered.connections.length > 0 ? await deps.decisionLog.listLatestByResource(gathered.instanceId, signal) : new Map();
    const connections = gathered.connections.map((c) => {
      const key = resourceIdKey(c.connection.id);
      return { ...c, history: connectionHistory(decisions.get(key), sightings.current.get(key)) };
    });
    return { ...gathered, connections };
  }

  async function apply(change: PlannedChange): Promise<{ outcome: RemediationOutcome; message: string | undefined; written?: ARecordSet }> {
    if (options.mode === "dry-run") return { outcome: "dry-run", message: "PORTCULLIS_MODE is dry-run: not applied" };
    try {
      switch (change.kind) {
        case "disable-public-network-access": {
          const value = change.value ?? "Disabled";
          await limiter.write(() => arm.privateLink.setPublicNetworkAccess(change.instanceId, value, signal));
          return { outcome: "applied", message: `public network access set to ${value}` };
        }
        case "put-a-record": {
          const written = await limiter.write(() =>
            arm.privateDns.putARecord(change.zoneId, change.recordName, change.ipv4Addresses, {
              ...signal,
              ttl: change.ttl,
              metadata: change.metadata,
              ...(change.ifMatch !== undefined ? { ifMatch: change.ifMatch } : { ifNoneMatch: "*" as const }),
            }),
          );
          return { outcome: "applied", message: `A record set to ${change.ipv4Addresses.join(", ")}`, written };
        }
        case "delete-a-record":
          await limiter.write(() => arm.privateDns.deleteARecord(change.zoneId, change.recordName, { ...signal, ifMatch: change.ifMatch }));
          return { outcome: "applied", message: "A record deleted (no approved endpoint uses it)" };
      }
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /**
   * Remembers what an applied DNS change left in the zone, so the next run repairs the record only while it still
   * holds these IPs. Outside apply's catch: a storage failure stops the run instead of being recorded as ARM's.
   */
  async function rememberDnsWrite(change: PlannedChange, written: ARecordSet | undefined): Promise<void> {
    if (change.kind === "delete-a-record") {
      await deps.dnsOwnership.deleteWrittenRecord(change.zoneId, change.recordName, signal);
      return;
    }
    if (change.kind !== "put-a-record") return;
    if (written?.etag === undefined) {
      // Without an ETag no later write could be conditional: forget the record rather than own it blindly.
      await deps.dnsOwnership.deleteWrittenRecord(change.zoneId, change.recordName, signal);
      return;
    }
    await deps.dnsOwnership.putWrittenRecord(
      {
        recordId: aRecordId(change.zoneId, change.recordName.toLowerCase()),
        zoneId: change.zoneId,
        recordName: change.recordName.toLowerCase(),
        ipv4Addresses: normalizeIps(written.ipv4Addresses),
        etag: written.etag,
        writtenAt: clock.now().toISOString(),
        runId,
      },
      signal,
    );
  }

  async function remediate(snapshot: InstanceSnapshot, observations: readonly Observation[], dns: InstanceDnsAnalysis): Promise<RemediationRecord[]> {
    const changes = selectEnabledChanges(planRemediation(snapshot, dns, observations), options.remediations);
    const records: RemediationRecord[] = [];
    for (const change of changes) {
      const { outcome, message, written } = await apply(change);
      if (outcome === "applied") await rememberDnsWrite(change, written);
      sequence += 1;
      const record: RemediationRecord = { runId, sequence, recordedAt: clock.now().toISOString(), actor: AUDIT_ACTOR, change, outcome, message };
      await auditStore.putRemediation(record, signal);
      records.push(record);
    }
    return records;
  }

  /** Reads and evaluates one instance (see auditInstance for when the inventory's view is confirmed from ARM). */
  async function evaluateInstance(target: AuditTarget) {
    const snapshot = await withHistory(await gatherer.readInstance(target));
    const dns = analyzeInstanceDns(snapshot);
    const observations = evaluateChecks({ kind: "instance", snapshot, dns }, context);
    return { snapshot, dns, observations };
  }

  async function auditInstance(target: AuditTarget): Promise<void> {
    let evaluated = await evaluateInstance(target);
    // The inventory (Resource Graph) can lag ARM: before a high-severity finding opens or anything is planned to change,
    // the instance is read again from ARM and evaluated on that. The rest stands on the inventory's view.
    if (target.inventory !== undefined && needsArmConfirmation(evaluated.observations, selectEnabledChanges(planRemediation(evaluated.snapshot, evaluated.dns, evaluated.observations), options.remediations))) {
      const { inventory: _view, ...fromArm } = target;
      evaluated = await evaluateInstance(fromArm);
      // Gone from ARM, not yet from Resource Graph: as if the listing had not returned it (its findings resolve as gone).
      if (evaluated.snapshot.failure?.kind === "not-found") return;
    }
    const { snapshot, dns, observations } = evaluated;
    audited.add(resourceIdKey(snapshot.instanceId));
    const previous = previousRunId ? await auditStore.listFindings(previousRunId, snapshot.instanceId, signal) : [];
    const lifecycle = nextFindings({ previous, observations, coverage: instanceCoverage(snapshot, dns), suppressions, now: startedAt });
    const remediations = await remediate(snapshot, observations, dns);
    const summary = summarizeInstance(snapshot, lifecycle.findings);
    await auditStore.putFindings(runId, snapshot.instanceId, lifecycle.findings, signal);
    await auditStore.putInstanceSummary(runId, summary, signal);
    tally = tallyRemediations(tallyInstance(tally, summary, { findings: lifecycle.findings, opened: lifecycle.opened.length, resolved: lifecycle.resolved.length }), remediations);
    await notify(transitions(lifecycle));
  }

  /**
   * Instances the previous run reported and this one did not audit: gone (their findings resolve), or outside this
   * run's scope or in a subscription that could not be listed (their findings are carried, not evaluated). Read
   * from the previous run's findings, so an instance carried for several runs keeps being carried.
   */
  async function carryInstancesNotAudited(): Promise<void> {
    if (!previousRunId) return;
    const scope = {
      instanceIds: options.managedInstanceIds,
      subscriptionIds: options.managedSubscriptionIds,
      resourceTypes: options.managedResourceTypes,
      unlistedScopeIds: gatherer.unlistedScopeIds(),
    };
    const notAudited = new Map<string, { instanceId: string; findings: Finding[] }>();
    for await (const finding of auditStore.listAllFindings(previousRunId, signal)) {
      if (finding.instanceId === undefined || audited.has(resourceIdKey(finding.instanceId))) continue;
      const key = resourceIdKey(finding.instanceId);
      const group = notAudited.get(key) ?? { instanceId: finding.instanceId, findings: [] };
      group.findings.push(finding);
      notAudited.set(key, group);
    }
    for (const { instanceId, findings: previous } of notAudited.values()) {
      const lifecycle = nextFindings({ previous, observations: [], coverage: coverageOfInstanceNotAudited(instanceId, scope), suppressions, now: startedAt });
      if (lifecycle.findings.length > 0) await auditStore.putFindings(runId, instanceId, lifecycle.findings, signal);
      tally = tallyOtherFindings(tally, { findings: lifecycle.findings, opened: lifecycle.opened.length, resolved: lifecycle.resolved.length });
      await notify(transitions(lifecycle));
    }
  }

  async function auditEstateWide(): Promise<void> {
    const observations = evaluateChecks({ kind: "estate", estate: { rules, unreadableZones: gatherer.unreadableZones() } }, context);
    const previous: Finding[] = previousRunId ? await auditStore.listFindings(previousRunId, ESTATE_SCOPE, signal) : [];
    const lifecycle = nextFindings({ previous, observations, coverage: estateCoverage(gatherer.examinedZoneIds()), suppressions, now: startedAt });
    await auditStore.putFindings(runId, ESTATE_SCOPE, lifecycle.findings, signal);
    tally = tallyOtherFindings(tally, { findings: lifecycle.findings, opened: lifecycle.opened.length, resolved: lifecycle.resolved.length });
    await notify(transitions(lifecycle));
  }

  await forEachConcurrently(gatherer.listTargets(options.managedInstanceIds, options.managedSubscriptionIds, options.managedResourceTypes), options.concurrency, auditInstance);
  await auditEstateWide();
  await carryInstancesNotAudited();
  const summary = summarizeRun(
    { runId, startedAt: startedAt.toISOString(), finishedAt: clock.now().toISOString(), trigger: options.trigger, requestedBy: options.requestedBy, mode: options.mode },
    tally,
  );
  await auditStore.completeRun(summary, signal);
  await notify([{ type: "Portcullis.Compliance.ReportReady", runId, summary, time: clock.now() }]);
  return summary;
}
