/**
 * The apply step's guards (issue 10 items 2-4) on the local stack: Azurite, the HTTPS ARM emulator with its
 * faults and long-running operations, and the production composition. The workflows are called directly (no
 * Functions host), each test on its own connections.
 *
 * - item 2: no write while another operation on the connection is in flight (provisioningState not terminal);
 * - item 3: after a poll failure, what ARM holds is recorded (applied by the rule or the human, once);
 * - item 4: a manual write that ARM refuses outright ends the claim at once and records the refusal.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import type { PrivateEndpointConnection } from "../../src/domain/model.ts";
import { decideConnection } from "../../src/workflows/decide-connection.ts";
import { decideManually, type ManualDecisionRequest } from "../../src/workflows/decide-manually.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import { handleResourceEvent } from "../../src/workflows/handle-resource-event.ts";
import { CONSUMER_SUB, endpointIdOf, engineTopology, putRules, quietLog, resourceIdOf, startEngineStack, TOPIC, type EngineStack } from "./engine-stack.ts";
import { connectionFrom, decisionRecordsOf } from "./engine-stack.ts";

const INSTANCE = "guarded-apim";
const ENDPOINTS = ["pe-busy", "pe-busy-manual", "pe-takeover", "pe-poll403", "pe-poll404", "pe-poll409", "pe-manual403", "pe-put403", "pe-put409", "pe-put400", "pe-event"];
/** Every ARM operation in this file runs this long, so a test can act while one is in flight. */
const OPERATION_MS = 700;
const LEASE_MS = 300;

let stack: EngineStack;
let deps: EngineDeps;
/** A second app instance's ports: stands in for a human in the portal (a PUT of their own). */
let human: EngineDeps;

before(async () => {
  stack = await startEngineStack({
    topology: engineTopology([INSTANCE], ENDPOINTS.map((name) => ({ name, instance: INSTANCE }))),
    emulator: { lroDelayMs: OPERATION_MS },
    composition: { engineTimings: { firstPollDelayInMs: 0, claimLeaseInMs: LEASE_MS }, armPollIntervalInMs: 50, armRetryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
  });
  await putRules(stack.composition, [
    { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
  ]);
  deps = await stack.composition.engineDeps(quietLog);
  human = await stack.secondInstance().engineDeps(quietLog);
});

after(async () => {
  await stack?.close();
});

const connectionOf = (endpointName: string): Promise<PrivateEndpointConnection> => connectionFrom(deps, CONSUMER_SUB, endpointName, INSTANCE);

const recordsOf = (connectionId: string): Promise<DecisionRecord[]> => decisionRecordsOf(deps, connectionId);

/** Every PUT that reached ARM for this connection (whatever ARM answered). */
function putsOn(connectionId: string): number {
  return stack.emulator.requests().filter((r) => r.method === "PUT" && r.path.toLowerCase() === connectionId.toLowerCase()).length;
}

/** Notifications published about this connection, by type. */
function notifiedAbout(connectionId: string): string[] {
  const received = stack.emulator.topics.received(TOPIC) as { type: string; subject: string }[];
  return received.filter((n) => n.subject.toLowerCase() === connectionId.toLowerCase()).map((n) => n.type);
}

async function waitUntilSettled(connectionId: string): Promise<PrivateEndpointConnection> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const current = await deps.privateLink.getConnection(connectionId);
    if (current !== undefined && current.provisioningState === "Succeeded") return current;
    if (Date.now() > deadline) throw new Error(`${connectionId} never settled`);
    await sleep(50);
  }
}

const sweepContext = (correlationId: string) => ({ triggeringEventIds: [], correlationId });

function manual(connectionId: string, action: ManualDecisionRequest["action"]): ManualDecisionRequest {
  return {
    connectionId,
    action,
    ticket: "CHG0004242",
    reason: "Approved by the change board.",
    actor: { objectId: "aaaaaaaa-0000-4000-8000-0000000000a1", name: "Ada Approver" },
    correlationId: `manual-${Math.random().toString(36).slice(2)}`,
  };
}

