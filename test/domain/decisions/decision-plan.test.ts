import { test } from "node:test";
import assert from "node:assert/strict";
import { AWAITING_MANUAL_MARK, type ClaimIntent, type ClaimState } from "../../../src/domain/decisions/decision-claim.ts";
import {
  actorOf,
  guardWrite,
  isEmptyPlan,
  isRecoveredPlan,
  planManualDecision,
  planObservedStatus,
  planPendingDecision,
  type PlanPendingInput,
} from "../../../src/domain/decisions/decision-plan.ts";
import type { PrivateEndpointConnection } from "../../../src/domain/model.ts";
import { connectionDescription, decisionRecordId } from "../../../src/domain/decisions/decision.ts";
import type { RuleEvaluation } from "../../../src/domain/rules/evaluate.ts";

const CONNECTION = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe.1";
const NOW = new Date("2025-06-01T12:00:00Z");
const context = { triggeringEventIds: ["evt"], correlationId: "corr" };
const facts = { connectionId: CONNECTION, resourceId: CONNECTION.split("/privateEndpointConnections")[0]!, groupIds: ["Gateway"], requesterSubscriptionId: "22222222-2222-2222-2222-222222222222" };

function evaluation(fields: Partial<RuleEvaluation> = {}): RuleEvaluation {
  return {
    action: "approve",
    decidedBy: { kind: "rule", ruleId: "allow", ruleVersion: 4 },
    reason: "Trusted.",
    explanation: ["facts", "matched"],
    auditMatches: [],
    ruleSetVersion: "1-abc",
    ...fields,
  };
}

function claim(fields: Partial<ClaimState> = {}): ClaimState {
  return {
    connectionId: CONNECTION,
    privateEndpointId: undefined,
    resourceId: facts.resourceId,
    lease: undefined,
    recordedStatus: undefined,
    marks: [],
    retryNotBefore: undefined,
    updatedAt: NOW,
    ...fields,
  };
}

const plan = (fields: Partial<PlanPendingInput> = {}) =>
  planPendingDecision({ facts, evaluation: evaluation(), mode: "enforce", claim: undefined, now: NOW, context, ...fields });

test("enforce + approve plans one ARM write whose description names the rule, its version and the reason", () => {
  const p = plan();
  assert.equal(p.write?.targetStatus, "Approved");
  assert.equal(p.write?.description, "Approved by Portcullis rule allow v4: Trusted.");
  assert.equal(p.write?.requiredStatus, "Pending");
  assert.equal(p.intent.statusBefore, "Pending");
  assert.equal(p.intent.description, p.write?.description, "the lease's intent carries the description the write sets");
  assert.equal(p.records.length, 0);
});

test("dry-run plans a would-apply note instead of a write, once per rule version", () => {
  const first = plan({ mode: "dry-run" });
  assert.equal(first.write, undefined);
  assert.equal(first.records[0]?.outcome, "would-apply");
  const again = plan({ mode: "dry-run", claim: claim({ marks: first.records.map((n) => n.mark!) }) });
  assert.ok(isEmptyPlan(again));
  const newVersion = plan({ mode: "dry-run", claim: claim({ marks: first.records.map((n) => n.mark!) }), evaluation: evaluation({ decidedBy: { kind: "rule", ruleId: "allow", ruleVersion: 5 } }) });
  assert.equal(newVersion.records.length, 1);
});

test("manual, default manual and fail-closed all plan one awaiting-manual note that notifies, and nothing else", () => {
  for (const decidedBy of [{ kind: "rule", ruleId: "hold", ruleVersion: 1 }, { kind: "default" }, { kind: "fail-closed", problems: [] }] as const) {
    const p = plan({ evaluation: evaluation({ action: "manual", decidedBy }) });
    assert.equal(p.write, undefined);
    assert.deepEqual(p.records.map((n) => [n.mark, n.outcome, n.notify]), [[AWAITING_MANUAL_MARK, "skipped", "Portcullis.Connection.AwaitingManualApproval"]]);
    assert.ok(isEmptyPlan(plan({ evaluation: evaluation({ action: "manual", decidedBy }), claim: claim({ marks: [AWAITING_MANUAL_MARK] }) })));
  }
});

