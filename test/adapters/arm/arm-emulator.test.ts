/**
 * The real ARM adapters, with the real Azure SDK clients, over HTTPS against the local ARM emulator:
 * reads, paging, approve / reject as long-running operations (serialized and resumed, polled only when asked),
 * delete, the publicNetworkAccess rule, DNS ETags, and the SDK's retries under injected 5xx, 403 and ARM throttling.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { NetworkManagementClient } from "@azure/arm-network";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../../dev/arm-emulator/index.ts";
import { createArmPorts, createArmPortsFromSettings, type AzureArmPorts } from "../../../src/adapters/arm/index.ts";
import { objectIdForClient } from "../../../dev/oidc-issuer/index.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";

const TENANT = "11111111-1111-4111-8111-111111111111";
const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const CONSUMER = "c1c1c1c1-0000-4000-8000-000000000002";
const SERVICE_A = `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-a`;
const SERVICE_B = `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-b`;
const ZONE_ID = `/subscriptions/${PROVIDER}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;
const VNET_ID = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
const SUBNET_ID = `${VNET_ID}/subnets/snet-pe`;

const apim = (name: string) => ({ name, location: "westeurope", sku: { name: "Developer", capacity: 1 } });

const TOPOLOGY: TopologyInput = {
  tenants: [{ id: TENANT }],
  subscriptions: [
    {
      id: PROVIDER,
      tenantId: TENANT,
      resourceGroups: [
        { name: "rg-apim", location: "westeurope", apimServices: [apim("apim-a"), apim("apim-b"), apim("apim-c")] },
        {
          name: "rg-dns",
          location: "westeurope",
          privateDnsZones: [
            {
              name: "privatelink.azure-api.net",
              aRecords: [{ name: "apim-b", ttl: 300, ipv4Addresses: ["10.10.1.200"] }],
              virtualNetworkLinks: [{ name: "link-app", virtualNetworkId: VNET_ID }],
            },
          ],
        },
      ],
    },
    {
      id: CONSUMER,
      tenantId: TENANT,
      resourceGroups: [
        {
          name: "rg-app",
          location: "westeurope",
          virtualNetworks: [
            { name: "vnet-app", location: "westeurope", addressPrefixes: ["10.10.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.10.1.0/24" }] },
          ],
        },
      ],
    },
  ],
};

let emulator: ArmEmulator;

before(async () => {
  emulator = await startArmEmulator({ topology: TOPOLOGY, lroDelayMs: 40, pageSize: 2 });
});
after(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

/** A fresh set of ports, as another process would build them (own clients, own call counter). */
function ports(): AzureArmPorts {
  return createArmPorts({
    endpoint: emulator.url,
    credential: emulator.credential(),
    caPem: emulator.caPem,
    maxRetries: 4,
    retryDelayInMs: 10,
    maxRetryDelayInMs: 50,
    pollIntervalInMs: 10,
  });
}

/** The consumer's side, driven with the network SDK directly, as a consumer would create its endpoint. */
function consumerNetwork(): NetworkManagementClient {
  return new NetworkManagementClient(emulator.credential(), CONSUMER, { endpoint: emulator.url, tlsOptions: { ca: emulator.caPem } });
}

