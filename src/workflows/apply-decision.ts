/**
 * Step 3 of read → decide → apply, written once for every decision (the rules', a human's, an observation, a
 * deletion): applyDecision carries out a DecisionPlan (src/domain/decisions/decision-plan.ts).
 *
 *   take the claim (the plan's intent in its lease)
 *   → re-read the connection                      gone: nothing to do
 *   → guard: required status, no operation in flight   busy: end the lease, record nothing (next pass)
 *                                                  changed: someone else decided (rules: record it as theirs)
 *   → ARM write                                    refused outright (409, 400, 403): record the refusal, end the claim
 *   → wait for the operation, confirm with ARM     any poll failure: re-read; what ARM holds is what is recorded
 *   → append the records → settle the claim → notify
 *
 * The order is the guarantee: no ARM write without a claim won and a fresh read that shows nobody else acting, no
 * record of a write ARM does not hold, and a crash at any point leaves a lease that expires (with the operation it
 * started, once known) so the next run finishes or retries the work.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  isLeaseHeldByAnotherRun,
  withMarks,
  type ClaimIntent,
  type ClaimKey,
  type ClaimLease,
  type ClaimState,
  type ConnectionClaim,
} from "../domain/decisions/decision-claim.ts";
import {
  guardWrite,
  isOperationInFlight,
  notificationFor,
  planObservedStatus,
  type DecisionPlan,
  type ManualAction,
  type PlannedRecord,
  type PlannedWrite,
} from "../domain/decisions/decision-plan.ts";
import {
  decisionRecordId,
  type ConnectionNotificationType,
  type DecisionOutcome,
  type DecisionRecord,
  type RecordedStatus,
} from "../domain/decisions/decision.ts";
import { PortcullisError, toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpointConnection } from "../domain/model.ts";
import type { LongRunningOperation } from "../ports/arm.ts";
import type { EngineDeps } from "./engine-deps.ts";
import { decisionHooks } from "../telemetry/engine.ts";

/** A claim this run holds (its lease is ours until settled or expired). */
type HeldClaim = ConnectionClaim & { readonly lease: ClaimLease };

/** A write whose ARM operation had not finished within the caller's bound; plain JSON, kept to resume it. */
export interface UnfinishedWrite {
  readonly connectionId: string;
  readonly privateEndpointId: string | undefined;
  readonly action: ManualAction;
  /** The claim lease this operation holds. */
  readonly leaseOwner: string;
  /** The ID the decision record will have. */
  readonly recordId: string;
  /** The ARM operation's serialized state. */
  readonly operationState: string;
  /** ISO time the decision began. */
  readonly startedAt: string;
}

/** How applying a plan ended. `records` are the records this run appended. */
export type ApplyResult =
  /** Another run holds the claim or took it first; nothing was done. */
  | { readonly kind: "lost"; readonly reason: string }
  /** A plan without a write: its records are appended. */
  | { readonly kind: "recorded"; readonly status: RecordedStatus | undefined; readonly records: readonly DecisionRecord[] }
  /** ARM holds the written status (confirmed, possibly after a poll failure). */
  | { readonly kind: "applied"; readonly connection: PrivateEndpointConnection; readonly records: readonly DecisionRecord[] }
  /** ARM refused the write (outright, or the operation left the connection unchanged); recorded. */
  | { readonly kind: "refused"; readonly error: string; readonly records: readonly DecisionRecord[] }
  /** Someone's operation on the connection is in flight: nothing written or recorded; the next pass decides. */
  | { readonly kind: "busy"; readonly connection: PrivateEndpointConnection; readonly records: readonly DecisionRecord[] }
  /** Someone else moved the connection first; the rules' plans record it as theirs, a human's report a conflict. */
  | { readonly kind: "changed"; readonly connection: PrivateEndpointConnection; readonly records: readonly DecisionRecord[] }
  | { readonly kind: "gone"; readonly records: readonly DecisionRecord[] }
  /** The write's operation outlasted `waitInMs`; the lease covers it until resumeWrite finishes it. */
  | { readonly kind: "in-progress"; readonly operation: UnfinishedWrite };