test("audit-mode matches are noted once each, beside the deciding rule's write", () => {
  const audited = evaluation({ auditMatches: [{ ruleId: "watch", ruleVersion: 2, action: "reject" }] });
  const p = plan({ evaluation: audited });
  assert.ok(p.write);
  assert.deepEqual(p.records.map((n) => [n.intent.mode, n.intent.actor, n.intent.action]), [["audit", "rule:watch", "reject"]]);
  assert.equal(plan({ evaluation: audited, claim: claim({ marks: p.records.map((n) => n.mark!) }) }).records.length, 0);
});

test("a write ARM refused is not planned again before the back-off passes", () => {
  const later = new Date(NOW.getTime() + 1000);
  const p = plan({ claim: claim({ retryNotBefore: later }) });
  assert.equal(p.write, undefined);
  assert.equal(p.retryNotBefore, later);
  assert.ok(plan({ claim: claim({ retryNotBefore: later }), now: new Date(later.getTime() + 1) }).write);
});

test("observed statuses: recorded once; a revoke when Approved turns Rejected; an expired lease's landed write is recovered", () => {
  const observe = (status: "Approved" | "Rejected" | "Deleted", c: ClaimState | undefined, description?: string) =>
    planObservedStatus({ key: { connectionId: CONNECTION, privateEndpointId: undefined }, resourceId: facts.resourceId, status, description, facts: undefined, claim: c, context });
  assert.equal(observe("Approved", claim({ recordedStatus: "Approved" })), undefined);
  const outOfBand = observe("Rejected", claim({ recordedStatus: "Approved" }))!;
  assert.equal(outOfBand.intent.action, "revoke");
  assert.equal(outOfBand.intent.actor, "out-of-band");
  assert.equal(outOfBand.intent.statusBefore, "Approved");
  assert.equal(outOfBand.write, undefined, "an observation never writes");
  assert.equal(outOfBand.settlement.recordedStatus, "Rejected");
  const fresh = observe("Approved", undefined)!;
  assert.equal(fresh.intent.statusBefore, undefined);
  const deleted = observe("Deleted", claim({ marks: [AWAITING_MANUAL_MARK] }))!;
  assert.equal(deleted.intent.action, "delete");
  assert.equal(deleted.intent.statusBefore, "Pending");

  const intent: ClaimIntent = plan().intent;
  const lease = { owner: "o", startedAt: NOW, expiresAt: NOW, intent };
  const recovered = observe("Approved", claim({ lease }), intent.description)!;
  assert.ok(isRecoveredPlan(recovered));
  assert.equal(recovered.records[0]?.notify, "Portcullis.Connection.Approved");
  assert.ok(!isRecoveredPlan(observe("Approved", claim({ lease }), "Approved in the portal")!), "someone else's description is not ours");
});

test("record IDs sort by start time and connection descriptions stay one short line", () => {
  const a = decisionRecordId(new Date("2025-06-01T09:59:59.999Z"), "zzz");
  const b = decisionRecordId(new Date("2025-06-01T10:00:00.000Z"), "aaa");
  assert.ok(a < b);
  const long = connectionDescription({ action: "reject", actor: "principal:x", actorName: "Ann", ticket: "CHG1", reason: `line\nbreak ${"x".repeat(400)}` });
  assert.ok(long.length <= 256);
  assert.doesNotMatch(long, /\n/);
  assert.match(long, /^Rejected by Ann via Portcullis \[CHG1\]: line break/);
});

const pendingConnection: PrivateEndpointConnection = {
  id: CONNECTION,
  name: "pe.1",
  resourceId: facts.resourceId,
  privateEndpointId: "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
  status: "Pending",
  description: "please",
  actionsRequired: "None",
  provisioningState: "Succeeded",
  groupIds: ["Gateway"],
};
const human = { action: "approve" as const, ticket: "CHG42", reason: "CAB approved.", actor: { objectId: "oid-1", name: "Ann" }, correlationId: "req" };

