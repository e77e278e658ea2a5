import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AUDIT_CHECKS,
  CHECK_IDS,
  evaluateChecks,
  RULE_SET_RESOURCE_ID,
  type CheckContext,
  type CheckId,
} from "../../../src/domain/audit/checks.ts";
import { instanceCoverage } from "../../../src/domain/audit/coverage.ts";
import { analyzeInstanceDns } from "../../../src/domain/audit/dns.ts";
import { findingId, type Observation } from "../../../src/domain/audit/findings.ts";
import type { EstateSnapshot, InstanceSnapshot } from "../../../src/domain/audit/snapshot.ts";
import {
  CONSUMER_SUB,
  CONTEXT,
  HUB_ZONE_ID,
  INSTANCE_ID,
  POLICY,
  PROVIDER_SUB,
  connection,
  hoursBefore,
  instance,
  record,
  service,
  vnetId,
  zone,
} from "./builders.ts";

function run(snapshot: InstanceSnapshot, context: CheckContext = CONTEXT): Observation[] {
  return evaluateChecks({ kind: "instance", snapshot, dns: analyzeInstanceDns(snapshot) }, context);
}

function runEstate(estate: Partial<EstateSnapshot>): Observation[] {
  return evaluateChecks({ kind: "estate", estate: { rules: { status: "usable", problems: [] }, unreadableZones: [], ...estate } }, CONTEXT);
}

function ids(observations: readonly Observation[]): CheckId[] {
  return observations.map((o) => o.checkId);
}

const healthyZone = (ips: readonly string[]) => zone({ record: record(HUB_ZONE_ID, ips) });

