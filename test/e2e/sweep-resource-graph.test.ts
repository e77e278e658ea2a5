/**
 * The sweep with PORTCULLIS_INVENTORY=resource-graph, on the local stack (real SDKs over HTTPS to the ARM emulator,
 * real Azurite, the app under the roles infra/ deploys): one Resource Graph query finds the managed subscriptions'
 * Pending connections, and every candidate is re-read from ARM before it is decided. A stale inventory (frozen before
 * a human acts) never causes a wrong write; a connection Resource Graph has not seen yet waits for a later run; a
 * Resource Graph outage is reported and writes nothing, while the listed resources are still swept from ARM.
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { createArmPorts } from "../../src/adapters/arm/index.ts";
import { createResourceGraphInventory } from "../../src/adapters/arm/resource-graph.ts";
import { managedScopeOf, parseSettings } from "../../src/config.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import { RESOURCE_GRAPH_SCOPE_ID, reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import {
  CONSUMER_SUB,
  connectionFrom,
  engineTopology,
  PROVIDER_SUB,
  putRules,
  quietLog,
  resourceIdOf,
  startEngineStack,
  subnetIdOf,
  type EngineStack,
} from "./engine-stack.ts";

let stack: EngineStack;
let deps: EngineDeps;

before(async () => {
  stack = await startEngineStack({
    topology: engineTopology(["apim-a", "apim-b"], [
      { name: "pe-a1", instance: "apim-a" },
      { name: "pe-a2", instance: "apim-a" },
      { name: "pe-b1", instance: "apim-b" },
    ]),
    emulator: { lroDelayMs: 0 },
    settings: { PORTCULLIS_INVENTORY: "resource-graph" },
  });
  deps = await stack.composition.engineDeps(quietLog);
  await putRules(stack.composition, [
    { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
  ]);
});
after(() => stack.close());
beforeEach(() => {
  stack.emulator.resourceGraph.configure({ frozen: false, lagMs: 0, quota: { limit: 15, windowMs: 5000 } });
  stack.emulator.clearRequests();
});

const graphQueries = () => stack.emulator.requests().filter((r) => /\/providers\/microsoft\.resourcegraph\/resources/i.test(r.path));
const connectionPuts = () => stack.emulator.requests().filter((r) => r.method === "PUT" && /\/privateEndpointConnections\//i.test(r.path));
const connectionLists = () => stack.emulator.requests().filter((r) => r.method === "GET" && /\/privateEndpointConnections$/i.test(r.path.split("?")[0]!));

async function createEndpoint(name: string, instance: string): Promise<void> {
  const network = new NetworkManagementClient(stack.ownerCredential(`consumer-${CONSUMER_SUB}`, CONSUMER_SUB), CONSUMER_SUB, { endpoint: stack.emulator.url, tlsOptions: { ca: stack.emulator.caPem } });
  await network.privateEndpoints.beginCreateOrUpdateAndWait(
    "rg-consumer",
    name,
    { location: "westeurope", subnet: { id: subnetIdOf(CONSUMER_SUB) }, manualPrivateLinkServiceConnections: [{ name, privateLinkServiceId: resourceIdOf(instance), groupIds: ["Gateway"], requestMessage: "" }] },
    { updateIntervalInMs: 10 },
  );
}

test("a stale Resource Graph offers a connection a human rejected: it is re-read from ARM and gets no write; the others are approved", async () => {
  stack.emulator.resourceGraph.configure({ frozen: true });
  const human = createArmPorts({ endpoint: stack.emulator.url, credential: stack.ownerCredential("estate-owner", PROVIDER_SUB), caPem: stack.emulator.caPem, pollIntervalInMs: 5 });
  const rejected = await connectionFrom(deps, CONSUMER_SUB, "pe-a2", "apim-a");
  await (await human.privateLink.beginSetConnectionStatus(rejected.id, "Rejected", "Rejected in the portal.")).pollUntilDone();
  stack.emulator.clearRequests();

  const summary = await reconcilePending("sweep-rg-stale", deps);

  assert.equal(summary.inventory, "resource-graph");
  assert.equal(summary.connections, 3, "the frozen inventory offers all three as Pending");
  assert.equal(summary.instances, 2);
  assert.deepEqual(summary.instanceFailures, []);
  assert.equal(graphQueries().length, 1, "one query for the whole scope");
  assert.equal(connectionLists().length, 0, "no per-resource connection listing from ARM");
  const puts = connectionPuts().map((r) => r.path.toLowerCase());
  assert.equal(puts.length, 2, `two approvals, got ${puts.join(", ")}`);
  assert.ok(!puts.some((p) => p === rejected.id.toLowerCase()), "no write to the connection the human rejected");
  assert.equal((await deps.privateLink.getConnection(rejected.id))?.status, "Rejected", "ARM keeps the human's decision");
  assert.equal((await connectionFrom(deps, CONSUMER_SUB, "pe-a1", "apim-a")).status, "Approved");
  assert.equal((await connectionFrom(deps, CONSUMER_SUB, "pe-b1", "apim-b")).status, "Approved");
  assert.equal(summary.outcomes.approved, 2);
});

test("a connection Resource Graph has not indexed yet waits for the run after Resource Graph catches up", async () => {
  stack.emulator.resourceGraph.configure({ frozen: true });
  await createEndpoint("pe-late", "apim-b");

  const first = await reconcilePending("sweep-rg-lag-1", deps);
  const late = await connectionFrom(deps, CONSUMER_SUB, "pe-late", "apim-b");
  assert.equal(late.status, "Pending", "not in the inventory yet, so not swept (its event, or a later sweep, decides it)");
  assert.equal(first.connections, 0, "the frozen inventory (taken after the last run decided everything) has no Pending candidate");
  assert.equal(connectionPuts().length, 0);

  stack.emulator.resourceGraph.configure({ frozen: false });
  const second = await reconcilePending("sweep-rg-lag-2", deps);
  assert.equal(second.connections, 1, "caught up: only the one Pending connection is offered");
  assert.equal((await connectionFrom(deps, CONSUMER_SUB, "pe-late", "apim-b")).status, "Approved");
});

test("Resource Graph refusing (throttled past the adapter's waits) is a reported failure with no write; listed resources are still swept from ARM", async () => {
  await createEndpoint("pe-listed", "apim-a");
  await createEndpoint("pe-unlisted", "apim-b");
  const throttled = await engineWithSettings({ PORTCULLIS_MANAGED_RESOURCES: resourceIdOf("apim-a") });
  try {
    stack.emulator.resourceGraph.configure({ quota: { limit: 1, windowMs: 3_600_000 } });
    // Another adapter of the same principal spends the quota (Resource Graph counts it per user).
    await resourceGraphOf(0).pendingConnections({ subscriptions: [PROVIDER_SUB] }, ["Microsoft.ApiManagement/service"])[Symbol.asyncIterator]().next();
    stack.emulator.clearRequests();

    const summary = await reconcilePending("sweep-rg-down", throttled);

    assert.deepEqual(summary.instanceFailures.map((f) => f.resourceId), [RESOURCE_GRAPH_SCOPE_ID]);
    assert.match(summary.instanceFailures[0]!.error, /throttl|quota|RateLimiting/i);
    assert.equal((await connectionFrom(deps, CONSUMER_SUB, "pe-listed", "apim-a")).status, "Approved", "the listed resource is swept from ARM");
    assert.equal((await connectionFrom(deps, CONSUMER_SUB, "pe-unlisted", "apim-b")).status, "Pending", "nothing decided from an inventory that did not answer");
    assert.equal(connectionPuts().length, 1);
  } finally {
    stack.emulator.resourceGraph.configure({ quota: { limit: 15, windowMs: 5000 } });
  }
});

/** A Resource Graph adapter as the app's identity, giving up after `maxThrottleWaits` 429s (the default waits minutes). */
const resourceGraphOf = (maxThrottleWaits: number) =>
  createResourceGraphInventory({ endpoint: stack.emulator.url, credential: stack.composition.appCredential(), caPem: stack.emulator.caPem, maxThrottleWaits, maxWaitMs: 10 });

/** The same engine with more settings and an adapter that gives up on the first 429. */
async function engineWithSettings(settings: Record<string, string>): Promise<EngineDeps> {
  return { ...deps, scope: managedScopeOf(parseSettings({ ...stack.env, ...settings })), inventory: resourceGraphOf(0) };
}
