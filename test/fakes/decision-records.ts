import { decisionRecordId, type DecisionRecord } from "../../src/domain/decisions/decision.ts";

/**
 * A DecisionRecord with neutral defaults (an enforce-mode "manual" note by the default actor that left a Pending
 * connection Pending, recorded when it started), so a test spells out only the fields it is about.
 */
export function decisionRecord(fields: Partial<DecisionRecord> & Pick<DecisionRecord, "connectionId" | "serviceId" | "startedAt">): DecisionRecord {
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
