import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decisionRecordId, type DecisionAction, type DecisionOutcome, type DecisionRecord } from "../../../src/domain/decisions/decision.ts";
import { latestDecisionsByConnection, sameLatestDecisions, withDecision, type LatestDecisions } from "../../../src/domain/decisions/latest-decisions.ts";
import { resourceIdKey } from "../../../src/domain/resource-id.ts";
import { decisionRecord } from "../../fakes/decision-records.ts";

const SERVICE = "/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";
const CONNECTION = `${SERVICE}/privateEndpointConnections/pe-1`;

function record(minute: number, action: DecisionAction, outcome: DecisionOutcome, actor = "rule:r1", connectionId = CONNECTION): DecisionRecord {
  const startedAt = new Date(Date.UTC(2025, 5, 1) + minute * 60_000);
  return decisionRecord({
    id: decisionRecordId(startedAt, `m${minute}${action}${outcome}${actor.replace(/\W/g, "")}`),
    connectionId,
    resourceId: SERVICE,
    action,
    actor,
    statusBefore: undefined,
    statusAfter: undefined,
    outcome,
    startedAt,
    recordedAt: new Date(startedAt.getTime() + 2_000),
  });
}

const fold = (records: readonly DecisionRecord[]) => records.reduce<LatestDecisions | undefined>((d, r) => withDecision(d, r), undefined);

const arbitraryRecord = fc
  .record({
    minute: fc.integer({ min: 0, max: 10_000 }),
    action: fc.constantFrom<DecisionAction>("approve", "reject", "manual", "revoke"),
    outcome: fc.constantFrom<DecisionOutcome>("applied", "would-apply", "skipped", "failed"),
    actor: fc.constantFrom("rule:r1", "principal:alice", "out-of-band", "default"),
  })
  .map(({ minute, action, outcome, actor }) => record(minute, action, outcome, actor));

describe("latest decisions of a connection", () => {
  test("the newest record, the newest applied status change and rejection, and the earliest time", () => {
    const manual = record(0, "manual", "skipped", "default");
    const approved = record(5, "approve", "applied");
    const failedReject = record(7, "reject", "failed", "principal:alice");
    const revoked = record(9, "revoke", "applied", "principal:alice");
    const dryRun = record(12, "approve", "would-apply");
    const decisions = fold([manual, approved, failedReject, revoked, dryRun])!;
    assert.equal(decisions.latest.id, dryRun.id);
    assert.deepEqual(decisions.latestStatusChange, { id: revoked.id, action: "revoke", actor: "principal:alice", recordedAt: revoked.recordedAt });
    assert.equal(decisions.latestRejection?.id, revoked.id);
    assert.equal(decisions.firstRecordAt.toISOString(), manual.startedAt.toISOString());
    assert.equal(fold([manual])!.latestStatusChange, undefined);
  });

  test("merging a record that changes nothing returns the same value (the log then writes nothing)", () => {
    const newer = record(5, "approve", "applied");
    const decisions = fold([record(1, "manual", "skipped"), newer])!;
    assert.equal(withDecision(decisions, newer), decisions);
    assert.equal(withDecision(decisions, record(3, "manual", "skipped")), decisions);
    assert.notEqual(withDecision(decisions, record(0, "manual", "skipped")), decisions, "an earlier first record changes firstRecordAt");
  });

  test("any order of appends, with repeats, ends at the same value as appending in time order", () => {
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })), (records, repeats, randoms) => {
        const inOrder = fold([...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))!;
        const withRepeats = [...records, ...repeats.map((i) => records[i % records.length]!)];
        const shuffled = withRepeats.map((r) => [randoms.next().value, r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
        assert.ok(sameLatestDecisions(fold(shuffled)!, inOrder));
      }),
    );
  });

  test("by connection: keyed by resource ID key, deleted connections left out", () => {
    const other = `${SERVICE}/privateEndpointConnections/pe-2`;
    const byConnection = latestDecisionsByConnection([
      record(1, "manual", "skipped"),
      record(2, "approve", "applied", "rule:r1", other.toUpperCase()),
      record(3, "delete", "applied", "out-of-band"),
    ]);
    assert.deepEqual([...byConnection.keys()], [resourceIdKey(other)]);
  });
});