export interface ApplyOptions {
  /** Return `in-progress` once the write's operation has run this long; default: wait until ARM finishes. */
  readonly waitInMs?: number | undefined;
}

/** Applies a plan (see the module comment); `claim` is the claim as read when planning. */
export async function applyDecision(
  plan: DecisionPlan,
  claim: ConnectionClaim | undefined,
  deps: EngineDeps,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const taken = await takeClaim(plan.key, plan.resourceId, claim, plan.intent, deps);
  if ("lost" in taken) return { kind: "lost", reason: taken.lost };
  const held = taken.held;
  const progress = { armWriteStarted: false };
  try {
    if (plan.write === undefined) {
      const status = plan.settlement.recordedStatus;
      const records = await recordAndSettle(held, { records: plan.records, statusNow: status, recordedStatus: status, retryNotBefore: retryAfterSuccess(held, plan) }, deps);
      return { kind: "recorded", status, records };
    }
    return await guardAndWrite(held, plan, plan.write, progress, deps, options);
  } catch (error) {
    if (!progress.armWriteStarted) await expireLease(held, deps);
    throw error;
  }
}

/**
 * Continues a write that returned `in-progress`, possibly in another process: same results as applyDecision.
 * A claim no longer held by that write answers from the decision log (another poll finished it).
 */
export async function resumeWrite(pending: UnfinishedWrite, deps: EngineDeps, options: ApplyOptions = {}): Promise<ApplyResult | { readonly kind: "finished"; readonly record: DecisionRecord }> {
  const claim = await deps.claims.get({ connectionId: pending.connectionId, privateEndpointId: pending.privateEndpointId });
  if (claim?.lease === undefined || claim.lease.owner !== pending.leaseOwner) {
    const record = await deps.decisionLog.get(pending.connectionId, pending.recordId);
    if (record !== undefined) return { kind: "finished", record };
    throw new PortcullisError("conflict", `The operation on ${pending.connectionId} no longer holds its claim and left no record; check the connection's state.`);
  }
  const held = claim as HeldClaim;
  // A resumed write runs in a new invocation: open its decision span here, as taking the claim does on the first run.
  decisionHooks(deps).claimWritten(held);
  const intent = held.lease.intent;
  if (intent.targetStatus === undefined || intent.description === undefined || (intent.statusBefore !== "Pending" && intent.statusBefore !== "Approved")) {
    throw new PortcullisError("internal", `The claim of ${pending.connectionId} holds no write to resume.`);
  }
  const operation = await deps.privateLink.resumeSetConnectionStatus(pending.operationState);
  const write: PlannedWrite = { requiredStatus: intent.statusBefore, targetStatus: intent.targetStatus, description: intent.description };
  return followWrite(held, { write, records: [], automatic: false }, operation, deps, options);
}

type WriteSpec = Pick<DecisionPlan, "records" | "automatic"> & { readonly write: PlannedWrite };

async function guardAndWrite(
  held: HeldClaim,
  plan: DecisionPlan,
  write: PlannedWrite,
  progress: { armWriteStarted: boolean },
  deps: EngineDeps,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const spec = { ...plan, write };
  const current = await deps.privateLink.getConnection(held.connectionId);
  const checked = await checkCurrent(held, spec, current, deps);
  if (checked !== undefined) return checked;
  let operation: LongRunningOperation<PrivateEndpointConnection>;
  try {
    operation = await deps.privateLink.beginSetConnectionStatus(held.connectionId, write.targetStatus, write.description);
  } catch (error) {
    const failure = toPortcullisError(error);
    // A 409 is ARM answering "busy" (the adapter classes it transient, so the rules retry): a human is told at once.
    if (failure.kind === "transient" && failure.statusCode !== 409) throw failure;
    return refusedOutright(held, spec, failure, deps);
  }
  progress.armWriteStarted = true;
  return followWrite(held, spec, operation, deps, options);
}

