/**
 * GET /api/operations/{id}: a manual decision that outlasted its request. Each GET lets a Running operation advance
 * (resuming its serialized ARM poller, briefly) and reports its progress, or its final state once it has one.
 */
import { z } from "zod";
import type { DecisionRecord } from "../domain/decisions/decision.ts";
import { PortcullisError } from "../domain/errors.ts";
import type { OperationRecord } from "../ports/operation-store.ts";
import { problemDocument } from "../http/problem.ts";
import { operationIdSegment } from "../http/segments.ts";
import { operationResultOf, pollManualOperation } from "../workflows/manual-operations.ts";
import { apiRoute } from "./api-runtime.ts";
import { decisionResultSchema, decisionView, operationSchema, type OperationView } from "./api-views.ts";

/** The final state of a manual decision as the API shows it. */
export function decisionResultOf(decision: DecisionRecord): z.output<typeof decisionResultSchema> {
  return {
    connectionId: decision.connectionId,
    action: decision.action as "approve" | "reject" | "revoke",
    ...(decision.statusAfter !== undefined ? { status: decision.statusAfter } : {}),
    outcome: decision.outcome as "applied" | "would-apply" | "failed",
    decision: decisionView(decision),
  };
}

/** An operation record as the API shows it: progress, then the result or the problem that ended it. */
export function operationView(operation: OperationRecord): OperationView {
  const base = {
    id: operation.id,
    status: operation.status,
    action: operation.action,
    resourceId: operation.resourceId,
    createdAt: operation.createdAt.toISOString(),
    updatedAt: operation.updatedAt.toISOString(),
  };
  const result = operationResultOf(operation);
  if (result === undefined) return base;
  switch (result.kind) {
    case "completed":
      return { ...base, result: decisionResultOf(result.decision) };
    case "refused": {
      const detail = `Azure Resource Manager refused the change: ${result.decision.error ?? "no reason given"}.`;
      return { ...base, result: decisionResultOf(result.decision), error: problemDocument("upstream-refused", detail) };
    }
    case "conflict":
    case "not-found":
      return { ...base, error: problemDocument(result.kind, result.detail) };
  }
}

export const getOperation = apiRoute({
  name: "getOperation",
  method: "GET",
  route: "operations/{operationId}",
  summary: "Report the progress or final state of a long-running operation",
  tags: ["operations"],
  role: "Portcullis.Reader",
  params: z.strictObject({ operationId: operationIdSegment }),
  responses: {
    200: { description: "The operation; Running ones carry Retry-After.", schema: operationSchema, headers: { "retry-after": "While Running: seconds to wait." } },
    404: { description: "No such operation." },
  },
  async handle({ params }, context) {
    const { services } = context;
    const operation = await pollManualOperation(
      params.operationId,
      { engine: await services.engineDeps(context.log), operations: services.operations, newOperationId: services.newOperationId },
      { waitInMs: services.operationPollWaitInMs },
    );
    if (operation === undefined) throw new PortcullisError("not-found", "No such operation.");
    const headers: Record<string, string> = operation.status === "Running" ? { "retry-after": "1" } : {};
    return { status: 200, headers, body: operationView(operation) };
  },
});