test("item 2: a human's reject still running (provisioningState Updating) is never overturned; it is recorded once as out-of-band, with ARM's description, after it settles", async () => {
  const connection = await connectionOf("pe-busy");
  const theirs = await human.privateLink.beginSetConnectionStatus(connection.id, "Rejected", "Rejected by Jane in the portal: unknown partner");
  const during = await deps.privateLink.getConnection(connection.id);
  assert.equal(during?.status, "Pending");
  assert.equal(during?.provisioningState, "Updating", "the emulator shows the human's operation in flight");

  const first = await decideConnection({ connectionId: connection.id, context: sweepContext("sweep-busy-1") }, deps);

  assert.equal(putsOn(connection.id), 1, "Portcullis sent no write of its own while the human's PUT ran");
  assert.deepEqual(await recordsOf(connection.id), [], "nothing recorded while the other operation runs");
  assert.equal(first.records.length, 0);

  await theirs.pollUntilDone();
  const settled = await waitUntilSettled(connection.id);
  assert.equal(settled.status, "Rejected");
  await decideConnection({ connectionId: connection.id, context: sweepContext("sweep-busy-2") }, deps);
  await decideConnection({ connectionId: connection.id, context: sweepContext("sweep-busy-3") }, deps);

  const records = await recordsOf(connection.id);
  assert.equal(records.length, 1, "recorded once");
  assert.equal(records[0]!.actor, "out-of-band");
  assert.equal(records[0]!.action, "reject");
  assert.match(records[0]!.reason, /Rejected by Jane in the portal: unknown partner/);
  assert.equal(putsOn(connection.id), 1);
});

test("item 2: a human's approve through the API while someone's PUT is still running is refused as a conflict; nothing is written or recorded and the claim is free again", async () => {
  const connection = await connectionOf("pe-busy-manual");
  const theirs = await human.privateLink.beginSetConnectionStatus(connection.id, "Rejected", "Rejected in the portal");

  await assert.rejects(decideManually(manual(connection.id, "approve"), deps), (error: unknown) => (error as { kind?: string }).kind === "conflict");

  assert.equal(putsOn(connection.id), 1, "only the other PUT reached ARM");
  assert.deepEqual(await recordsOf(connection.id), []);
  const claim = await deps.claims.get({ connectionId: connection.id, privateEndpointId: connection.privateEndpointId });
  assert.ok(claim?.lease === undefined || claim.lease.expiresAt.getTime() <= Date.now(), "the claim is not held");
  await theirs.pollUntilDone();
  assert.equal((await waitUntilSettled(connection.id)).status, "Rejected");
});

test("item 2: a claim taken over after its lease expired re-reads the earlier operation (kept on the claim row) and writes nothing while it runs; its write is then recorded once, by its rule", async () => {
  const connection = await connectionOf("pe-takeover");
  // Every poll of this run's operation fails at the network level: the run gives up, the lease is left to expire.
  const fault = stack.emulator.faults.add({ method: "GET", pathPattern: "/operationresults/", status: 503, errorCode: "ServiceUnavailable" });
  try {
    await assert.rejects(decideConnection({ connectionId: connection.id, context: sweepContext("takeover-1") }, deps));
  } finally {
    stack.emulator.faults.remove(fault.id);
  }
  const claim = await deps.claims.get({ connectionId: connection.id, privateEndpointId: connection.privateEndpointId });
  assert.ok(claim?.lease?.operation, "the claim row keeps the earlier operation");
  await sleep(LEASE_MS + 20);
  assert.equal((await deps.privateLink.getConnection(connection.id))?.provisioningState, "Updating", "the first write is still running");

  const second = await decideConnection({ connectionId: connection.id, context: sweepContext("takeover-2") }, deps);
  assert.equal(putsOn(connection.id), 1, "the run that took over did not write again");
  assert.equal(second.records.length, 0);

  await waitUntilSettled(connection.id);
  await decideConnection({ connectionId: connection.id, context: sweepContext("takeover-3") }, deps);
  await decideConnection({ connectionId: connection.id, context: sweepContext("takeover-4") }, deps);
  const records = await recordsOf(connection.id);
  assert.deepEqual(records.map((r) => [r.actor, r.outcome, r.statusAfter]), [["rule:allow-consumer", "applied", "Approved"]]);
  assert.equal(putsOn(connection.id), 1);
  assert.deepEqual(notifiedAbout(connection.id), ["Portcullis.Connection.Approved"]);
});

