import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decisionRecordId, type DecisionRecord } from "../../../src/domain/decisions/decision.ts";
import { withDecision, type LatestDecisions } from "../../../src/domain/decisions/latest-decisions.ts";
import type { Finding } from "../../../src/domain/audit/findings.ts";
import { connectionHistory } from "../../../src/domain/audit/history.ts";
import {
  emptyTally,
  estateScore,
  instanceScore,
  runIdFor,
  summarizeInstance,
  summarizeRun,
  tallyInstance,
  tallyOtherFindings,
} from "../../../src/domain/audit/run.ts";
import { runSummarySchema } from "../../../src/domain/audit/schemas.ts";
import { reconcileSightings } from "../../../src/domain/audit/sightings.ts";
import { INSTANCE_ID, NOW, connection, instance } from "./builders.ts";
import { decisionRecord } from "../../fakes/decision-records.ts";

function finding(severity: Finding["severity"], status: Finding["status"] = "open"): Finding {
  return {
    id: `${severity}-${status}`,
    checkId: "capacity",
    severity,
    instanceId: INSTANCE_ID,
    resourceId: INSTANCE_ID,
    message: "m",
    evidence: { expected: "e", actual: "a" },
    remediation: { portal: "p", azCli: "az" },
    status,
    firstSeenAt: NOW.toISOString(),
    lastSeenAt: NOW.toISOString(),
  };
}

describe("compliance score and run summary", () => {
  test("an instance loses points per open finding by severity, floored at 0; suppressed and resolved cost nothing", () => {
    assert.equal(instanceScore([]), 100);
    assert.equal(instanceScore([finding("high"), finding("medium")]), 65);
    assert.equal(instanceScore([finding("high", "suppressed"), finding("critical", "resolved")]), 100);
    assert.equal(instanceScore([finding("critical"), finding("critical"), finding("high")]), 0);
  });

  test("the estate score is the mean over instances minus estate-wide penalties", () => {
    let tally = emptyTally();
    tally = tallyInstance(tally, summarizeInstance(instance(), []), { findings: [], opened: 0, resolved: 0 });
    const bad = [finding("high"), finding("high")];
    tally = tallyInstance(tally, summarizeInstance(instance(), bad), { findings: bad, opened: 2, resolved: 0 });
    assert.equal(estateScore(tally), 75);
    tally = tallyOtherFindings(tally, { findings: [{ ...finding("critical"), instanceId: undefined }], opened: 1, resolved: 0 });
    assert.equal(estateScore(tally), 25);
    const summary = summarizeRun({ runId: "r", startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), trigger: "timer", requestedBy: undefined, mode: "dry-run" }, tally);
    assert.deepEqual(summary.openBySeverity, { critical: 1, high: 2, medium: 0, low: 0, info: 0 });
    assert.deepEqual(summary.openByCheck, { capacity: 3 });
    assert.equal(summary.instances, 2);
    assert.equal(summary.opened, 3);
    assert.equal(summary.score, 25);
  });

  test("an empty estate scores 100", () => {
    assert.equal(estateScore(emptyTally()), 100);
  });

  test("run IDs sort by start time", () => {
    const a = runIdFor(new Date("2025-06-01T06:00:00.000Z"), "ffff");
    const b = runIdFor(new Date("2025-06-02T05:00:00.000Z"), "0000");
    assert.equal(a, "20250601T060000Z-ffff");
    assert.ok(a < b);
  });

  test("instance summaries count connections by status", () => {
    const s = summarizeInstance(instance({ connections: [connection("a"), connection("b", { status: "Pending" }), connection("c", { status: "Rejected" })] }), []);
    assert.deepEqual(s.connections, { total: 3, pending: 1, approved: 1, rejected: 1 });
    assert.equal(s.name, "contoso-apim");
  });
});

