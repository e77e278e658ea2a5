import { decisionRecordId, type DecisionRecord } from "../../src/domain/decisions/decision.ts";

/**
 * A DecisionRecord with neutral defaults (an enforce-mode "manual" note by the default actor that left a Pending
 * connection Pending, recorded when it started), so a test spells out only the fields it is about.
 */
export function decisionRecord(fields: Partial<DecisionRecord> & Pick<DecisionRecord, "connectionId" | "resourceId" | "startedAt">): DecisionRecord {
  return {
    id: decisionRecordId(fields.startedAt, "test"),
    privateEndpointId: undefined,
    requesterSubscriptionId: undefined,
    requesterTenantId: undefined,
    ruleId: undefined,
    ruleVersion: undefined,
    action: "manual",
    mode: "enforce",
    actor: "default",
    actorName: undefined,
    actorAppId: undefined,
    ticket: undefined,
    requestedBy: undefined,
    reason: "r",
    explanation: [],
    triggeringEventIds: [],
    correlationId: "c",
    statusBefore: "Pending",
    statusAfter: "Pending",
    outcome: "skipped",
    error: undefined,
    recordedAt: fields.startedAt,
    ...fields,
  };
}

/**
 * A value with its undefined-valued fields left out (deeply; Dates and arrays kept): how it looks after a round
 * trip through storage or JSON, where an absent optional field and one set to undefined are the same thing.
 */
export function definedFields<T>(value: T): T {
  if (Array.isArray(value)) return value.map(definedFields) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, definedFields(v)])) as T;
}
