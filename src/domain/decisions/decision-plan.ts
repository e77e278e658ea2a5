/**
 * Step 2 of read → decide → apply for one connection: pure functions that turn what was read (the connection,
 * the rule evaluation, the global mode, the claim) into a plan: at most one ARM write, plus the records to
 * write once. A plan with nothing in it means a second run is a no-op.
 *
 * | connection | evaluation / observation          | mode     | plan                                             |
 * |------------|-----------------------------------|----------|--------------------------------------------------|
 * | Pending    | approve / reject (rule, default)  | enforce  | write (unless ARM refused it recently)           |
 * | Pending    | approve / reject                  | dry-run  | note "would-apply" once per rule version         |
 * | Pending    | manual (rule, default, fail-closed, unknown-fact) | any | note "awaiting manual approval" once |
 * | Pending    | each audit-mode match             | any      | note "would-apply" (mode audit) once per version |
 * | Approved / Rejected | status already recorded  | any      | nothing                                          |
 * | Approved / Rejected | an expired lease wrote it| any      | record the lease holder's decision (recovered)   |
 * | Approved / Rejected | someone else changed it  | any      | record out-of-band once per status               |
 * | gone       | not yet recorded as deleted       | any      | record the deletion once                         |
 */
import {
  AWAITING_MANUAL_MARK,
  leaseWriteLanded,
  type ClaimIntent,
  type ClaimState,
} from "./decision-claim.ts";
import {
  connectionDescription,
  DEFAULT_ACTOR,
  FAIL_CLOSED_ACTOR,
  OUT_OF_BAND_ACTOR,
  ruleActor,
  targetStatusOf,
  type ConnectionNotificationType,
  type DecisionOutcome,
  type RecordedStatus,
} from "./decision.ts";
import type { ConnectionStatus } from "../model.ts";
import type { ConnectionFacts } from "../rules/facts.ts";
import type { DecidedBy, RuleEvaluation } from "../rules/evaluate.ts";

/** Where a decision came from, carried into every record it produces. */
export interface DecisionContext {
  readonly triggeringEventIds: readonly string[];
  readonly correlationId: string;
}

/** A record to write under the claim, with the mark that makes it happen once. */
export interface PlannedNote {
  readonly mark: string;
  readonly intent: ClaimIntent;
  readonly outcome: Extract<DecisionOutcome, "would-apply" | "skipped">;
  readonly notify: ConnectionNotificationType | undefined;
}

/** What to do for a Pending connection. */
export interface PendingPlan {
  /** The ARM write to make, described as the intent the lease will hold; undefined when none. */
  readonly write: ClaimIntent | undefined;
  /** Records without an ARM write that the log does not hold yet. */
  readonly notes: readonly PlannedNote[];
  /** Set when ARM refused this write earlier and the retry back-off has not passed. */
  readonly retryNotBefore: Date | undefined;
}

export interface PlanPendingInput {
  readonly facts: ConnectionFacts;
  readonly evaluation: RuleEvaluation;
  readonly mode: "enforce" | "dry-run";
  readonly claim: ClaimState | undefined;
  readonly now: Date;
  readonly context: DecisionContext;
}

/** The actor string of an evaluation's decider. */
export function actorOf(decidedBy: DecidedBy): string {
  // unknown-fact: the rule that could not decide for want of a fact is the actor of the manual outcome.
  if (decidedBy.kind === "rule" || decidedBy.kind === "unknown-fact") return ruleActor(decidedBy.ruleId);
  return decidedBy.kind === "default" ? DEFAULT_ACTOR : FAIL_CLOSED_ACTOR;
}

