/**
 * The API's representations: the zod schemas of its request bodies and response bodies (the OpenAPI document is
 * generated from them) and the functions that turn domain values into them. A representation is the JSON form of
 * the domain value (ISO timestamps, absent fields omitted), so mapping stays trivial and the schemas document it.
 */
import { z } from "zod";
import { decisionRecordFields, type DecisionRecord } from "../domain/decisions/decision.ts";
import type { PrivateEndpointConnection } from "../domain/model.ts";
import { providerOf } from "../domain/providers/registry.ts";
import { parsePrivateEndpointId, resourceTypeOf } from "../domain/resource-id.ts";
import { historyEntrySchema } from "../domain/rules/history.ts";
import type { RuleSetSnapshot } from "../domain/rules/rule-set.ts";
import { MAX_REASON_LENGTH, ruleDraftSchema, ruleSchema } from "../domain/rules/schema.ts";
import type { WhatIfReport } from "../workflows/what-if-rules.ts";
import { problemSchema } from "../http/problem.ts";
import { refuseUnsafeText } from "../domain/text-safety.ts";

const timestamp = z.iso.datetime({ offset: true });
const connectionStatus = z.enum(["Pending", "Approved", "Rejected"]);
const recordedStatus = z.enum(["Pending", "Approved", "Rejected", "Deleted"]);

// ── Requests ─────────────────────────────────────────────────────────────────────────────────────────────

/** A change ticket reference; the deployment's PORTCULLIS_TICKET_PATTERN is checked on top of this. */
export const ticketSchema = z
  .string()
  .superRefine(refuseUnsafeText("a ticket reference"))
  .min(1, "a ticket reference is required")
  .max(128, "a ticket reference has at most 128 characters")
  .meta({ description: "Change ticket reference; must match the deployment's ticket pattern (default: CHG|RITM|INC + 7 digits, or a Jira key such as OPS-123)." });

/** Body of approve / reject / revoke. */
export const manualDecisionBodySchema = z
  .strictObject({
    ticket: ticketSchema,
    reason: z
      .string()
      .superRefine(refuseUnsafeText("a reason"))
      .trim()
      .min(1, "a reason is required")
      .max(MAX_REASON_LENGTH, `a reason has at most ${MAX_REASON_LENGTH} characters`)
      .meta({ description: "Why; written into the connection's description and the decision log. No control, bidi or zero-width characters." }),
    requestedBy: z
      .string()
      .superRefine(refuseUnsafeText("requestedBy"))
      .min(1)
      .max(256)
      .optional()
      .meta({ description: "Who asked for it according to the ticket (recorded as the claimed requester, never as the actor)." }),
  })
  .meta({ description: "A manual decision on a connection." });

/** Body of POST /what-if. */
export const whatIfBodySchema = z
  .strictObject({
    rules: z.array(ruleDraftSchema).max(1000, "at most 1,000 rules").meta({ description: "The complete proposed rule set." }),
  })
  .meta({ description: "A proposed rule set to compare with the stored one." });

// ── Responses ────────────────────────────────────────────────────────────────────────────────────────────

/** The decision record's own schema (src/domain/decisions/decision.ts), with timestamps as the ISO strings JSON carries. */
export const decisionSchema = decisionRecordFields
  .extend({
    actor: z.string().meta({ description: "rule:ID, default, fail-closed, out-of-band or principal:OBJECT-ID." }),
    error: z.string().optional().meta({ description: "When ARM refused: its HTTP status and error code." }),
    startedAt: timestamp,
    recordedAt: timestamp,
  })
  .meta({ description: "One record of the append-only decision log." });
export type DecisionView = z.output<typeof decisionSchema>;

export const connectionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    resourceId: z.string().meta({ description: "The resource the connection belongs to (any governed type)." }),
    resourceType: z.string().meta({ description: "Its ARM type as the provider registry spells it, e.g. Microsoft.Storage/storageAccounts." }),
    instanceId: z.string().meta({ description: "Deprecated: the same as resourceId (named when only API Management was governed).", deprecated: true }),
    status: connectionStatus,
    description: z.string().optional(),
    privateEndpointId: z.string().optional(),
    requesterSubscriptionId: z.string().optional(),
    groupIds: z.array(z.string()),
    provisioningState: z.string().optional(),
    latestDecision: decisionSchema.optional(),
  })
  .meta({ description: "A private endpoint connection of a managed resource." });
export type ConnectionView = z.output<typeof connectionSchema>;

export const connectionListSchema = z.object({
  items: z.array(connectionSchema),
  unreadable: z
    .array(z.object({ resourceId: z.string(), reason: z.string() }))
    .meta({ description: "Managed resources or subscriptions (per type) Portcullis could not read (e.g. no access); their connections are missing." }),
});

export const connectionDetailSchema = connectionSchema.extend({
  decisions: z.array(decisionSchema).meta({ description: "The connection's decision log, oldest first." }),
});

/** A finished manual decision: what ARM now shows and the decision record. */
export const decisionResultSchema = z
  .object({
    connectionId: z.string(),
    action: z.enum(["approve", "reject", "revoke"]),
    status: recordedStatus.optional().meta({ description: "The connection's status after the decision." }),
    outcome: z.enum(["applied", "would-apply", "failed"]).meta({ description: "would-apply: PORTCULLIS_MODE is dry-run, nothing was written to ARM." }),
    decision: decisionSchema,
  })
  .meta({ description: "The final state of a manual decision." });

