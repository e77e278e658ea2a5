/**
 * Step 2 of read → decide → apply: pure planners that turn what was read (the connection, the rule evaluation or
 * a human's request, the global mode, the claim) into one DecisionPlan: the intent the claim's lease holds, at
 * most one ARM write, the records to write once, what the claim keeps afterwards and what is notified. The one
 * apply step (src/workflows/apply-decision.ts) carries out any plan the same way.
 *
 * | planner                | connection           | input                              | plan                                      |
 * |------------------------|----------------------|------------------------------------|-------------------------------------------|
 * | planPendingDecision    | Pending              | approve / reject, enforce          | write (unless ARM refused it recently)    |
 * |                        | Pending              | approve / reject, dry-run          | "would-apply" once per rule version       |
 * |                        | Pending              | manual (rule, default, fail-closed, unknown fact) | "awaiting manual approval" once |
 * |                        | Pending              | each audit-mode match              | "would-apply" (mode audit) once / version |
 * | planObservedStatus     | Approved / Rejected  | status already recorded            | nothing (undefined)                       |
 * |                        | Approved / Rejected  | an expired lease's write landed    | the lease holder's decision (recovered)   |
 * |                        | Approved / Rejected  | someone else changed it            | out-of-band once per status               |
 * | planDeletion           | gone                 | not yet recorded as deleted        | the deletion once                         |
 * | planManualDecision     | Pending / Approved   | a human's approve/reject/revoke    | write with the ticket; dry-run: would-apply |
 */
import {
  AWAITING_MANUAL_MARK,
  leaseWriteLanded,
  type ClaimIntent,
  type ClaimKey,
  type ClaimState,
} from "./decision-claim.ts";
import {
  connectionDescription,
  DEFAULT_ACTOR,
  FAIL_CLOSED_ACTOR,
  OUT_OF_BAND_ACTOR,
  principalActor,
  ruleActor,
  targetStatusOf,
  type ConnectionNotificationType,
  type DecisionOutcome,
  type HumanActor,
  type RecordedStatus,
} from "./decision.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../model.ts";
import { parsePrivateEndpointId, sameResourceId } from "../resource-id.ts";
import type { ConnectionFacts } from "../rules/facts.ts";
import type { DecidedBy, RuleEvaluation } from "../rules/evaluate.ts";

/** Where a decision came from, carried into every record it produces. */
export interface DecisionContext {
  readonly triggeringEventIds: readonly string[];
  readonly correlationId: string;
}

/**
 * The ARM write of a plan: made only if the re-read right before it shows `requiredStatus`, no operation in flight and
 * (when set) the same private endpoint.
 */
export interface PlannedWrite {
  readonly requiredStatus: ConnectionStatus;
  readonly targetStatus: "Approved" | "Rejected";
  /**
   * The private endpoint the facts were read from (rules' decisions): the requester, and the subscription whose tenant
   * hint the rules may have used. A re-read naming another endpoint is not the connection that was decided.
   */
  readonly privateEndpointId?: string | undefined;
  /** The description the write sets (how a later run recognises the write as ours). */
  readonly description: string;
}

/** A record to write under the claim; `mark` (when set) makes it happen once per claim. */
export interface PlannedRecord {
  readonly mark: string | undefined;
  readonly intent: ClaimIntent;
  readonly outcome: DecisionOutcome;
  /** The status the record states; undefined: whatever status this decision leaves the connection in. */
  readonly statusAfter?: RecordedStatus | undefined;
  readonly notify: ConnectionNotificationType | undefined;
  /** Set when the record belongs to an earlier lease (a landed write recovered): its ID derives from that lease. */
  readonly lease?: { readonly owner: string; readonly startedAt: Date } | undefined;
}

/** One decision about one connection, ready to apply. */
export interface DecisionPlan {
  readonly key: ClaimKey;
  readonly resourceId: string;
  /** What the claim's lease holds while the plan is applied (the write's intent, or the main record's). */
  readonly intent: ClaimIntent;
  readonly write: PlannedWrite | undefined;
  /** Records written besides the write's own (observations, notes); before settling, in this order. */
  readonly records: readonly PlannedRecord[];
  /** What the claim keeps once applied (besides the records' marks). */
  readonly settlement: {
    /** The status the log holds afterwards when no write decides it (observations, deletions). */
    readonly recordedStatus: RecordedStatus | undefined;
  };
  /**
   * true for the rules' decisions: a refusal is retried after a back-off, and a connection someone else changed
   * meanwhile is recorded as theirs. false for a human's: the refusal is theirs to see, a change is a conflict.
   */
  readonly automatic: boolean;
  /** Set when ARM refused this write earlier and the retry back-off has not passed (nothing is planned then). */
  readonly retryNotBefore?: Date | undefined;
}

