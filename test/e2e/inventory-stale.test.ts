/**
 * A stale inventory never causes a wrong write. Resource Graph can lag ARM (src/ports/inventory.ts); here it is
 * frozen before a human rejects a connection directly in ARM, so the inventory still offers that connection as a
 * Pending candidate, and the engine is driven exactly as the sweep drives it (decideConnection with the candidate as
 * the listed connection). The engine's claim re-reads the connection from ARM before any write: the rejected one gets
 * no PUT and stays Rejected, the still-Pending one is approved by its rule. Local stack, real SDKs, the app under the
 * roles infra/ deploys (which hold no Microsoft.ResourceGraph action: the emulator, like Resource Graph, trims rows to
 * what the caller may read).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createArmPorts } from "../../src/adapters/arm/index.ts";
import { createResourceGraphInventory } from "../../src/adapters/arm/resource-graph.ts";
import { decideConnection } from "../../src/workflows/decide-connection.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import {
  CONSUMER_SUB,
  connectionFrom,
  connectionWrites,
  engineTopology,
  PROVIDER_SUB,
  putRules,
  quietLog,
  startEngineStack,
  type EngineStack,
} from "./engine-stack.ts";

const APIM = "Microsoft.ApiManagement/service";
let stack: EngineStack;
let deps: EngineDeps;

before(async () => {
  stack = await startEngineStack({
    topology: engineTopology(["apim-a"], [
      { name: "pe-still-pending", instance: "apim-a" },
      { name: "pe-rejected-by-hand", instance: "apim-a" },
    ]),
    emulator: { lroDelayMs: 0 },
  });
  deps = await stack.composition.engineDeps(quietLog);
  await putRules(stack.composition, [
    { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
  ]);
});
after(() => stack.close());

test("a connection rejected by hand after the inventory froze is not approved from the stale candidate", async () => {
  const inventory = createResourceGraphInventory({ endpoint: stack.emulator.url, credential: stack.emulator.credential(), caPem: stack.emulator.caPem });
  stack.emulator.resourceGraph.configure({ frozen: true });

  const human = createArmPorts({ endpoint: stack.emulator.url, credential: stack.ownerCredential("estate-owner", PROVIDER_SUB), caPem: stack.emulator.caPem, pollIntervalInMs: 5 });
  const rejected = await connectionFrom(deps, CONSUMER_SUB, "pe-rejected-by-hand", "apim-a");
  await (await human.privateLink.beginSetConnectionStatus(rejected.id, "Rejected", "Rejected in the portal.")).pollUntilDone();

  const candidates = [];
  for await (const candidate of inventory.pendingConnections({ subscriptions: [PROVIDER_SUB] }, [APIM])) candidates.push(candidate);
  assert.equal(candidates.length, 2, "the frozen inventory still offers both connections as Pending");
  assert.ok(candidates.some((c) => c.connection.id === rejected.id && c.connection.status === "Pending"));
  const queries = stack.emulator.requests().filter((r) => /microsoft\.resourcegraph/i.test(r.path));
  assert.ok(queries.length > 0 && queries.every((r) => r.status === 200 && r.action === undefined), "the deployed roles query Resource Graph without any Microsoft.ResourceGraph action");

  stack.emulator.clearRequests();
  const outcomes = new Map<string, string>();
  for (const candidate of candidates) {
    const decision = await decideConnection(
      { connectionId: candidate.connection.id, connection: candidate.connection, context: { triggeringEventIds: [], correlationId: "stale-inventory-sweep" } },
      deps,
    );
    outcomes.set(candidate.connection.id, decision.outcome);
  }

  const writes = stack.emulator.requests().filter((r) => r.method === "PUT" && /\/privateEndpointConnections\//i.test(r.path));
  assert.equal(writes.length, 1, `one approval only, got ${writes.map((w) => w.path).join(", ")}`);
  assert.ok(!writes.some((w) => w.path.toLowerCase().includes(rejected.name.toLowerCase())), "no write to the connection the human rejected");
  assert.equal(connectionWrites(stack.emulator), 1);
  assert.equal((await deps.privateLink.getConnection(rejected.id))?.status, "Rejected", "ARM keeps the human's decision");
  const pending = await connectionFrom(deps, CONSUMER_SUB, "pe-still-pending", "apim-a");
  assert.equal(pending.status, "Approved", "the candidate that was still Pending is decided by its rule");
  assert.notEqual(outcomes.get(rejected.id), "approved", `outcomes: ${JSON.stringify([...outcomes])}`);
});
