/**
 * Manual decisions (the HTTP API's approve / reject / revoke): the same claim, re-read, ARM write, confirmation
 * and decision log as automatic ones, with a human as the actor and a ticket as the reference.
 *
 * The ARM operation may outlast an HTTP request: with `waitInMs` the call returns an unfinished operation
 * (`in-progress`, JSON-serializable) once the bound passes; resumeManualDecision continues it later, possibly in
 * another process. The claim's lease covers the operation meanwhile, so the engine keeps off the connection.
 *
 * Errors (PortcullisError) the API maps: `not-found` (not a connection of a managed instance, or gone),
 * `conflict` (not Pending, or for revoke not Approved; another decision holds the claim; someone else changed
 * the connection meanwhile), `transient` (ARM or storage unavailable: nothing was decided).
 */
import { isLeaseActive, type ClaimIntent } from "../domain/decisions/decision-claim.ts";
import { isManagedInstance } from "../domain/decisions/decision-scope.ts";
import {
  connectionDescription,
  decisionRecordId,
  principalActor,
  targetStatusOf,
  type DecisionRecord,
  type HumanActor,
} from "../domain/decisions/decision.ts";
import { PortcullisError, toPortcullisError } from "../domain/errors.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../domain/model.ts";
import { parsePrivateEndpointId, serviceIdOfConnection } from "../domain/resource-id.ts";
import type { LongRunningOperation } from "../ports/arm.ts";
import {
  completeWrite,
  expireLease,
  MAIN_RECORD,
  notify,
  recordOf,
  settleClaim,
  takeClaim,
  waitForOperation,
  type HeldClaim,
} from "./claimed-decision.ts";
import type { EngineDeps } from "./engine-deps.ts";

export type ManualAction = "approve" | "reject" | "revoke";

export interface ManualDecisionRequest {
  readonly connectionId: string;
  readonly action: ManualAction;
  /** Change ticket reference (validated by the caller against PORTCULLIS_TICKET_PATTERN). */
  readonly ticket: string;
  readonly reason: string;
  /** The authenticated caller. */
  readonly actor: HumanActor;
  /** Who asked for it, when the caller acts on someone's behalf. */
  readonly requestedBy?: string | undefined;
  readonly correlationId: string;
}

export interface DecideManuallyOptions {
  /** Return `in-progress` once ARM has taken this long; default: wait until ARM finishes. */
  readonly waitInMs?: number | undefined;
}

/** A manual decision whose ARM operation had not finished; plain JSON, kept by the caller to resume it. */
export interface PendingManualDecision {
  readonly connectionId: string;
  readonly privateEndpointId: string | undefined;
  readonly action: ManualAction;
  /** The claim lease this operation holds. */
  readonly leaseOwner: string;
  /** The ID the decision record will have. */
  readonly recordId: string;
  /** The ARM poller's serialized state. */
  readonly operationState: string;
  /** ISO time the decision began. */
  readonly startedAt: string;
}

export type ManualDecisionResult =
  /** ARM confirmed the new status (or, in dry-run mode, it was recorded as would-apply). */
  | { readonly kind: "completed"; readonly record: DecisionRecord }
  /** ARM refused the write; recorded with the error. */
  | { readonly kind: "failed"; readonly record: DecisionRecord }
  | { readonly kind: "in-progress"; readonly operation: PendingManualDecision };

/** The status a manual action requires the connection to be in. */
export function requiredStatusFor(action: ManualAction): ConnectionStatus {
  return action === "revoke" ? "Approved" : "Pending";
}

/** Approves, rejects or revokes a connection on a human's behalf; see the module comment for errors. */
export async function decideManually(request: ManualDecisionRequest, deps: EngineDeps, options: DecideManuallyOptions = {}): Promise<ManualDecisionResult> {
  const serviceId = serviceIdOfConnection(request.connectionId);
  if (serviceId === undefined || !isManagedInstance(deps.scope, serviceId)) {
    throw new PortcullisError("not-found", `${request.connectionId} is not a connection of an instance Portcullis manages.`);
  }
  const connection = await deps.apim.getConnection(request.connectionId);
  if (connection === undefined) throw new PortcullisError("not-found", `The connection ${request.connectionId} does not exist.`);
  requireStatus(connection, request.action);
  const key = { connectionId: connection.id, privateEndpointId: connection.privateEndpointId };
  const claim = await deps.claims.get(key);
  if (isLeaseActive(claim, deps.clock.now())) {
    throw new PortcullisError("conflict", `Another decision on ${connection.id} is in progress; try again later.`);
  }
  const intent = manualIntent(request, connection, deps);
  const taken = await takeClaim(key, connection.serviceId, claim, intent, deps);
  if ("lost" in taken) throw new PortcullisError("conflict", `Another decision on ${connection.id} started first (${taken.lost}).`);
  const held = taken.held;

  if (deps.mode === "dry-run") {
    const record = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "would-apply", statusAfter: connection.status, recordedAt: deps.clock.now() });
    await appendAndSettle(held, record, undefined, deps);
    return { kind: "completed", record };
  }

  let operation: LongRunningOperation<PrivateEndpointConnection>;
  try {
    const current = await deps.apim.getConnection(connection.id);
    if (current === undefined || current.status !== requiredStatusFor(request.action)) {
      await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
      if (current === undefined) throw new PortcullisError("not-found", `The connection ${connection.id} no longer exists.`);
      requireStatus(current, request.action);
    }
    operation = await deps.apim.beginSetConnectionStatus(connection.id, intent.targetStatus!, intent.description!);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "transient") await expireLease(held, deps);
    throw failure;
  }
  return finish(held, operation, deps, options.waitInMs);
}