/** The guard on a fresh read: undefined when the write may go ahead, else how the plan ended. */
async function checkCurrent(
  held: HeldClaim,
  plan: WriteSpec & Pick<DecisionPlan, "key" | "resourceId" | "intent">,
  current: PrivateEndpointConnection | undefined,
  deps: EngineDeps,
): Promise<ApplyResult | undefined> {
  if (current === undefined) {
    await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
    return { kind: "gone", records: [] };
  }
  switch (guardWrite(current, plan.write)) {
    case "write":
      return undefined;
    case "busy":
      await expireLease(held, deps);
      return { kind: "busy", connection: current, records: [] };
    case "changed":
      return settleChanged(held, plan, current, deps);
  }
}

/** ARM refused the PUT itself: a conflict may be someone else's change (re-read); otherwise the refusal is recorded. */
async function refusedOutright(held: HeldClaim, plan: DecisionPlan & { readonly write: PlannedWrite }, failure: PortcullisError, deps: EngineDeps): Promise<ApplyResult> {
  deps.log.warn(`ARM refused to set ${held.connectionId} to ${plan.write.targetStatus}: ${failure.statusCode ?? ""} ${failure.code ?? failure.kind}: ${failure.message}`);
  if (failure.kind === "conflict" || failure.kind === "precondition-failed" || failure.kind === "not-found" || failure.statusCode === 409) {
    const current = await deps.privateLink.getConnection(held.connectionId);
    if (current === undefined) {
      await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
      return { kind: "gone", records: [] };
    }
    const guard = guardWrite(current, plan.write);
    if (guard === "changed") return settleChanged(held, plan, current, deps);
    // The rules wait for the other operation (and record what it did); a human is told ARM refused.
    if (guard === "busy" && plan.automatic) {
      await expireLease(held, deps);
      return { kind: "busy", connection: current, records: [] };
    }
    // The rules retry a write ARM called busy on the next pass (applyDecision ends the lease); nothing is recorded.
    if (plan.automatic && failure.kind === "transient") throw failure;
  }
  return recordRefusal(held, plan, refusalText(failure), deps);
}

/** Waits (within the bound) for the write's operation, then records what ARM holds; see the module comment. */
async function followWrite(
  held: HeldClaim,
  spec: WriteSpec,
  operation: LongRunningOperation<PrivateEndpointConnection>,
  deps: EngineDeps,
  options: ApplyOptions,
): Promise<ApplyResult> {
  let final: PrivateEndpointConnection | undefined;
  let failure: PortcullisError | undefined;
  try {
    if (!(await pollWithin(operation, options.waitInMs, deps))) {
      const kept = await keepOperation(held, operation, deps);
      return { kind: "in-progress", operation: unfinishedWrite(kept, operation) };
    }
    final = operation.result();
  } catch (error) {
    failure = toPortcullisError(error);
    if (failure.kind === "transient" && !operation.isDone()) {
      // ARM or the network is away; the lease runs out by itself and whoever takes the claim over resumes the operation.
      await keepOperation(held, operation, deps);
      throw failure;
    }
  }
  const write = spec.write;
  if (failure === undefined && final?.status === write.targetStatus) return recordApplied(held, spec, final, deps);
  // Polling failed, or the operation ended without the intended status: ARM's current state is what counts.
  const current = await deps.privateLink.getConnection(held.connectionId);
  if (current === undefined) {
    await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
    return { kind: "gone", records: [] };
  }
  if (current.status === write.targetStatus && current.description === write.description) return recordApplied(held, spec, current, deps);
  if (isOperationInFlight(current)) {
    // Still running: record nothing now; the lease (with the operation) covers it until a later run settles it.
    await keepOperation(held, operation, deps);
    return { kind: "busy", connection: current, records: [] };
  }
  if (current.status === write.requiredStatus) {
    const error = failure !== undefined ? refusalText(failure) : `ARM finished the operation but the connection is ${current.status}, not ${write.targetStatus}.`;
    return recordRefusal(held, spec, error, deps);
  }
  return settleChanged(held, { ...spec, key: held, resourceId: held.resourceId, intent: held.lease.intent }, current, deps);
}

