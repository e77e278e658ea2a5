import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId, type Finding, type Observation, type Suppression } from "../../../src/domain/audit/findings.ts";
import { nextFindings, type LifecycleInput } from "../../../src/domain/audit/lifecycle.ts";
import { INSTANCE_ID } from "./builders.ts";

const T0 = new Date("2025-06-01T06:00:00.000Z");
const T1 = new Date("2025-06-02T06:00:00.000Z");
const T2 = new Date("2025-06-03T06:00:00.000Z");
const T3 = new Date("2025-06-04T06:00:00.000Z");

function observation(checkId: Observation["checkId"] = "capacity", message = "85 connections"): Observation {
  return {
    id: findingId(checkId, INSTANCE_ID),
    checkId,
    severity: "medium",
    instanceId: INSTANCE_ID,
    resourceId: INSTANCE_ID,
    message,
    evidence: { expected: "< 80", actual: message },
    remediation: { portal: "p", azCli: "az" },
  };
}

/** Runs the lifecycle the way consecutive audit runs do, feeding each run's findings into the next. */
function runs(steps: readonly (Partial<Omit<LifecycleInput, "previous">> & { now: Date })[]) {
  let previous: readonly Finding[] = [];
  return steps.map((step) => {
    const result = nextFindings({ previous, observations: [], unevaluated: new Set(), suppressions: new Map(), ...step });
    previous = result.findings;
    return result;
  });
}

function suppression(expiresAt: Date): Map<string, Suppression> {
  const id = observation().id;
  return new Map([[id, { findingId: id, reason: "migration window", owner: "alice@contoso.example", expiresAt: expiresAt.toISOString(), createdAt: T0.toISOString() }]]);
}

describe("finding lifecycle across runs", () => {
  test("opened: a new problem becomes an open finding first seen now, and is announced", () => {
    const [first] = runs([{ now: T0, observations: [observation()] }]);
    assert.equal(first!.findings.length, 1);
    const f = first!.findings[0]!;
    assert.equal(f.status, "open");
    assert.equal(f.firstSeenAt, T0.toISOString());
    assert.equal(f.lastSeenAt, T0.toISOString());
    assert.deepEqual(first!.opened.map((x) => x.id), [f.id]);
  });

  test("still open: same ID, first-seen kept, last-seen moves, current facts replace old ones, not announced again", () => {
    const [, second] = runs([
      { now: T0, observations: [observation()] },
      { now: T1, observations: [observation("capacity", "90 connections")] },
    ]);
    const f = second!.findings[0]!;
    assert.equal(f.id, findingId("capacity", INSTANCE_ID));
    assert.equal(f.status, "open");
    assert.equal(f.firstSeenAt, T0.toISOString());
    assert.equal(f.lastSeenAt, T1.toISOString());
    assert.equal(f.message, "90 connections");
    assert.deepEqual(second!.opened, []);
  });

  test("resolved: a problem no longer seen is resolved in that run, then dropped", () => {
    const [, second, third] = runs([{ now: T0, observations: [observation()] }, { now: T1 }, { now: T2 }]);
    const f = second!.findings[0]!;
    assert.equal(f.status, "resolved");
    assert.equal(f.resolvedAt, T1.toISOString());
    assert.equal(f.lastSeenAt, T0.toISOString());
    assert.deepEqual(second!.resolved.map((x) => x.id), [f.id]);
    assert.deepEqual(third!.findings, []);
  });

  test("a problem that comes back after being resolved is a new occurrence with a new first-seen", () => {
    const [, , third] = runs([{ now: T0, observations: [observation()] }, { now: T1 }, { now: T2, observations: [observation()] }]);
    assert.equal(third!.findings[0]!.firstSeenAt, T2.toISOString());
    assert.equal(third!.opened.length, 1);
  });

  test("suppressed: an active suppression hides the finding from the open count but keeps tracking it", () => {
    const suppressions = suppression(T2);
    const [, second] = runs([
      { now: T0, observations: [observation()] },
      { now: T1, observations: [observation()], suppressions },
    ]);
    const f = second!.findings[0]!;
    assert.equal(f.status, "suppressed");
    assert.equal(f.suppression?.owner, "alice@contoso.example");
    assert.equal(f.firstSeenAt, T0.toISOString());
  });

  test("reopened on expiry: once the suppression expires the finding is open again and announced", () => {
    const suppressions = suppression(T2);
    const [, second, third] = runs([
      { now: T0, observations: [observation()] },
      { now: T1, observations: [observation()], suppressions },
      { now: T3, observations: [observation()], suppressions },
    ]);
    assert.equal(second!.findings[0]!.status, "suppressed");
    const f = third!.findings[0]!;
    assert.equal(f.status, "open");
    assert.equal(f.suppression, undefined);
    assert.equal(f.firstSeenAt, T0.toISOString());
    assert.deepEqual(third!.opened.map((x) => x.id), [f.id]);
  });

  test("a suppressed finding that is no longer seen is resolved", () => {
    const suppressions = suppression(T3);
    const [, second] = runs([{ now: T0, observations: [observation()], suppressions }, { now: T1, suppressions }]);
    assert.equal(second!.findings[0]!.status, "resolved");
  });

  test("unevaluated: a check that could not reach a verdict keeps its finding as it was", () => {
    const [, second] = runs([
      { now: T0, observations: [observation("dns-record-missing")] },
      { now: T1, unevaluated: new Set(["dns-record-missing"]) },
    ]);
    const f = second!.findings[0]!;
    assert.equal(f.status, "open");
    assert.equal(f.lastSeenAt, T0.toISOString(), "last seen stays at the last run that saw it");
    assert.deepEqual(second!.resolved, []);
  });

  test("findings come out most severe first", () => {
    const critical: Observation = { ...observation("rules-unusable"), id: "r", severity: "critical" };
    const low: Observation = { ...observation("lingering-rejected"), id: "l", severity: "low" };
    const [first] = runs([{ now: T0, observations: [low, observation(), critical] }]);
    assert.deepEqual(first!.findings.map((f) => f.severity), ["critical", "medium", "low"]);
  });
});