export interface PlanPendingInput {
  readonly facts: ConnectionFacts;
  readonly evaluation: RuleEvaluation;
  readonly mode: "enforce" | "dry-run";
  readonly claim: ClaimState | undefined;
  readonly now: Date;
  readonly context: DecisionContext;
  /** The claim key and instance; default: the facts' connection, keyed without an endpoint. */
  readonly key?: ClaimKey | undefined;
}

/**
 * The rule an evaluation names, if any: the deciding rule, or (unknown-fact) the enforcing rule that could not
 * decide for want of a fact, which is then the actor of the manual outcome.
 */
export function ruleOf(decidedBy: DecidedBy): { readonly ruleId: string; readonly ruleVersion: number | undefined } | undefined {
  return decidedBy.kind === "rule" || decidedBy.kind === "unknown-fact" ? decidedBy : undefined;
}

/** The actor string of an evaluation's decider. */
export function actorOf(decidedBy: DecidedBy): string {
  const rule = ruleOf(decidedBy);
  if (rule !== undefined) return ruleActor(rule.ruleId);
  return decidedBy.kind === "default" ? DEFAULT_ACTOR : FAIL_CLOSED_ACTOR;
}

/** The requester's subscription, from the endpoint's ID (known even when the endpoint cannot be read). */
export function requesterSubscriptionOf(privateEndpointId: string | undefined): string | undefined {
  return privateEndpointId === undefined ? undefined : parsePrivateEndpointId(privateEndpointId)?.subscriptionId;
}

/** Plans the decision for a connection that ARM shows Pending; an empty plan (see isEmptyPlan) means nothing to do. */
export function planPendingDecision(input: PlanPendingInput): DecisionPlan {
  const { evaluation, mode, claim, now } = input;
  const rule = ruleOf(evaluation.decidedBy);
  const base = pendingIntentBase(input, {
    actor: actorOf(evaluation.decidedBy),
    ruleId: rule?.ruleId,
    ruleVersion: rule?.ruleVersion,
    reason: evaluation.reason,
  });
  const records: PlannedRecord[] = [];
  let write: PlannedWrite | undefined;
  let writeIntent: ClaimIntent | undefined;
  let retryNotBefore: Date | undefined;
  if (evaluation.action === "manual") {
    records.push({
      mark: AWAITING_MANUAL_MARK,
      intent: { ...base, action: "manual", mode: mode === "dry-run" ? "dry-run" : "enforce" },
      outcome: "skipped",
      notify: "Portcullis.Connection.AwaitingManualApproval",
    });
  } else if (mode === "dry-run") {
    records.push({
      mark: `would:${evaluation.action}:${base.actor}@${rule?.ruleVersion ?? evaluation.ruleSetVersion}`,
      intent: { ...base, action: evaluation.action, mode: "dry-run" },
      outcome: "would-apply",
      notify: undefined,
    });
  } else if (claim?.retryNotBefore !== undefined && claim.retryNotBefore.getTime() > now.getTime()) {
    retryNotBefore = claim.retryNotBefore;
  } else {
    const action = evaluation.action;
    const targetStatus = targetStatusOf(action);
    const description = connectionDescription({ action, actor: base.actor, ruleVersion: rule?.ruleVersion, reason: evaluation.reason });
    write = { requiredStatus: "Pending", targetStatus, description, privateEndpointId: input.facts.privateEndpointId };
    writeIntent = { ...base, action, mode: "enforce", targetStatus, description };
  }
  for (const match of evaluation.auditMatches) {
    records.push({
      mark: `audit:${match.ruleId}@${match.ruleVersion}:${match.action}`,
      intent: {
        ...base,
        action: match.action,
        mode: "audit",
        actor: ruleActor(match.ruleId),
        ruleId: match.ruleId,
        ruleVersion: match.ruleVersion,
        reason: `Audit-mode rule ${match.ruleId} v${match.ruleVersion} matched and would ${match.action} this connection.`,
      },
      outcome: "would-apply",
      notify: undefined,
    });
  }
  const recorded = new Set(claim?.marks ?? []);
  const pending = records.filter((r) => r.mark === undefined || !recorded.has(r.mark));
  const key = input.key ?? { connectionId: input.facts.connectionId, privateEndpointId: input.facts.privateEndpointId };
  return {
    key,
    resourceId: input.facts.resourceId,
    intent: writeIntent ?? pending[0]?.intent ?? { ...base, action: evaluation.action, mode: mode === "dry-run" ? "dry-run" : "enforce" },
    write,
    records: pending,
    settlement: { recordedStatus: undefined },
    automatic: true,
    retryNotBefore,
  };
}