/** ARM's error as recorded and shown to callers: its status and code only (its message names our identity and scope). */
export function refusalText(failure: PortcullisError): string {
  const status = failure.statusCode !== undefined ? `${failure.statusCode} ` : "";
  return `ARM refused the change: ${status}${failure.code ?? failure.kind}`;
}

async function recordApplied(held: HeldClaim, spec: WriteSpec, connection: PrivateEndpointConnection, deps: EngineDeps): Promise<ApplyResult> {
  const main = recordOf(held.lease.intent, held.lease, MAIN_RECORD, held, { outcome: "applied", statusAfter: connection.status, recordedAt: deps.clock.now() });
  const records = await recordAndSettle(
    held,
    {
      main: { record: main, notify: notificationFor(connection.status) },
      records: spec.records,
      statusNow: connection.status,
      recordedStatus: connection.status,
      retryNotBefore: spec.automatic ? undefined : held.retryNotBefore,
    },
    deps,
  );
  return { kind: "applied", connection, records };
}

async function recordRefusal(held: HeldClaim, spec: WriteSpec, error: string, deps: EngineDeps): Promise<ApplyResult> {
  const now = deps.clock.now();
  const intent = held.lease.intent;
  const main = recordOf(intent, held.lease, MAIN_RECORD, held, { outcome: "failed", statusAfter: intent.statusBefore, error, recordedAt: now });
  const records = await recordAndSettle(
    held,
    {
      main: { record: main, notify: "Portcullis.Connection.DecisionFailed" },
      records: spec.records,
      statusNow: intent.statusBefore,
      recordedStatus: undefined,
      // The rules retry after a back-off; a human decides again when they choose to.
      retryNotBefore: spec.automatic ? new Date(now.getTime() + deps.timings.failedRetryDelayInMs) : held.retryNotBefore,
    },
    deps,
  );
  return { kind: "refused", error, records };
}

/** Someone else moved the connection: the rules record their decision once (never overturn it); a human's plan reports it. */
async function settleChanged(
  held: HeldClaim,
  plan: Pick<DecisionPlan, "key" | "resourceId" | "intent" | "automatic">,
  current: PrivateEndpointConnection,
  deps: EngineDeps,
): Promise<ApplyResult> {
  if (!plan.automatic || current.status === "Pending") {
    await settleClaim(held, { retryNotBefore: held.retryNotBefore }, deps);
    return { kind: "changed", connection: current, records: [] };
  }
  const observed = planObservedStatus({
    key: plan.key,
    resourceId: plan.resourceId,
    status: current.status,
    description: current.description,
    facts: {
      requesterSubscriptionId: plan.intent.requesterSubscriptionId,
      requesterTenantId: plan.intent.requesterTenantId,
      requesterTenantSource: plan.intent.requesterTenantSource,
    },
    claim: { ...held, lease: undefined },
    context: { triggeringEventIds: plan.intent.triggeringEventIds, correlationId: plan.intent.correlationId },
  });
  const records = await recordAndSettle(
    held,
    { records: observed?.records ?? [], statusNow: current.status, recordedStatus: current.status, retryNotBefore: undefined },
    deps,
  );
  return { kind: "changed", connection: current, records };
}

/** The claim's retry back-off after a plan without a write: the rules' records clear it, a human's leave it. */
function retryAfterSuccess(held: HeldClaim, plan: DecisionPlan): Date | undefined {
  return plan.automatic ? undefined : held.retryNotBefore;
}

