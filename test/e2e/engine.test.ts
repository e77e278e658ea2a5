/**
 * The approval engine end to end on the local stack: Azurite, the HTTPS ARM emulator delivering Event Grid events
 * (every delivery sent twice) to the local Functions host serving the real function table, and the real SDKs.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { NetworkManagementClient } from "@azure/arm-network";
import { startFunctionsHost, type LocalFunctionsHost } from "../../dev/functions-host/index.ts";
import { HANDLED_EVENT_TYPES, HANDLED_OPERATION_NAMES } from "../../src/domain/decisions/arm-events.ts";
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import type { PrivateEndpointConnection } from "../../src/domain/model.ts";
import { withResolvedSchedules } from "../../src/functions/definition.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../dev/arm-emulator/webhook-receiver.ts";
import {
  CONSUMER_SUB,
  endpointIdOf,
  engineTopology,
  PARTNER_SUB,
  PROVIDER_SUB,
  putRules,
  quietLog,
  resourceIdOf,
  startEngineStack,
  subnetIdOf,
  TOPIC,
  type EngineStack,
} from "./engine-stack.ts";
import { connectionFrom, decisionRecordsOf, waitFor } from "./engine-stack.ts";

const INSTANCE = "contoso-apim";
let stack: EngineStack;
let host: LocalFunctionsHost;
let witness: WebhookReceiver;
let deps: EngineDeps;
const hostLog: string[] = [];

before(async () => {
  stack = await startEngineStack({
    topology: engineTopology([INSTANCE]),
    emulator: { lroDelayMs: 0, eventDelivery: { duplicateProbability: 1, retryDelaysMs: [50, 100, 200] } },
  });
  Object.assign(process.env, stack.env);
  host = await startFunctionsHost({ definitions: withResolvedSchedules(functionDefinitions, stack.settings), timers: false, log: (line) => hostLog.push(line) });
  witness = await startWebhookReceiver();
  const filter = { includedEventTypes: [...HANDLED_EVENT_TYPES], operationNames: [...HANDLED_OPERATION_NAMES] };
  const webhook = host.eventGridWebhookUrl("privateEndpointEvents");
  await stack.emulator.events.addSubscription({ id: "consumer-events", subscriptionId: CONSUMER_SUB, endpointUrl: webhook, schema: "EventGridSchema", ...filter });
  await stack.emulator.events.addSubscription({ id: "provider-events", subscriptionId: PROVIDER_SUB, endpointUrl: webhook, schema: "CloudEventSchemaV1_0", ...filter });
  await stack.emulator.events.addSubscription({ id: "witness", subscriptionId: CONSUMER_SUB, endpointUrl: witness.url, schema: "EventGridSchema", ...filter });
  await putRules(stack.composition, [
    { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
    {
      id: "allow-partner-with-change",
      priority: 20,
      action: "approve",
      reason: "Partner request carries a change ticket.",
      conditions: { "requester-subscriptions": [PARTNER_SUB], "request-message": ["*CHG*"] },
    },
  ]);
  deps = await stack.composition.engineDeps(quietLog);
});

after(async () => {
  await host?.close();
  await witness?.close();
  await stack?.close();
});

/** Creates a private endpoint with a manual connection to the instance, as a consumer would, with the real SDK. */
async function createEndpoint(subscriptionId: string, name: string, requestMessage = ""): Promise<void> {
  const network = new NetworkManagementClient(stack.ownerCredential(`consumer-${subscriptionId}`, subscriptionId), subscriptionId, { endpoint: stack.emulator.url, tlsOptions: { ca: stack.emulator.caPem } });
  await network.privateEndpoints.beginCreateOrUpdateAndWait(
    "rg-consumer",
    name,
    {
      location: "westeurope",
      subnet: { id: subnetIdOf(subscriptionId) },
      manualPrivateLinkServiceConnections: [{ name, privateLinkServiceId: resourceIdOf(INSTANCE), groupIds: ["Gateway"], requestMessage }],
    },
    { updateIntervalInMs: 10 },
  );
}

const connectionOf = (subscriptionId: string, endpointName: string): Promise<PrivateEndpointConnection> => connectionFrom(deps, subscriptionId, endpointName, INSTANCE);

const recordsOf = (connectionId: string): Promise<DecisionRecord[]> => decisionRecordsOf(deps, connectionId);


/** Answered PUTs on one connection (approvals / rejections that reached ARM), and the 429s / 5xx among all PUTs. */
function putsOn(connection: PrivateEndpointConnection): { succeeded: number; refused: number[] } {
  const puts = stack.emulator.requests().filter((r) => r.method === "PUT" && r.path.toLowerCase() === connection.id.toLowerCase());
  return { succeeded: puts.filter((r) => r.status >= 200 && r.status < 300).length, refused: puts.filter((r) => r.status >= 400).map((r) => r.status) };
}

