import { test } from "node:test";
import assert from "node:assert/strict";
import { handleResourceEvent } from "../../src/workflows/handle-resource-event.ts";
import { parseResourceEvent, type ResourceEvent } from "../../src/domain/decisions/events.ts";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { PortcullisError } from "../../src/domain/errors.ts";
import { brokenRuleSet, CONSUMER_SUB, CONSUMER_TENANT, createTestEngine, OTHER_SUB, PROVIDER_SUB, requestPending, rule, statusOf } from "./support.ts";

const approveConsumers = rule({
  id: "allow-consumer-sub",
  action: "approve",
  reason: "Consumer subscription is on the allow list.",
  conditions: { "requester-subscriptions": [CONSUMER_SUB] },
});
const SECOND_APIM = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-second`;

test("the sweep decides every Pending connection, records out-of-band ones, and reports those left for a human", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const matching = requestPending(engine, "pe-1").connection;
  const nonMatching = requestPending(engine, "pe-2", { subscriptionId: OTHER_SUB }).connection;
  const byHand = requestPending(engine, "pe-3").connection;
  engine.arm.updateConnection(byHand.id, { status: "Rejected", description: "Rejected in the portal" });

  const summary = await reconcilePending("sweep-1", engine.deps);

  assert.equal(summary.instances, 1);
  assert.equal(summary.connections, 3);
  assert.equal(statusOf(engine, matching.id), "Approved");
  assert.equal(statusOf(engine, nonMatching.id), "Pending");
  assert.equal(statusOf(engine, byHand.id), "Rejected");
  assert.deepEqual(summary.awaitingManual, [nonMatching.id]);
  assert.deepEqual(summary.outcomes, { approved: 1, "awaiting-manual": 1, settled: 1 });
  assert.deepEqual(engine.log.records.map((r) => r.actor).sort(), ["default", "out-of-band", "rule:allow-consumer-sub"]);

  const second = await reconcilePending("sweep-2", engine.deps);
  assert.deepEqual(second.awaitingManual, [nonMatching.id], "a connection still waiting is reported again");
  assert.equal(second.decided.length, 0);
  assert.equal(engine.log.records.length, 3);
});

test("the sweep does not know a requester's tenant: a higher-priority tenant reject rule holds the connection instead of a lower approve rule approving it, and the summary says so", async () => {
  const rejectTenant = rule({ id: "reject-partner-tenant", priority: 10, action: "reject", conditions: { "requester-tenants": [CONSUMER_TENANT] } });
  const engine = createTestEngine({ rules: [rejectTenant, { ...approveConsumers, priority: 100 }] });
  const pending = requestPending(engine, "pe-tenant").connection;

  const summary = await reconcilePending("sweep-tenant", engine.deps);

  assert.equal(statusOf(engine, pending.id), "Pending");
  assert.deepEqual(summary.awaitingManual, [pending.id]);
  assert.deepEqual(summary.heldForUnknownFacts, [{ connectionId: pending.id, ruleId: "reject-partner-tenant", missingFacts: ["requesterTenantId"] }]);
  assert.deepEqual(engine.log.records.map((r) => [r.action, r.actor, r.ruleId]), [["manual", "rule:reject-partner-tenant", "reject-partner-tenant"]]);
});

test("one instance failing to list never stops the others, and is reported", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  engine.arm.addService({ id: SECOND_APIM });
  const deps = { ...engine.deps, scope: { ...engine.deps.scope, resourceIds: [], subscriptionIds: [PROVIDER_SUB] } };
  const first = requestPending(engine, "pe-4").connection;
  const second = requestPending(engine, "pe-5", { resourceId: SECOND_APIM }).connection;
  engine.arm.failNext("listConnections", "transient");

  const summary = await reconcilePending("sweep", deps);

  assert.equal(summary.instances, 2);
  assert.equal(summary.instanceFailures.length, 1);
  const decidedOne = [first, second].filter((c) => statusOf(engine, c.id) === "Approved");
  assert.equal(decidedOne.length, 1);
  await reconcilePending("sweep-again", deps);
  assert.equal(statusOf(engine, first.id), "Approved");
  assert.equal(statusOf(engine, second.id), "Approved");
});

test("a connection failing transiently is tried again later in the same run; one that keeps failing is reported", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  for (let i = 0; i < 5; i++) requestPending(engine, `pe-t${i}`);
  const unlucky = requestPending(engine, "pe-unlucky");
  engine.arm.failNext("beginSetConnectionStatus", "transient", { statusCode: 429, retryAfterSeconds: 1 });
  const network = engine.deps.network;
  const deps = {
    ...engine.deps,
    network: {
      ...network,
      async getPrivateEndpoint(id: string) {
        if (id === unlucky.privateEndpoint.id) throw new PortcullisError("transient", "Injected: throttled again.", { statusCode: 429 });
        return network.getPrivateEndpoint(id);
      },
    },
  };

  const summary = await reconcilePending("sweep", deps);

  assert.equal(summary.outcomes.approved, 5, "the connection refused once was retried and approved");
  assert.deepEqual(summary.connectionFailures.map((f) => f.resourceId), [unlucky.connection.id]);
  assert.equal(statusOf(engine, unlucky.connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 6);
});

test("the sweep keeps at most PORTCULLIS_ARM_CONCURRENCY connections in flight", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  for (let i = 0; i < 12; i++) requestPending(engine, `pe-c${i}`);
  let inFlight = 0;
  let peak = 0;
  const network = engine.deps.network;
  const deps = {
    ...engine.deps,
    armConcurrency: 3,
    network: {
      ...network,
      async getPrivateEndpoint(id: string) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return network.getPrivateEndpoint(id);
      },
    },
  };

  const summary = await reconcilePending("sweep", deps);

  assert.equal(summary.outcomes.approved, 12);
  assert.equal(peak, 3);
});

test("an event and the sweep racing on one connection make one ARM write", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-race");
  const parsed = parseResourceEvent({
    id: "evt-race",
    subject: privateEndpoint.id,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    data: { operationName: "Microsoft.Network/privateEndpoints/write", resourceUri: privateEndpoint.id },
  }) as { event: ResourceEvent };

  await Promise.all([handleResourceEvent(parsed.event, "corr", engine.deps), reconcilePending("sweep", engine.deps)]);

  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
  assert.equal(engine.log.records.length, 1);
});

test("with the rule set unusable the sweep approves nothing and reports why", async () => {
  const engine = createTestEngine({ ruleSet: brokenRuleSet([approveConsumers]) });
  const { connection } = requestPending(engine, "pe-fc");

  const summary = await reconcilePending("sweep", engine.deps);

  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(summary.ruleSetProblems?.[0]?.rowKey, "broken");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
});

test("with Resource Graph: candidates are re-read from ARM; a row it cannot parse and a failed query are reported, and nothing is decided from them", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const pending = requestPending(engine, "pe-rg-1").connection;
  const settledByHand = requestPending(engine, "pe-rg-2").connection;
  const stale = { ...settledByHand };
  engine.arm.updateConnection(settledByHand.id, { status: "Rejected", description: "Rejected in the portal" });
  const odd = SECOND_APIM;
  const deps = {
    ...engine.deps,
    scope: { ...engine.deps.scope, resourceIds: [], subscriptionIds: [PROVIDER_SUB] },
    inventory: {
      source: "resource-graph" as const,
      async *pendingConnections(_scope: unknown, _types: unknown, options?: { onUnreadableRow?: (row: { resourceId: string | undefined; error: PortcullisError }) => void }) {
        yield { connection: pending, resourceType: "Microsoft.ApiManagement/service", subscriptionId: PROVIDER_SUB };
        options?.onUnreadableRow?.({ resourceId: odd, error: new PortcullisError("internal", "Resource Graph row: connection status missing", { code: "InvalidArmResponse" }) });
        // Resource Graph still shows it Pending; ARM knows better.
        yield { connection: stale, resourceType: "Microsoft.ApiManagement/service", subscriptionId: PROVIDER_SUB };
        throw new PortcullisError("transient", "Resource Graph kept throttling the query (9 answers 429); try again later.", { code: "RateLimiting", statusCode: 429 });
      },
      async *resources() {},
      async *privateEndpoints() {},
      async *networkInterfaces() {},
    },
  };

  const summary = await reconcilePending("sweep-rg", deps);

  assert.equal(summary.inventory, "resource-graph");
  assert.equal(summary.connections, 2);
  assert.equal(statusOf(engine, pending.id), "Approved");
  assert.equal(statusOf(engine, settledByHand.id), "Rejected", "the stale candidate was re-read from ARM: the human's decision stands");
  assert.deepEqual(summary.instanceFailures.map((f) => f.resourceId), [odd, "/providers/Microsoft.ResourceGraph/resources"]);
  assert.match(summary.instanceFailures[1]!.error, /throttling/);
});