/** True when the plan asks for nothing: the log already holds it all. */
export function isEmptyPlan(plan: DecisionPlan | undefined): boolean {
  return plan === undefined || (plan.write === undefined && plan.records.length === 0);
}

/** True when a plan only records an earlier lease's landed write (its decision, not someone else's). */
export function isRecoveredPlan(plan: DecisionPlan): boolean {
  return plan.records[0]?.lease !== undefined;
}

/**
 * Plans the record for a connection ARM shows Approved or Rejected (or that is gone: `Deleted`): undefined when
 * the log holds it already.
 */
export function planObservedStatus(input: {
  readonly key: ClaimKey;
  readonly resourceId: string;
  readonly status: Exclude<RecordedStatus, "Pending">;
  readonly description: string | undefined;
  readonly facts: Pick<ConnectionFacts, "requesterSubscriptionId" | "requesterTenantId" | "requesterTenantSource"> | undefined;
  readonly claim: ClaimState | undefined;
  readonly context: DecisionContext;
}): DecisionPlan | undefined {
  const { status, claim } = input;
  if (claim?.recordedStatus === status) return undefined;
  const observed = (record: PlannedRecord): DecisionPlan => ({
    key: input.key,
    resourceId: input.resourceId,
    intent: record.intent,
    write: undefined,
    records: [record],
    settlement: { recordedStatus: status },
    automatic: true,
  });
  if (claim?.lease !== undefined && status !== "Deleted" && leaseWriteLanded(claim.lease, { status, description: input.description })) {
    return observed({
      mark: undefined,
      intent: claim.lease.intent,
      outcome: "applied",
      statusAfter: status,
      notify: notificationFor(status),
      lease: claim.lease,
    });
  }
  const statusBefore: RecordedStatus | undefined = claim?.recordedStatus ?? (claim !== undefined && claim.marks.length > 0 ? "Pending" : undefined);
  const action = status === "Approved" ? "approve" : status === "Rejected" ? (statusBefore === "Approved" ? "revoke" : "reject") : "delete";
  const reason =
    status === "Deleted"
      ? "The connection was deleted (its private endpoint or the connection was removed)."
      : `The connection was ${status.toLowerCase()} outside Portcullis${input.description ? `: "${input.description.slice(0, 200)}"` : "."}`;
  return observed({
    mark: undefined,
    intent: {
      action,
      mode: "enforce",
      actor: OUT_OF_BAND_ACTOR,
      actorName: undefined,
      actorAppId: undefined,
      ruleId: undefined,
      ruleVersion: undefined,
      ticket: undefined,
      requestedBy: undefined,
      reason,
      explanation: [],
      targetStatus: undefined,
      description: undefined,
      statusBefore,
      requesterSubscriptionId: input.facts?.requesterSubscriptionId,
      requesterTenantId: input.facts?.requesterTenantId,
      requesterTenantSource: input.facts?.requesterTenantSource,
      triggeringEventIds: input.context.triggeringEventIds,
      correlationId: input.context.correlationId,
    },
    outcome: "applied",
    statusAfter: status,
    notify: undefined,
  });
}

/** Plans the record that a connection (as requested by one endpoint) is gone; undefined when already recorded. */
export function planDeletion(input: {
  readonly key: ClaimKey;
  readonly resourceId: string;
  readonly claim: ClaimState | undefined;
  readonly context: DecisionContext;
}): DecisionPlan | undefined {
  return planObservedStatus({
    key: input.key,
    resourceId: input.resourceId,
    status: "Deleted",
    description: undefined,
    facts: { requesterSubscriptionId: requesterSubscriptionOf(input.key.privateEndpointId), requesterTenantId: undefined },
    claim: input.claim,
    context: input.context,
  });
}

export type ManualAction = "approve" | "reject" | "revoke";

/** A human's decision as the API received it (validated: ticket pattern, reason text). */
export interface ManualDecisionInput {
  readonly action: ManualAction;
  readonly ticket: string;
  readonly reason: string;
  readonly actor: HumanActor;
  readonly requestedBy?: string | undefined;
  readonly correlationId: string;
}

/** The status a manual action requires the connection to be in. */
export function requiredStatusFor(action: ManualAction): ConnectionStatus {
  return action === "revoke" ? "Approved" : "Pending";
}

