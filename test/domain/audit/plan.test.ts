import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { REMEDIABLE_CHECKS } from "../../../src/config.ts";
import { evaluateChecks } from "../../../src/domain/audit/checks.ts";
import { analyzeInstanceDns } from "../../../src/domain/audit/dns.ts";
import { OWNER_METADATA_KEY, planRemediation, REMEDIATIONS, selectEnabledChanges, type PlannedChange } from "../../../src/domain/audit/plan.ts";
import type { InstanceSnapshot } from "../../../src/domain/audit/snapshot.ts";
import { CONTEXT, HUB_ZONE_ID, connection, instance, record, service, vnetId, zone } from "./builders.ts";

function plan(snapshot: InstanceSnapshot): PlannedChange[] {
  const dns = analyzeInstanceDns(snapshot);
  return planRemediation(snapshot, dns, evaluateChecks({ kind: "instance", snapshot, dns }, CONTEXT));
}

const OWNED = { [OWNER_METADATA_KEY]: "portcullis" };

/** Applies a plan to a snapshot the way Azure would, to show that a second plan over the result is empty. */
function applied(snapshot: InstanceSnapshot, changes: readonly PlannedChange[]): InstanceSnapshot {
  let result = snapshot;
  for (const change of changes) {
    if (change.kind === "disable-public-network-access") result = { ...result, service: { ...result.service!, publicNetworkAccess: "Disabled" } };
    else if (change.kind === "put-a-record") {
      result = { ...result, zones: result.zones.map((z) => (z.zoneId === change.zoneId ? { ...z, record: record(z.zoneId, change.ipv4Addresses, { ...change.metadata }) } : z)) };
    } else result = { ...result, zones: result.zones.map((z) => (z.zoneId === change.zoneId ? { ...z, record: undefined } : z)) };
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

  test("creates a missing record with If-None-Match and the ownership tag", () => {
    const changes = plan(instance({ connections: [connection("c1")], zones: [zone()] }));
    assert.equal(changes.length, 1);
    const change = changes[0]!;
    assert.equal(change.kind, "put-a-record");
    if (change.kind !== "put-a-record") return;
    assert.equal(change.ifNoneMatch, "*");
    assert.equal(change.ifMatch, undefined);
    assert.deepEqual(change.ipv4Addresses, ["10.0.1.4"]);
    assert.deepEqual(change.metadata, OWNED);
  });

  test("rewrites an owned record with If-Match on its ETag", () => {
    const changes = plan(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4", "10.0.1.9"], OWNED) })] }));
    assert.equal(changes.length, 1);
    const change = changes[0]!;
    if (change.kind !== "put-a-record") return assert.fail("expected a put");
    assert.equal(change.ifMatch, "etag-10.0.1.4-10.0.1.9");
    assert.deepEqual(change.ipv4Addresses, ["10.0.1.4"]);
    assert.deepEqual(change.previousIpv4Addresses, ["10.0.1.4", "10.0.1.9"]);
  });

  test("deletes an owned record that no approved endpoint uses any more", () => {
    const changes = plan(instance({ zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.9"], OWNED) })] }));
    assert.deepEqual(changes.map((c) => c.kind), ["delete-a-record"]);
  });

  test("never touches a record Portcullis does not own", () => {
    assert.deepEqual(plan(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.9.9"]) })] })), []);
  });

  test("leaves competing endpoints to a human", () => {
    const snapshot = instance({
      connections: [connection("c1", { vnet: "vnet-a" }), connection("c2", { vnet: "vnet-b", ips: ["10.1.1.4"] })],
      zones: [zone({ record: record(HUB_ZONE_ID, ["10.1.1.4"], OWNED), linkedVirtualNetworkIds: [vnetId("vnet-a"), vnetId("vnet-b")] })],
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
      zones: [zone(), zone({ zoneId: HUB_ZONE_ID.replace("rg-dns", "rg-dns2"), record: record(HUB_ZONE_ID.replace("rg-dns", "rg-dns2"), ["10.0.1.4"], OWNED) })],
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
