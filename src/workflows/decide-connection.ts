/**
 * decideConnection: the one place a connection is decided, used by the event path, the sweep and (through
 * claimed-decision.ts) the manual API. Events are hints and state is truth: it always re-reads from ARM.
 *
 *   read:   the connection (unless just listed), its private endpoint (403 → facts unknown), the rule set, the claim
 *   decide: evaluateRules → planPendingDecision / planObservedStatus (pure, src/domain/decisions/decision-plan.ts)
 *   apply:  take the claim → re-read → ARM write + wait + confirm → append records → settle → notify
 */
import { isLeaseActive, isLeaseHeldByAnotherRun, type ClaimKey, type ConnectionClaim } from "../domain/decisions/decision-claim.ts";
import {
  actorOf,
  isEmptyPlan,
  notificationFor,
  planObservedStatus,
  planPendingDecision,
  type DecisionContext,
  type PendingPlan,
} from "../domain/decisions/decision-plan.ts";
import { isManagedInstance } from "../domain/decisions/decision-scope.ts";
import type { ConnectionNotificationType, DecisionRecord, RecordedStatus } from "../domain/decisions/decision.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpoint, PrivateEndpointConnection } from "../domain/model.ts";
import { parsePrivateEndpointId, serviceIdOfConnection } from "../domain/resource-id.ts";
import { evaluateRules, type RuleEvaluation } from "../domain/rules/evaluate.ts";
import { connectionFacts } from "../domain/rules/facts.ts";
import {
  expireLease,
  MAIN_RECORD,
  notify,
  recordOf,
  settleClaim,
  takeClaim,
  writeStatus,
  type HeldClaim,
  type WriteProgress,
} from "./claimed-decision.ts";
import type { EngineDeps } from "./engine-deps.ts";

/** What happened to one connection in one run. */
export type ConnectionOutcome =
  /** Approved or rejected by Portcullis and recorded by this run (ARM confirmed it; possibly an earlier run's write). */
  | "approved"
  | "rejected"
  /** Dry-run: what enforce mode would have done. */
  | "would-approve"
  | "would-reject"
  /** Pending for a human (rule action manual, default manual, or rules failing closed). */
  | "awaiting-manual"
  /** ARM refused the write; recorded, retried after a back-off. */
  | "failed"
  /** ARM refused the write recently; not retried yet. */
  | "retry-later"
  /** Approved or Rejected already (recorded now as out-of-band, or earlier). */
  | "settled"
  /** Gone from ARM (recorded once). */
  | "deleted"
  /** Another run holds the claim; this run did nothing. */
  | "claimed-elsewhere"
  | "not-found"
  | "unmanaged";

export interface ConnectionDecision {
  readonly connectionId: string;
  readonly outcome: ConnectionOutcome;
  /** The connection's status after this run, as far as this run knows. */
  readonly status: RecordedStatus | undefined;
  /** Records this run appended (empty when the log already held everything). */
  readonly records: readonly DecisionRecord[];
  /** One line for the log: who or which rule decided and why. */
  readonly summary: string;
  readonly evaluation?: RuleEvaluation | undefined;
}

export interface DecideConnectionRequest {
  readonly connectionId: string;
  /** The connection as just listed or read, saving one read; the write still re-reads it right before acting. */
  readonly connection?: PrivateEndpointConnection | undefined;
  /** The requester's tenant where an event revealed it (consumer-side events only). */
  readonly requesterTenantId?: string | undefined;
  readonly context: DecisionContext;
}

/** Decides one connection: Pending ones by the rules, settled ones recorded as out-of-band once. */
export async function decideConnection(request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const serviceId = serviceIdOfConnection(request.connectionId);
  if (serviceId === undefined || !isManagedInstance(deps.scope, serviceId)) {
    return result(request.connectionId, "unmanaged", undefined, [], "not a connection of a managed instance; ignored");
  }
  const connection = request.connection ?? (await deps.apim.getConnection(request.connectionId));
  if (connection === undefined) return result(request.connectionId, "not-found", undefined, [], "the connection does not exist (any more)");
  if (connection.status !== "Pending") return recordObservedStatus(connection, request, deps);
  return decidePending(connection, request, deps);
}