for (const [status, errorCode, endpoint] of [
  [403, "AuthorizationFailed", "pe-poll403"],
  [404, "NotFound", "pe-poll404"],
  [409, "Conflict", "pe-poll409"],
] as const) {
  test(`item 3: ARM applies the rule's write but polling answers ${status}: recorded once as applied by the rule, and notified`, async () => {
    const connection = await connectionOf(endpoint);
    const fault = stack.emulator.faults.add({ method: "GET", pathPattern: "/operationresults/", latencyMs: OPERATION_MS + 100, status, errorCode });
    try {
      const decision = await decideConnection({ connectionId: connection.id, context: sweepContext(`poll-${status}`) }, deps);
      assert.equal(decision.outcome, "approved", decision.summary);
    } finally {
      stack.emulator.faults.remove(fault.id);
    }
    await decideConnection({ connectionId: connection.id, context: sweepContext(`poll-${status}-again`) }, deps);

    assert.equal((await deps.privateLink.getConnection(connection.id))?.status, "Approved");
    const records = await recordsOf(connection.id);
    assert.deepEqual(records.map((r) => [r.actor, r.action, r.outcome]), [["rule:allow-consumer", "approve", "applied"]]);
    assert.deepEqual(notifiedAbout(connection.id), ["Portcullis.Connection.Approved"]);
  });
}

test("item 3: a human's approval applied by ARM whose polling answers 403 is recorded as the human's, with the ticket, once", async () => {
  const connection = await connectionOf("pe-manual403");
  const fault = stack.emulator.faults.add({ method: "GET", pathPattern: "/operationresults/", latencyMs: OPERATION_MS + 100, status: 403, errorCode: "AuthorizationFailed" });
  let result;
  try {
    result = await decideManually(manual(connection.id, "approve"), deps);
  } finally {
    stack.emulator.faults.remove(fault.id);
  }
  assert.equal(result.kind, "completed");
  await decideConnection({ connectionId: connection.id, context: sweepContext("after-manual-403") }, deps);
  const records = await recordsOf(connection.id);
  assert.deepEqual(records.map((r) => [r.actor, r.ticket, r.outcome]), [["principal:aaaaaaaa-0000-4000-8000-0000000000a1", "CHG0004242", "applied"]]);
  assert.deepEqual(notifiedAbout(connection.id), ["Portcullis.Connection.Approved"]);
});

for (const [status, errorCode, endpoint] of [
  [403, "AuthorizationFailed", "pe-put403"],
  [409, "AnotherOperationInProgress", "pe-put409"],
  [400, "BadRequest", "pe-put400"],
] as const) {
  test(`item 4: a manual approve that ARM refuses outright with ${status} ends the claim at once, records the refusal with ARM's code, and the next caller is not locked out`, async () => {
    const connection = await connectionOf(endpoint);
    const fault = stack.emulator.faults.add({ method: "PUT", pathPattern: `/privateEndpointConnections/${endpoint}\\.`, status, errorCode, times: 1 });
    const refused = await decideManually(manual(connection.id, "approve"), deps);
    stack.emulator.faults.remove(fault.id);

    assert.equal(refused.kind, "failed");
    assert.ok(refused.kind === "failed");
    assert.equal(refused.record.outcome, "failed");
    assert.equal(refused.record.ticket, "CHG0004242");
    assert.match(refused.record.error ?? "", new RegExp(errorCode));
    const claim = await deps.claims.get({ connectionId: connection.id, privateEndpointId: connection.privateEndpointId });
    assert.equal(claim?.lease, undefined, "the claim ended at once");
    assert.deepEqual(notifiedAbout(connection.id), ["Portcullis.Connection.DecisionFailed"]);

    const next = await decideManually(manual(connection.id, "approve"), deps);
    assert.equal(next.kind, "completed");
    assert.equal((await deps.privateLink.getConnection(connection.id))?.status, "Approved");
    assert.deepEqual((await recordsOf(connection.id)).map((r) => r.outcome), ["failed", "applied"]);
  });
}

test("gatherConnection: the event path reads the consumer's private endpoint once per decision", async () => {
  const connection = await connectionOf("pe-event");
  const endpointId = endpointIdOf(CONSUMER_SUB, "pe-event");
  stack.emulator.clearRequests();
  const result = await handleResourceEvent(
    {
      id: "evt-1",
      schema: "EventGrid",
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      operationName: "Microsoft.Network/privateEndpoints/write",
      resourceId: endpointId,
      tenantId: undefined,
      subscriptionId: CONSUMER_SUB,
      correlationId: undefined,
      eventTime: undefined,
      target: { kind: "endpoint-written", privateEndpointId: endpointId },
    },
    "event-corr",
    deps,
  );
  assert.equal(result.decisions[0]?.outcome, "approved", JSON.stringify(result));
  const endpointReads = stack.emulator.requests().filter((r) => r.method === "GET" && r.path.toLowerCase() === endpointId.toLowerCase()).length;
  assert.equal(endpointReads, 1, "one read of the private endpoint");
  assert.equal((await deps.privateLink.getConnection(connection.id))?.status, "Approved");
});
