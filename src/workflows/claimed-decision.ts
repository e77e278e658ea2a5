/**
 * The apply step every decision shares (automatic, manual, observed): take the claim with the intent in it,
 * make the ARM write if one is intended, append the records, settle the claim, then notify. The order is the
 * guarantee: no ARM write without a claim won, no record of a write ARM did not confirm, and a crash at any
 * point leaves a lease that expires so the next run finishes or retries the work.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  isLeaseHeldByAnotherRun,
  withMarks,
  type ClaimIntent,
  type ClaimKey,
  type ClaimState,
  type ConnectionClaim,
} from "../domain/decisions/decision-claim.ts";
import {
  decisionRecordId,
  type ConnectionNotificationType,
  type DecisionOutcome,
  type DecisionRecord,
  type RecordedStatus,
} from "../domain/decisions/decision.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpointConnection } from "../domain/model.ts";
import type { LongRunningOperation } from "../ports/arm.ts";
import type { EngineDeps } from "./engine-deps.ts";

/** A claim this run holds (its lease is ours until settled or expired). */
export type HeldClaim = ConnectionClaim & { readonly lease: NonNullable<ConnectionClaim["lease"]> };

export type TakeResult = { readonly held: HeldClaim } | { readonly lost: string };

/**
 * Takes the claim for `intent` with one conditional write (insert-if-absent, or replace-if-unchanged when it
 * exists). Loses, doing nothing, when another run (another correlation ID) holds an unexpired lease or wins the write.
 */
export async function takeClaim(
  key: ClaimKey,
  serviceId: string,
  existing: ConnectionClaim | undefined,
  intent: ClaimIntent,
  deps: EngineDeps,
): Promise<TakeResult> {
  const now = deps.clock.now();
  if (isLeaseHeldByAnotherRun(existing, now, intent.correlationId)) {
    return { lost: `another run holds the claim until ${existing!.lease!.expiresAt.toISOString()}` };
  }
  const lease = { owner: deps.newId(), startedAt: now, expiresAt: new Date(now.getTime() + deps.timings.claimLeaseInMs), intent };
  const state: ClaimState = existing
    ? { ...stateOf(existing), lease, updatedAt: now }
    : {
        connectionId: key.connectionId,
        privateEndpointId: key.privateEndpointId,
        serviceId,
        lease,
        recordedStatus: undefined,
        marks: [],
        retryNotBefore: undefined,
        updatedAt: now,
      };
  try {
    const held = existing ? await deps.claims.replace(state, existing.etag) : await deps.claims.create(state);
    return { held: held as HeldClaim };
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "conflict" || failure.kind === "precondition-failed") return { lost: "another run took the claim first" };
    throw failure;
  }
}

/** What settling changes on the claim besides dropping the lease. */
export interface Settlement {
  readonly recordedStatus?: RecordedStatus;
  readonly marks?: readonly string[];
  /** Replaces the claim's retry back-off (undefined clears it). */
  readonly retryNotBefore: Date | undefined;
}

/**
 * Drops our lease and stores what the log now holds. If our lease expired and someone took the claim over
 * meanwhile, the write loses; that is logged, since the work itself is done and recorded.
 */
export async function settleClaim(held: HeldClaim, settlement: Settlement, deps: EngineDeps): Promise<void> {
  const state: ClaimState = {
    ...stateOf(held),
    lease: undefined,
    recordedStatus: settlement.recordedStatus ?? held.recordedStatus,
    marks: withMarks(held.marks, settlement.marks ?? []),
    retryNotBefore: settlement.retryNotBefore,
    updatedAt: deps.clock.now(),
  };
  try {
    await deps.claims.replace(state, held.etag);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind !== "precondition-failed") throw failure;
    deps.log.warn(`Claim of ${held.connectionId} was taken over before this run settled it (its lease had expired); the decision is recorded.`);
  }
}

/**
 * After a transient failure before ARM accepted a write: keep the intent but end the lease now, so the next run
 * may retry at once. (Once a write was sent, the lease runs out by itself: the operation may still be running.)
 * Best effort: if storage is down too, the lease expires by itself.
 */
export async function expireLease(held: HeldClaim, deps: EngineDeps): Promise<void> {
  const now = deps.clock.now();
  try {
    await deps.claims.replace({ ...stateOf(held), lease: { ...held.lease, expiresAt: now }, updatedAt: now }, held.etag);
  } catch (error) {
    deps.log.warn(`Could not end the lease on ${held.connectionId} early (${toPortcullisError(error).message}); it expires at ${held.lease.expiresAt.toISOString()}.`);
  }
}