/** Reads the consumer's endpoint for facts; a 403 (other subscription or tenant) leaves them unknown. */
async function readEndpoint(privateEndpointId: string | undefined, deps: EngineDeps): Promise<PrivateEndpoint | undefined> {
  if (privateEndpointId === undefined) return undefined;
  try {
    return await deps.network.getPrivateEndpoint(privateEndpointId);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "forbidden" || failure.kind === "invalid-input") return undefined;
    throw failure;
  }
}

function claimKeyOf(connection: PrivateEndpointConnection): ClaimKey {
  return { connectionId: connection.id, privateEndpointId: connection.privateEndpointId };
}

async function decidePending(connection: PrivateEndpointConnection, request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const endpoint = await readEndpoint(connection.privateEndpointId, deps);
  const facts = connectionFacts(connection, { endpoint, requesterTenantId: request.requesterTenantId });
  const ruleSet = await deps.ruleStore.getRuleSet();
  const now = deps.clock.now();
  const evaluation = evaluateRules(facts, ruleSet, { now, defaultAction: deps.defaultAction });
  const claim = await deps.claims.get(claimKeyOf(connection));
  const plan = planPendingDecision({ facts, evaluation, mode: deps.mode, claim, now, context: request.context });
  const decided = (outcome: ConnectionOutcome, status: RecordedStatus | undefined, records: readonly DecisionRecord[], summary: string) =>
    result(connection.id, outcome, status, records, summary, evaluation);
  if (isLeaseActive(claim, now)) return decided("claimed-elsewhere", "Pending", [], "another run is deciding this connection");
  if (isEmptyPlan(plan)) {
    if (plan.retryNotBefore !== undefined) {
      return decided("retry-later", "Pending", [], `ARM refused this decision earlier; retried after ${plan.retryNotBefore.toISOString()}`);
    }
    return decided(plannedOutcome(evaluation, deps.mode), "Pending", [], describe(evaluation, deps.mode));
  }
  const mainIntent = plan.write ?? plan.notes[0]!.intent;
  const taken = await takeClaim(claimKeyOf(connection), connection.serviceId, claim, mainIntent, deps);
  if ("lost" in taken) return decided("claimed-elsewhere", "Pending", [], taken.lost);
  const progress: WriteProgress = { armWriteStarted: false };
  try {
    return await applyPendingPlan(taken.held, plan, evaluation, request, progress, deps);
  } catch (error) {
    if (!progress.armWriteStarted) await expireLease(taken.held, deps);
    throw error;
  }
}

async function applyPendingPlan(
  held: HeldClaim,
  plan: PendingPlan,
  evaluation: RuleEvaluation,
  request: DecideConnectionRequest,
  progress: WriteProgress,
  deps: EngineDeps,
): Promise<ConnectionDecision> {
  const records: DecisionRecord[] = [];
  const append = async (record: DecisionRecord) => {
    await deps.decisionLog.append(record);
    records.push(record);
  };
  const decided = (outcome: ConnectionOutcome, status: RecordedStatus | undefined, summary: string) =>
    result(held.connectionId, outcome, status, records, summary, evaluation);
  let outcome: ConnectionOutcome = plannedOutcome(evaluation, deps.mode);
  let status: RecordedStatus | undefined = "Pending";
  let summary = describe(evaluation, deps.mode);
  let recordedStatus: RecordedStatus | undefined;
  let retryNotBefore: Date | undefined;
  const notifications: [DecisionRecord, ConnectionNotificationType][] = [];

  if (plan.write !== undefined) {
    const intent = plan.write;
    const current = await deps.apim.getConnection(held.connectionId);
    if (current === undefined) {
      await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
      return decided("not-found", undefined, "the connection disappeared before it could be decided");
    }
    if (current.status !== "Pending") return settleObserved(held, current, request, deps, evaluation);
    const written = await writeStatus(held, intent.targetStatus!, intent.description!, progress, deps);
    const now = deps.clock.now();
    switch (written.kind) {
      case "gone":
        await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
        return decided("not-found", undefined, "the connection disappeared while it was being decided");
      case "not-pending":
        return settleObserved(held, written.connection, request, deps, evaluation);
      case "applied": {
        const record = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "applied", statusAfter: written.connection.status, recordedAt: now });
        await append(record);
        notifications.push([record, notificationFor(written.connection.status)!]);
        recordedStatus = written.connection.status;
        status = recordedStatus;
        break;
      }
      case "refused": {
        const record = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "failed", statusAfter: "Pending", error: written.error, recordedAt: now });
        await append(record);
        notifications.push([record, "Portcullis.Connection.DecisionFailed"]);
        retryNotBefore = new Date(now.getTime() + deps.timings.failedRetryDelayInMs);
        outcome = "failed";
        summary = `${describe(evaluation, deps.mode)}; ARM refused it: ${written.error}`;
        break;
      }
    }
  }
  const recordedAt = deps.clock.now();
  for (const [index, note] of plan.notes.entries()) {
    const record = recordOf(note.intent, held.lease, `n${index}`, held, { outcome: note.outcome, statusAfter: status, recordedAt });
    await append(record);
    if (note.notify !== undefined) notifications.push([record, note.notify]);
  }
  await settleClaim(
    held,
    { ...(recordedStatus !== undefined ? { recordedStatus } : {}), marks: plan.notes.map((n) => n.mark), retryNotBefore },
    deps,
  );
  for (const [record, type] of notifications) await notify(type, record, deps);
  return decided(outcome, status, summary);
}

