import { test } from "node:test";
import assert from "node:assert/strict";
import { createFakeArm } from "./arm.ts";
import { PortcullisError } from "../../src/domain/errors.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const CONSUMER = "00000000-0000-0000-0000-0000000000c1";
const SERVICE_ID = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-one`;
const PE_ID = `/subscriptions/${CONSUMER}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-one`;
const ZONE_ID = `/subscriptions/${SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test("a manual request arrives Pending and is approved only when its operation completes", async () => {
  const arm = createFakeArm({ services: [{ id: SERVICE_ID }], lroPollsToComplete: 2 });
  const { connection } = arm.requestConnection({ resourceId: SERVICE_ID, privateEndpointId: PE_ID, requestMessage: "team-a" });
  assert.equal(connection.status, "Pending");

  const operation = await arm.ports.privateLink.beginSetConnectionStatus(connection.id, "Approved", "rule r1");
  assert.equal(operation.isDone(), false);
  assert.equal((await arm.ports.privateLink.getConnection(connection.id.toUpperCase()))?.status, "Pending");

  const resumed = await arm.ports.privateLink.resumeSetConnectionStatus(operation.serialize());
  const final = await resumed.pollUntilDone();
  assert.equal(final.status, "Approved");
  assert.equal(final.description, "rule r1");
  assert.equal(operation.isDone(), true, "both handles see the one server-side operation");
  assert.equal(arm.calls.beginSetConnectionStatus, 1);
  assert.equal(arm.calls.poll, 2);
  const endpoint = await arm.ports.network.getPrivateEndpoint(PE_ID);
  assert.equal(endpoint?.connections[0]?.status, "Approved", "the consumer's view follows the provider side");
});

test("getters return undefined for missing resources and lists of a missing parent throw not-found", async () => {
  const arm = createFakeArm({ services: [{ id: SERVICE_ID }] });
  assert.equal(await arm.ports.privateLink.getConnection(`${SERVICE_ID}/privateEndpointConnections/nope`), undefined);
  assert.equal(await arm.ports.network.getPrivateEndpoint(PE_ID), undefined);
  assert.deepEqual(await collect(arm.ports.privateLink.listConnections(SERVICE_ID)), []);
  await assert.rejects(collect(arm.ports.privateDns.listARecords(ZONE_ID)), (e: PortcullisError) => e.kind === "not-found");
});

test("failNext makes the next call throw the given kind, then calls succeed again", async () => {
  const arm = createFakeArm({ services: [{ id: SERVICE_ID }] });
  arm.failNext("getService", "transient", { retryAfterSeconds: 2 });
  await assert.rejects(arm.ports.apim.getService(SERVICE_ID), (e: PortcullisError) => e.kind === "transient" && e.retryAfterSeconds === 2);
  assert.equal((await arm.ports.apim.getService(SERVICE_ID))?.name, "apim-one");
  arm.failNext("listConnections", "forbidden");
  await assert.rejects(collect(arm.ports.privateLink.listConnections(SERVICE_ID)), (e: PortcullisError) => e.statusCode === 403);
  assert.equal(arm.calls.getService, 2);
  assert.equal(arm.calls.listConnections, 1);
});

test("public network access cannot be disabled until a connection is Approved", async () => {
  const arm = createFakeArm({ services: [{ id: SERVICE_ID }], lroPollsToComplete: 0 });
  await assert.rejects(arm.ports.privateLink.setPublicNetworkAccess(SERVICE_ID, "Disabled"), (e: PortcullisError) => e.kind === "invalid-input");
  const { connection } = arm.requestConnection({ resourceId: SERVICE_ID, privateEndpointId: PE_ID });
  await (await arm.ports.privateLink.beginSetConnectionStatus(connection.id, "Approved", "ok")).pollUntilDone();
  assert.equal((await arm.ports.privateLink.setPublicNetworkAccess(SERVICE_ID, "Disabled")).publicNetworkAccess, "Disabled");
});

test("A records honour If-Match and If-None-Match with fresh ETags on every write", async () => {
  const arm = createFakeArm({ zones: [{ id: ZONE_ID }] });
  const created = await arm.ports.privateDns.putARecord(ZONE_ID, "apim-one", ["10.0.0.4"], { ifNoneMatch: "*" });
  await assert.rejects(arm.ports.privateDns.putARecord(ZONE_ID, "apim-one", ["10.0.0.5"], { ifNoneMatch: "*" }), (e: PortcullisError) => e.kind === "precondition-failed");
  const updated = await arm.ports.privateDns.putARecord(ZONE_ID, "apim-one", ["10.0.0.5"], { ifMatch: created.etag! });
  assert.notEqual(updated.etag, created.etag);
  await assert.rejects(arm.ports.privateDns.putARecord(ZONE_ID, "apim-one", ["10.0.0.6"], { ifMatch: created.etag! }), (e: PortcullisError) => e.kind === "precondition-failed");
  assert.deepEqual((await arm.ports.privateDns.getARecord(ZONE_ID, "APIM-ONE"))?.ipv4Addresses, ["10.0.0.5"]);
});

test("an operation on a connection deleted meanwhile fails with not-found instead of approving", async () => {
  const arm = createFakeArm({ services: [{ id: SERVICE_ID }], lroPollsToComplete: 1 });
  const { connection } = arm.requestConnection({ resourceId: SERVICE_ID, privateEndpointId: PE_ID });
  const operation = await arm.ports.privateLink.beginSetConnectionStatus(connection.id, "Approved", "rule r1");
  await arm.ports.privateLink.deleteConnection(connection.id);
  await assert.rejects(operation.pollUntilDone(), (e: PortcullisError) => e.kind === "not-found");
  await arm.ports.privateLink.deleteConnection(connection.id);
  assert.equal(arm.state.connections.size, 0);
});

test("the fake serves every registered type: a synchronous type's approval is done at once, the resource list carries no properties, unregistered types are invalid-input", async () => {
  const SUB = "11111111-1111-1111-1111-111111111111";
  const account = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1`;
  const registry = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1`;
  const arm = createFakeArm({ resources: [{ id: account }, { id: registry }], lroPollsToComplete: 2 });
  const consumer = "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints";
  const onAccount = arm.requestConnection({ resourceId: account, privateEndpointId: `${consumer}/pe-st` });
  const onRegistry = arm.requestConnection({ resourceId: registry, privateEndpointId: `${consumer}/pe-acr` });

  assert.deepEqual(onAccount.privateEndpoint.connections[0]!.groupIds, ["blob"], "the endpoint asks for the type's first group");
  assert.deepEqual(onAccount.connection.groupIds, [], "a storage connection names no group, as in ARM");
  assert.deepEqual(onRegistry.connection.groupIds, ["registry"]);
  const sync = await arm.ports.privateLink.beginSetConnectionStatus(onAccount.connection.id, "Approved", "rule r1");
  assert.equal(sync.isDone(), true);
  const lro = await arm.ports.privateLink.beginSetConnectionStatus(onRegistry.connection.id, "Approved", "rule r1");
  assert.equal(lro.isDone(), false, "Container Registry's PUT is long-running");
  assert.equal((await lro.pollUntilDone()).status, "Approved");

  const listed = await collect(arm.ports.privateLink.listResourcesBySubscription(SUB, "microsoft.storage/storageaccounts"));
  assert.deepEqual(listed.map((r) => [r.id, r.type, r.publicNetworkAccess]), [[account, "Microsoft.Storage/storageAccounts", undefined]]);
  assert.equal((await arm.ports.privateLink.getResource(account))?.publicNetworkAccess, "Enabled");
  assert.equal((await arm.ports.privateLink.setPublicNetworkAccess(account, "disabled")).publicNetworkAccess, "Disabled");
  await assert.rejects(arm.ports.privateLink.getResource(account.replace("Microsoft.Storage/storageAccounts", "Microsoft.Compute/virtualMachines")), (e: PortcullisError) => e.kind === "invalid-input");
});