/** Plans a human's approve / reject / revoke: one write with the ticket; in dry-run mode the same record, would-apply, and no write. */
export function planManualDecision(input: {
  readonly request: ManualDecisionInput;
  readonly connection: PrivateEndpointConnection;
  readonly mode: "enforce" | "dry-run";
  /** The requester's tenant (a hint from ARM's challenge, for the record) and the line that says so. */
  readonly requesterTenant?: { readonly tenantId: string | undefined; readonly source: ClaimIntent["requesterTenantSource"]; readonly explanation: string | undefined } | undefined;
}): DecisionPlan {
  const { request, connection } = input;
  const tenant = input.requesterTenant;
  const actor = principalActor(request.actor.objectId);
  const action = request.action;
  const targetStatus = targetStatusOf(action);
  const description = connectionDescription({ action, actor, actorName: request.actor.name, ticket: request.ticket, reason: request.reason });
  const intent: ClaimIntent = {
    action,
    mode: input.mode === "dry-run" ? "dry-run" : "enforce",
    actor,
    actorName: request.actor.name,
    actorAppId: request.actor.appId,
    ruleId: undefined,
    ruleVersion: undefined,
    ticket: request.ticket,
    requestedBy: request.requestedBy,
    reason: request.reason,
    explanation: tenant?.explanation === undefined ? [] : [tenant.explanation],
    targetStatus,
    description,
    statusBefore: connection.status,
    requesterSubscriptionId: requesterSubscriptionOf(connection.privateEndpointId),
    requesterTenantId: tenant?.tenantId,
    requesterTenantSource: tenant?.tenantId === undefined ? undefined : tenant.source,
    triggeringEventIds: [],
    correlationId: request.correlationId,
  };
  const dryRun = input.mode === "dry-run";
  return {
    key: { connectionId: connection.id, privateEndpointId: connection.privateEndpointId },
    resourceId: connection.resourceId,
    intent,
    write: dryRun ? undefined : { requiredStatus: requiredStatusFor(action), targetStatus, description },
    records: dryRun ? [{ mark: undefined, intent, outcome: "would-apply", statusAfter: connection.status, notify: undefined }] : [],
    settlement: { recordedStatus: undefined },
    automatic: false,
  };
}

/** provisioningStates that end an operation (azure-resource-manager-rpc: Succeeded, Failed, Canceled). */
const TERMINAL_PROVISIONING_STATES = new Set(["succeeded", "failed", "canceled"]);

/**
 * True while someone's operation on the connection runs (provisioningState Updating, Creating, Deleting, ...):
 * its status may be about to change. An unknown provisioningState counts as running: fail closed.
 */
export function isOperationInFlight(connection: Pick<PrivateEndpointConnection, "provisioningState">): boolean {
  return connection.provisioningState === undefined || !TERMINAL_PROVISIONING_STATES.has(connection.provisioningState.toLowerCase());
}

/**
 * The guard before a planned write, on the connection as re-read right before it: `write` only when it shows the
 * required status with no operation in flight; `busy` while another operation runs (leave it for the next pass);
 * `changed` when someone else already moved it.
 */
export function guardWrite(current: PrivateEndpointConnection, write: PlannedWrite): "write" | "busy" | "changed" {
  if (isOperationInFlight(current)) return "busy";
  if (write.privateEndpointId !== undefined && !sameResourceId(current.privateEndpointId, write.privateEndpointId)) return "changed";
  return current.status === write.requiredStatus ? "write" : "changed";
}

/** The notification a settled status change deserves. */
export function notificationFor(status: RecordedStatus): ConnectionNotificationType | undefined {
  if (status === "Approved") return "Portcullis.Connection.Approved";
  if (status === "Rejected") return "Portcullis.Connection.Rejected";
  return undefined;
}

function pendingIntentBase(
  input: PlanPendingInput,
  decider: { actor: string; ruleId: string | undefined; ruleVersion: number | undefined; reason: string },
): Omit<ClaimIntent, "action" | "mode"> {
  return {
    ...decider,
    actorName: undefined,
    actorAppId: undefined,
    ticket: undefined,
    requestedBy: undefined,
    explanation: input.evaluation.explanation,
    targetStatus: undefined,
    description: undefined,
    statusBefore: "Pending",
    requesterSubscriptionId: input.facts.requesterSubscriptionId,
    requesterTenantId: input.facts.requesterTenantId,
    requesterTenantSource: input.facts.requesterTenantSource,
    triggeringEventIds: input.context.triggeringEventIds,
    correlationId: input.context.correlationId,
  };
}