/** Appends the main record and the plan's records, settles the claim, then notifies (in that order). */
async function recordAndSettle(
  held: HeldClaim,
  outcome: {
    readonly main?: { readonly record: DecisionRecord; readonly notify: ConnectionNotificationType | undefined };
    readonly records: readonly PlannedRecord[];
    /** The status records without their own statusAfter state. */
    readonly statusNow: RecordedStatus | undefined;
    readonly recordedStatus: RecordedStatus | undefined;
    readonly retryNotBefore: Date | undefined;
  },
  deps: EngineDeps,
): Promise<DecisionRecord[]> {
  const recordedAt = deps.clock.now();
  const written: [DecisionRecord, ConnectionNotificationType | undefined][] = [];
  if (outcome.main !== undefined) written.push([outcome.main.record, outcome.main.notify]);
  for (const [index, planned] of outcome.records.entries()) {
    // A recovered write keeps the record ID its own lease gave it, so a record that did get appended is not repeated.
    const record = planned.lease !== undefined
      ? recordOf(planned.intent, planned.lease, MAIN_RECORD, held, { outcome: planned.outcome, statusAfter: planned.statusAfter ?? outcome.statusNow, recordedAt })
      : recordOf(planned.intent, held.lease, `n${index}`, held, { outcome: planned.outcome, statusAfter: planned.statusAfter ?? outcome.statusNow, recordedAt });
    written.push([record, planned.notify]);
  }
  for (const [record] of written) await deps.decisionLog.append(record);
  const marks = outcome.records.flatMap((r) => (r.mark === undefined ? [] : [r.mark]));
  await settleClaim(
    held,
    { ...(outcome.recordedStatus !== undefined ? { recordedStatus: outcome.recordedStatus } : {}), marks, retryNotBefore: outcome.retryNotBefore },
    deps,
  );
  for (const [record, type] of written) if (type !== undefined) await notify(type, record, deps);
  return written.map(([record]) => record);
}

type TakeResult = { readonly held: HeldClaim } | { readonly lost: string };

/**
 * Takes the claim for `intent` with one conditional write (insert-if-absent, or replace-if-unchanged when it
 * exists). Loses, doing nothing, when another run (another correlation ID) holds an unexpired lease or wins the write.
 */