/** Someone else decided the connection while we held the claim: record their decision (never overturn it). */
async function settleObserved(
  held: HeldClaim,
  current: PrivateEndpointConnection,
  request: DecideConnectionRequest,
  deps: EngineDeps,
  evaluation: RuleEvaluation | undefined,
): Promise<ConnectionDecision> {
  const status = current.status as Exclude<RecordedStatus, "Pending">;
  const plan = planObservedStatus({
    connectionId: current.id,
    status,
    description: current.description,
    facts: requesterFacts(current, request),
    claim: { ...held, lease: undefined },
    context: request.context,
  });
  const records: DecisionRecord[] = [];
  if (plan.kind !== "nothing") {
    const record = recordOf(plan.intent, held.lease, MAIN_RECORD, held, { outcome: "applied", statusAfter: status, recordedAt: deps.clock.now() });
    await deps.decisionLog.append(record);
    records.push(record);
  }
  await settleClaim(held, { recordedStatus: status, retryNotBefore: undefined }, deps);
  return result(current.id, "settled", status, records, `${status} by someone else before Portcullis acted; not overturned`, evaluation);
}

/** Records a connection that is Approved or Rejected: out-of-band once per status, or a write an interrupted run made. */
async function recordObservedStatus(connection: PrivateEndpointConnection, request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const status = connection.status as Exclude<RecordedStatus, "Pending">;
  const key = claimKeyOf(connection);
  const claim = await deps.claims.get(key);
  if (isLeaseHeldByAnotherRun(claim, deps.clock.now(), request.context.correlationId)) {
    return result(connection.id, "claimed-elsewhere", status, [], "another run is deciding this connection");
  }
  const plan = planObservedStatus({
    connectionId: connection.id,
    status,
    description: connection.description,
    facts: requesterFacts(connection, request),
    claim,
    context: request.context,
  });
  if (plan.kind === "nothing") return result(connection.id, "settled", status, [], `${status} (already recorded)`);
  const taken = await takeClaim(key, connection.serviceId, claim, plan.intent, deps);
  if ("lost" in taken) return result(connection.id, "claimed-elsewhere", status, [], taken.lost);
  try {
    // A recovered write keeps the record ID its own lease gave it, so a record that did get appended is not repeated.
    const lease = plan.kind === "recovered" ? claim!.lease! : taken.held.lease;
    const record = recordOf(plan.intent, lease, MAIN_RECORD, taken.held, { outcome: "applied", statusAfter: status, recordedAt: deps.clock.now() });
    await deps.decisionLog.append(record);
    await settleClaim(taken.held, { recordedStatus: status, retryNotBefore: undefined }, deps);
    if (plan.kind === "recovered") {
      await notify(notificationFor(connection.status)!, record, deps);
      const outcome = connection.status === "Approved" ? "approved" : "rejected";
      return result(connection.id, outcome, status, [record], `${status.toLowerCase()} by ${record.actor}: ${record.reason} (its write landed; recorded now)`);
    }
    return result(connection.id, "settled", status, [record], `${status} outside Portcullis; recorded as out-of-band`);
  } catch (error) {
    await expireLease(taken.held, deps);
    throw error;
  }
}