/** Continues a manual decision that returned `in-progress`; same results and errors as decideManually. */
export async function resumeManualDecision(
  pending: PendingManualDecision,
  deps: EngineDeps,
  options: DecideManuallyOptions = {},
): Promise<ManualDecisionResult> {
  const claim = await deps.claims.get({ connectionId: pending.connectionId, privateEndpointId: pending.privateEndpointId });
  if (claim?.lease === undefined || claim.lease.owner !== pending.leaseOwner) {
    const record = await deps.decisionLog.get(pending.connectionId, pending.recordId);
    if (record !== undefined) return { kind: record.outcome === "failed" ? "failed" : "completed", record };
    throw new PortcullisError("conflict", `The operation on ${pending.connectionId} no longer holds its claim and left no record; check the connection's state.`);
  }
  const operation = await deps.apim.resumeSetConnectionStatus(pending.operationState);
  return finish(claim as HeldClaim, operation, deps, options.waitInMs);
}

/** Waits (within the bound) for the operation, then confirms, records, settles and notifies. */
async function finish(
  held: HeldClaim,
  operation: LongRunningOperation<PrivateEndpointConnection>,
  deps: EngineDeps,
  waitInMs: number | undefined,
): Promise<ManualDecisionResult> {
  const intent = held.lease.intent;
  let pollFailure: { readonly error: unknown } | undefined;
  const done = await pollWithin(operation, waitInMs, deps).catch((error: unknown) => {
    pollFailure = { error };
    return true;
  });
  if (!done) {
    return {
      kind: "in-progress",
      operation: {
        connectionId: held.connectionId,
        privateEndpointId: held.privateEndpointId,
        action: intent.action as ManualAction,
        leaseOwner: held.lease.owner,
        recordId: decisionRecordId(held.lease.startedAt, `${held.lease.owner}${MAIN_RECORD}`),
        operationState: operation.serialize(),
        startedAt: held.lease.startedAt.toISOString(),
      },
    };
  }
  const written = await completeWrite(held.connectionId, intent.targetStatus!, async () => {
    if (pollFailure !== undefined) throw pollFailure.error;
    return operation.result()!;
  }, deps);
  const recordedAt = deps.clock.now();
  switch (written.kind) {
    case "applied": {
      const record = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "applied", statusAfter: written.connection.status, recordedAt });
      await appendAndSettle(held, record, intent.targetStatus, deps);
      await notify(intent.targetStatus === "Approved" ? "Portcullis.Connection.Approved" : "Portcullis.Connection.Rejected", record, deps);
      return { kind: "completed", record };
    }
    case "refused": {
      const record = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "failed", statusAfter: intent.statusBefore, error: written.error, recordedAt });
      await appendAndSettle(held, record, undefined, deps);
      await notify("Portcullis.Connection.DecisionFailed", record, deps);
      return { kind: "failed", record };
    }
    case "not-pending":
      await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
      throw new PortcullisError("conflict", `Someone else changed ${held.connectionId} to ${written.connection.status} meanwhile; not overturned.`);
    case "gone":
      await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
      throw new PortcullisError("not-found", `The connection ${held.connectionId} no longer exists.`);
  }
}

/** true once the operation is done (succeeded or failed); false when the bound passed first; throws when polling failed. */
async function pollWithin(operation: LongRunningOperation<PrivateEndpointConnection>, waitInMs: number | undefined, deps: EngineDeps): Promise<boolean> {
  const abort = new AbortController();
  const timer = waitInMs === undefined ? undefined : setTimeout(() => abort.abort(), waitInMs);
  try {
    await waitForOperation(operation, deps, { abortSignal: abort.signal });
    return true;
  } catch (error) {
    if (operation.isDone()) return true;
    if (abort.signal.aborted) return false;
    throw toPortcullisError(error);
  } finally {
    clearTimeout(timer);
  }
}

async function appendAndSettle(held: HeldClaim, record: DecisionRecord, recordedStatus: "Approved" | "Rejected" | undefined, deps: EngineDeps): Promise<void> {
  await deps.decisionLog.append(record);
  await settleClaim(held, { ...(recordedStatus !== undefined ? { recordedStatus } : {}), retryNotBefore: held.retryNotBefore }, deps);
}

function requireStatus(connection: PrivateEndpointConnection, action: ManualAction): void {
  const required = requiredStatusFor(action);
  if (connection.status !== required) {
    throw new PortcullisError("conflict", `Cannot ${action} ${connection.id}: it is ${connection.status}, not ${required}.`, {
      code: "ConnectionNot" + required,
    });
  }
}

function manualIntent(request: ManualDecisionRequest, connection: PrivateEndpointConnection, deps: EngineDeps): ClaimIntent {
  const actor = principalActor(request.actor.objectId);
  const action = request.action;
  return {
    action,
    mode: deps.mode === "dry-run" ? "dry-run" : "enforce",
    actor,
    actorName: request.actor.name,
    actorAppId: request.actor.appId,
    ruleId: undefined,
    ruleVersion: undefined,
    ticket: request.ticket,
    requestedBy: request.requestedBy,
    reason: request.reason,
    explanation: [],
    targetStatus: targetStatusOf(action),
    description: connectionDescription({ action, actor, actorName: request.actor.name, ticket: request.ticket, reason: request.reason }),
    statusBefore: connection.status,
    requesterSubscriptionId:
      connection.privateEndpointId === undefined ? undefined : parsePrivateEndpointId(connection.privateEndpointId)?.subscriptionId,
    requesterTenantId: undefined,
    triggeringEventIds: [],
    correlationId: request.correlationId,
  };
}
