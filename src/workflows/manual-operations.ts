/**
 * Manual decisions that may outlast an HTTP request. startManualDecision runs decideManually with a bound; if ARM
 * has not finished by then, the unfinished decision (its serialized poller and the claim it holds) is kept as an
 * operation resource, and pollManualOperation resumes it from any instance until it ends.
 *
 *   startManualDecision ─▶ completed | refused (ARM said no; recorded)
 *                       └▶ accepted: operation Running ──poll──▶ Running (resume state refreshed)
 *                                                        └──────▶ Succeeded | Failed (result kept)
 *
 * Errors of decideManually (not-found, conflict, transient) propagate from startManualDecision unchanged. While
 * polling, a transient failure throws (the operation stays Running, nothing is lost); a terminal one ends the
 * operation as Failed with the reason.
 */
import { z } from "zod";
import { decisionRecordSchema, type DecisionRecord } from "../domain/decisions/decision.ts";
import { PortcullisError, toPortcullisError } from "../domain/errors.ts";
import type { OperationRecord, OperationStore } from "../ports/operation-store.ts";
import {
  decideManually,
  resumeManualDecision,
  type ManualDecisionRequest,
  type ManualDecisionResult,
  type PendingManualDecision,
} from "./decide-manually.ts";
import type { EngineDeps } from "./engine-deps.ts";

export interface ManualOperationDeps {
  readonly engine: EngineDeps;
  readonly operations: OperationStore;
  /** A new operation ID: a lower-case GUID. */
  newOperationId(): string;
}

/** How an operation ended, as kept in its record: the decision (applied or refused by ARM) or why it stopped. */
export type OperationResult =
  | { readonly kind: "completed" | "refused"; readonly decision: DecisionRecord }
  | { readonly kind: "conflict" | "not-found"; readonly detail: string };

export type ManualOutcome =
  | { readonly kind: "completed" | "refused"; readonly decision: DecisionRecord }
  | { readonly kind: "accepted"; readonly operation: OperationRecord };

const pendingSchema = z.object({
  connectionId: z.string(),
  privateEndpointId: z.string().optional(),
  action: z.enum(["approve", "reject", "revoke"]),
  leaseOwner: z.string(),
  recordId: z.string(),
  operationState: z.string(),
  startedAt: z.string(),
});

const resultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.enum(["completed", "refused"]), decision: decisionRecordSchema }),
  z.object({ kind: z.enum(["conflict", "not-found"]), detail: z.string() }),
]);

/** The final result kept in a finished operation's record; undefined while Running. */
export function operationResultOf(operation: OperationRecord): OperationResult | undefined {
  if (operation.result === undefined) return undefined;
  const parsed = resultSchema.safeParse(parseJson(operation.result));
  if (!parsed.success) throw new PortcullisError("internal", `The operation ${operation.id} has an unreadable result.`);
  return parsed.data;
}

function finishedOutcome(result: Exclude<ManualDecisionResult, { kind: "in-progress" }>): { kind: "completed" | "refused"; decision: DecisionRecord } {
  return { kind: result.kind === "failed" ? "refused" : "completed", decision: result.record };
}

/** Approves, rejects or revokes; past `waitInMs` the decision continues as an operation (see the module comment). */
export async function startManualDecision(
  request: ManualDecisionRequest,
  deps: ManualOperationDeps,
  options: { readonly waitInMs: number },
): Promise<ManualOutcome> {
  const result = await decideManually(request, deps.engine, { waitInMs: options.waitInMs });
  if (result.kind !== "in-progress") return finishedOutcome(result);
  const now = deps.engine.clock.now();
  const operation = await deps.operations.create({
    id: deps.newOperationId(),
    action: request.action,
    resourceId: request.connectionId,
    status: "Running",
    createdAt: now,
    updatedAt: now,
    createdBy: request.actor.objectId,
    resumeState: JSON.stringify(result.operation),
    result: undefined,
  });
  return { kind: "accepted", operation };
}

/**
 * The operation, advanced: a Running one is resumed for at most `waitInMs` and its record updated with the new
 * state or the final result. Undefined when no operation has that ID.
 */
export async function pollManualOperation(id: string, deps: ManualOperationDeps, options: { readonly waitInMs: number }): Promise<OperationRecord | undefined> {
  const operation = await deps.operations.get(id);
  if (operation === undefined || operation.status !== "Running") return operation;
  const parsed = pendingSchema.safeParse(parseJson(operation.resumeState ?? ""));
  if (!parsed.success) throw new PortcullisError("internal", `The operation ${operation.id} has an unreadable resume state.`);
  const pending: PendingManualDecision = { ...parsed.data, privateEndpointId: parsed.data.privateEndpointId };
  let next: { status: OperationRecord["status"]; resumeState: string | undefined; result: OperationResult | undefined };
  try {
    const result = await resumeManualDecision(pending, deps.engine, { waitInMs: options.waitInMs });
    if (result.kind === "in-progress") {
      next = { status: "Running", resumeState: JSON.stringify(result.operation), result: undefined };
    } else {
      const outcome = finishedOutcome(result);
      next = { status: outcome.kind === "completed" ? "Succeeded" : "Failed", resumeState: undefined, result: outcome };
    }
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind !== "conflict" && failure.kind !== "not-found") throw failure;
    next = { status: "Failed", resumeState: undefined, result: { kind: failure.kind, detail: failure.message } };
  }
  try {
    return await deps.operations.replace(
      {
        ...operation,
        status: next.status,
        updatedAt: deps.engine.clock.now(),
        resumeState: next.resumeState,
        result: next.result === undefined ? undefined : JSON.stringify(next.result),
      },
      operation.etag,
    );
  } catch (error) {
    // Another poll of the same operation recorded its progress first; its record is as good as ours.
    if (toPortcullisError(error).kind !== "precondition-failed") throw error;
    return (await deps.operations.get(id)) ?? operation;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
