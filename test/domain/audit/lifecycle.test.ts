import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId, type Finding, type Observation, type Suppression } from "../../../src/domain/audit/findings.ts";
import { coverageOfInstanceNotAudited, estateCoverage, FULL_COVERAGE, instanceCoverage } from "../../../src/domain/audit/coverage.ts";
import { analyzeInstanceDns } from "../../../src/domain/audit/dns.ts";
import { nextFindings, type LifecycleInput } from "../../../src/domain/audit/lifecycle.ts";
import { emptyTally, tallyOtherFindings } from "../../../src/domain/audit/run.ts";
import { aRecordId, listingScopeId } from "../../../src/domain/audit/snapshot.ts";
import { connection, HUB_ZONE_ID, instance, INSTANCE_ID, PROVIDER_SUB, zone } from "./builders.ts";

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
    const result = nextFindings({ previous, observations: [], coverage: FULL_COVERAGE, suppressions: new Map(), ...step });
    previous = result.findings;
    return result;
  });
}

function suppression(expiresAt: Date): Map<string, Suppression> {
  const id = observation().id;
  return new Map([[id, { findingId: id, reason: "migration window", owner: "alice@contoso.example", expiresAt: expiresAt.toISOString(), createdAt: T0.toISOString() }]]);
}

const APIM = ["Microsoft.ApiManagement/service"];

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
      { now: T1, coverage: { unevaluatedChecks: new Map([["dns-record-missing", "DNS read incomplete"]]) } },
    ]);
    const f = second!.findings[0]!;
    assert.equal(f.status, "open");
    assert.equal(f.lastSeenAt, T0.toISOString(), "last seen stays at the last run that saw it");
    assert.deepEqual(f.notEvaluated, { reason: "DNS read incomplete" });
    assert.deepEqual(second!.resolved, []);
    assert.deepEqual(second!.notEvaluated.map((x) => x.id), [f.id]);
  });

  test("findings come out most severe first", () => {
    const critical: Observation = { ...observation("rules-unusable"), id: "r", severity: "critical" };
    const low: Observation = { ...observation("lingering-rejected"), id: "l", severity: "low" };
    const [first] = runs([{ now: T0, observations: [low, observation(), critical] }]);
    assert.deepEqual(first!.findings.map((f) => f.severity), ["critical", "medium", "low"]);
  });

  describe("not evaluated in this run: an audit that could not look is no proof of a fix", () => {
    const RECORD = aRecordId(HUB_ZONE_ID, "contoso-apim");
    const dnsMissing: Observation = { ...observation("dns-record-missing"), id: findingId("dns-record-missing", RECORD), resourceId: RECORD, severity: "high" };
    const zoneUnreadable: Observation = { ...observation("dns-zone-unreadable"), id: findingId("dns-zone-unreadable", HUB_ZONE_ID), resourceId: HUB_ZONE_ID, instanceId: undefined };

    test("a run with no DNS zone configured keeps the hub zone's DNS findings open, marked not evaluated with the zone named", () => {
      const withoutZones = instance({ connections: [connection("c1")], zones: [] });
      const coverage = instanceCoverage(withoutZones, analyzeInstanceDns(withoutZones));
      const [, second] = runs([{ now: T0, observations: [dnsMissing, observation()] }, { now: T1, observations: [observation()], coverage }]);
      const f = second!.findings.find((x) => x.id === dnsMissing.id)!;
      assert.equal(f.status, "open");
      assert.equal(f.firstSeenAt, T0.toISOString());
      assert.equal(f.lastSeenAt, T0.toISOString());
      assert.match(f.notEvaluated?.reason ?? "", /DNS zone privatelink\.azure-api\.net .* was not examined in this run/);
      assert.deepEqual(second!.resolved, []);
      assert.equal(second!.findings.find((x) => x.checkId === "capacity")!.notEvaluated, undefined, "a check that ran is not marked");
    });

    test("a run that examines the zone again resolves the finding it no longer sees, and clears the mark on one it sees", () => {
      const withoutZones = instance({ connections: [connection("c1")], zones: [] });
      const withZone = instance({ connections: [connection("c1")], zones: [zone()] });
      const skipped = instanceCoverage(withoutZones, analyzeInstanceDns(withoutZones));
      const examined = instanceCoverage(withZone, analyzeInstanceDns(withZone));
      const [, , seenAgain] = runs([
        { now: T0, observations: [dnsMissing] },
        { now: T1, coverage: skipped },
        { now: T2, observations: [dnsMissing], coverage: examined },
      ]);
      assert.equal(seenAgain!.findings[0]!.notEvaluated, undefined);
      assert.equal(seenAgain!.findings[0]!.firstSeenAt, T0.toISOString(), "the same occurrence went on");
      const [, , fixed] = runs([
        { now: T0, observations: [dnsMissing] },
        { now: T1, coverage: skipped },
        { now: T2, coverage: examined },
      ]);
      assert.equal(fixed!.findings[0]!.status, "resolved");
      assert.equal(fixed!.findings[0]!.notEvaluated, undefined);
    });

    test("a suppressed finding that was not evaluated stays suppressed and marked", () => {
      const suppressions = new Map([[dnsMissing.id, { findingId: dnsMissing.id, reason: "r", owner: "o", expiresAt: T3.toISOString(), createdAt: T0.toISOString() }]]);
      const [, second] = runs([{ now: T0, observations: [dnsMissing], suppressions }, { now: T1, suppressions, coverage: { unevaluatedChecks: new Map(), examinedZoneKeys: new Set() } }]);
      assert.equal(second!.findings[0]!.status, "suppressed");
      assert.ok(second!.findings[0]!.notEvaluated);
    });

    test("an instance outside this run's scope keeps its findings open; one gone from a listed subscription is resolved", () => {
      const narrower = { instanceIds: ["/subscriptions/b0b0b0b0-0000-4000-8000-000000000009/resourceGroups/rg/providers/Microsoft.ApiManagement/service/other"], subscriptionIds: [], resourceTypes: APIM, unlistedScopeIds: [] };
      const [, outOfScope] = runs([{ now: T0, observations: [observation()] }, { now: T1, coverage: coverageOfInstanceNotAudited(INSTANCE_ID, narrower) }]);
      assert.equal(outOfScope!.findings[0]!.status, "open");
      assert.match(outOfScope!.findings[0]!.notEvaluated?.reason ?? "", /not in this run's scope/);

      const listed = { instanceIds: [], subscriptionIds: [PROVIDER_SUB.toUpperCase()], resourceTypes: ["microsoft.apimanagement/SERVICE"], unlistedScopeIds: [] };
      const [, gone] = runs([{ now: T0, observations: [observation()] }, { now: T1, coverage: coverageOfInstanceNotAudited(INSTANCE_ID, listed) }]);
      assert.equal(gone!.findings[0]!.status, "resolved", "in scope, subscription listed, instance absent: it is gone");

      const unlisted = { instanceIds: [], subscriptionIds: [PROVIDER_SUB], resourceTypes: APIM, unlistedScopeIds: [listingScopeId(PROVIDER_SUB, APIM[0]!)] };
      const [, failedListing] = runs([{ now: T0, observations: [observation()] }, { now: T1, coverage: coverageOfInstanceNotAudited(INSTANCE_ID, unlisted) }]);
      assert.equal(failedListing!.findings[0]!.status, "open");
      assert.match(failedListing!.findings[0]!.notEvaluated?.reason ?? "", /could not be listed/);
    });

    test("a listing failure stored under the bare subscription ID (before listings were per type) resolves once the subscription's APIM listing succeeds", () => {
      const legacy = { ...observation(), id: findingId("instance-unreadable", `/subscriptions/${PROVIDER_SUB}`), checkId: "instance-unreadable" as const, instanceId: `/subscriptions/${PROVIDER_SUB}`, resourceId: `/subscriptions/${PROVIDER_SUB}` };
      const listed = { instanceIds: [], subscriptionIds: [PROVIDER_SUB], resourceTypes: APIM, unlistedScopeIds: [] };
      const [, second] = runs([{ now: T0, observations: [legacy] }, { now: T1, coverage: coverageOfInstanceNotAudited(legacy.instanceId, listed) }]);
      assert.equal(second!.findings[0]!.status, "resolved");
    });

    test("an instance of a type this run does not govern keeps its findings open; another type's failed listing does not carry it", () => {
      const storageOnly = { instanceIds: [], subscriptionIds: [PROVIDER_SUB], resourceTypes: ["Microsoft.Storage/storageAccounts"], unlistedScopeIds: [] };
      const [, otherType] = runs([{ now: T0, observations: [observation()] }, { now: T1, coverage: coverageOfInstanceNotAudited(INSTANCE_ID, storageOnly) }]);
      assert.equal(otherType!.findings[0]!.status, "open");
      assert.match(otherType!.findings[0]!.notEvaluated?.reason ?? "", /not in this run's scope/);

      const storageListingFailed = { instanceIds: [], subscriptionIds: [PROVIDER_SUB], resourceTypes: [...APIM, "Microsoft.Storage/storageAccounts"], unlistedScopeIds: [listingScopeId(PROVIDER_SUB, "Microsoft.Storage/storageAccounts")] };
      const [, gone] = runs([{ now: T0, observations: [observation()] }, { now: T1, coverage: coverageOfInstanceNotAudited(INSTANCE_ID, storageListingFailed) }]);
      assert.equal(gone!.findings[0]!.status, "resolved", "the APIM listing succeeded: the instance is gone");
    });

    test("an unreadable-zone finding for a zone this run did not try to read is carried; one it read is resolved", () => {
      const [, notTried] = runs([{ now: T0, observations: [zoneUnreadable] }, { now: T1, coverage: estateCoverage([]) }]);
      assert.equal(notTried!.findings[0]!.status, "open");
      assert.ok(notTried!.findings[0]!.notEvaluated);
      const [, read] = runs([{ now: T0, observations: [zoneUnreadable] }, { now: T1, coverage: estateCoverage([HUB_ZONE_ID.toUpperCase()]) }]);
      assert.equal(read!.findings[0]!.status, "resolved");
    });

    test("the run summary counts the findings it could not evaluate, and they still count as open", () => {
      const [, second] = runs([{ now: T0, observations: [zoneUnreadable] }, { now: T1, coverage: estateCoverage([]) }]);
      const tally = tallyOtherFindings(emptyTally(), { findings: second!.findings, opened: 0, resolved: 0 });
      assert.deepEqual(tally.findings, { open: 1, suppressed: 0, resolved: 0, notEvaluated: 1 });
    });
  });
});