/** Plans the decision for a connection that ARM shows Pending. */
export function planPendingDecision(input: PlanPendingInput): PendingPlan {
  const { evaluation, mode, claim, now } = input;
  const decidedBy = evaluation.decidedBy;
  const rule = decidedBy.kind === "rule" || decidedBy.kind === "unknown-fact" ? decidedBy : undefined;
  const base = baseIntent(input, {
    actor: actorOf(decidedBy),
    ruleId: rule?.ruleId,
    ruleVersion: rule?.ruleVersion,
    reason: evaluation.reason,
  });
  const notes: PlannedNote[] = [];
  let write: ClaimIntent | undefined;
  let retryNotBefore: Date | undefined;
  if (evaluation.action === "manual") {
    notes.push({
      mark: AWAITING_MANUAL_MARK,
      intent: { ...base, action: "manual", mode: mode === "dry-run" ? "dry-run" : "enforce" },
      outcome: "skipped",
      notify: "Portcullis.Connection.AwaitingManualApproval",
    });
  } else if (mode === "dry-run") {
    notes.push({
      mark: `would:${evaluation.action}:${base.actor}@${rule?.ruleVersion ?? evaluation.ruleSetVersion}`,
      intent: { ...base, action: evaluation.action, mode: "dry-run" },
      outcome: "would-apply",
      notify: undefined,
    });
  } else if (claim?.retryNotBefore !== undefined && claim.retryNotBefore.getTime() > now.getTime()) {
    retryNotBefore = claim.retryNotBefore;
  } else {
    const action = evaluation.action;
    write = {
      ...base,
      action,
      mode: "enforce",
      targetStatus: targetStatusOf(action),
      description: connectionDescription({ action, actor: base.actor, ruleVersion: rule?.ruleVersion, reason: evaluation.reason }),
    };
  }
  for (const match of evaluation.auditMatches) {
    notes.push({
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
  return { write, notes: notes.filter((n) => !recorded.has(n.mark)), retryNotBefore };
}

/** True when the plan asks for nothing: the log already holds it all. */
export function isEmptyPlan(plan: PendingPlan): boolean {
  return plan.write === undefined && plan.notes.length === 0;
}

/** What to record about a connection someone or something already approved or rejected. */
export type ObservedPlan =
  | { readonly kind: "nothing" }
  /** An expired lease's write landed: record the holder's decision as applied. */
  | { readonly kind: "recovered"; readonly intent: ClaimIntent }
  | { readonly kind: "out-of-band"; readonly intent: ClaimIntent };

/** Plans the record for a connection ARM shows Approved or Rejected (or that is gone: `Deleted`). */
export function planObservedStatus(input: {
  readonly connectionId: string;
  readonly status: Exclude<RecordedStatus, "Pending">;
  readonly description: string | undefined;
  readonly facts: Pick<ConnectionFacts, "requesterSubscriptionId" | "requesterTenantId"> | undefined;
  readonly claim: ClaimState | undefined;
  readonly context: DecisionContext;
}): ObservedPlan {
  const { status, claim } = input;
  if (claim?.recordedStatus === status) return { kind: "nothing" };
  if (claim?.lease !== undefined && status !== "Deleted" && leaseWriteLanded(claim.lease, { status, description: input.description })) {
    return { kind: "recovered", intent: claim.lease.intent };
  }
  const statusBefore: RecordedStatus | undefined = claim?.recordedStatus ?? (claim !== undefined && claim.marks.length > 0 ? "Pending" : undefined);
  const action = status === "Approved" ? "approve" : status === "Rejected" ? (statusBefore === "Approved" ? "revoke" : "reject") : "delete";
  const reason =
    status === "Deleted"
      ? "The connection was deleted (its private endpoint or the connection was removed)."
      : `The connection was ${status.toLowerCase()} outside Portcullis${input.description ? `: "${input.description.slice(0, 200)}"` : "."}`;
  return {
    kind: "out-of-band",
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
      triggeringEventIds: input.context.triggeringEventIds,
      correlationId: input.context.correlationId,
    },
  };
}

/** The notification a settled status change deserves. */
export function notificationFor(status: ConnectionStatus): ConnectionNotificationType | undefined {
  if (status === "Approved") return "Portcullis.Connection.Approved";
  if (status === "Rejected") return "Portcullis.Connection.Rejected";
  return undefined;
}

function baseIntent(
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
    triggeringEventIds: input.context.triggeringEventIds,
    correlationId: input.context.correlationId,
  };
}
