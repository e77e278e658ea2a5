import { test } from "node:test";
import assert from "node:assert/strict";
import { parseResourceEvent, type ResourceEvent } from "../../src/domain/decisions/events.ts";
import { handleResourceEvent } from "../../src/workflows/handle-resource-event.ts";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { APIM_ID, CONSUMER_SUB, CONSUMER_TENANT, createTestEngine, endpointId, requestPending, rule, statusOf, type TestEngine } from "./support.ts";

const approveConsumers = rule({
  id: "allow-consumer-sub",
  action: "approve",
  reason: "Consumer subscription is on the allow list.",
  conditions: { "requester-subscriptions": [CONSUMER_SUB] },
});

function resourceEvent(id: string, operationName: string, resourceUri: string, deleted = false): ResourceEvent {
  const parsed = parseResourceEvent({
    id,
    subject: resourceUri,
    eventType: deleted ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    dataVersion: "2",
    data: { operationName, resourceUri, tenantId: CONSUMER_TENANT, subscriptionId: CONSUMER_SUB },
  });
  assert.equal(parsed.kind, "handled");
  return (parsed as { event: ResourceEvent }).event;
}

const endpointWritten = (id: string, pe: string) => resourceEvent(id, "Microsoft.Network/privateEndpoints/write", pe);
const endpointDeleted = (id: string, pe: string) => resourceEvent(id, "Microsoft.Network/privateEndpoints/delete", pe, true);
const connectionWritten = (id: string, connectionId: string) =>
  resourceEvent(id, "Microsoft.ApiManagement/service/privateEndpointConnections/write", connectionId);

async function handle(engine: TestEngine, event: ResourceEvent) {
  const result = await handleResourceEvent(event, `corr-${event.id}`, engine.deps);
  if (result.retry) throw result.retry;
  return result;
}

test("a consumer's private endpoint event gets its connection approved by the matching rule, with the event recorded", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-1");

  const result = await handle(engine, endpointWritten("evt-1", privateEndpoint.id));

  assert.deepEqual(result.decisions.map((d) => d.outcome), ["approved"]);
  assert.equal(statusOf(engine, connection.id), "Approved");
  assert.deepEqual(engine.log.records[0]!.triggeringEventIds, ["evt-1"]);
  assert.equal(engine.log.records[0]!.requesterTenantId, CONSUMER_TENANT);
});

test("duplicate deliveries of one event make one ARM write and one record", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-2");
  const event = endpointWritten("evt-2", privateEndpoint.id);

  await Promise.all([handle(engine, event), handle(engine, event)]);
  await handle(engine, event);

  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
  assert.equal(engine.log.records.length, 1);
});

test("reordered events (provider-side write before the consumer's) decide once; the late event changes nothing", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-3");

  const early = await handle(engine, connectionWritten("evt-provider", connection.id));
  const late = await handle(engine, endpointWritten("evt-consumer", privateEndpoint.id));

  assert.deepEqual(early.decisions.map((d) => d.outcome), ["approved"]);
  assert.deepEqual(late.decisions.map((d) => d.outcome), ["settled"]);
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
  assert.equal(engine.log.records.length, 1);
});

test("a provider-side proxy event (no connection named) re-reads the instance and decides each of its connections", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const first = requestPending(engine, "pe-p1").connection;
  const second = requestPending(engine, "pe-p2").connection;

  const result = await handle(engine, resourceEvent("evt-proxy", "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write", `${APIM_ID}/privateEndpointConnectionProxies/pe-p1.proxy`));

  assert.deepEqual(result.decisions.map((d) => d.outcome), ["approved", "approved"]);
  assert.equal(statusOf(engine, first.id), "Approved");
  assert.equal(statusOf(engine, second.id), "Approved");
});

test("a deleted connection proxy re-reads the instance: its remaining Pending connection is decided", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const remaining = requestPending(engine, "pe-d1").connection;

  const result = await handle(
    engine,
    resourceEvent("evt-proxy-delete", "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete", `${APIM_ID}/privateEndpointConnectionProxies/pe-gone.proxy`, true),
  );

  assert.deepEqual(result.target, { kind: "resource-connections-changed", resourceId: APIM_ID });
  assert.deepEqual(result.decisions.map((d) => d.outcome), ["approved"]);
  assert.equal(statusOf(engine, remaining.id), "Approved");
});