export const operationSchema = z
  .object({
    id: z.string(),
    status: z.enum(["Running", "Succeeded", "Failed"]),
    action: z.string(),
    resourceId: z.string(),
    createdAt: timestamp,
    updatedAt: timestamp,
    result: decisionResultSchema.optional().meta({ description: "Once Succeeded (or Failed because ARM refused): the decision." }),
    error: problemSchema.optional().meta({ description: "Once Failed: why." }),
  })
  .meta({ description: "A long-running operation (GET /api/operations/{id})." });
export type OperationView = z.output<typeof operationSchema>;

export const decisionPageSchema = z.object({
  items: z.array(decisionSchema),
  continuationToken: z.string().optional().meta({ description: "Pass as `continuationToken` to get the next page; absent on the last page." }),
});

export const ruleSetSchema = z
  .object({
    status: z.enum(["usable", "unusable"]).meta({ description: "unusable: a stored rule does not parse, so nothing is decided automatically (fail closed)." }),
    version: z.string(),
    rules: z.array(ruleSchema).optional(),
    problems: z.array(z.object({ rowKey: z.string(), etag: z.string().optional(), message: z.string() })).optional(),
  })
  .meta({ description: "The stored rule set." });

export const ruleResponseSchema = ruleSchema;

export const ruleHistorySchema = z.object({ items: z.array(historyEntrySchema).meta({ description: "Every version, newest first." }) });

const decidedBySchema = z.union([
  z.object({ kind: z.literal("rule"), ruleId: z.string(), ruleVersion: z.int() }),
  z.object({ kind: z.literal("default") }),
  z.object({ kind: z.literal("fail-closed"), problems: z.array(z.object({ rowKey: z.string(), etag: z.string().optional(), message: z.string() })) }),
  z
    .object({ kind: z.literal("unknown-fact"), ruleId: z.string(), ruleVersion: z.int(), missingFacts: z.array(z.string()) })
    .meta({ description: "Left for a person: rule ruleId could not be evaluated because these facts (requesterTenantId, requestMessage, ...) are unknown." }),
]);
const outcomeSchema = z.object({ action: z.enum(["approve", "reject", "manual"]), decidedBy: decidedBySchema, reason: z.string() });

export const whatIfResultSchema = z
  .object({
    storedVersion: z.string(),
    proposedVersion: z.string(),
    proposedProblems: z.array(z.object({ rowKey: z.string(), etag: z.string().optional(), message: z.string() })),
    connections: z.array(
      z.object({
        connectionId: z.string(),
        resourceId: z.string(),
        currentStatus: connectionStatus,
        stored: outcomeSchema,
        proposed: outcomeSchema,
        changes: z.boolean(),
        wouldTakeEffect: z.boolean(),
        proposedExplanation: z.array(z.string()).optional(),
      }),
    ),
    rules: z.array(
      z.object({
        ruleId: z.string(),
        ruleVersion: z.int(),
        mode: z.enum(["enforce", "audit"]),
        approve: z.array(z.string()),
        reject: z.array(z.string()),
        manual: z.array(z.string()),
        auditMatches: z.array(z.string()),
      }),
    ),
    summary: z.object({ connections: z.int(), pending: z.int(), changed: z.int(), changedPending: z.int() }),
    note: z.string(),
    unreadable: z.array(z.object({ resourceId: z.string(), reason: z.string() })),
  })
  .meta({ description: "What the proposed rules would do to each current connection, compared with the stored rules." });

// ── Mapping ──────────────────────────────────────────────────────────────────────────────────────────────

/** The JSON form of a value: what the response body carries (Dates as ISO strings, undefined fields dropped). */
function jsonOf<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function decisionView(record: DecisionRecord): DecisionView {
  return jsonOf<DecisionView>(record);
}

/** The registry's spelling of a resource's type (as the ID spells it otherwise). */
function registeredTypeOf(resourceId: string): string {
  const type = resourceTypeOf(resourceId) ?? "";
  return providerOf(type)?.resourceType ?? type;
}

export function connectionView(connection: PrivateEndpointConnection, latestDecision: DecisionRecord | undefined): ConnectionView {
  const requesterSubscriptionId =
    connection.privateEndpointId === undefined ? undefined : parsePrivateEndpointId(connection.privateEndpointId)?.subscriptionId;
  return jsonOf<ConnectionView>({
    id: connection.id,
    name: connection.name,
    resourceId: connection.resourceId,
    resourceType: registeredTypeOf(connection.resourceId),
    instanceId: connection.resourceId,
    status: connection.status,
    description: connection.description,
    privateEndpointId: connection.privateEndpointId,
    requesterSubscriptionId,
    groupIds: connection.groupIds,
    provisioningState: connection.provisioningState,
    latestDecision,
  });
}

export function ruleSetView(snapshot: RuleSetSnapshot): z.output<typeof ruleSetSchema> {
  return jsonOf(snapshot);
}

export function whatIfView(report: WhatIfReport): z.output<typeof whatIfResultSchema> {
  return jsonOf(report);
}
