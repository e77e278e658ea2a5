/**
 * decideConnection: the one place a connection is decided by the rules, used by the event path and the sweep
 * (the manual API plans a human's decision and applies it the same way). Events are hints and state is truth.
 *
 *   read:   gatherConnection: the connection (unless just listed), its private endpoint (unless the event just
 *           read it; 403 → facts unknown), the rule set, the claim
 *   decide: evaluateRules → planPendingDecision / planObservedStatus / planDeletion (pure, src/domain/decisions/)
 *   apply:  applyDecision (src/workflows/apply-decision.ts)
 */
import { isLeaseActive, isLeaseHeldByAnotherRun, type ClaimKey, type ConnectionClaim } from "../domain/decisions/decision-claim.ts";
import {
  actorOf,
  isEmptyPlan,
  isOperationInFlight,
  isRecoveredPlan,
  planDeletion,
  planObservedStatus,
  planPendingDecision,
  requesterSubscriptionOf,
  ruleOf,
  type DecisionContext,
} from "../domain/decisions/decision-plan.ts";
import { managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import type { DecisionRecord, RecordedStatus } from "../domain/decisions/decision.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpoint, PrivateEndpointConnection } from "../domain/model.ts";
import { sameResourceId } from "../domain/resource-id.ts";
import { evaluateRules, type RuleEvaluation } from "../domain/rules/evaluate.ts";
import { connectionFacts } from "../domain/rules/facts.ts";
import type { RuleSetSnapshot } from "../domain/rules/index.ts";
import { applyDecision, type ApplyResult } from "./apply-decision.ts";
import type { EngineDeps } from "./engine-deps.ts";
import { resolveRequesterTenant, ruleSetReadsRequesterTenant, type RequesterTenant } from "./tenant-lookup.ts";

/** What happened to one connection in one run. */
export type ConnectionOutcome =
  /** Approved or rejected by Portcullis and recorded by this run (ARM confirmed it; possibly an earlier run's write). */
  | "approved"
  | "rejected"
  /** Dry-run: what enforce mode would have done. */
  | "would-approve"
  | "would-reject"
  /** Pending for a human (rule action manual, default manual, rules failing closed, or a fact unknown). */
  | "awaiting-manual"
  /** ARM refused the write; recorded, retried after a back-off. */
  | "failed"
  /** ARM refused the write recently; not retried yet. */
  | "retry-later"
  /** Someone's operation on the connection is still running (provisioningState not terminal): decided on a later pass. */
  | "in-flight"
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
  /** The consumer's private endpoint as the event just read it, saving a second read of it. */
  readonly endpoint?: PrivateEndpoint | undefined;
  /** The requester's tenant where an event revealed it (consumer-side events only). */
  readonly requesterTenantId?: string | undefined;
  readonly context: DecisionContext;
}

/** What the engine reads before deciding one connection. */
export interface GatheredConnection {
  readonly connection: PrivateEndpointConnection;
  /** The consumer's endpoint (Pending connections only); undefined when it cannot be read (403) or none is named. */
  readonly endpoint: PrivateEndpoint | undefined;
  /** The rule set (Pending connections only). */
  readonly ruleSet: RuleSetSnapshot | undefined;
  readonly claim: ConnectionClaim | undefined;
  /** The requester's tenant and where it came from (Pending connections only; see tenant-lookup.ts). */
  readonly requesterTenant?: RequesterTenant | undefined;
}

/**
 * Reads what deciding a connection needs, reusing what the caller already read (a listed connection, the
 * endpoint an event led to). Undefined when the connection does not exist.
 */
export async function gatherConnection(request: DecideConnectionRequest, deps: EngineDeps): Promise<GatheredConnection | undefined> {
  const connection = request.connection ?? (await deps.privateLink.getConnection(request.connectionId));
  if (connection === undefined) return undefined;
  const claim = await deps.claims.get(claimKeyOf(connection));
  if (connection.status !== "Pending") return { connection, endpoint: undefined, ruleSet: undefined, claim };
  const endpoint =
    request.endpoint !== undefined && sameResourceId(request.endpoint.id, connection.privateEndpointId)
      ? request.endpoint
      : await readEndpoint(connection.privateEndpointId, deps);
  const ruleSet = await deps.ruleStore.getRuleSet();
  // The event's tenant wins; otherwise a hint from ARM's challenge, asked for only when a rule reads the tenant.
  const requesterTenant = await resolveRequesterTenant(
    {
      eventTenantId: request.requesterTenantId,
      requesterSubscriptionId: requesterSubscriptionOf(connection.privateEndpointId),
      needed: ruleSetReadsRequesterTenant(ruleSet),
    },
    deps.tenantLookup,
  );
  return { connection: withEndpointGroups(connection, endpoint), endpoint, ruleSet, claim, requesterTenant };
}

/**
 * Most providers' connection resources name no group id (Storage, Key Vault, Event Hubs, ...); for a type with several
 * groups only the consumer's endpoint says which one (blob, file, ...). Its link to this resource fills them in, so
 * group conditions decide on what the requester asked for rather than on nothing.
 */