describe("sightings", () => {
  test("keep first-seen while the status holds, restart it on a change, drop vanished connections", () => {
    const t0 = new Date("2025-06-01T00:00:00.000Z");
    const c1 = connection("c1", { status: "Pending" }).connection;
    const c2 = connection("c2", { status: "Pending" }).connection;
    const first = reconcileSightings([], [c1, c2], t0);
    assert.equal(first.upserts.length, 2);
    const second = reconcileSightings([...first.current.values()], [{ ...c1, id: c1.id.toUpperCase() }, { ...c2, status: "Approved" }], NOW);
    assert.equal([...second.current.values()].find((s) => s.connectionId.toLowerCase() === c1.id.toLowerCase())?.firstSeenAt, t0.toISOString());
    assert.deepEqual(second.upserts.map((s) => [s.status, s.firstSeenAt]), [["Approved", NOW.toISOString()]]);
    const third = reconcileSightings([...second.current.values()], [c1], NOW);
    assert.deepEqual(third.deletes.map((s) => s.status), ["Approved"]);
  });
});

describe("connection history from the decision log", () => {
  const base = decisionRecord({
    id: decisionRecordId(new Date("2025-06-01T00:00:00.000Z"), "base"),
    connectionId: "c",
    resourceId: INSTANCE_ID,
    correlationId: "x",
    startedAt: new Date("2025-06-01T00:00:00.000Z"),
    recordedAt: new Date("2025-06-01T00:00:01.000Z"),
  });
  const at = (iso: string) => ({ id: decisionRecordId(new Date(iso), "r"), startedAt: new Date(iso), recordedAt: new Date(iso) });
  /** The history the audit sees once the log has merged `records` (in the order given) into the latest decisions. */
  const historyOf = (records: readonly DecisionRecord[]) =>
    connectionHistory(records.reduce<LatestDecisions | undefined>((decisions, record) => withDecision(decisions, record), undefined), undefined);

  test("first recorded = the earliest record; an applied rule approval explains the approval", () => {
    const h = historyOf([{ ...base, ...at("2025-06-02T00:00:00.000Z"), action: "approve", actor: "rule:r1", outcome: "applied" }, base]);
    assert.equal(h.firstRecordedAt, "2025-06-01T00:00:00.000Z");
    assert.equal(h.approvedAt, "2025-06-02T00:00:00.000Z");
  });

  test("an out-of-band approval, a dry-run approval, or a later out-of-band change do not explain an approval", () => {
    assert.equal(historyOf([{ ...base, action: "approve", actor: "out-of-band", outcome: "applied" }]).approvedAt, undefined);
    assert.equal(historyOf([{ ...base, action: "approve", actor: "rule:r1", outcome: "would-apply" }]).approvedAt, undefined);
    const revokedThenReapproved = historyOf(
      [
        { ...base, ...at("2025-06-02T00:00:00.000Z"), action: "approve", actor: "rule:r1", outcome: "applied" },
        { ...base, ...at("2025-06-03T00:00:00.000Z"), action: "revoke", actor: "principal:x", outcome: "applied" },
        { ...base, ...at("2025-06-04T00:00:00.000Z"), action: "approve", actor: "out-of-band", outcome: "applied" },
      ],
    );
    assert.equal(revokedThenReapproved.approvedAt, undefined);
    assert.equal(revokedThenReapproved.rejectedAt, "2025-06-03T00:00:00.000Z");
  });

  test("a run stored before 'not evaluated' existed reads back with a count of 0", () => {
    const { notEvaluated: _n, ...older } = summarizeRun(
      { runId: "r", startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), trigger: "timer", requestedBy: undefined, mode: "dry-run" },
      emptyTally(),
    ).findings;
    const stored = { ...summarizeRun({ runId: "r", startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), trigger: "timer", requestedBy: undefined, mode: "dry-run" }, emptyTally()), findings: older };
    assert.equal(runSummarySchema.parse(JSON.parse(JSON.stringify(stored))).findings.notEvaluated, 0);
  });
});
