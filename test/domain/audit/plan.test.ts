import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { REMEDIABLE_CHECKS } from "../../../src/config.ts";
import { evaluateChecks } from "../../../src/domain/audit/checks.ts";
import { analyzeInstanceDns } from "../../../src/domain/audit/dns.ts";
import { OWNER_METADATA_KEY, planRemediation, REMEDIATIONS, selectEnabledChanges, type PlannedChange } from "../../../src/domain/audit/plan.ts";
import type { WrittenRecord } from "../../../src/domain/audit/ownership.ts";
import type { InstanceSnapshot, ZoneSnapshot } from "../../../src/domain/audit/snapshot.ts";
import { CONTEXT, HUB_ZONE_ID, connection, instance, record, service, vnetId, zone } from "./builders.ts";

function plan(snapshot: InstanceSnapshot): PlannedChange[] {
  const dns = analyzeInstanceDns(snapshot);
  return planRemediation(snapshot, dns, evaluateChecks({ kind: "instance", snapshot, dns }, CONTEXT));
}

const LABEL = { [OWNER_METADATA_KEY]: "portcullis" };

/** What Portcullis' ownership store says it last wrote to the instance's record in `zoneId`. */
function written(ips: readonly string[], zoneId = HUB_ZONE_ID): WrittenRecord {
  return { recordId: `${zoneId}/A/contoso-apim`, zoneId, recordName: "contoso-apim", ipv4Addresses: ips, etag: `etag-${ips.join("-")}`, writtenAt: "2025-05-20T06:00:00.000Z", runId: "r0" };
}

/** A zone whose record holds `ips` and that Portcullis wrote with exactly those IPs (unchanged since). */
function ownedZone(ips: readonly string[], overrides: Partial<ZoneSnapshot> = {}): ZoneSnapshot {
  const zoneId = overrides.zoneId ?? HUB_ZONE_ID;
  return zone({ record: record(zoneId, ips, LABEL), written: written(ips, zoneId), ...overrides });
}

/** Applies a plan to a snapshot the way Azure would, to show that a second plan over the result is empty. */
function applied(snapshot: InstanceSnapshot, changes: readonly PlannedChange[]): InstanceSnapshot {
  let result = snapshot;
  for (const change of changes) {
    if (change.kind === "disable-public-network-access") result = { ...result, resource: { ...result.resource!, publicNetworkAccess: "Disabled" } };
    else if (change.kind === "put-a-record") {
      // The workflow stores what it wrote in the ownership store after every applied write.
      const zoneUpdate = (z: ZoneSnapshot): ZoneSnapshot => ({
        ...z,
        recordsByName: new Map([...z.recordsByName, [change.recordName, record(z.zoneId, change.ipv4Addresses, { ...change.metadata }, change.recordName)]]),
        writtenByName: new Map([...z.writtenByName, [change.recordName, written(change.ipv4Addresses, z.zoneId)]]),
      });
      result = { ...result, zones: result.zones.map((z) => (z.zoneId === change.zoneId ? zoneUpdate(z) : z)) };
    } else {
      const without = <T,>(map: ReadonlyMap<string, T>) => new Map([...map].filter(([name]) => name !== change.recordName));
      result = { ...result, zones: result.zones.map((z) => (z.zoneId === change.zoneId ? { ...z, recordsByName: without(z.recordsByName), writtenByName: without(z.writtenByName) } : z)) };
    }
  }
  return result;
}