function withEndpointGroups(connection: PrivateEndpointConnection, endpoint: PrivateEndpoint | undefined): PrivateEndpointConnection {
  if (connection.groupIds.length > 0 || endpoint === undefined) return connection;
  const link = endpoint.connections.find((c) => sameResourceId(c.privateLinkServiceId, connection.resourceId));
  return link === undefined || link.groupIds.length === 0 ? connection : { ...connection, groupIds: link.groupIds };
}

/** Decides one connection: Pending ones by the rules, settled ones recorded as out-of-band once. */
export async function decideConnection(request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const resourceId = managedResourceOfConnection(deps.scope, request.connectionId);
  if (resourceId === undefined) {
    return result(request.connectionId, "unmanaged", undefined, [], "not a connection of a managed resource; ignored");
  }
  let gathered = await gatherConnection(request, deps);
  if (gathered === undefined) return result(request.connectionId, "not-found", undefined, [], "the connection does not exist (any more)");
  const now = deps.clock.now();
  const held = gathered.connection.status === "Pending" ? isLeaseActive(gathered.claim, now) : isLeaseHeldByAnotherRun(gathered.claim, now, request.context.correlationId);
  if (held) return result(gathered.connection.id, "claimed-elsewhere", gathered.connection.status, [], "another run is deciding this connection");
  const earlier = await earlierOperationOf(gathered.claim, deps);
  if (earlier === "running") {
    return result(gathered.connection.id, "in-flight", gathered.connection.status, [], "an earlier run's ARM operation on this connection is still running");
  }
  if (earlier === "finished") {
    // The earlier write has ended meanwhile: decide on what ARM holds now.
    gathered = await gatherConnection({ ...request, connection: undefined, endpoint: gathered.endpoint ?? request.endpoint }, deps);
    if (gathered === undefined) return result(request.connectionId, "not-found", undefined, [], "the connection does not exist (any more)");
  }
  if (isOperationInFlight(gathered.connection)) {
    return result(gathered.connection.id, "in-flight", gathered.connection.status, [], `an operation on the connection is running (provisioningState ${gathered.connection.provisioningState ?? "unknown"}); decided on a later pass`);
  }
  if (gathered.connection.status !== "Pending") return recordObservedStatus(gathered, request, deps);
  return decidePending(gathered, request, deps);
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

/**
 * A claim whose lease expired while its write's operation ran keeps the operation: resume it (one poll) before
 * deciding anything, so a run taking the claim over never writes while the earlier write may still land.
 */
async function earlierOperationOf(claim: ConnectionClaim | undefined, deps: EngineDeps): Promise<"running" | "finished" | undefined> {
  const state = claim?.lease?.operation;
  if (state === undefined) return undefined;
  try {
    const operation = await deps.privateLink.resumeSetConnectionStatus(state);
    return operation.isDone() ? "finished" : "running";
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "transient") throw failure;
    // The operation cannot be polled any more (gone, refused): the connection's own state is what counts.
    return "finished";
  }
}

function claimKeyOf(connection: PrivateEndpointConnection): ClaimKey {
  return { connectionId: connection.id, privateEndpointId: connection.privateEndpointId };
}

async function decidePending(gathered: GatheredConnection, request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const { connection, endpoint, claim } = gathered;
  const tenant = gathered.requesterTenant;
  const facts = connectionFacts(connection, { endpoint, requesterTenantId: tenant?.tenantId, requesterTenantSource: tenant?.source });
  const now = deps.clock.now();
  const evaluation = withTenantExplanation(evaluateRules(facts, gathered.ruleSet!, { now, defaultAction: deps.defaultAction }), tenant);
  const plan = planPendingDecision({ facts, evaluation, mode: deps.mode, claim, now, context: request.context, key: claimKeyOf(connection) });
  const decided = (outcome: ConnectionOutcome, status: RecordedStatus | undefined, records: readonly DecisionRecord[], summary: string) =>
    result(connection.id, outcome, status, records, summary, evaluation);
  if (isEmptyPlan(plan)) {
    if (plan.retryNotBefore !== undefined) {
      return decided("retry-later", "Pending", [], `ARM refused this decision earlier; retried after ${plan.retryNotBefore.toISOString()}`);
    }
    return decided(plannedOutcome(evaluation, deps.mode), "Pending", [], describe(evaluation, deps.mode));
  }
  const applied = await applyDecision(plan, claim, deps);
  switch (applied.kind) {
    case "lost":
      return decided("claimed-elsewhere", "Pending", [], applied.reason);
    case "recorded":
      return decided(plannedOutcome(evaluation, deps.mode), "Pending", applied.records, describe(evaluation, deps.mode));
    case "applied":
      return decided(plannedOutcome(evaluation, deps.mode), applied.connection.status, applied.records, describe(evaluation, deps.mode));
    case "refused":
      return decided("failed", "Pending", applied.records, `${describe(evaluation, deps.mode)}; ARM refused it: ${applied.error}`);
    default:
      return { ...fromUnplannedEnd(connection.id, applied), evaluation };
  }
}