async function takeClaim(
  key: ClaimKey,
  resourceId: string,
  existing: ConnectionClaim | undefined,
  intent: ClaimIntent,
  deps: EngineDeps,
): Promise<TakeResult> {
  const now = deps.clock.now();
  if (isLeaseHeldByAnotherRun(existing, now, intent.correlationId)) {
    return { lost: `another run holds the claim until ${existing!.lease!.expiresAt.toISOString()}` };
  }
  const lease: ClaimLease = { owner: deps.newId(), startedAt: now, expiresAt: new Date(now.getTime() + deps.timings.claimLeaseInMs), intent };
  const state: ClaimState = existing
    ? { ...stateOf(existing), lease, updatedAt: now }
    : {
        connectionId: key.connectionId,
        privateEndpointId: key.privateEndpointId,
        resourceId,
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
interface Settlement {
  readonly recordedStatus?: RecordedStatus;
  readonly marks?: readonly string[];
  /** Replaces the claim's retry back-off (undefined clears it). */
  readonly retryNotBefore: Date | undefined;
}

/**
 * Drops our lease and stores what the log now holds. If our lease expired and someone took the claim over
 * meanwhile, the write loses; that is logged, since the work itself is done and recorded.
 */
async function settleClaim(held: HeldClaim, settlement: Settlement, deps: EngineDeps): Promise<void> {
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
 * Ends the lease now but keeps the intent, so the next run may act at once: after a transient failure before ARM
 * accepted a write, or when the guard found another operation in flight. (Once a write was sent, the lease runs
 * out by itself: the operation may still be running.) Best effort: if storage is down too, the lease expires.
 */
async function expireLease(held: HeldClaim, deps: EngineDeps): Promise<void> {
  const now = deps.clock.now();
  try {
    await deps.claims.replace({ ...stateOf(held), lease: { ...held.lease, expiresAt: now }, updatedAt: now }, held.etag);
  } catch (error) {
    deps.log.warn(`Could not end the lease on ${held.connectionId} early (${toPortcullisError(error).message}); it expires at ${held.lease.expiresAt.toISOString()}.`);
  }
}

/** Keeps the running operation in the lease, so a run taking the claim over resumes it; best effort. */
async function keepOperation(held: HeldClaim, operation: LongRunningOperation<PrivateEndpointConnection>, deps: EngineDeps): Promise<HeldClaim> {
  const lease: ClaimLease = { ...held.lease, operation: operation.serialize() };
  try {
    return (await deps.claims.replace({ ...stateOf(held), lease, updatedAt: deps.clock.now() }, held.etag)) as HeldClaim;
  } catch (error) {
    deps.log.warn(`Could not keep the operation on ${held.connectionId} in its claim (${toPortcullisError(error).message}); the next run re-reads the connection instead.`);
    return held;
  }
}

function unfinishedWrite(held: HeldClaim, operation: LongRunningOperation<PrivateEndpointConnection>): UnfinishedWrite {
  return {
    connectionId: held.connectionId,
    privateEndpointId: held.privateEndpointId,
    action: held.lease.intent.action as ManualAction,
    leaseOwner: held.lease.owner,
    recordId: decisionRecordId(held.lease.startedAt, `${held.lease.owner}${MAIN_RECORD}`),
    operationState: operation.serialize(),
    startedAt: held.lease.startedAt.toISOString(),
  };
}

/** The decision record for an intent; its ID derives from the lease, so re-appending it is a no-op. */
function recordOf(
  intent: ClaimIntent,
  lease: { readonly owner: string; readonly startedAt: Date },
  suffix: string,
  claim: ClaimKey & { readonly resourceId: string },
  result: { readonly outcome: DecisionOutcome; readonly statusAfter: RecordedStatus | undefined; readonly error?: string | undefined; readonly recordedAt: Date },
): DecisionRecord {
  return {
    id: decisionRecordId(lease.startedAt, `${lease.owner}${suffix}`),
    connectionId: claim.connectionId,
    resourceId: claim.resourceId,
    privateEndpointId: claim.privateEndpointId,
    requesterSubscriptionId: intent.requesterSubscriptionId,
    requesterTenantId: intent.requesterTenantId,
    requesterTenantSource: intent.requesterTenantSource,
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

/** The suffix of the main record of a lease (the ARM write, or a recovered write); other records use `n0`, `n1`, ... */
const MAIN_RECORD = "m";

/** true once the operation is done (succeeded or failed); false when the bound passed first; throws when polling failed. */
async function pollWithin(operation: LongRunningOperation<PrivateEndpointConnection>, waitInMs: number | undefined, deps: EngineDeps): Promise<boolean> {
  const abort = new AbortController();
  const timer = waitInMs === undefined ? undefined : setTimeout(() => abort.abort(), waitInMs);
  try {
    if (!operation.isDone() && deps.timings.firstPollDelayInMs > 0) {
      await sleep(deps.timings.firstPollDelayInMs, undefined, { signal: abort.signal });
    }
    await operation.pollUntilDone({ abortSignal: abort.signal });
    return true;
  } catch (error) {
    if (operation.isDone()) return true;
    if (abort.signal.aborted) return false;
    throw toPortcullisError(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Publishes one notification; a failure is logged and never fails the decision. */
async function notify(type: ConnectionNotificationType, record: DecisionRecord, deps: EngineDeps): Promise<void> {
  try {
    await deps.notifications.publish({
      type,
      connectionId: record.connectionId,
      resourceId: record.resourceId,
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