test("a consumer event that raced ahead of the connection is re-checked briefly and decided once the connection appears", async () => {
  const engine = createTestEngine({ rules: [approveConsumers], timings: { connectionRecheckDelaysInMs: [20, 20, 20] } });
  const pe = endpointId("pe-4");
  engine.arm.addPrivateEndpoint({
    id: pe,
    connections: [{ name: "pe-4", privateLinkServiceId: APIM_ID, groupIds: ["Gateway"], requestMessage: undefined, status: "Pending", manual: true }],
  });
  setTimeout(() => engine.arm.addConnection({ resourceId: APIM_ID, name: "pe-4.late", privateEndpointId: pe }), 25);

  const result = await handle(engine, endpointWritten("evt-4", pe));

  assert.deepEqual(result.decisions.map((d) => d.outcome), ["approved"]);
  assert.ok(engine.arm.calls.listConnections >= 2);
});

test("when the connection never appears, the event is left to the sweep, which then decides it", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const pe = endpointId("pe-5");
  engine.arm.addPrivateEndpoint({
    id: pe,
    connections: [{ name: "pe-5", privateLinkServiceId: APIM_ID, groupIds: ["Gateway"], requestMessage: undefined, status: "Pending", manual: true }],
  });

  const result = await handle(engine, endpointWritten("evt-5", pe));
  assert.equal(result.decisions.length, 0);
  assert.equal(result.deferredToSweep.length, 1);
  assert.match(result.deferredToSweep[0]!, /the sweep will decide it/);
  assert.equal(engine.arm.calls.listConnections, 4);

  const connection = engine.arm.addConnection({ resourceId: APIM_ID, name: "pe-5.late", privateEndpointId: pe });
  const summary = await reconcilePending("sweep-1", engine.deps);
  assert.equal(summary.outcomes.approved, 1);
  assert.equal(statusOf(engine, connection.id), "Approved");
});

test("endpoints without a manual connection to a managed resource (for a group of its type) are acknowledged and change nothing", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const pe = endpointId("pe-6");
  engine.arm.addPrivateEndpoint({
    id: pe,
    connections: [{ name: "pe-6", privateLinkServiceId: APIM_ID, groupIds: ["Gateway"], requestMessage: undefined, status: "Approved", manual: false }],
  });

  const result = await handle(engine, endpointWritten("evt-6", pe));

  assert.equal(result.decisions.length, 0);
  assert.match(result.notes.join(" "), /no manual connection to a managed resource/);
  assert.equal(engine.arm.calls.listConnections, 0);
});

test("a deleted endpoint's connection is recorded as deleted once, even when the delete event arrives twice", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-7");
  await handle(engine, endpointWritten("evt-7", privateEndpoint.id));
  engine.arm.state.privateEndpoints.delete(privateEndpoint.id.toLowerCase());
  await engine.arm.ports.privateLink.deleteConnection(connection.id);

  await handle(engine, endpointDeleted("evt-7-del", privateEndpoint.id));
  await handle(engine, endpointDeleted("evt-7-del", privateEndpoint.id));

  const deletes = engine.log.records.filter((r) => r.action === "delete");
  assert.equal(deletes.length, 1);
  assert.equal(deletes[0]!.statusBefore, "Approved");
  assert.equal(deletes[0]!.statusAfter, "Deleted");
});

test("a delete event delivered before the write it follows (reordered) records nothing while the endpoint still exists", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-8");
  await handle(engine, endpointWritten("evt-8", privateEndpoint.id));

  const result = await handle(engine, endpointDeleted("evt-8-stale-delete", privateEndpoint.id));

  assert.match(result.notes.join(" "), /exists/);
  assert.equal(engine.log.records.filter((r) => r.action === "delete").length, 0);
});

test("a transient failure is returned for redelivery after the event's other work is done", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-9");
  engine.arm.failNext("getPrivateEndpoint", "transient");

  const result = await handleResourceEvent(endpointWritten("evt-9", privateEndpoint.id), "corr", engine.deps);

  assert.equal(result.retry?.kind, "transient");
  assert.equal(engine.log.records.length, 0);
});