async function createPrivateEndpoint(name: string, resourceId: string, manual = true): Promise<string> {
  const connection = { name, privateLinkServiceId: resourceId, groupIds: ["Gateway"], requestMessage: `please approve ${name}` };
  const endpoint = await consumerNetwork().privateEndpoints.createOrUpdate(
    "rg-app",
    name,
    { location: "westeurope", subnet: { id: SUBNET_ID }, ...(manual ? { manualPrivateLinkServiceConnections: [connection] } : { privateLinkServiceConnections: [connection] }) },
    { updateIntervalInMs: 10 },
  );
  assert.ok(endpoint.id);
  return endpoint.id;
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(5);
  assert.ok(condition(), "condition not reached");
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function connectionOf(arm: AzureArmPorts, resourceId: string, privateEndpointId: string) {
  const connections = await collect(arm.privateLink.listConnections(resourceId));
  const connection = connections.find((c) => c.privateEndpointId?.toLowerCase() === privateEndpointId.toLowerCase());
  assert.ok(connection, `a connection for ${privateEndpointId} on ${resourceId}`);
  return connection;
}

test("services are read one by one and listed page by page; a missing one is undefined", async () => {
  const arm = ports();
  const service = await arm.apim.getService(SERVICE_A.toUpperCase().replace("/SUBSCRIPTIONS/", "/subscriptions/"));
  assert.deepEqual(
    { ...service, id: service?.id.toLowerCase() },
    {
      id: SERVICE_A.toLowerCase(),
      name: "apim-a",
      location: "westeurope",
      skuName: "Developer",
      platformVersion: "stv2",
      virtualNetworkType: "None",
      publicNetworkAccess: "Enabled",
      provisioningState: "Succeeded",
    },
  );
  const names = (await collect(arm.apim.listServicesBySubscription(PROVIDER))).map((s) => s.name).sort();
  assert.deepEqual(names, ["apim-a", "apim-b", "apim-c"]);
  const listGets = emulator.requests().filter((r) => r.method === "GET" && /\/providers\/Microsoft\.ApiManagement\/service$/i.test(r.path));
  assert.equal(listGets.length, 2, "three services at two per page take two requests");
  assert.equal(await arm.apim.getService(SERVICE_A.replace("apim-a", "nope")), undefined);
  assert.equal(await arm.privateLink.getConnection(`${SERVICE_A}/privateEndpointConnections/nope`), undefined);
  assert.equal(await arm.network.getPrivateEndpoint(`/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/nope`), undefined);
});

test("a consumer's manual endpoint arrives Pending and the port approves it, confirmed by a fresh read", async () => {
  const arm = ports();
  const endpointId = await createPrivateEndpoint("pe-approve", SERVICE_A);
  const pending = await connectionOf(arm, SERVICE_A, endpointId);
  assert.equal(pending.status, "Pending");
  assert.deepEqual(pending.groupIds, ["Gateway"]);

  const endpoint = await arm.network.getPrivateEndpoint(endpointId);
  assert.equal(endpoint?.connections[0]?.manual, true);
  assert.equal(endpoint?.connections[0]?.requestMessage, "please approve pe-approve");
  assert.equal(endpoint?.connections[0]?.status, "Pending");
  const nic = await arm.network.getNetworkInterface(endpoint!.networkInterfaceIds[0]!);
  assert.equal(nic?.privateIpAddresses.length, 1);
  assert.match(nic!.privateIpAddresses[0]!, /^10\.10\.1\.\d+$/);

  const operation = await arm.privateLink.beginSetConnectionStatus(pending.id, "Approved", "rule r1: team A");
  const final = await operation.pollUntilDone();
  assert.equal(final.status, "Approved");
  assert.equal(final.description, "rule r1: team A");
  assert.equal((await arm.privateLink.getConnection(pending.id))?.status, "Approved");
  assert.equal((await arm.network.getPrivateEndpoint(endpointId))?.connections[0]?.status, "Approved");
});

test("a rejection lands as Rejected; an endpoint with rights is approved at once", async () => {
  const arm = ports();
  const rejectedId = await createPrivateEndpoint("pe-reject", SERVICE_B);
  const connection = await connectionOf(arm, SERVICE_B, rejectedId);
  const final = await (await arm.privateLink.beginSetConnectionStatus(connection.id, "Rejected", "no rule matches")).pollUntilDone();
  assert.equal(final.status, "Rejected");
  assert.equal((await arm.privateLink.getConnection(connection.id))?.description, "no rule matches");

  const autoId = await createPrivateEndpoint("pe-auto", SERVICE_B, false);
  assert.equal((await connectionOf(arm, SERVICE_B, autoId)).status, "Approved");
  assert.equal((await arm.network.getPrivateEndpoint(autoId))?.connections[0]?.manual, false);
});

test("an approval in flight is serialized, resumed by another process, and sent to ARM once", async () => {
  const endpointId = await createPrivateEndpoint("pe-resume", SERVICE_A);
  const first = ports();
  const connection = await connectionOf(first, SERVICE_A, endpointId);
  const started = await first.privateLink.beginSetConnectionStatus(connection.id, "Approved", "approved by ticket CHG0000001");
  assert.equal(started.isDone(), false);
  const saved = started.serialize();

  const second = ports();
  await sleep(80); // the emulator's operation takes 40 ms
  const resumed = await second.privateLink.resumeSetConnectionStatus(saved);
  assert.equal(resumed.isDone(), true, "resuming polls once, so a finished operation reads as done at once");
  assert.equal(second.callCounter.snapshot().requests, 1);
  const final = await resumed.pollUntilDone();
  assert.equal(final.status, "Approved");
  assert.equal(final.description, "approved by ticket CHG0000001");
  const puts = emulator.requests().filter((r) => r.method === "PUT" && /privateEndpointConnections\//i.test(r.path));
  assert.equal(puts.length, 1);
});

test("one approval costs ARM the PUT plus exactly the polls the caller makes, nothing more", async () => {
  const endpointId = await createPrivateEndpoint("pe-count", SERVICE_A);
  const connection = await connectionOf(ports(), SERVICE_A, endpointId);
  const arm = ports();
  emulator.clearRequests();
  const seen = () => emulator.requests().map((r) => `${r.method} ${r.status} ${r.path.replace(/.*\/service\/apim-a\//i, "")}`);

  const operation = await arm.privateLink.beginSetConnectionStatus(connection.id, "Approved", "rule r1: counted");
  assert.deepEqual(seen(), [`PUT 202 privateEndpointConnections/${connection.name}`], "starting sends the PUT alone");
  assert.equal(operation.isDone(), false);
  assert.equal(operation.result(), undefined);

  await sleep(80); // the emulator's operation takes 40 ms
  await operation.poll();
  assert.equal(operation.isDone(), true);
  assert.equal(operation.result()?.status, "Approved");
  assert.equal(operation.result()?.description, "rule r1: counted");
  assert.equal((await operation.pollUntilDone()).status, "Approved", "a finished operation answers without asking ARM again");
  assert.equal(seen().length, 2);
  assert.match(seen()[1]!, /^GET 200 operationresults\//);
  assert.deepEqual(arm.callCounter.snapshot().requestsByMethod, { PUT: 1, GET: 1 }, "the call counter sees both: the PUT went through the SDK pipeline");
  assert.equal((await arm.privateLink.getConnection(connection.id))?.status, "Approved");
});

test("deleting a connection waits for it to go, and deleting it again is fine", async () => {
  const arm = ports();
  const endpointId = await createPrivateEndpoint("pe-delete", SERVICE_A);
  const connection = await connectionOf(arm, SERVICE_A, endpointId);
  await arm.privateLink.deleteConnection(connection.id);
  assert.equal(await arm.privateLink.getConnection(connection.id), undefined);
  await arm.privateLink.deleteConnection(connection.id);
});

test("a write while another operation on the connection runs (a human approving in the portal) fails transient with ARM's 409, and can be retried once it is over", async () => {
  const arm = ports();
  const endpointId = await createPrivateEndpoint("pe-busy", SERVICE_A);
  const connection = await connectionOf(arm, SERVICE_A, endpointId);
  emulator.operations.configure({ hold: true });
  const human = await ports().privateLink.beginSetConnectionStatus(connection.id, "Approved", "approved in the portal");
  await assert.rejects(arm.privateLink.beginSetConnectionStatus(connection.id, "Rejected", "by rule"), (e: PortcullisError) => {
    assert.equal(e.kind, "transient", "409 means another operation is running: retry later, not a refusal");
    assert.equal(e.statusCode, 409);
    assert.equal(e.code, "Conflict");
    return true;
  });
  await assert.rejects(arm.privateLink.deleteConnection(connection.id), (e: PortcullisError) => e.kind === "transient" && e.statusCode === 409);
  emulator.operations.configure({ hold: false });
  emulator.operations.release();
  assert.equal((await human.pollUntilDone()).status, "Approved");
  const retried = await (await arm.privateLink.beginSetConnectionStatus(connection.id, "Rejected", "by rule")).pollUntilDone();
  assert.equal(retried.status, "Rejected");
});

test("a public network access change while the service is being updated fails transient with ARM's 409", async () => {
  const arm = ports();
  const endpointId = await createPrivateEndpoint("pe-busy-svc", SERVICE_A, false);
  assert.equal((await connectionOf(arm, SERVICE_A, endpointId)).status, "Approved");
  emulator.operations.configure({ hold: true });
  const first = arm.privateLink.setPublicNetworkAccess(SERVICE_A, "Disabled");
  await waitUntil(() => emulator.operations.list().some((o) => o.resourceId.toLowerCase() === SERVICE_A.toLowerCase()));
  await assert.rejects(ports().privateLink.setPublicNetworkAccess(SERVICE_A, "Enabled"), (e: PortcullisError) => e.kind === "transient" && e.statusCode === 409);
  emulator.operations.configure({ hold: false });
  emulator.operations.release();
  assert.equal((await first).publicNetworkAccess, "Disabled");
});

test("public network access cannot be disabled until a connection is approved", async () => {
  const arm = ports();
  await assert.rejects(arm.privateLink.setPublicNetworkAccess(SERVICE_A, "Disabled"), (e: PortcullisError) => e.kind === "invalid-input" && e.statusCode === 400);
  assert.equal((await arm.apim.getService(SERVICE_A))?.publicNetworkAccess, "Enabled");

  const endpointId = await createPrivateEndpoint("pe-pna", SERVICE_A);
  const connection = await connectionOf(arm, SERVICE_A, endpointId);
  await (await arm.privateLink.beginSetConnectionStatus(connection.id, "Approved", "ok")).pollUntilDone();
  const updated = await arm.privateLink.setPublicNetworkAccess(SERVICE_A, "Disabled");
  assert.equal(updated.publicNetworkAccess, "Disabled");
  assert.equal((await arm.apim.getService(SERVICE_A))?.publicNetworkAccess, "Disabled");
});

test("A records are written with If-None-Match / If-Match; a stale ETag is precondition-failed", async () => {
  const arm = ports();
  assert.equal((await arm.privateDns.getZone(ZONE_ID))?.name, "privatelink.azure-api.net");
  const existing = await arm.privateDns.getARecord(ZONE_ID, "apim-b");
  assert.deepEqual(existing?.ipv4Addresses, ["10.10.1.200"]);
  assert.ok(existing?.etag);

  await assert.rejects(arm.privateDns.putARecord(ZONE_ID, "apim-b", ["10.10.1.5"], { ifNoneMatch: "*" }), (e: PortcullisError) => e.kind === "precondition-failed");
  const created = await arm.privateDns.putARecord(ZONE_ID, "apim-a", ["10.10.1.4"], { ifNoneMatch: "*", ttl: 10, metadata: { owner: "portcullis" } });
  assert.deepEqual(created.ipv4Addresses, ["10.10.1.4"]);
  assert.equal(created.ttl, 10);
  assert.deepEqual(created.metadata, { owner: "portcullis" });

  const updated = await arm.privateDns.putARecord(ZONE_ID, "apim-b", ["10.10.1.6"], { ifMatch: existing.etag });
  assert.notEqual(updated.etag, existing.etag);
  await assert.rejects(arm.privateDns.putARecord(ZONE_ID, "apim-b", ["10.10.1.7"], { ifMatch: existing.etag }), (e: PortcullisError) => e.kind === "precondition-failed");
  await assert.rejects(arm.privateDns.deleteARecord(ZONE_ID, "apim-b", { ifMatch: existing.etag }), (e: PortcullisError) => e.kind === "precondition-failed");
  assert.deepEqual((await arm.privateDns.getARecord(ZONE_ID, "apim-b"))?.ipv4Addresses, ["10.10.1.6"]);

  const names = (await collect(arm.privateDns.listARecords(ZONE_ID))).map((r) => r.name).sort();
  assert.deepEqual(names, ["apim-a", "apim-b"]);
  await arm.privateDns.deleteARecord(ZONE_ID, "apim-a", { ifMatch: created.etag });
  assert.equal(await arm.privateDns.getARecord(ZONE_ID, "apim-a"), undefined);

  const links = await collect(arm.privateDns.listVirtualNetworkLinks(ZONE_ID));
  assert.deepEqual(links.map((l) => [l.name, l.virtualNetworkId?.toLowerCase(), l.registrationEnabled]), [["link-app", VNET_ID.toLowerCase(), false]]);
});

test("a private DNS zone group on the endpoint is listed with the zone it manages", async () => {
  const arm = ports();
  const endpointId = await createPrivateEndpoint("pe-dns", SERVICE_A);
  await consumerNetwork().privateDnsZoneGroups.createOrUpdate(
    "rg-app",
    "pe-dns",
    "default",
    { privateDnsZoneConfigs: [{ name: "privatelink-azure-api-net", privateDnsZoneId: ZONE_ID }] },
    { updateIntervalInMs: 10 },
  );
  const groups = await collect(arm.network.listPrivateDnsZoneGroups(endpointId));
  assert.deepEqual(groups.map((g) => [g.name, g.privateDnsZoneIds.map((z) => z.toLowerCase())]), [["default", [ZONE_ID.toLowerCase()]]]);
});

test("injected 503s are retried by the SDK until the read succeeds, and counted", async () => {
  const arm = ports();
  emulator.faults.add({ method: "GET", pathPattern: "/service/apim-a$", status: 503, times: 2 });
  assert.equal((await arm.apim.getService(SERVICE_A))?.name, "apim-a");
  const stats = arm.callCounter.snapshot();
  assert.equal(stats.requests, 3);
  assert.equal(stats.serverErrors, 2);
});

test("a 403 from ARM is kind forbidden, not absent", async () => {
  const arm = ports();
  const endpointId = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/elsewhere`;
  emulator.faults.add({ pathPattern: "/privateEndpoints/elsewhere$", status: 403, errorCode: "AuthorizationFailed", times: 1 });
  await assert.rejects(arm.network.getPrivateEndpoint(endpointId), (e: PortcullisError) => e.kind === "forbidden" && e.code === "AuthorizationFailed");
});

test("ARM throttling answers 429 with Retry-After; the SDK waits that long and the read still lands", async () => {
  const arm = ports();
  emulator.throttle.configure({ enabled: true, reads: { capacity: 1, refillPerSecond: 1 } });
  assert.equal((await arm.apim.getService(SERVICE_A))?.name, "apim-a");
  const startedAt = performance.now();
  assert.equal((await arm.apim.getService(SERVICE_B))?.name, "apim-b");
  const waitedMs = performance.now() - startedAt;
  const stats = arm.callCounter.snapshot();
  assert.ok(stats.throttled >= 1, `throttled ${stats.throttled}`);
  assert.ok(stats.retryAfterInMs >= 1000, `Retry-After total ${stats.retryAfterInMs} ms`);
  assert.ok(waitedMs >= 950, `waited ${waitedMs} ms for Retry-After`);
});

test("ports built from settings trust the emulator's CA file and get a client-credentials token from the local issuer", async () => {
  const dir = await mkdtemp(join(tmpdir(), "portcullis-arm-ca-"));
  try {
    const caFile = join(dir, "emulator-ca.pem");
    const issuerCaFile = join(dir, "issuer-ca.pem");
    await writeFile(caFile, emulator.caPem);
    await writeFile(issuerCaFile, emulator.identity.caPem);
    const arm = createArmPortsFromSettings({
      PORTCULLIS_ARM_ENDPOINT: emulator.url,
      PORTCULLIS_ARM_CREDENTIAL: "local-emulator",
      PORTCULLIS_ARM_CA_FILE: caFile,
      PORTCULLIS_ARM_TOKEN_ENDPOINT: emulator.identity.tokenEndpoint,
      PORTCULLIS_ARM_TOKEN_CA_FILE: issuerCaFile,
    });
    assert.equal((await arm.apim.getService(SERVICE_A))?.name, "apim-a");
    assert.equal(arm.callCounter.snapshot().requests, 1);
    const [request] = emulator.requests();
    assert.equal(request?.principalId, objectIdForClient("portcullis-local"), "the emulator saw the token's object ID");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("without the emulator's CA the TLS handshake fails and nothing is read", async () => {
  const arm = createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), maxRetries: 0 });
  await assert.rejects(arm.apim.getService(SERVICE_A), (e: PortcullisError) => e instanceof PortcullisError && /CERT/i.test(`${e.code} ${e.message}`));
});
