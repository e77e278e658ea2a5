/**
 * The emulator's Private DNS surface driven by the real @azure/arm-privatedns client: zones, A record sets with
 * etags and conditional writes (If-Match / If-None-Match → 412), and virtual network links.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { clients, CONSUMER_RG, CONSUMER_SUB, DNS_RG, HUB_SUB, startEventRecorder, testTopology, ZONE, ZONE_ID } from "./helpers.ts";

type RestFailure = { statusCode?: number; code?: string };

const is412 = (e: RestFailure): boolean => e.statusCode === 412 && e.code === "PreconditionFailed";

describe("ARM emulator: Private DNS", () => {
  let emulator: ArmEmulator;
  let sdk: ReturnType<typeof clients>;

  before(async () => {
    emulator = await startArmEmulator({ topology: testTopologyWithSecondZone(), pageSize: 2 });
    sdk = clients(emulator);
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("gets and lists zones by resource group and subscription", async () => {
    const zone = await sdk.dns.privateZones.get(DNS_RG, "PRIVATELINK.azure-api.net");
    assert.equal(zone.id, ZONE_ID);
    assert.equal(zone.name, ZONE);
    assert.equal(zone.location, "global");
    assert.equal(zone.numberOfVirtualNetworkLinks, 1);
    const names: string[] = [];
    for await (const z of sdk.dns.privateZones.list()) names.push(z.name!);
    assert.deepEqual(names.sort(), ["contoso.internal", ZONE]);
    const byGroup: string[] = [];
    for await (const z of sdk.dns.privateZones.listByResourceGroup(DNS_RG)) byGroup.push(z.name!);
    assert.equal(byGroup.length, 2);
  });

  it("creates a record (201), updates it (200) and changes the etag at every write", async () => {
    const created = await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "MyApim", { ttl: 10, aRecords: [{ ipv4Address: "10.10.1.4" }] });
    assert.equal(created.name, "myapim");
    assert.equal(created.fqdn, `myapim.${ZONE}.`);
    const updated = await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "myapim", { ttl: 20, aRecords: [{ ipv4Address: "10.10.1.9" }] });
    assert.notEqual(updated.etag, created.etag);
    const fetched = await sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "MYAPIM");
    assert.equal(fetched.etag, updated.etag);
    assert.equal(fetched.ttl, 20);
    assert.deepEqual(fetched.aRecords, [{ ipv4Address: "10.10.1.9" }]);
    assert.deepEqual(emulator.requests().filter((r) => r.method === "PUT").map((r) => r.status), [201, 200]);
  });

  it("honours If-Match: a stale etag is refused with 412, the current one is accepted", async () => {
    const current = await sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "existing");
    await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "existing", { ttl: 300, aRecords: [{ ipv4Address: "10.1.2.4" }] }, { ifMatch: current.etag! });
    await assert.rejects(
      sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "existing", { ttl: 300, aRecords: [{ ipv4Address: "10.9.9.9" }] }, { ifMatch: current.etag! }),
      is412,
    );
    const after412 = await sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "existing");
    assert.deepEqual(after412.aRecords, [{ ipv4Address: "10.1.2.4" }]);
    await assert.rejects(
      sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "absent", { ttl: 300, aRecords: [] }, { ifMatch: current.etag! }),
      is412,
    );
  });

  it("honours If-None-Match: * (create only)", async () => {
    await assert.rejects(
      sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "existing", { ttl: 10, aRecords: [] }, { ifNoneMatch: "*" }),
      is412,
    );
    const created = await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "fresh", { ttl: 10, aRecords: [{ ipv4Address: "10.0.0.1" }] }, { ifNoneMatch: "*" });
    assert.equal(created.name, "fresh");
  });

  it("lists A records by type and across pages", async () => {
    for (const name of ["r1", "r2", "r3"]) {
      await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", name, { ttl: 10, aRecords: [{ ipv4Address: "10.0.0.1" }] });
    }
    const names: string[] = [];
    for await (const r of sdk.dns.recordSets.listByType(DNS_RG, ZONE, "A")) names.push(r.name!);
    assert.deepEqual(names.sort(), ["existing", "r1", "r2", "r3"]);
    const pages = emulator.requests().filter((r) => r.method === "GET" && r.path.endsWith("/A"));
    assert.equal(pages.length, 2, "4 records with pageSize 2 take two pages");
  });

  it("deletes a record (200), deleting it again is 204, and If-Match guards deletes", async () => {
    const current = await sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "existing");
    await assert.rejects(sdk.dns.recordSets.delete(DNS_RG, ZONE, "A", "existing", { ifMatch: "stale" }), is412);
    await sdk.dns.recordSets.delete(DNS_RG, ZONE, "A", "existing", { ifMatch: current.etag! });
    await sdk.dns.recordSets.delete(DNS_RG, ZONE, "A", "existing");
    assert.deepEqual(emulator.requests().filter((r) => r.method === "DELETE").map((r) => r.status), [412, 200, 204]);
    await assert.rejects(sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "existing"), (e: RestFailure) => e.statusCode === 404);
  });

  it("gets and lists virtual network links", async () => {
    const links: string[] = [];
    for await (const l of sdk.dns.virtualNetworkLinks.list(DNS_RG, ZONE)) links.push(l.name!);
    assert.deepEqual(links, ["link-app"]);
    const link = await sdk.dns.virtualNetworkLinks.get(DNS_RG, ZONE, "LINK-APP");
    assert.equal(link.virtualNetwork?.id, `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-app`);
    assert.equal(link.registrationEnabled, false);
    assert.equal(link.virtualNetworkLinkState, "Completed");
  });

  it("emits A/write and A/delete events in the zone's subscription", async () => {
    const recorder = await startEventRecorder();
    try {
      await emulator.events.addSubscription({ subscriptionId: HUB_SUB, endpointUrl: recorder.url, schema: "EventGridSchema" });
      await sdk.dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "evt", { ttl: 10, aRecords: [{ ipv4Address: "10.0.0.1" }] });
      await sdk.dns.recordSets.delete(DNS_RG, ZONE, "A", "evt");
      await emulator.events.idle();
      assert.deepEqual(
        recorder.events.map((e) => `${e.data["operationName"]} ${e.subject}`),
        [`Microsoft.Network/privateDnsZones/A/write ${ZONE_ID}/A/evt`, `Microsoft.Network/privateDnsZones/A/delete ${ZONE_ID}/A/evt`],
      );
    } finally {
      await recorder.close();
    }
  });
});

/** The test topology plus a second zone in the hub, so zone lists have something to page over. */
function testTopologyWithSecondZone(): ReturnType<typeof testTopology> {
  const topology = testTopology();
  const hub = topology.subscriptions!.find((s) => s.id === HUB_SUB)!;
  hub.resourceGroups![0]!.privateDnsZones!.push({ name: "contoso.internal" });
  return topology;
}