describe("audit checks", () => {
  test("a healthy instance with a matching record yields no observation at all", () => {
    const snapshot = instance({ connections: [connection("c1")], zones: [healthyZone(["10.0.1.4"])] });
    assert.deepEqual(run(snapshot), []);
  });

  test("every check ID is kebab-case and the map is the run order", () => {
    for (const id of CHECK_IDS) assert.match(id, /^[a-z]+(-[a-z0-9]+)*$/);
    assert.deepEqual(CHECK_IDS, Object.keys(AUDIT_CHECKS));
    assert.equal(CHECK_IDS[0], "instance-unreadable");
  });

  describe("instance-unreadable", () => {
    test("reports an instance whose read failed, and runs no other instance check on it", () => {
      const out = run(instance({ service: undefined, failure: { kind: "transient", code: "TooManyRequests", message: "throttled" } }));
      assert.deepEqual(ids(out), ["instance-unreadable"]);
      assert.equal(out[0]!.severity, "high");
      assert.match(out[0]!.evidence.actual, /transient \(TooManyRequests\)/);
    });

    test("says 'not found' for a configured instance that does not exist", () => {
      const out = run(instance({ service: undefined, failure: { kind: "not-found", code: "ResourceNotFound", message: "gone" } }));
      assert.match(out[0]!.message, /was not found/);
    });

    test("says which subscription could not be listed", () => {
      const out = run(instance({ instanceId: `/subscriptions/${PROVIDER_SUB}`, service: undefined, failure: { kind: "forbidden", code: "AuthorizationFailed", message: "no" } }));
      assert.match(out[0]!.message, /could not be listed/);
    });
  });

  describe("prerequisites", () => {
    test("an stv1 instance fails prerequisite-platform; stv2 and stv2.1 pass", () => {
      assert.deepEqual(ids(run(instance({ service: service({ platformVersion: "stv1" }) }))), ["prerequisite-platform"]);
      assert.deepEqual(run(instance({ service: service({ platformVersion: "stv2.1" }) })), []);
      assert.deepEqual(ids(run(instance({ service: service({ platformVersion: undefined }) }))), ["prerequisite-platform"]);
    });

    // Microsoft's feature table (learn.microsoft.com/azure/api-management/api-management-features), row "Private
    // endpoint support for inbound connections": yes for Standard v2 and Premium v2, no for Basic v2 and Consumption.
    test("Standard v2 and Premium v2 pass both prerequisites whatever platformVersion they report (mtv1 included)", () => {
      for (const skuName of ["StandardV2", "PremiumV2", "standardv2"]) {
        for (const platformVersion of ["mtv1", "undetermined", undefined]) {
          assert.deepEqual(run(instance({ service: service({ skuName, platformVersion }) })), [], `${skuName} on ${platformVersion ?? "(none)"}`);
        }
      }
    });

    test("Basic v2 fails prerequisite-tier (the table lists no inbound private endpoints for it) and nothing asks it to migrate to stv2", () => {
      const out = run(instance({ service: service({ skuName: "BasicV2", platformVersion: "mtv1" }) }));
      assert.deepEqual(ids(out), ["prerequisite-tier"]);
      assert.equal(out[0]!.evidence.actual, "BasicV2");
      assert.match(out[0]!.evidence.expected, /StandardV2, PremiumV2/);
    });

    test("a classic-tier instance reporting mtv1 still fails prerequisite-platform (only stv2 and stv2.1 carry its private endpoints)", () => {
      assert.deepEqual(ids(run(instance({ service: service({ skuName: "Premium", platformVersion: "mtv1" }) }))), ["prerequisite-platform"]);
    });

    test("a VNet-injected instance fails prerequisite-vnet-injection", () => {
      const out = run(instance({ service: service({ virtualNetworkType: "Internal" }) }));
      assert.deepEqual(ids(out), ["prerequisite-vnet-injection"]);
      assert.equal(out[0]!.evidence.expected, "None");
      assert.equal(out[0]!.evidence.actual, "Internal");
    });

    test("a tier outside Developer/Basic/Standard/Premium fails prerequisite-tier", () => {
      assert.deepEqual(ids(run(instance({ service: service({ skuName: "Consumption" }) }))), ["prerequisite-tier"]);
      assert.deepEqual(run(instance({ service: service({ skuName: "developer" }) })), []);
    });
  });

  describe("public-network-access", () => {
    const enabled = service({ publicNetworkAccess: "Enabled" });

    test("reports Enabled once an approved connection exists, with the az command to disable it", () => {
      const out = run(instance({ service: enabled, connections: [connection("c1")], zones: [healthyZone(["10.0.1.4"])] }));
      assert.deepEqual(ids(out), ["public-network-access"]);
      assert.equal(out[0]!.severity, "high");
      assert.equal(out[0]!.id, findingId("public-network-access", INSTANCE_ID, "enabled"));
      assert.match(out[0]!.remediation.azCli, /az apim update --subscription a0a0a0a0-0000-4000-8000-000000000001 --name contoso-apim --resource-group rg-apim --public-network-access false/);
    });

    test("an unknown value counts as Enabled (Azure's default)", () => {
      const out = run(instance({ service: service({ publicNetworkAccess: undefined }), connections: [connection("c1")], zones: [healthyZone(["10.0.1.4"])] }));
      assert.deepEqual(ids(out), ["public-network-access"]);
    });

    test("leaves exempt instances alone", () => {
      const context = { ...CONTEXT, policy: { ...POLICY, publicAccessExemptIds: [INSTANCE_ID.toUpperCase()] } };
      assert.deepEqual(run(instance({ service: enabled, connections: [connection("c1")], zones: [healthyZone(["10.0.1.4"])] }), context), []);
    });

    test("requires nothing by default while no connection is approved", () => {
      assert.deepEqual(run(instance({ service: enabled, connections: [connection("c1", { status: "Pending", history: { firstRecordedAt: hoursBefore(1) } })] })), []);
    });

    test("reports 'cannot disable: no approved connection' as its own finding when Disabled is always required", () => {
      const context = { ...CONTEXT, policy: { ...POLICY, publicAccessDisabledRequired: "always" as const } };
      const out = run(instance({ service: enabled }), context);
      assert.deepEqual(ids(out), ["public-network-access"]);
      assert.equal(out[0]!.severity, "medium");
      assert.equal(out[0]!.id, findingId("public-network-access", INSTANCE_ID, "cannot-disable"));
      assert.notEqual(out[0]!.id, findingId("public-network-access", INSTANCE_ID, "enabled"));
    });
  });

  describe("capacity", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => connection(`c${i}`, { status: "Pending", history: { firstRecordedAt: hoursBefore(1) } }));

    test("is silent below the warning, a medium warning from it, high at the limit of 100", () => {
      assert.deepEqual(run(instance({ connections: many(79) })), []);
      const warning = run(instance({ connections: many(80) }));
      assert.deepEqual(ids(warning), ["capacity"]);
      assert.equal(warning[0]!.severity, "medium");
      const full = run(instance({ connections: many(100) }));
      assert.equal(full[0]!.severity, "high");
      assert.equal(full[0]!.id, warning[0]!.id, "the same problem keeps its ID as it grows");
    });

    test("takes the warning threshold from the policy", () => {
      const context = { ...CONTEXT, policy: { ...POLICY, capacityWarning: 5 } };
      assert.deepEqual(ids(run(instance({ connections: many(5) }), context)), ["capacity"]);
    });
  });

  describe("pending-too-long", () => {
    test("measures from the earliest decision-log record", () => {
      const out = run(instance({ connections: [connection("c1", { status: "Pending", history: { firstRecordedAt: hoursBefore(25) } })] }));
      assert.deepEqual(ids(out), ["pending-too-long"]);
      assert.equal(out[0]!.resourceId, `${INSTANCE_ID}/privateEndpointConnections/c1`);
      assert.match(out[0]!.message, /Pending for 25 h/);
    });

    test("falls back to the first audit sighting, and is silent within the limit", () => {
      assert.deepEqual(ids(run(instance({ connections: [connection("c1", { status: "Pending", history: { statusSeenSince: hoursBefore(30) } })] }))), ["pending-too-long"]);
      assert.deepEqual(run(instance({ connections: [connection("c1", { status: "Pending", history: { statusSeenSince: hoursBefore(23) } })] })), []);
    });
  });

  describe("unexplained-approval", () => {
    test("reports an Approved connection with no approving decision in the log", () => {
      const out = run(instance({ connections: [connection("c1", { history: { approvedAt: undefined } })], zones: [healthyZone(["10.0.1.4"])] }));
      assert.deepEqual(ids(out), ["unexplained-approval"]);
      assert.match(out[0]!.remediation.azCli, /az network private-endpoint-connection reject --id/);
    });
  });

  describe("lingering-rejected", () => {
    test("reports a connection rejected longer than the setting", () => {
      assert.deepEqual(ids(run(instance({ connections: [connection("c1", { status: "Rejected", history: { rejectedAt: hoursBefore(31 * 24) } })] }))), ["lingering-rejected"]);
      assert.deepEqual(run(instance({ connections: [connection("c1", { status: "Rejected", history: { rejectedAt: hoursBefore(29 * 24) } })] })), []);
    });
  });

  describe("endpoint-unreadable", () => {
    test("reports an approved connection whose endpoint cannot be read, and its DNS is not judged", () => {
      const snapshot = instance({
        connections: [connection("c1", { endpointFailure: { kind: "forbidden", code: "AuthorizationFailed", message: "cross-tenant" } })],
        zones: [zone({ record: record(HUB_ZONE_ID, ["10.9.9.9"]) })],
      });
      const out = run(snapshot);
      assert.deepEqual(ids(out), ["endpoint-unreadable"], "stale IPs are not claimed while an endpoint's IPs are unknown");
      assert.equal(out[0]!.severity, "low");
      assert.ok(instanceCoverage(snapshot, analyzeInstanceDns(snapshot)).unevaluatedChecks.has("dns-stale-ips"));
    });

    test("a deleted endpoint of an approved connection is medium", () => {
      const out = run(instance({ connections: [connection("c1", { endpointFailure: { kind: "not-found", code: "NotFound", message: "gone" } })] }));
      assert.equal(out[0]!.severity, "medium");
      assert.match(out[0]!.message, /no longer exists/);
    });
  });

  describe("DNS drift", () => {
    test("dns-record-missing: an approved endpoint and no record in the configured zone", () => {
      const out = run(instance({ connections: [connection("c1")], zones: [zone()] }));
      assert.deepEqual(ids(out), ["dns-record-missing"]);
      assert.equal(out[0]!.resourceId, `${HUB_ZONE_ID}/A/contoso-apim`);
      assert.equal(out[0]!.evidence.expected, "10.0.1.4");
      assert.match(out[0]!.remediation.azCli, /record-set a add-record --subscription a0a0a0a0-0000-4000-8000-000000000001 --resource-group rg-dns --zone-name privatelink.azure-api.net --record-set-name contoso-apim --ipv4-address 10.0.1.4/);
    });

    test("dns-record-wrong-ips: the record lacks the endpoint's IP (and its own IP is stale)", () => {
      const out = run(instance({ connections: [connection("c1")], zones: [healthyZone(["10.0.9.9"])] }));
      assert.deepEqual(ids(out), ["dns-record-wrong-ips", "dns-stale-ips"]);
      assert.deepEqual(out[0]!.evidence.details?.["missingIps"], ["10.0.1.4"]);
    });

    test("dns-stale-ips: a deleted endpoint's IP still in the record", () => {
      const out = run(instance({ connections: [connection("c1")], zones: [healthyZone(["10.0.1.4", "10.0.1.5"])] }));
      assert.deepEqual(ids(out), ["dns-stale-ips"]);
      assert.deepEqual(out[0]!.evidence.details?.["staleIps"], ["10.0.1.5"]);
    });

    test("dns-stale-ips: a record left behind with no approved endpoint at all", () => {
      const out = run(instance({ connections: [connection("c1", { status: "Rejected", history: { rejectedAt: hoursBefore(1) } })], zones: [healthyZone(["10.0.1.4"])] }));
      assert.deepEqual(ids(out), ["dns-stale-ips"]);
    });

    test("dns-competing-endpoints: approved endpoints from two VNets share the record", () => {
      const snapshot = instance({
        connections: [connection("c1", { vnet: "vnet-a", ips: ["10.0.1.4"] }), connection("c2", { vnet: "vnet-b", ips: ["10.1.1.4"] })],
        zones: [zone({ record: record(HUB_ZONE_ID, ["10.1.1.4"]), linkedVirtualNetworkIds: [vnetId("vnet-a"), vnetId("vnet-b")] })],
      });
      const out = run(snapshot);
      assert.deepEqual(ids(out), ["dns-record-wrong-ips", "dns-competing-endpoints"]);
      assert.deepEqual(out[1]!.evidence.actual.split(", "), [vnetId("vnet-a"), vnetId("vnet-b")]);
    });

    test("two endpoints from the same VNet do not compete", () => {
      const snapshot = instance({
        connections: [connection("c1", { ips: ["10.0.1.4"] }), connection("c2", { ips: ["10.0.1.5"] })],
        zones: [healthyZone(["10.0.1.4", "10.0.1.5"])],
      });
      assert.deepEqual(run(snapshot), []);
    });

    test("dns-zone-not-linked: the zone has no link to the endpoint's VNet (the subnet's parent)", () => {
      const out = run(instance({ connections: [connection("c1", { vnet: "vnet-b" })], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4"]) })] }));
      assert.deepEqual(ids(out), ["dns-zone-not-linked"]);
      assert.equal(out[0]!.evidence.expected, `a virtual network link to ${vnetId("vnet-b")}`);
      assert.match(out[0]!.remediation.azCli, /az network private-dns link vnet create/);
    });

    test("a zone-group zone is judged only for the endpoints whose groups name it", () => {
      const groupZone = HUB_ZONE_ID.replace("rg-dns", "rg-app");
      const snapshot = instance({
        connections: [connection("c1", { dnsZoneIds: [groupZone] }), connection("c2", { vnet: "vnet-b", ips: ["10.1.1.4"] })],
        zones: [zone({ zoneId: groupZone, configured: false, record: record(groupZone, ["10.0.1.4"]) })],
      });
      assert.deepEqual(run(snapshot), [], "c2 does not target the zone, so neither a wrong IP nor a competition");
    });
  });

  describe("estate checks", () => {
    test("rules-unusable is critical and lists the problems", () => {
      const out = runEstate({ rules: { status: "unusable", problems: ["rule:r1: bad json"] } });
      assert.deepEqual(ids(out), ["rules-unusable"]);
      assert.equal(out[0]!.severity, "critical");
      assert.equal(out[0]!.resourceId, RULE_SET_RESOURCE_ID);
      assert.equal(out[0]!.instanceId, undefined);
    });

    test("dns-zone-unreadable reports each unreadable zone once", () => {
      const out = runEstate({ unreadableZones: [{ zoneId: HUB_ZONE_ID, failure: { kind: "forbidden", code: "AuthorizationFailed", message: "no" } }] });
      assert.deepEqual(ids(out), ["dns-zone-unreadable"]);
    });

    test("instance checks ignore the estate subject and estate checks ignore instances", () => {
      assert.deepEqual(runEstate({}), []);
      assert.deepEqual(run(instance()), []);
    });
  });

  test("an unreadable zone makes the DNS checks unevaluated for the instance", () => {
    const snapshot = instance({ connections: [connection("c1")], zones: [zone({ failure: { kind: "transient", code: undefined, message: "x" } })] });
    assert.deepEqual(run(snapshot), [], "nothing is claimed about a zone that could not be read");
    assert.ok(instanceCoverage(snapshot, analyzeInstanceDns(snapshot)).unevaluatedChecks.has("dns-record-missing"));
  });

  describe("fix commands people can run as they are", () => {
    const FOREIGN_SUB = "f0f0f0f0-0000-4000-8000-00000000000f";
    const foreignVnet = `/subscriptions/${FOREIGN_SUB}/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/vnet-partner`;

    test("every az command that names a resource group also names its subscription (--subscription), for every check that fires", () => {
      const enabled = service({ publicNetworkAccess: "Enabled", platformVersion: "stv1", skuName: "Consumption", virtualNetworkType: "External" });
      const snapshots = [
        instance({ service: enabled, connections: [connection("c1")], zones: [healthyZone(["10.0.9.9"])] }),
        instance({ connections: [connection("c1"), connection("c2", { vnet: "vnet-b", ips: ["10.0.2.4"] })], zones: [zone({ linkedVirtualNetworkIds: [] })] }),
        instance({ failure: { kind: "forbidden", code: "AuthorizationFailed", message: "no" } }),
      ];
      const observations = [
        ...snapshots.flatMap((s) => run(s)),
        ...runEstate({ unreadableZones: [{ zoneId: HUB_ZONE_ID, failure: { kind: "forbidden", code: "AuthorizationFailed", message: "no" } }] }),
      ];
      const commands = observations.map((o) => o.remediation.azCli).filter((c) => c.includes("--resource-group"));
      assert.ok(commands.length >= 6, `enough commands to mean something: ${commands.length}`);
      for (const command of commands) assert.match(command, /--subscription \S+ /, command);
      const recordFix = observations.find((o) => o.checkId === "dns-stale-ips")!.remediation.azCli;
      assert.match(recordFix, new RegExp(`--subscription ${PROVIDER_SUB} --resource-group rg-dns`), "the zone's subscription, not the instance's or the reader's default");
    });

    test("a VNet in the estate's subscriptions gets the link command; one outside them (tenant unknown) gets 'ask its owner', never a link into it", () => {
      const c = connection("c1");
      const foreign = { ...c, endpoint: { ...c.endpoint!, virtualNetworkId: foreignVnet } };
      const out = run(instance({ connections: [foreign], zones: [healthyZone(["10.0.1.4"])] }));
      assert.deepEqual(ids(out), ["dns-zone-not-linked"]);
      const fix = out[0]!.remediation;
      assert.doesNotMatch(fix.azCli, /link vnet create/);
      assert.doesNotMatch(fix.portal, /Virtual network links > \+ Add/);
      assert.match(fix.portal, /outside the subscriptions Portcullis manages.*do not link this zone into it.*Ask the VNet's owner/);
      assert.match(fix.azCli, /^# for the VNet's owner/);
      assert.match(fix.azCli, new RegExp(`dns-zone-group create --subscription ${CONSUMER_SUB} `), "the command for the owner names the endpoint's subscription");

      const known = run(instance({ connections: [foreign], zones: [healthyZone(["10.0.1.4"])] }), { ...CONTEXT, estateSubscriptionIds: [PROVIDER_SUB, FOREIGN_SUB] });
      assert.match(known[0]!.remediation.azCli, new RegExp(`^az network private-dns link vnet create --subscription ${PROVIDER_SUB} `));
    });
  });

  describe("dns-record-drifted: ownership is what Portcullis wrote, not a tag", () => {
    const written = (ips: readonly string[]) => ({
      recordId: `${HUB_ZONE_ID}/A/contoso-apim`,
      zoneId: HUB_ZONE_ID,
      recordName: "contoso-apim",
      ipv4Addresses: ips,
      etag: "etag-written",
      writtenAt: "2025-05-20T06:00:00.000Z",
      runId: "20250520T060000Z-aaaaaaaa",
    });

    test("a record whose IPs changed since Portcullis wrote them is reported as drifted, naming both IP sets", () => {
      const out = run(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4", "10.0.7.7"]), written: written(["10.0.1.4"]) })] }));
      assert.deepEqual(ids(out).sort(), ["dns-record-drifted", "dns-stale-ips"]);
      const drifted = out.find((o) => o.checkId === "dns-record-drifted")!;
      assert.match(drifted.message, /changed since Portcullis wrote it on 2025-05-20T06:00:00.000Z \(it wrote 10\.0\.1\.4; it now holds 10\.0\.1\.4, 10\.0\.7\.7\)/);
      assert.equal(drifted.evidence.details?.["writtenEtag"], "etag-written");
    });

    test("an unchanged record Portcullis wrote, and a record it never wrote (even tagged managedBy=portcullis), are not drift", () => {
      assert.deepEqual(run(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4"]), written: written(["10.0.1.4"]) })] })), []);
      assert.deepEqual(run(instance({ connections: [connection("c1")], zones: [zone({ record: record(HUB_ZONE_ID, ["10.0.1.4"], { managedBy: "portcullis" }) })] })), []);
    });
  });
});