test("a consumer's new private endpoint is approved by the matching rule through Event Grid within 2 seconds of the event, once", async (t) => {
  await createEndpoint(CONSUMER_SUB, "pe-event");
  const connection = await connectionOf(CONSUMER_SUB, "pe-event");

  const [record] = await waitFor("the decision record", async () => {
    const records = await recordsOf(connection.id);
    return records.length > 0 ? records : undefined;
  });
  await stack.emulator.events.idle();

  const event = witness.events().find((e) => String(e["subject"]).toLowerCase() === endpointIdOf(CONSUMER_SUB, "pe-event").toLowerCase());
  assert.ok(event, "the endpoint's write event was published");
  const latencyMs = record!.recordedAt.getTime() - Date.parse(String(event["eventTime"]));
  t.diagnostic(`approved and recorded ${latencyMs} ms after the event`);
  assert.ok(latencyMs <= 2_000, `approved ${latencyMs} ms after the event`);
  assert.equal(record!.actor, "rule:allow-consumer");
  assert.deepEqual(record!.triggeringEventIds, [event["id"]]);
  assert.equal((await connectionOf(CONSUMER_SUB, "pe-event")).status, "Approved");
  assert.match((await connectionOf(CONSUMER_SUB, "pe-event")).description ?? "", /Portcullis rule allow-consumer v1/);
  assert.ok(stack.emulator.events.deliveries().some((d) => d.duplicate), "deliveries were duplicated");
  assert.equal(putsOn(connection).succeeded, 1, "one ARM write despite duplicate deliveries");
  assert.equal((await recordsOf(connection.id)).length, 1);
  const notified = stack.emulator.topics.received(TOPIC) as { type: string; subject: string }[];
  assert.deepEqual(notified.filter((n) => n.subject.toLowerCase() === connection.id.toLowerCase()).map((n) => n.type), ["Portcullis.Connection.Approved"]);
  assert.ok(hostLog.some((line) => line.includes("approved by rule:allow-consumer v1")), "the host log says which rule decided");
});

test("a connection whose event was never delivered is decided by the sweep; a non-matching one stays Pending and is reported", async () => {
  await createEndpoint(PARTNER_SUB, "pe-partner-ticketed", "Integration per CHG0012345");
  await createEndpoint(PARTNER_SUB, "pe-partner-unticketed", "please let us in");
  await stack.emulator.events.idle();
  const ticketed = await connectionOf(PARTNER_SUB, "pe-partner-ticketed");
  const unticketed = await connectionOf(PARTNER_SUB, "pe-partner-unticketed");
  assert.equal(ticketed.status, "Pending", "no event reached Portcullis for the partner subscription");

  await host.fireTimer("reconcilePending");

  assert.equal((await connectionOf(PARTNER_SUB, "pe-partner-ticketed")).status, "Approved");
  assert.equal((await recordsOf(ticketed.id))[0]!.actor, "rule:allow-partner-with-change");
  assert.equal((await connectionOf(PARTNER_SUB, "pe-partner-unticketed")).status, "Pending");
  const waiting = await recordsOf(unticketed.id);
  assert.deepEqual(waiting.map((r) => [r.action, r.actor]), [["manual", "default"]]);
  assert.ok(hostLog.some((line) => line.includes(`Pending for a human: ${unticketed.id}`)), "the sweep reports the connection left for a human");
  assert.ok(hostLog.some((line) => line.includes("approved by rule:allow-partner-with-change v1")));
});

test("an event and the sweep racing for one connection make one ARM write", async () => {
  stack.emulator.events.pause("consumer-events");
  await createEndpoint(CONSUMER_SUB, "pe-race");
  const connection = await connectionOf(CONSUMER_SUB, "pe-race");

  stack.emulator.events.resume("consumer-events");
  await host.fireTimer("reconcilePending");
  await stack.emulator.events.idle();

  assert.equal((await connectionOf(CONSUMER_SUB, "pe-race")).status, "Approved");
  assert.equal(putsOn(connection).succeeded, 1);
  assert.equal((await recordsOf(connection.id)).length, 1);
});

test("ARM throttling (429 + Retry-After) on the approval: the decision still lands, once", async () => {
  stack.emulator.throttle.configure({ enabled: true, writes: { capacity: 1, refillPerSecond: 0.5 } });
  try {
    stack.emulator.throttle.take(PROVIDER_SUB, "writes");
    await createEndpoint(CONSUMER_SUB, "pe-throttled");
    const connection = await connectionOf(CONSUMER_SUB, "pe-throttled");

    await waitFor("the throttled approval", async () => ((await recordsOf(connection.id)).length > 0 ? true : undefined));
    await stack.emulator.events.idle();

    assert.equal((await connectionOf(CONSUMER_SUB, "pe-throttled")).status, "Approved");
    const puts = putsOn(connection);
    assert.ok(puts.refused.includes(429), `ARM refused with 429 first (${JSON.stringify(puts.refused)})`);
    assert.equal(puts.succeeded, 1);
    assert.equal((await recordsOf(connection.id)).length, 1);
  } finally {
    stack.emulator.throttle.configure({ enabled: true });
  }
});

test("ARM server errors (5xx) on the approval: the decision still lands, once", async () => {
  const fault = stack.emulator.faults.add({ method: "PUT", pathPattern: "/privateEndpointConnections/pe-5xx", status: 503, times: 2 });
  try {
    await createEndpoint(CONSUMER_SUB, "pe-5xx");
    const connection = await connectionOf(CONSUMER_SUB, "pe-5xx");

    await waitFor("the approval after server errors", async () => ((await recordsOf(connection.id)).length > 0 ? true : undefined));
    await stack.emulator.events.idle();

    assert.equal((await connectionOf(CONSUMER_SUB, "pe-5xx")).status, "Approved");
    const puts = putsOn(connection);
    assert.deepEqual(puts.refused, [503, 503]);
    assert.equal(puts.succeeded, 1);
    assert.equal((await recordsOf(connection.id)).length, 1);
  } finally {
    stack.emulator.faults.remove(fault.id);
  }
});
