/**
 * The emulator's API Management surface driven by the real @azure/arm-apimanagement client (and the Network client
 * to create endpoints): services, connections, approve / reject / delete as long-running operations, the
 * publicNetworkAccess rule and private link resources.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { APIM_RG, clients, createEndpoint, FAST_POLL, PROVIDER_SUB, serviceId, testTopology } from "./helpers.ts";

describe("ARM emulator: API Management", () => {
  let emulator: ArmEmulator;
  let sdk: ReturnType<typeof clients>;

  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 20, pageSize: 3 });
    sdk = clients(emulator);
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("lists services by subscription across pages and by resource group", async () => {
    const bySubscription: string[] = [];
    for await (const svc of sdk.apim.apiManagementService.list()) bySubscription.push(svc.name!);
    assert.deepEqual(bySubscription.sort(), ["Contoso-Apim", "apim-dev", "apim-injected", "apim-legacy"]);
    const listCalls = emulator.requests().filter((r) => r.path.endsWith("/Microsoft.ApiManagement/service"));
    assert.equal(listCalls.length, 2, "4 services with pageSize 3 take two pages via nextLink");

    const byGroup: string[] = [];
    for await (const svc of sdk.apim.apiManagementService.listByResourceGroup(APIM_RG)) byGroup.push(svc.name!);
    assert.equal(byGroup.length, 4);
  });

  it("gets a service case-insensitively and answers with the stored casing", async () => {
    const svc = await sdk.apim.apiManagementService.get("RG-APIM", "contoso-APIM");
    assert.equal(svc.name, "Contoso-Apim");
    assert.equal(svc.id, serviceId("Contoso-Apim"));
    assert.equal(svc.sku.name, "Premium");
    assert.equal(svc.platformVersion, "stv2");
    assert.equal(svc.virtualNetworkType, "None");
    assert.equal(svc.publicNetworkAccess, "Enabled");
    assert.equal(svc.gatewayUrl, "https://contoso-apim.azure-api.net");
  });

  it("answers 404 ResourceNotFound for an unknown service", async () => {
    await assert.rejects(sdk.apim.apiManagementService.get(APIM_RG, "nope"), (e: { statusCode?: number; code?: string }) => {
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, "ResourceNotFound");
      return true;
    });
  });

  it("shows a manual endpoint as a Pending connection, and approval through the LRO updates both sides", async () => {
    const pe = await createEndpoint(sdk.network, "pe-manual", "Contoso-Apim", { requestMessage: "ticket CHG-1" });
    const connections = [];
    for await (const c of sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim")) connections.push(c);
    assert.equal(connections.length, 1);
    const conn = connections[0]!;
    assert.equal(conn.privateEndpoint?.id, pe.id);
    assert.equal(conn.privateLinkServiceConnectionState?.status, "Pending");
    assert.equal(conn.privateLinkServiceConnectionState?.description, "ticket CHG-1");

    emulator.clearRequests();
    const approved = await sdk.apim.privateEndpointConnectionOperations.beginCreateOrUpdateAndWait(
      APIM_RG,
      "Contoso-Apim",
      conn.name!,
      { id: conn.id!, properties: { privateLinkServiceConnectionState: { status: "Approved", description: "Approved by rule r1" } } },
      FAST_POLL,
    );
    assert.equal(approved.privateLinkServiceConnectionState?.status, "Approved");
    assert.equal(approved.provisioningState, "Succeeded");
    const statuses = emulator.requests().map((r) => `${r.method} ${r.status}`);
    // How many polls land while the 20 ms operation runs depends on the machine's load; the order does not.
    assert.equal(statuses[0], "PUT 202");
    assert.ok(statuses.slice(1, -1).every((s) => s === "GET 202"), `polls before completion answer 202: ${statuses.join(", ")}`);
    assert.equal(statuses.at(-1), "GET 200");

    const view = await sdk.network.privateEndpoints.get("rg-app", "pe-manual");
    assert.equal(view.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Approved");
    assert.equal(view.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.description, "Approved by rule r1");
  });

  it("keeps the old status with provisioningState Updating until the operation completes", async () => {
    const slow = await startArmEmulator({ topology: testTopology(), lroDelayMs: 300 });
    try {
      const slowSdk = clients(slow);
      await createEndpoint(slowSdk.network, "pe-slow", "Contoso-Apim");
      const [conn] = await collect(slowSdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"));
      const poller = await slowSdk.apim.privateEndpointConnectionOperations.beginCreateOrUpdate(
        APIM_RG,
        "Contoso-Apim",
        conn!.name!,
        { id: conn!.id!, properties: { privateLinkServiceConnectionState: { status: "Rejected", description: "no" } } },
        FAST_POLL,
      );
      const during = await slowSdk.apim.privateEndpointConnectionOperations.getByName(APIM_RG, "Contoso-Apim", conn!.name!);
      assert.equal(during.provisioningState, "Updating");
      assert.equal(during.privateLinkServiceConnectionState?.status, "Pending");
      slow.clearRequests();
      await poller.poll();
      assert.deepEqual(
        slow.requests().map((r) => `${r.method} ${r.status}`),
        ["GET 202"],
        "the Location URL answers 202 while the operation runs",
      );
      const done = await poller.pollUntilDone();
      assert.equal(done.privateLinkServiceConnectionState?.status, "Rejected");
    } finally {
      await slow.close();
    }
  });

  it("auto-approves an endpoint created with privateLinkServiceConnections", async () => {
    const pe = await createEndpoint(sdk.network, "pe-auto", "apim-dev", { manual: false });
    assert.equal(pe.privateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Approved");
    const [conn] = await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "apim-dev"));
    assert.equal(conn?.privateLinkServiceConnectionState?.status, "Approved");
  });

  it("rejects a connection and the endpoint sees Rejected", async () => {
    await createEndpoint(sdk.network, "pe-reject", "Contoso-Apim");
    const [conn] = await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"));
    await sdk.apim.privateEndpointConnectionOperations.beginCreateOrUpdateAndWait(
      APIM_RG,
      "Contoso-Apim",
      conn!.name!,
      { id: conn!.id!, properties: { privateLinkServiceConnectionState: { status: "Rejected", description: "Not allowed" } } },
      FAST_POLL,
    );
    const view = await sdk.network.privateEndpoints.get("rg-app", "pe-reject");
    assert.equal(view.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Rejected");
  });

  it("refuses to set a connection back to Pending with 400", async () => {
    await createEndpoint(sdk.network, "pe-pending", "Contoso-Apim");
    const [conn] = await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"));
    await assert.rejects(
      sdk.apim.privateEndpointConnectionOperations.beginCreateOrUpdateAndWait(
        APIM_RG,
        "Contoso-Apim",
        conn!.name!,
        { id: conn!.id!, properties: { privateLinkServiceConnectionState: { status: "Pending" } } },
        FAST_POLL,
      ),
      (e: { statusCode?: number }) => e.statusCode === 400,
    );
  });

  it("deletes a connection (202 + Location); the endpoint then shows Disconnected; deleting again is a no-op", async () => {
    await createEndpoint(sdk.network, "pe-del", "Contoso-Apim");
    const [conn] = await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"));
    await sdk.apim.privateEndpointConnectionOperations.beginDeleteAndWait(APIM_RG, "Contoso-Apim", conn!.name!, FAST_POLL);
    assert.equal((await collect(sdk.apim.privateEndpointConnectionOperations.listByService(APIM_RG, "Contoso-Apim"))).length, 0);
    await assert.rejects(sdk.apim.privateEndpointConnectionOperations.getByName(APIM_RG, "Contoso-Apim", conn!.name!), (e: { statusCode?: number }) => e.statusCode === 404);
    const view = await sdk.network.privateEndpoints.get("rg-app", "pe-del");
    assert.equal(view.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Disconnected");

    emulator.clearRequests();
    await sdk.apim.privateEndpointConnectionOperations.beginDeleteAndWait(APIM_RG, "Contoso-Apim", conn!.name!, FAST_POLL);
    assert.deepEqual(emulator.requests().map((r) => r.status), [204]);
  });

  it("refuses publicNetworkAccess Disabled without an approved connection, then allows it", async () => {
    await assert.rejects(
      sdk.apim.apiManagementService.beginUpdateAndWait(APIM_RG, "Contoso-Apim", { publicNetworkAccess: "Disabled" }, FAST_POLL),
      (e: { statusCode?: number; code?: string }) => {
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, "NotSupported");
        return true;
      },
    );
    await createEndpoint(sdk.network, "pe-pna", "Contoso-Apim", { manual: false });
    const updated = await sdk.apim.apiManagementService.beginUpdateAndWait(APIM_RG, "Contoso-Apim", { publicNetworkAccess: "Disabled" }, FAST_POLL);
    assert.equal(updated.publicNetworkAccess, "Disabled");
    assert.equal((await sdk.apim.apiManagementService.get(APIM_RG, "Contoso-Apim")).publicNetworkAccess, "Disabled");
    assert.deepEqual(emulator.requests().filter((r) => r.method === "PATCH").map((r) => r.status), [400, 202]);
  });

  it("changes the service etag after a PATCH", async () => {
    const before = await sdk.apim.apiManagementService.get(APIM_RG, "apim-dev");
    await sdk.apim.apiManagementService.beginUpdateAndWait(APIM_RG, "apim-dev", { publisherName: "New Name" }, FAST_POLL);
    const afterPatch = await sdk.apim.apiManagementService.get(APIM_RG, "apim-dev");
    assert.equal(afterPatch.publisherName, "New Name");
    assert.notEqual(afterPatch.etag, before.etag);
  });

  it("offers only the Gateway private link resource", async () => {
    const list = await sdk.apim.privateEndpointConnectionOperations.listPrivateLinkResources(APIM_RG, "Contoso-Apim");
    assert.deepEqual(list.value?.map((r) => r.groupId), ["Gateway"]);
    const gateway = await sdk.apim.privateEndpointConnectionOperations.getPrivateLinkResource(APIM_RG, "Contoso-Apim", "gateway");
    assert.deepEqual(gateway.requiredMembers, ["Gateway"]);
    await assert.rejects(
      sdk.apim.privateEndpointConnectionOperations.getPrivateLinkResource(APIM_RG, "Contoso-Apim", "management"),
      (e: { statusCode?: number }) => e.statusCode === 404,
    );
  });

  it("embeds the connections in the service's properties", async () => {
    await createEndpoint(sdk.network, "pe-embed", "Contoso-Apim");
    const svc = await sdk.apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
    assert.equal(svc.privateEndpointConnections?.length, 1);
    assert.equal(svc.privateEndpointConnections?.[0]?.privateLinkServiceConnectionState?.status, "Pending");
    assert.deepEqual(svc.privateEndpointConnections?.[0]?.groupIds, ["Gateway"]);
    assert.ok(svc.id?.startsWith(`/subscriptions/${PROVIDER_SUB}/`));
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
