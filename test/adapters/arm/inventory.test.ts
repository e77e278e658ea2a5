/**
 * The inventory adapters over HTTPS against the ARM emulator, with the real SDK clients (@azure/arm-resourcegraph,
 * @azure/arm-apimanagement, @azure/arm-network) and real tokens from the local issuer:
 * - the Resource Graph adapter: candidates, paging with $skipToken, scopes (subscriptions, the tenant root management
 *   group), endpoints and NICs by ID, back-off on the quota headers and on 429, RBAC-trimmed rows, refusals;
 * - both adapters on the same estate return the same candidates, resources, endpoints and NICs.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ownerAtRoot, startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { INVENTORY_QUERIES, createResourceGraphInventory, parseResetsAfter, type ResourceGraphInventory } from "../../../src/adapters/arm/resource-graph.ts";
import { createArmPorts } from "../../../src/adapters/arm/index.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import type { InventoryScope } from "../../../src/ports/inventory.ts";
import { objectIdForClient } from "../../../dev/oidc-issuer/index.ts";
import { parseQuery } from "../../../dev/arm-emulator/resource-graph/kql.ts";
import { RESOURCES_COLUMNS } from "../../../dev/arm-emulator/resource-graph/service.ts";
import { CONSUMER_SUB, graphEstate, PROVIDER_SUB, serviceId } from "../../dev/arm-emulator/resource-graph/estate.ts";
import { TENANT } from "../../dev/arm-emulator/helpers.ts";

const APIM = "Microsoft.ApiManagement/service";
const SCOPE: InventoryScope = { subscriptions: [PROVIDER_SUB] };

let emulator: ArmEmulator;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function graphInventory(extra: Partial<Parameters<typeof createResourceGraphInventory>[0]> = {}): ResourceGraphInventory {
  return createResourceGraphInventory({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem, retryOptions: { maxRetries: 0 }, ...extra });
}

const graphRequests = () => emulator.requests().filter((r) => /resourcegraph/i.test(r.path));
const byId = <T extends { id: string }>(items: T[]) => [...items].sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));

before(async () => {
  emulator = await startArmEmulator({ topology: graphEstate(), lroDelayMs: 0 });
});
after(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setAuthorization(ownerAtRoot());
  emulator.resourceGraph.configure({ quota: null });
});

describe("Resource Graph inventory adapter (real SDK over HTTPS)", () => {
  it("every query it sends is one the emulator's KQL accepts", () => {
    for (const query of [INVENTORY_QUERIES.pendingConnections([APIM, "Microsoft.KeyVault/vaults"]), INVENTORY_QUERIES.resources([APIM]), INVENTORY_QUERIES.byIds("Microsoft.Network/privateEndpoints", ["/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/it's"])]) {
      assert.doesNotThrow(() => parseQuery(query, RESOURCES_COLUMNS), query);
    }
  });

  it("finds the Pending connections of the governed types, as domain connections, in one query", async () => {
    const inventory = graphInventory();
    const candidates = await collect(inventory.pendingConnections(SCOPE, [APIM]));
    assert.deepEqual(candidates.map((c) => c.connection.privateEndpointId?.split("/").at(-1)).sort(), ["pe-1", "pe-2", "pe-4"]);
    for (const c of candidates) {
      assert.equal(c.resourceType, APIM, "the registry's spelling, not Resource Graph's lower case");
      assert.equal(c.subscriptionId, PROVIDER_SUB);
      assert.equal(c.connection.status, "Pending");
      assert.match(c.connection.id, /\/privateEndpointConnections\//);
      assert.ok([serviceId("Contoso-Apim"), serviceId("apim-dev")].includes(c.connection.resourceId));
    }
    assert.equal(graphRequests().length, 1);
  });

  it("pages with $skipToken, one request per page, only as the caller iterates", async () => {
    const inventory = graphInventory({ pageSize: 1 });
    const iterator = inventory.pendingConnections(SCOPE, [APIM])[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(graphRequests().length, 1, "the first page only");
    let n = 1;
    while (!(await iterator.next()).done) n += 1;
    assert.equal(n, 3);
    assert.equal(graphRequests().length, 3);
  });

  it("a management group scope (the tenant root group) finds the same; subscriptions outside the scope none", async () => {
    const inventory = graphInventory();
    const viaGroup = await collect(inventory.pendingConnections({ managementGroups: [TENANT] }, [APIM]));
    assert.equal(viaGroup.length, 3);
    assert.deepEqual(await collect(inventory.pendingConnections({ subscriptions: [CONSUMER_SUB] }, [APIM])), []);
  });

  it("lists resources with all their connections and APIM's prerequisite facts", async () => {
    const resources = await collect(graphInventory().resources(SCOPE, [APIM]));
    const contoso = resources.find((r) => r.resource.name === "Contoso-Apim")!;
    assert.equal(contoso.connections.length, 3);
    assert.deepEqual(contoso.connections.map((c) => c.status).sort(), ["Approved", "Pending", "Pending"]);
    assert.equal(contoso.resource.type, APIM);
    assert.equal(contoso.apim?.platformVersion, "stv2");
    assert.equal(resources.find((r) => r.resource.name === "apim-injected")?.apim?.virtualNetworkType, "Internal");
  });

  it("reads endpoints and NICs by ID in batches; unknown IDs are absent", async () => {
    const inventory = graphInventory({ idsPerQuery: 2 });
    const resources = await collect(inventory.resources(SCOPE, [APIM]));
    const endpointIds = resources.flatMap((r) => r.connections.flatMap((c) => (c.privateEndpointId ? [c.privateEndpointId] : [])));
    const missing = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/pe-gone`;
    emulator.clearRequests();
    const endpoints = await collect(inventory.privateEndpoints([...endpointIds, missing]));
    assert.equal(endpoints.length, 5);
    assert.equal(graphRequests().length, 3, "6 IDs, 2 per query");
    assert.ok(endpoints.every((e) => e.connections[0]?.requestMessage === `from ${e.name}`));
    const nics = await collect(inventory.networkInterfaces(endpoints.flatMap((e) => e.networkInterfaceIds)));
    assert.equal(nics.length, 5);
    assert.ok(nics.every((n) => /^10\.10\.1\.\d+$/.test(n.privateIpAddresses[0] ?? "")));
  });

  it("returns only what the app may read: a role on the provider subscription finds candidates, not consumer endpoints", async () => {
    const app = objectIdForClient("portcullis-local");
    const role = { id: "0f0f0f0f-0000-4000-8000-00000000b001", roleName: "Portcullis reader", permissions: [{ actions: ["Microsoft.ApiManagement/service/read"] }] };
    emulator.setAuthorization({ roleDefinitions: [role], roleAssignments: [{ principalId: app, scope: `/subscriptions/${PROVIDER_SUB}`, roleDefinitionId: role.id }] });
    const inventory = graphInventory();
    assert.equal((await collect(inventory.pendingConnections(SCOPE, [APIM]))).length, 3);
    const endpointId = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/pe-1`;
    assert.deepEqual(await collect(inventory.privateEndpoints([endpointId])), [], "unreadable is absent, not an error");
  });

  it("waits for the quota reset when the quota runs out, without being refused", async () => {
    emulator.resourceGraph.configure({ quota: { limit: 2, windowMs: 1200 } });
    const inventory = graphInventory({ pageSize: 1 });
    const started = Date.now();
    assert.equal((await collect(inventory.pendingConnections(SCOPE, [APIM]))).length, 3);
    const stats = inventory.stats();
    assert.equal(stats.throttled, 0, "it read x-ms-user-quota-remaining: 0 and waited instead of being refused");
    assert.ok(stats.waitedMs >= 500, `waited ${stats.waitedMs} ms`);
    assert.ok(Date.now() - started >= 500);
  });

  it("backs off on 429 until the quota resets, then succeeds; gives up transient after maxThrottleWaits", async () => {
    emulator.resourceGraph.configure({ quota: { limit: 1, windowMs: 800 } });
    await collect(graphInventory().pendingConnections(SCOPE, [APIM]));
    const patient = graphInventory();
    assert.equal((await collect(patient.pendingConnections(SCOPE, [APIM]))).length, 3);
    assert.equal(patient.stats().throttled, 1);

    await collect(graphInventory().pendingConnections(SCOPE, [APIM]));
    const impatient = graphInventory({ maxThrottleWaits: 0 });
    await assert.rejects(collect(impatient.pendingConnections(SCOPE, [APIM])), (error: unknown) => {
      assert.ok(error instanceof PortcullisError);
      assert.equal(error.kind, "transient");
      assert.equal(error.statusCode, 429);
      assert.ok((error.retryAfterSeconds ?? 0) >= 1);
      return true;
    });
  });

  it("for a type whose resource body lacks its connections, lists them from ARM per resource (same answers)", async () => {
    const ports = createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem, maxRetries: 0 });
    const inventory = graphInventory({ connectionsFromArm: { resourceTypes: [APIM.toLowerCase()], listConnections: (id, o) => ports.privateLink.listConnections(id, o) } });
    emulator.clearRequests();
    const candidates = await collect(inventory.pendingConnections(SCOPE, [APIM]));
    assert.equal(candidates.length, 3);
    const lists = emulator.requests().filter((r) => /\/privateEndpointConnections$/i.test(r.path));
    assert.equal(lists.length, 4, "one connection list per APIM instance");
    assert.equal(graphRequests().length, 1, "the instances themselves still come from one Resource Graph query");
    const viaBody = await collect(graphInventory().pendingConnections(SCOPE, [APIM]));
    assert.deepEqual(
      candidates.map((c) => c.connection.id).sort(),
      viaBody.map((c) => c.connection.id).sort(),
    );
  });

  it("refuses an unregistered type before sending anything", async () => {
    await assert.rejects(collect(graphInventory().pendingConnections(SCOPE, ["Microsoft.Compute/virtualMachines"])), (e: unknown) => e instanceof PortcullisError && e.kind === "invalid-input");
    assert.equal(graphRequests().length, 0);
  });

  it("parses Resource Graph's reset durations", () => {
    assert.equal(parseResetsAfter("00:00:03"), 3000);
    assert.equal(parseResetsAfter("00:01:00.5"), 60_500);
    assert.equal(parseResetsAfter("1.00:00:00"), 86_400_000);
    assert.equal(parseResetsAfter("soon"), undefined);
    assert.equal(parseResetsAfter(undefined), undefined);
  });
});

describe("Resource Graph answers what ARM answers on the same estate", () => {
  const ports = () => createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem, maxRetries: 0 });

  it("the same Pending connections as listing every instance's connections from ARM", async () => {
    const arm = ports();
    const viaArm = [];
    for (const subscriptionId of SCOPE.subscriptions) {
      for await (const service of arm.apim.listServicesBySubscription(subscriptionId)) {
        for await (const c of arm.privateLink.listConnections(service.id)) if (c.status === "Pending") viaArm.push(c);
      }
    }
    const viaGraph = await collect(graphInventory().pendingConnections(SCOPE, [APIM]));
    assert.equal(viaArm.length, 3);
    assert.deepEqual(byId(viaGraph.map((c) => c.connection)), byId(viaArm));
  });

  it("the same connections, endpoints and NICs as ARM's reads", async () => {
    const arm = ports();
    const graph = graphInventory();
    const resources = await collect(graph.resources(SCOPE, [APIM]));
    assert.equal(resources.length, 4);
    for (const r of resources) assert.deepEqual(byId([...r.connections]), byId(await collect(arm.privateLink.listConnections(r.resource.id))), r.resource.id);
    const endpointIds = resources.flatMap((r) => r.connections.flatMap((c) => (c.privateEndpointId ? [c.privateEndpointId] : [])));
    const endpointsGraph = byId(await collect(graph.privateEndpoints(endpointIds)));
    const endpointsArm = byId((await Promise.all(endpointIds.map((id) => arm.network.getPrivateEndpoint(id)))).flatMap((e) => (e ? [e] : [])));
    assert.equal(endpointsArm.length, 5);
    assert.deepEqual(endpointsGraph, endpointsArm);
    const nicIds = endpointsArm.flatMap((e) => e.networkInterfaceIds);
    const nicsArm = (await Promise.all(nicIds.map((id) => arm.network.getNetworkInterface(id)))).flatMap((n) => (n ? [n] : []));
    assert.deepEqual(byId(await collect(graph.networkInterfaces(nicIds))), byId(nicsArm));
  });
});