/** The decision record for an intent; its ID derives from the lease, so re-appending it is a no-op. */
export function recordOf(
  intent: ClaimIntent,
  lease: { readonly owner: string; readonly startedAt: Date },
  suffix: string,
  claim: ClaimKey & { readonly serviceId: string },
  result: { readonly outcome: DecisionOutcome; readonly statusAfter: RecordedStatus | undefined; readonly error?: string | undefined; readonly recordedAt: Date },
): DecisionRecord {
  return {
    id: decisionRecordId(lease.startedAt, `${lease.owner}${suffix}`),
    connectionId: claim.connectionId,
    serviceId: claim.serviceId,
    privateEndpointId: claim.privateEndpointId,
    requesterSubscriptionId: intent.requesterSubscriptionId,
    requesterTenantId: intent.requesterTenantId,
    ruleId: intent.ruleId,
    ruleVersion: intent.ruleVersion,
    action: intent.action,
    mode: intent.mode,
    actor: intent.actor,
    actorName: intent.actorName,
    actorAppId: intent.actorAppId,
    ticket: intent.ticket,
    requestedBy: intent.requestedBy,
    reason: intent.reason,
    explanation: intent.explanation,
    triggeringEventIds: intent.triggeringEventIds,
    correlationId: intent.correlationId,
    statusBefore: intent.statusBefore,
    statusAfter: result.statusAfter,
    outcome: result.outcome,
    error: result.error,
    startedAt: lease.startedAt,
    recordedAt: result.recordedAt,
  };
}

/** The suffix of the main record of a lease (the ARM write, or the observation); notes use `n0`, `n1`, ... */
export const MAIN_RECORD = "m";

/** How an ARM write under a held claim ended. */
export type WriteResult =
  | { readonly kind: "applied"; readonly connection: PrivateEndpointConnection }
  | { readonly kind: "refused"; readonly error: string }
  | { readonly kind: "not-pending"; readonly connection: PrivateEndpointConnection }
  | { readonly kind: "gone" };

/**
 * Finishes a started write: waits for the operation (transient failures throw), then confirms the final state
 * with ARM. A conflict means someone else changed the connection: re-read and report what it is now.
 */
export async function completeWrite(
  connectionId: string,
  targetStatus: "Approved" | "Rejected",
  operation: () => Promise<PrivateEndpointConnection>,
  deps: EngineDeps,
): Promise<WriteResult> {
  try {
    const final = await operation();
    const confirmed = final.status === targetStatus ? final : await deps.apim.getConnection(connectionId);
    if (confirmed === undefined) return { kind: "gone" };
    if (confirmed.status === targetStatus) return { kind: "applied", connection: confirmed };
    return { kind: "refused", error: `ARM finished the operation but the connection is ${confirmed.status}, not ${targetStatus}.` };
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "transient") throw failure;
    if (failure.kind === "not-found") return { kind: "gone" };
    if (failure.kind === "conflict" || failure.kind === "precondition-failed") {
      const current = await deps.apim.getConnection(connectionId);
      if (current === undefined) return { kind: "gone" };
      if (current.status !== "Pending") return { kind: "not-pending", connection: current };
    }
    return { kind: "refused", error: `${failure.code ?? failure.kind}: ${failure.message}` };
  }
}

/** Tells the caller whether the ARM write was sent (then a failure must not end the lease early). */
export interface WriteProgress {
  armWriteStarted: boolean;
}

/** Starts the write and waits for it; see completeWrite. */
export async function writeStatus(
  held: HeldClaim,
  targetStatus: "Approved" | "Rejected",
  description: string,
  progress: WriteProgress,
  deps: EngineDeps,
): Promise<WriteResult> {
  return completeWrite(held.connectionId, targetStatus, async () => {
    const operation = await deps.apim.beginSetConnectionStatus(held.connectionId, targetStatus, description);
    progress.armWriteStarted = true;
    return waitForOperation(operation, deps);
  }, deps);
}

/** Polls a started operation to its end: first after firstPollDelayInMs (unless already done), then as ARM says. */
export async function waitForOperation(
  operation: LongRunningOperation<PrivateEndpointConnection>,
  deps: EngineDeps,
  options: { readonly abortSignal?: AbortSignal } = {},
): Promise<PrivateEndpointConnection> {
  if (!operation.isDone() && deps.timings.firstPollDelayInMs > 0) {
    await sleep(deps.timings.firstPollDelayInMs, undefined, options.abortSignal ? { signal: options.abortSignal } : {});
  }
  return operation.pollUntilDone(options);
}

/** Publishes one notification; a failure is logged and never fails the decision. */
export async function notify(
  type: ConnectionNotificationType,
  record: DecisionRecord,
  deps: EngineDeps,
): Promise<void> {
  try {
    await deps.notifications.publish({
      type,
      connectionId: record.connectionId,
      serviceId: record.serviceId,
      privateEndpointId: record.privateEndpointId,
      actor: record.actor,
      ruleId: record.ruleId,
      reason: record.reason,
      decisionId: record.id,
      correlationId: record.correlationId,
      error: record.error,
      time: record.recordedAt,
    });
  } catch (error) {
    deps.log.warn(`Could not publish ${type} for ${record.connectionId}: ${toPortcullisError(error).message} (the decision stands).`);
  }
}

function stateOf(claim: ConnectionClaim): ClaimState {
  const { etag: _etag, ...state } = claim;
  return state;
}