describe("remediation plan", () => {
  test("the remediation names are exactly the ones settings accept", () => {
    assert.deepEqual([...REMEDIATIONS], [...REMEDIABLE_CHECKS]);
  });

  test("disables public access where Azure allows it (an approved connection, no VNet injection)", () => {
    const changes = plan(instance({ service: service({ publicNetworkAccess: "Enabled" }), connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4"]) })] }));
    assert.deepEqual(changes.map((c) => c.kind), ["disable-public-network-access"]);
    assert.equal(changes[0]!.findingIds.length, 1);
  });

  test("does not try to disable public access without an approved connection, even when required", () => {
    const snapshot = instance({ service: service({ publicNetworkAccess: "Enabled" }) });
    const dns = analyzeInstanceDns(snapshot);
    const observations = evaluateChecks({ kind: "instance", snapshot, dns }, { ...CONTEXT, policy: { ...CONTEXT.policy, publicAccessDisabledRequired: "always" } });
    assert.equal(observations.length, 1);
    assert.deepEqual(planRemediation(snapshot, dns, observations), []);
  });

  test("creates a missing record with If-None-Match, labelled managedBy=portcullis for people", () => {
    const changes = plan(instance({ connections: [connection("c1")], zones: [zone()] }));
    assert.equal(changes.length, 1);
    const change = changes[0]!;
    assert.equal(change.kind, "put-a-record");
    if (change.kind !== "put-a-record") return;
    assert.equal(change.ifNoneMatch, "*");
    assert.equal(change.ifMatch, undefined);
    assert.deepEqual(change.ipv4Addresses, ["10.0.1.4"]);
    assert.deepEqual(change.metadata, LABEL);
  });

  test("rewrites a record Portcullis wrote and nobody changed since, now wrong, with If-Match on its ETag", () => {
    const changes = plan(instance({ connections: [connection("c1")], zones: [ownedZone(["10.0.1.4", "10.0.1.9"])] }));
    assert.equal(changes.length, 1);
    const change = changes[0]!;
    if (change.kind !== "put-a-record") return assert.fail("expected a put");
    assert.equal(change.ifMatch, "etag-10.0.1.4-10.0.1.9");
    assert.deepEqual(change.ipv4Addresses, ["10.0.1.4"]);
    assert.deepEqual(change.previousIpv4Addresses, ["10.0.1.4", "10.0.1.9"]);
  });

  test("deletes a record Portcullis wrote and nobody changed, once no approved endpoint uses it, with If-Match", () => {
    const changes = plan(instance({ zones: [ownedZone(["10.0.1.9"])] }));
    assert.deepEqual(changes.map((c) => [c.kind, c.kind === "delete-a-record" ? c.ifMatch : undefined]), [["delete-a-record", "etag-10.0.1.9"]]);
  });

  test("never touches a record Portcullis does not own", () => {
    assert.deepEqual(plan(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.9.9"]) })] })), []);
  });

  test("a record someone else tagged managedBy=portcullis is not Portcullis': never rewritten, never deleted", () => {
    assert.deepEqual(plan(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.9.9"], LABEL) })] })), [], "not rewritten");
    assert.deepEqual(plan(instance({ zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.9.9"], LABEL) })] })), [], "not deleted");
  });

  test("a record Portcullis wrote to which a human added a failover IP is not reverted (and not deleted)", () => {
    const humanAdded = zone({ record: record(HUB_ZONE_ID, ["10.0.1.4", "10.0.5.5"], LABEL), written: written(["10.0.1.4"]) });
    assert.deepEqual(plan(instance({ connections: [connection("c1")], zones: [humanAdded] })), []);
    assert.deepEqual(plan(instance({ zones: [humanAdded] })), [], "no delete either, though no approved endpoint uses it");
  });

  test("ownership follows the IPs Portcullis wrote: a record whose TTL or tags someone changed stays Portcullis', and its rewrite keeps them", () => {
    const retagged = zone({ record: { ...record(HUB_ZONE_ID, ["10.0.1.9"], { team: "dns" }), ttl: 300, etag: "etag-now" }, written: written(["10.0.1.9"]) });
    const [change] = plan(instance({ connections: [connection("c1")], zones: [retagged] }));
    if (change?.kind !== "put-a-record") return assert.fail("expected a put");
    assert.equal(change.ifMatch, "etag-now", "If-Match carries the ETag read in this run, so a change since the read is never overwritten");
    assert.deepEqual([change.ttl, change.metadata], [300, { team: "dns" }]);
  });

  test("a record Portcullis wrote that someone deleted since is created again, If-None-Match (nothing of anyone's to overwrite)", () => {
    const [change] = plan(instance({ connections: [connection("c1")], zones: [zone({ record: undefined, written: written(["10.0.1.4"]) })] }));
    if (change?.kind !== "put-a-record") return assert.fail("expected a put");
    assert.equal(change.ifNoneMatch, "*");
  });

  test("leaves competing endpoints to a human", () => {
    const snapshot = instance({
      connections: [connection("c1", { vnet: "vnet-a" }), connection("c2", { vnet: "vnet-b", ips: ["10.1.1.4"] })],
      zones: [ownedZone(["10.1.1.4"], { linkedVirtualNetworkIds: [vnetId("vnet-a"), vnetId("vnet-b")] })],
    });
    assert.deepEqual(plan(snapshot), []);
  });

  test("changes no DNS while an approved endpoint cannot be read", () => {
    const snapshot = instance({
      connections: [connection("c1"), connection("c2", { endpointFailure: { kind: "forbidden", code: undefined, message: "x" } })],
      zones: [zone()],
    });
    assert.deepEqual(plan(snapshot), []);
  });

  test("a second plan over the state the first produced is empty (idempotency)", () => {
    const snapshot = instance({
      service: service({ publicNetworkAccess: "Enabled" }),
      connections: [connection("c1"), connection("c2", { ips: ["10.0.1.5"] })],
      zones: [zone(), ownedZone(["10.0.1.4"], { zoneId: HUB_ZONE_ID.replace("rg-dns", "rg-dns2") })],
    });
    const first = plan(snapshot);
    assert.equal(first.length, 3);
    assert.deepEqual(plan(applied(snapshot, first)), []);
  });

  test("only enabled remediations are kept", () => {
    const changes = plan(instance({ service: service({ publicNetworkAccess: "Enabled" }), connections: [connection("c1")], zones: [zone()] }));
    assert.deepEqual(selectEnabledChanges(changes, []).length, 0);
    assert.deepEqual(selectEnabledChanges(changes, ["dns-record"]).map((c) => c.kind), ["put-a-record"]);
    assert.equal(selectEnabledChanges(changes, ["dns-record", "public-network-access"]).length, 2);
  });
});