test("a human's decision is planned like any other: one write with the ticket in the description; dry-run drops the write and keeps the record", () => {
  const p = planManualDecision({ request: human, connection: pendingConnection, mode: "enforce" });
  assert.equal(p.automatic, false);
  assert.deepEqual(p.write, { requiredStatus: "Pending", targetStatus: "Approved", description: "Approved by Ann via Portcullis [CHG42]: CAB approved." });
  assert.equal(p.intent.actor, "principal:oid-1");
  assert.equal(p.intent.ticket, "CHG42");
  assert.equal(p.intent.requesterSubscriptionId, "22222222-2222-2222-2222-222222222222");
  assert.deepEqual(p.records, []);
  const revoke = planManualDecision({ request: { ...human, action: "revoke" }, connection: { ...pendingConnection, status: "Approved" }, mode: "enforce" });
  assert.equal(revoke.write?.requiredStatus, "Approved");
  assert.equal(revoke.write?.targetStatus, "Rejected");
  const dry = planManualDecision({ request: human, connection: pendingConnection, mode: "dry-run" });
  assert.equal(dry.write, undefined);
  assert.deepEqual(dry.records.map((r) => [r.outcome, r.intent.mode, r.intent.ticket]), [["would-apply", "dry-run", "CHG42"]]);
});

test("the write guard: only the required status with a terminal provisioningState is written; an operation in flight or unknown is busy", () => {
  const write = { requiredStatus: "Pending" as const, targetStatus: "Approved" as const, description: "d" };
  assert.equal(guardWrite(pendingConnection, write), "write");
  assert.equal(guardWrite({ ...pendingConnection, provisioningState: "Failed" }, write), "write");
  for (const provisioningState of ["Updating", "Creating", "Deleting", "Accepted", undefined]) {
    assert.equal(guardWrite({ ...pendingConnection, provisioningState }, write), "busy", String(provisioningState));
  }
  assert.equal(guardWrite({ ...pendingConnection, status: "Rejected" }, write), "changed");
  assert.equal(guardWrite({ ...pendingConnection, status: "Rejected", provisioningState: "Updating" }, write), "busy");
});

test("a decider other than a rule or the default that names a rule (a rule that could not decide for an unknown fact) is that rule's", () => {
  const unknownFact = { kind: "unknown-fact", ruleId: "block-partner", ruleVersion: 3, missingFacts: ["requester-tenants"] } as const;
  assert.equal(actorOf(unknownFact), "rule:block-partner");
  const p = plan({ evaluation: evaluation({ action: "manual", decidedBy: unknownFact, reason: "A fact is unknown." }) });
  assert.equal(p.write, undefined);
  assert.deepEqual(p.records.map((r) => [r.intent.actor, r.intent.ruleId, r.intent.ruleVersion, r.notify]), [
    ["rule:block-partner", "block-partner", 3, "Portcullis.Connection.AwaitingManualApproval"],
  ]);
});

test("an unknown-fact outcome plans the awaiting-manual note by the rule that could not decide, with its version", () => {
  const decidedBy = { kind: "unknown-fact", ruleId: "reject-partner-tenant", ruleVersion: 3, missingFacts: ["requesterTenantId"] } as const;
  const p = plan({ evaluation: evaluation({ action: "manual", decidedBy, reason: "Left for manual review: rule reject-partner-tenant depends on the requester tenant, which is unknown." }) });
  assert.equal(p.write, undefined);
  assert.deepEqual(p.records.map((n) => [n.mark, n.intent.action, n.intent.actor, n.intent.ruleId, n.intent.ruleVersion]), [
    [AWAITING_MANUAL_MARK, "manual", "rule:reject-partner-tenant", "reject-partner-tenant", 3],
  ]);
});
