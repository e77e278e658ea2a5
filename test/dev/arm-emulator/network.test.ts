/**
 * The emulator's Microsoft.Network surface driven by the real @azure/arm-network client: private endpoints (PUT as
 * an Azure-AsyncOperation LRO), their NICs and IPs, DNS zone groups, the article's limits, deletes, and the ARM
 * events each write emits.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import {
  APIM_RG,
  clients,
  CONSUMER_RG,
  CONSUMER_SUB,
  createEndpoint,
  FAST_POLL,
  DNS_RG,
  PARTNER_SUB,
  PROVIDER_SUB,
  serviceId,
  startEventRecorder,
  TENANT,
  OTHER_TENANT,
  testTopology,
  ZONE,
  ZONE_ID,
} from "./helpers.ts";

type RestFailure = { statusCode?: number; code?: string; message?: string };

function expectArmError(status: number, code: string): (e: RestFailure) => boolean {
  return (e) => {
    assert.equal(e.statusCode, status, e.message);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

describe("ARM emulator: Network", () => {
  let emulator: ArmEmulator;
  let sdk: ReturnType<typeof clients>;

  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 10 });
    sdk = clients(emulator);
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("creates an endpoint with a NIC, sequential IPs from the subnet and customDnsConfigs", async () => {
    const first = await createEndpoint(sdk.network, "pe-1", "Contoso-Apim");
    const second = await createEndpoint(sdk.network, "pe-2", "apim-dev");
    assert.equal(first.provisioningState, "Succeeded");
    assert.deepEqual(first.customDnsConfigs, [{ fqdn: "contoso-apim.azure-api.net", ipAddresses: ["10.10.1.4"] }]);
    assert.deepEqual(second.customDnsConfigs?.[0]?.ipAddresses, ["10.10.1.5"]);

    const nicId = first.networkInterfaces?.[0]?.id ?? "";
    const nic = await sdk.network.networkInterfaces.get(CONSUMER_RG, nicId.split("/").pop()!);
    assert.equal(nic.id, nicId);
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAddress, "10.10.1.4");
    assert.equal(nic.privateEndpoint?.id, first.id);

    const put = emulator.requests().find((r) => r.method === "PUT");
    assert.equal(put?.status, 201);
    assert.equal(put?.apiVersion, "2026-01-01");
  });

  it("keeps the request message and link name on the endpoint's manual connection", async () => {
    const pe = await createEndpoint(sdk.network, "pe-msg", "Contoso-Apim", { requestMessage: "CHG-77" });
    const link = pe.manualPrivateLinkServiceConnections?.[0];
    assert.equal(link?.name, "pe-msg-conn");
    assert.equal(link?.requestMessage, "CHG-77");
    assert.equal(link?.privateLinkServiceId, serviceId("Contoso-Apim"));
    assert.deepEqual(link?.groupIds, ["Gateway"]);
    assert.equal(link?.privateLinkServiceConnectionState?.status, "Pending");
    assert.deepEqual(pe.privateLinkServiceConnections, []);
  });

  it("lists endpoints by resource group and by subscription", async () => {
    await createEndpoint(sdk.network, "pe-a", "Contoso-Apim");
    await createEndpoint(sdk.network, "pe-b", "Contoso-Apim");
    const byGroup: string[] = [];
    for await (const pe of sdk.network.privateEndpoints.list(CONSUMER_RG)) byGroup.push(pe.name!);
    const bySubscription: string[] = [];
    for await (const pe of sdk.network.privateEndpoints.listBySubscription()) bySubscription.push(pe.name!);
    assert.deepEqual(byGroup.sort(), ["pe-a", "pe-b"]);
    assert.deepEqual(bySubscription.sort(), ["pe-a", "pe-b"]);
  });

  it("a cross-tenant endpoint lands as Pending on the provider's instance", async () => {
    const subnetId = `/subscriptions/${PARTNER_SUB}/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/vnet-partner/subnets/snet-pe`;
    const pe = await createEndpoint(sdk.partnerNetwork, "pe-partner", "Contoso-Apim", { subnetId, resourceGroup: "rg-partner" });
    assert.deepEqual(pe.customDnsConfigs?.[0]?.ipAddresses, ["10.20.1.4"]);
    const svc = await sdk.apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
    assert.equal(svc.privateEndpointConnections?.[0]?.privateEndpoint?.id, pe.id);
  });

  it("refuses a group id other than Gateway", async () => {
    await assert.rejects(createEndpoint(sdk.network, "pe-bad-group", "Contoso-Apim", { groupIds: ["management"] }), expectArmError(400, "InvalidGroupId"));
  });

  it("refuses an instance on stv1", async () => {
    await assert.rejects(createEndpoint(sdk.network, "pe-stv1", "apim-legacy"), expectArmError(400, "PlatformVersionNotSupported"));
  });

  it("refuses a VNet-injected instance", async () => {
    await assert.rejects(createEndpoint(sdk.network, "pe-vnet", "apim-injected"), expectArmError(400, "VirtualNetworkInjectionNotSupported"));
  });

  it("refuses the 101st connection on one instance", async () => {
    const topology = testTopology();
    const apim = topology.subscriptions![0]!.resourceGroups![0]!.apimServices![1]!;
    apim.privateEndpointConnections = Array.from({ length: 100 }, (_, i) => ({
      name: `existing-${i}`,
      privateEndpointId: `/subscriptions/${PARTNER_SUB}/resourceGroups/rg-other/providers/Microsoft.Network/privateEndpoints/pe-${i}`,
      status: "Approved" as const,
    }));
    emulator.reset(topology);
    await assert.rejects(createEndpoint(sdk.network, "pe-101", "apim-dev"), expectArmError(400, "PrivateEndpointConnectionLimitReached"));
    await createEndpoint(sdk.network, "pe-other-instance", "Contoso-Apim");
  });

  it("refuses an unknown subnet and a missing location", async () => {
    await assert.rejects(
      createEndpoint(sdk.network, "pe-no-subnet", "Contoso-Apim", { subnetId: `${sdkSubnetPrefix()}/nope` }),
      expectArmError(400, "InvalidResourceReference"),
    );
    await assert.rejects(
      sdk.network.privateEndpoints.createOrUpdate(CONSUMER_RG, "pe-no-loc", { subnet: { id: `${sdkSubnetPrefix()}/snet-pe` } }, FAST_POLL),
      expectArmError(400, "LocationRequired"),
    );
  });

  it("deleting an endpoint removes its APIM connection, its NIC and frees its IP", async () => {
    const pe = await createEndpoint(sdk.network, "pe-gone", "Contoso-Apim");
    const nicName = pe.networkInterfaces![0]!.id!.split("/").pop()!;
    await sdk.network.privateEndpoints.delete(CONSUMER_RG, "pe-gone", FAST_POLL);
    await assert.rejects(sdk.network.privateEndpoints.get(CONSUMER_RG, "pe-gone"), expectArmError(404, "ResourceNotFound"));
    await assert.rejects(sdk.network.networkInterfaces.get(CONSUMER_RG, nicName), expectArmError(404, "ResourceNotFound"));
    const svc = await sdk.apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
    assert.deepEqual(svc.privateEndpointConnections, []);
    const again = await createEndpoint(sdk.network, "pe-again", "Contoso-Apim");
    assert.deepEqual(again.customDnsConfigs?.[0]?.ipAddresses, ["10.10.1.4"]);
    assert.deepEqual(
      emulator.requests().filter((r) => r.method === "DELETE").map((r) => r.status),
      [202],
    );
  });

  it("a DNS zone group writes the service's A record with the endpoint's IP in the hub zone", async () => {
    const pe = await createEndpoint(sdk.network, "pe-dns", "Contoso-Apim");
    const group = await sdk.network.privateDnsZoneGroups.createOrUpdate(
      CONSUMER_RG,
      "pe-dns",
      "default",
      { privateDnsZoneConfigs: [{ name: "apim", privateDnsZoneId: ZONE_ID }] },
      FAST_POLL,
    );
    assert.equal(group.provisioningState, "Succeeded");
    assert.equal(group.privateDnsZoneConfigs?.[0]?.recordSets?.[0]?.recordSetName, "contoso-apim");
    const record = await sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "contoso-apim");
    assert.deepEqual(record.aRecords, [{ ipv4Address: pe.customDnsConfigs![0]!.ipAddresses![0] }]);

    const groups = [];
    for await (const g of sdk.network.privateDnsZoneGroups.list(CONSUMER_RG, "pe-dns")) groups.push(g.name);
    assert.deepEqual(groups, ["default"]);
    const fetched = await sdk.network.privateDnsZoneGroups.get(CONSUMER_RG, "pe-dns", "default");
    assert.equal(fetched.privateDnsZoneConfigs?.[0]?.privateDnsZoneId, ZONE_ID);

    await sdk.network.privateEndpoints.delete(CONSUMER_RG, "pe-dns", FAST_POLL);
    await assert.rejects(sdk.dns.recordSets.get(DNS_RG, ZONE, "A", "contoso-apim"), (e: RestFailure) => e.statusCode === 404);
  });

  it("a zone group naming an unknown zone is refused with 400", async () => {
    await createEndpoint(sdk.network, "pe-badzone", "Contoso-Apim");
    await assert.rejects(
      sdk.network.privateDnsZoneGroups.createOrUpdate(
        CONSUMER_RG,
        "pe-badzone",
        "default",
        { privateDnsZoneConfigs: [{ name: "x", privateDnsZoneId: `${ZONE_ID}x` }] },
        FAST_POLL,
      ),
      expectArmError(400, "InvalidResourceReference"),
    );
  });

  it("emits privateEndpoints/write and networkInterfaces/write in the consumer subscription, and only what Azure documents", async () => {
    const recorder = await startEventRecorder();
    try {
      await emulator.events.addSubscription({ subscriptionId: CONSUMER_SUB, endpointUrl: recorder.url, schema: "EventGridSchema" });
      await emulator.events.addSubscription({ subscriptionId: PROVIDER_SUB, endpointUrl: recorder.url, schema: "EventGridSchema" });
      const pe = await createEndpoint(sdk.network, "pe-events", "Contoso-Apim");
      await emulator.events.idle();
      const ops = recorder.events.map((e) => `${e.data["operationName"]} ${e.subject}`);
      assert.deepEqual(ops.sort(), [
        `Microsoft.Network/networkInterfaces/write ${pe.networkInterfaces![0]!.id}`,
        `Microsoft.Network/privateEndpoints/write ${pe.id}`,
      ]);
      assert.ok(recorder.events.every((e) => e.eventType === "Microsoft.Resources.ResourceWriteSuccess" && e.data["tenantId"] === TENANT));

      recorder.events.length = 0;
      const [conn] = await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"));
      await sdk.apim.privateEndpointConnectionOperations.beginCreateOrUpdateAndWait(
        APIM_RG,
        "Contoso-Apim",
        conn!.name!,
        { id: conn!.id!, properties: { privateLinkServiceConnectionState: { status: "Approved", description: "ok" } } },
        FAST_POLL,
      );
      await sdk.network.privateEndpoints.delete(CONSUMER_RG, "pe-events", FAST_POLL);
      await emulator.events.idle();
      assert.deepEqual(recorder.events.map((e) => `${e.eventType} ${e.data["operationName"]}`).sort(), [
        "Microsoft.Resources.ResourceDeleteSuccess Microsoft.Network/networkInterfaces/delete",
        "Microsoft.Resources.ResourceDeleteSuccess Microsoft.Network/privateEndpoints/delete",
        "Microsoft.Resources.ResourceWriteSuccess Microsoft.ApiManagement/service/privateEndpointConnections/write",
      ]);
      const approval = recorder.events.find((e) => String(e.data["operationName"]).includes("privateEndpointConnections"));
      assert.equal(approval?.subject, conn!.id);
      assert.equal(approval?.data["subscriptionId"], PROVIDER_SUB);
    } finally {
      await recorder.close();
    }
  });

  it("with providerProxyEvents, a new endpoint also emits privateEndpointConnectionProxies/write in the provider's subscription", async () => {
    const proxyEmulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 5, providerProxyEvents: true });
    const recorder = await startEventRecorder();
    try {
      const proxySdk = clients(proxyEmulator);
      await proxyEmulator.events.addSubscription({ subscriptionId: PROVIDER_SUB, endpointUrl: recorder.url, schema: "EventGridSchema" });
      const subnetId = `/subscriptions/${PARTNER_SUB}/resourceGroups/rg-partner/providers/Microsoft.Network/virtualNetworks/vnet-partner/subnets/snet-pe`;
      await createEndpoint(proxySdk.partnerNetwork, "pe-proxy", "Contoso-Apim", { subnetId, resourceGroup: "rg-partner" });
      await proxyEmulator.events.idle();
      assert.equal(recorder.events.length, 1);
      const event = recorder.events[0]!;
      assert.equal(event.data["operationName"], "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write");
      assert.match(event.subject, /\/service\/Contoso-Apim\/privateEndpointConnectionProxies\/pe-proxy\./);
      assert.equal(event.data["tenantId"], TENANT);
      assert.notEqual(event.data["tenantId"], OTHER_TENANT);
    } finally {
      await recorder.close();
      await proxyEmulator.close();
    }
  });
});

function sdkSubnetPrefix(): string {
  return `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets`;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
