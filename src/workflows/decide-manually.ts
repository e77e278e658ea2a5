/**
 * Manual decisions (the HTTP API's approve / reject / revoke): read → plan (planManualDecision: a human as the
 * actor, a ticket as the reference; dry-run drops the write) → apply (applyDecision, the same claim, re-read,
 * guard, ARM write, confirmation and decision log as automatic ones).
 *
 * The ARM operation may outlast an HTTP request: with `waitInMs` the call returns an unfinished operation
 * (`in-progress`, JSON-serializable) once the bound passes; resumeManualDecision continues it later, possibly in
 * another process. The claim's lease covers the operation meanwhile, so the engine keeps off the connection.
 *
 * Results: `completed` (ARM holds the new status, also when polling failed but ARM applied it), `failed` (ARM
 * refused the write outright or left the connection unchanged: recorded with ARM's status and code, the claim
 * ended at once), `in-progress`. Errors (PortcullisError) the API maps: `not-found` (not a connection of a managed
 * instance, or gone), `conflict` (not Pending, or for revoke not Approved; another decision holds the claim;
 * another operation on the connection is running; someone else changed the connection meanwhile), `transient`
 * (ARM or storage unavailable: nothing was decided).
 */
import { isLeaseActive } from "../domain/decisions/decision-claim.ts";
import { planManualDecision, requesterSubscriptionOf, requiredStatusFor, type ManualAction, type ManualDecisionInput } from "../domain/decisions/decision-plan.ts";
import { managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import type { DecisionRecord } from "../domain/decisions/decision.ts";
import { PortcullisError } from "../domain/errors.ts";
import type { PrivateEndpointConnection } from "../domain/model.ts";
import { applyDecision, resumeWrite, type ApplyResult, type UnfinishedWrite } from "./apply-decision.ts";
import type { EngineDeps } from "./engine-deps.ts";
import { resolveRequesterTenant } from "./tenant-lookup.ts";

export { requiredStatusFor, type ManualAction };

export interface ManualDecisionRequest extends ManualDecisionInput {
  readonly connectionId: string;
}

export interface DecideManuallyOptions {
  /** Return `in-progress` once ARM has taken this long; default: wait until ARM finishes. */
  readonly waitInMs?: number | undefined;
}

/** A manual decision whose ARM operation had not finished; plain JSON, kept by the caller to resume it. */
export type PendingManualDecision = UnfinishedWrite;

export type ManualDecisionResult =
  /** ARM holds the new status (or, in dry-run mode, it was recorded as would-apply). */
  | { readonly kind: "completed"; readonly record: DecisionRecord }
  /** ARM refused the write; recorded with ARM's status and code. */
  | { readonly kind: "failed"; readonly record: DecisionRecord }
  | { readonly kind: "in-progress"; readonly operation: PendingManualDecision };

/** Approves, rejects or revokes a connection on a human's behalf: read → plan → apply; see the module comment for errors. */
export async function decideManually(request: ManualDecisionRequest, deps: EngineDeps, options: DecideManuallyOptions = {}): Promise<ManualDecisionResult> {
  const resourceId = managedResourceOfConnection(deps.scope, request.connectionId);
  if (resourceId === undefined) {
    throw new PortcullisError("not-found", `${request.connectionId} is not a connection of a resource Portcullis manages.`);
  }
  const connection = await deps.privateLink.getConnection(request.connectionId);
  if (connection === undefined) throw new PortcullisError("not-found", `The connection ${request.connectionId} does not exist.`);
  requireStatus(connection, request.action);
  const claim = await deps.claims.get({ connectionId: connection.id, privateEndpointId: connection.privateEndpointId });
  if (isLeaseActive(claim, deps.clock.now())) {
    throw new PortcullisError("conflict", `Another decision on ${connection.id} is in progress; try again later.`);
  }
  // For the record: whom the human decided for (a hint from ARM's challenge; cached, never blocks the decision).
  const requesterTenant = await resolveRequesterTenant(
    { eventTenantId: undefined, requesterSubscriptionId: requesterSubscriptionOf(connection.privateEndpointId), needed: true },
    deps.tenantLookup,
  );
  const plan = planManualDecision({ request, connection, mode: deps.mode, requesterTenant });
  return manualResult(request.action, connection.id, await applyDecision(plan, claim, deps, { waitInMs: options.waitInMs }));
}

/** Continues a manual decision that returned `in-progress`; same results and errors as decideManually. */
export async function resumeManualDecision(
  pending: PendingManualDecision,
  deps: EngineDeps,
  options: DecideManuallyOptions = {},
): Promise<ManualDecisionResult> {
  const resumed = await resumeWrite(pending, deps, { waitInMs: options.waitInMs });
  if (resumed.kind === "finished") return { kind: resumed.record.outcome === "failed" ? "failed" : "completed", record: resumed.record };
  return manualResult(pending.action, pending.connectionId, resumed);
}

/** Maps how the apply step ended to the API's results and errors. */
function manualResult(action: ManualAction, connectionId: string, applied: ApplyResult): ManualDecisionResult {
  switch (applied.kind) {
    case "recorded":
    case "applied":
      return { kind: "completed", record: applied.records[0]! };
    case "refused":
      return { kind: "failed", record: applied.records[0]! };
    case "in-progress":
      return { kind: "in-progress", operation: applied.operation };
    case "lost":
      throw new PortcullisError("conflict", `Another decision on ${connectionId} started first (${applied.reason}).`);
    case "busy":
      throw new PortcullisError("conflict", `Another operation on ${connectionId} is running (provisioningState ${applied.connection.provisioningState ?? "unknown"}); try again once it has finished.`, {
        code: "AnotherOperationInProgress",
      });
    case "changed":
      if (applied.connection.status !== requiredStatusFor(action)) requireStatus(applied.connection, action);
      throw new PortcullisError("conflict", `Someone else changed ${connectionId} to ${applied.connection.status} meanwhile; not overturned.`);
    case "gone":
      throw new PortcullisError("not-found", `The connection ${connectionId} no longer exists.`);
  }
}

function requireStatus(connection: PrivateEndpointConnection, action: ManualAction): void {
  const required = requiredStatusFor(action);
  if (connection.status !== required) {
    throw new PortcullisError("conflict", `Cannot ${action} ${connection.id}: it is ${connection.status}, not ${required}.`, {
      code: "ConnectionNot" + required,
    });
  }
}