/** Adds where the requester tenant came from right after the facts line, so the record shows it to an auditor. */
function withTenantExplanation(evaluation: RuleEvaluation, tenant: RequesterTenant | undefined): RuleEvaluation {
  if (tenant?.explanation === undefined) return evaluation;
  const [factsLine, ...rest] = evaluation.explanation;
  return { ...evaluation, explanation: factsLine === undefined ? [tenant.explanation] : [factsLine, tenant.explanation, ...rest] };
}

/** How a plan ended when something other than its own outcome happened (shared by every decideConnection path). */
function fromUnplannedEnd(connectionId: string, applied: Exclude<ApplyResult, { kind: "recorded" | "applied" | "refused" }>): ConnectionDecision {
  switch (applied.kind) {
    case "lost":
      return result(connectionId, "claimed-elsewhere", undefined, [], applied.reason);
    case "busy":
      return result(connectionId, "in-flight", applied.connection.status, [], "another operation on the connection started first; decided on a later pass");
    case "changed":
      return result(connectionId, "settled", applied.connection.status, applied.records, `${applied.connection.status} by someone else before Portcullis acted; not overturned`);
    case "gone":
      return result(connectionId, "not-found", undefined, [], "the connection disappeared while it was being decided");
    case "in-progress":
      return result(connectionId, "claimed-elsewhere", undefined, [], "the write is still running under this run's claim");
  }
}

/** Records a connection that is Approved or Rejected: out-of-band once per status, or a write an interrupted run made. */
async function recordObservedStatus(gathered: GatheredConnection, request: DecideConnectionRequest, deps: EngineDeps): Promise<ConnectionDecision> {
  const { connection, claim } = gathered;
  const status = connection.status as Exclude<RecordedStatus, "Pending">;
  const plan = planObservedStatus({
    key: claimKeyOf(connection),
    resourceId: connection.resourceId,
    status,
    description: connection.description,
    facts: {
      requesterSubscriptionId: requesterSubscriptionOf(connection.privateEndpointId),
      requesterTenantId: request.requesterTenantId,
      requesterTenantSource: request.requesterTenantId === undefined ? undefined : "event",
    },
    claim,
    context: request.context,
  });
  if (plan === undefined) return result(connection.id, "settled", status, [], `${status} (already recorded)`);
  const applied = await applyDecision(plan, claim, deps);
  if (applied.kind !== "recorded") return fromUnplannedEnd(connection.id, applied as Exclude<ApplyResult, { kind: "recorded" | "applied" | "refused" }>);
  if (isRecoveredPlan(plan)) {
    const record = applied.records[0]!;
    const outcome = status === "Approved" ? "approved" : "rejected";
    return result(connection.id, outcome, status, applied.records, `${status.toLowerCase()} by ${record.actor}: ${record.reason} (its write landed; recorded now)`);
  }
  return result(connection.id, "settled", status, applied.records, `${status} outside Portcullis; recorded as out-of-band`);
}

/** Records once that a connection (as requested by one endpoint) is gone. */
export async function recordDeletion(key: ClaimKey, resourceId: string, context: DecisionContext, deps: EngineDeps): Promise<ConnectionDecision> {
  const claim = await deps.claims.get(key);
  if (isLeaseActive(claim, deps.clock.now())) return result(key.connectionId, "claimed-elsewhere", undefined, [], "another run is deciding this connection");
  const plan = planDeletion({ key, resourceId, claim, context });
  if (plan === undefined) return result(key.connectionId, "deleted", "Deleted", [], "deleted (already recorded)");
  const applied = await applyDecision(plan, claim, deps);
  if (applied.kind !== "recorded") return fromUnplannedEnd(key.connectionId, applied as Exclude<ApplyResult, { kind: "recorded" | "applied" | "refused" }>);
  return result(key.connectionId, "deleted", "Deleted", applied.records, "deleted; recorded");
}

/** The outcome a Pending connection's evaluation leads to when nothing goes wrong. */
function plannedOutcome(evaluation: RuleEvaluation, mode: EngineDeps["mode"]): ConnectionOutcome {
  if (evaluation.action === "manual") return "awaiting-manual";
  if (mode === "dry-run") return evaluation.action === "approve" ? "would-approve" : "would-reject";
  return evaluation.action === "approve" ? "approved" : "rejected";
}

/** "approved by rule:allow-corp v3: Corp subscriptions are trusted." */
function describe(evaluation: RuleEvaluation, mode: EngineDeps["mode"]): string {
  const rule = ruleOf(evaluation.decidedBy);
  const who = rule?.ruleVersion !== undefined ? `${actorOf(evaluation.decidedBy)} v${rule.ruleVersion}` : actorOf(evaluation.decidedBy);
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