/** Records once that a connection (as requested by one endpoint) is gone. */
export async function recordDeletion(key: ClaimKey, serviceId: string, context: DecisionContext, deps: EngineDeps): Promise<ConnectionDecision> {
  const claim: ConnectionClaim | undefined = await deps.claims.get(key);
  if (isLeaseActive(claim, deps.clock.now())) return result(key.connectionId, "claimed-elsewhere", undefined, [], "another run is deciding this connection");
  const plan = planObservedStatus({
    connectionId: key.connectionId,
    status: "Deleted",
    description: undefined,
    facts: { requesterSubscriptionId: requesterSubscriptionOf(key.privateEndpointId), requesterTenantId: undefined },
    claim,
    context,
  });
  if (plan.kind === "nothing") return result(key.connectionId, "deleted", "Deleted", [], "deleted (already recorded)");
  const taken = await takeClaim(key, serviceId, claim, plan.intent, deps);
  if ("lost" in taken) return result(key.connectionId, "claimed-elsewhere", undefined, [], taken.lost);
  try {
    const record = recordOf(plan.intent, taken.held.lease, MAIN_RECORD, taken.held, { outcome: "applied", statusAfter: "Deleted", recordedAt: deps.clock.now() });
    await deps.decisionLog.append(record);
    await settleClaim(taken.held, { recordedStatus: "Deleted", retryNotBefore: undefined }, deps);
    return result(key.connectionId, "deleted", "Deleted", [record], "deleted; recorded");
  } catch (error) {
    await expireLease(taken.held, deps);
    throw error;
  }
}

function requesterFacts(connection: PrivateEndpointConnection, request: DecideConnectionRequest) {
  return { requesterSubscriptionId: requesterSubscriptionOf(connection.privateEndpointId), requesterTenantId: request.requesterTenantId };
}

function requesterSubscriptionOf(privateEndpointId: string | undefined): string | undefined {
  return privateEndpointId === undefined ? undefined : parsePrivateEndpointId(privateEndpointId)?.subscriptionId;
}

/** The outcome a Pending connection's evaluation leads to when nothing goes wrong. */
function plannedOutcome(evaluation: RuleEvaluation, mode: EngineDeps["mode"]): ConnectionOutcome {
  if (evaluation.action === "manual") return "awaiting-manual";
  if (mode === "dry-run") return evaluation.action === "approve" ? "would-approve" : "would-reject";
  return evaluation.action === "approve" ? "approved" : "rejected";
}

/** "approved by rule:allow-corp v3: Corp subscriptions are trusted." */
function describe(evaluation: RuleEvaluation, mode: EngineDeps["mode"]): string {
  const by = evaluation.decidedBy;
  const who = by.kind === "rule" ? `${actorOf(by)} v${by.ruleVersion}` : actorOf(by);
  const what =
    evaluation.action === "manual"
      ? "left Pending for a human"
      : `${mode === "dry-run" ? "would be " : ""}${evaluation.action === "approve" ? "approved" : "rejected"}`;
  const audits = evaluation.auditMatches.map((m) => `audit rule ${m.ruleId} v${m.ruleVersion} would ${m.action}`);
  return `${what} by ${who}: ${evaluation.reason}${audits.length > 0 ? ` (${audits.join("; ")})` : ""}`;
}

function result(
  connectionId: string,
  outcome: ConnectionOutcome,
  status: RecordedStatus | undefined,
  records: readonly DecisionRecord[],
  summary: string,
  evaluation?: RuleEvaluation,
): ConnectionDecision {
  return { connectionId, outcome, status, records, summary, evaluation };
}
