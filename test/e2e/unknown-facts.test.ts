/**
 * Unknown facts on the local stack (Azurite, the HTTPS ARM emulator delivering Event Grid events to the local
 * Functions host, the real SDKs). The sweep learns a requester's tenant from ARM's 401 challenge for the requester
 * subscription (a hint, recorded as such) and decides a tenant rule with it; when that lookup fails, or an endpoint
 * answers 403, the fact stays unknown, so a higher-priority reject rule on it must hold the connection for a person
 * rather than let a lower approve rule approve it; the path that does know the fact then decides.
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
import {
  CONSUMER_SUB,
  endpointIdOf,
  engineTopology,
  PARTNER_SUB,
  PARTNER_TENANT,
  putRules,
  quietLog,
  resourceIdOf,
  startEngineStack,
  subnetIdOf,
  type EngineStack,
} from "./engine-stack.ts";
import { connectionFrom, decisionRecordsOf, waitFor } from "./engine-stack.ts";

const PARTNER_INSTANCE = "partner-apim";
/** A second subscription of the partner's tenant: its tenant is looked up fresh (the host caches hints per subscription). */
const SECOND_PARTNER_SUB = "c3c3c3c3-0000-4000-8000-000000000004";
const INTERNAL_INSTANCE = "internal-apim";
let stack: EngineStack;
let host: LocalFunctionsHost;
let deps: EngineDeps;
const hostLog: string[] = [];

before(async () => {
  const base = engineTopology([PARTNER_INSTANCE, INTERNAL_INSTANCE]);
  const partner = base.subscriptions!.find((s) => s.id === PARTNER_SUB)!;
  const topology = { ...base, subscriptions: [...base.subscriptions!, { ...partner, id: SECOND_PARTNER_SUB }] };
  stack = await startEngineStack({ topology, emulator: { lroDelayMs: 0 } });
  Object.assign(process.env, stack.env);
  host = await startFunctionsHost({ definitions: withResolvedSchedules(functionDefinitions, stack.settings), timers: false, log: (line) => hostLog.push(line) });
  const filter = { includedEventTypes: [...HANDLED_EVENT_TYPES], operationNames: [...HANDLED_OPERATION_NAMES] };
  // Consumer-side events from the partner's subscription: they carry the partner's tenant ID.
  await stack.emulator.events.addSubscription({
    id: "partner-events",
    subscriptionId: PARTNER_SUB,
    endpointUrl: host.eventGridWebhookUrl("privateEndpointEvents"),
    schema: "EventGridSchema",
    ...filter,
  });
  stack.emulator.events.pause("partner-events");
  await putRules(stack.composition, [
    {
      id: "reject-partner-tenant",
      priority: 10,
      action: "reject",
      reason: "The partner tenant may not reach this gateway.",
      conditions: { "target-instances": [resourceIdOf(PARTNER_INSTANCE)], "requester-tenants": [PARTNER_TENANT] },
    },
    {
      id: "reject-load-tests",
      priority: 20,
      action: "reject",
      reason: "Load tests go to the test gateway.",
      conditions: { "target-instances": [resourceIdOf(INTERNAL_INSTANCE)], "request-message": ["*load test*"] },
    },
    {
      id: "approve-known-subscriptions",
      priority: 100,
      action: "approve",
      reason: "Known subscription.",
      conditions: { "requester-subscriptions": [CONSUMER_SUB, PARTNER_SUB, SECOND_PARTNER_SUB] },
    },
  ]);
  deps = await stack.composition.engineDeps(quietLog);
});

after(async () => {
  await host?.close();
  await stack?.close();
});

async function createEndpoint(subscriptionId: string, name: string, instance: string, requestMessage: string): Promise<void> {
  const network = new NetworkManagementClient(stack.ownerCredential(`consumer-${subscriptionId}`, subscriptionId), subscriptionId, { endpoint: stack.emulator.url, tlsOptions: { ca: stack.emulator.caPem } });
  await network.privateEndpoints.beginCreateOrUpdateAndWait(
    "rg-consumer",
    name,
    {
      location: "westeurope",
      subnet: { id: subnetIdOf(subscriptionId) },
      manualPrivateLinkServiceConnections: [{ name, privateLinkServiceId: resourceIdOf(instance), groupIds: ["Gateway"], requestMessage }],
    },
    { updateIntervalInMs: 10 },
  );
}

const connectionOf = (subscriptionId: string, endpointName: string, instance: string): Promise<PrivateEndpointConnection> => connectionFrom(deps, subscriptionId, endpointName, instance);

const recordsOf = (connectionId: string): Promise<DecisionRecord[]> => decisionRecordsOf(deps, connectionId);


/** Approvals or rejections of one connection that ARM accepted. */
function writesOn(connection: PrivateEndpointConnection): number {
  return stack.emulator.requests().filter((r) => r.method === "PUT" && r.path.toLowerCase() === connection.id.toLowerCase() && r.status < 300).length;
}

/** The unauthenticated tenant lookups the app sent ARM for a subscription. */
function tenantLookupsOf(subscriptionId: string) {
  return stack.emulator.requests().filter((r) => r.method === "GET" && r.path.toLowerCase() === `/subscriptions/${subscriptionId}`);
}

test("the sweep learns the partner's tenant from ARM's 401 challenge and rejects its connection under the tenant rule, recording the tenant as a hint", async () => {
  await createEndpoint(SECOND_PARTNER_SUB, "pe-partner-hint", PARTNER_INSTANCE, "orders integration");
  const connection = await connectionOf(SECOND_PARTNER_SUB, "pe-partner-hint", PARTNER_INSTANCE);

  await host.fireTimer("reconcilePending");

  assert.equal((await connectionOf(SECOND_PARTNER_SUB, "pe-partner-hint", PARTNER_INSTANCE)).status, "Rejected", "not approved by the lower approve rule");
  assert.equal(writesOn(connection), 1);
  const records = await recordsOf(connection.id);
  assert.deepEqual(records.map((r) => [r.action, r.actor, r.requesterTenantId, r.requesterTenantSource]), [
    ["reject", "rule:reject-partner-tenant", PARTNER_TENANT, "arm-challenge"],
  ]);
  assert.ok(
    records[0]!.explanation.some((line) => line.includes(`${PARTNER_TENANT} is a hint: ARM's 401 challenge`) && line.includes(SECOND_PARTNER_SUB)),
    "the explanation tells an auditor where the tenant came from",
  );
  const lookups = tenantLookupsOf(SECOND_PARTNER_SUB);
  assert.equal(lookups.length, 1, "one lookup for the subscription");
  assert.deepEqual([lookups[0]!.status, lookups[0]!.principalId], [401, undefined], "sent without a token");

  await host.fireTimer("reconcilePending");
  assert.equal(tenantLookupsOf(SECOND_PARTNER_SUB).length, 1, "the next sweep asks nothing: the connection is settled and the hint cached");
});

test("when the tenant lookup fails, the sweep leaves a partner connection Pending under a higher-priority tenant reject rule; the consumer-side event then rejects it", async () => {
  await createEndpoint(PARTNER_SUB, "pe-partner", PARTNER_INSTANCE, "orders integration");
  const connection = await connectionOf(PARTNER_SUB, "pe-partner", PARTNER_INSTANCE);
  const unavailable = stack.emulator.faults.add({ method: "GET", pathPattern: `^/subscriptions/${PARTNER_SUB}$`, status: 503 });
  try {
    await host.fireTimer("reconcilePending");
  } finally {
    stack.emulator.faults.remove(unavailable.id);
  }
  assert.ok(tenantLookupsOf(PARTNER_SUB).length > 0 && tenantLookupsOf(PARTNER_SUB).every((r) => r.status === 503), "ARM was asked and did not answer");

  assert.equal((await connectionOf(PARTNER_SUB, "pe-partner", PARTNER_INSTANCE)).status, "Pending", "the sweep did not approve it");
  assert.equal(writesOn(connection), 0);
  const [waiting] = await recordsOf(connection.id);
  assert.equal(waiting!.action, "manual");
  assert.equal(waiting!.actor, "rule:reject-partner-tenant");
  assert.equal(waiting!.ruleId, "reject-partner-tenant");
  assert.match(waiting!.reason, /rule reject-partner-tenant depends on the requester tenant, which is unknown/);
  assert.ok(waiting!.explanation.some((line) => /"reject-partner-tenant" .* could match, but the requester tenant is not known/.test(line)));
  assert.ok(waiting!.explanation.some((line) => line.includes(`looking it up from ARM's 401 challenge for subscription ${PARTNER_SUB} failed`)));
  assert.ok(
    hostLog.some((line) => line.includes(`Pending for a human: ${connection.id} (rule reject-partner-tenant needs requesterTenantId, unknown to the sweep)`)),
    "the sweep's log says which rule holds the connection and which fact it lacks",
  );

  stack.emulator.events.resume("partner-events");
  await waitFor("the event's rejection", async () => ((await connectionOf(PARTNER_SUB, "pe-partner", PARTNER_INSTANCE)).status === "Rejected" ? true : undefined));
  await stack.emulator.events.idle();

  const records = await recordsOf(connection.id);
  assert.deepEqual(records.map((r) => [r.action, r.actor, r.requesterTenantId, r.requesterTenantSource]), [
    ["manual", "rule:reject-partner-tenant", undefined, undefined],
    ["reject", "rule:reject-partner-tenant", PARTNER_TENANT, "event"],
  ]);
  assert.equal(writesOn(connection), 1, "one ARM write, the rejection; never an approval");
});

test("a consumer endpoint that answers 403 hides the request message: the sweep holds the connection under a request-message reject rule, and rejects it once the endpoint is readable", async () => {
  await createEndpoint(CONSUMER_SUB, "pe-hidden-message", INTERNAL_INSTANCE, "nightly load test run");
  const connection = await connectionOf(CONSUMER_SUB, "pe-hidden-message", INTERNAL_INSTANCE);
  const forbidden = stack.emulator.faults.add({ method: "GET", pathPattern: "/privateEndpoints/pe-hidden-message$", status: 403, errorCode: "AuthorizationFailed" });
  try {
    await host.fireTimer("reconcilePending");
  } finally {
    stack.emulator.faults.remove(forbidden.id);
  }
  assert.ok(
    stack.emulator.requests().some((r) => r.method === "GET" && /\/privateEndpoints\/pe-hidden-message$/i.test(r.path) && r.status === 403),
    "the sweep's read of the endpoint was refused",
  );
  assert.equal((await connectionOf(CONSUMER_SUB, "pe-hidden-message", INTERNAL_INSTANCE)).status, "Pending", "not approved by the lower approve rule");
  const [waiting] = await recordsOf(connection.id);
  assert.deepEqual([waiting!.action, waiting!.actor], ["manual", "rule:reject-load-tests"]);
  assert.match(waiting!.reason, /request message/);

  await host.fireTimer("reconcilePending");

  assert.equal((await connectionOf(CONSUMER_SUB, "pe-hidden-message", INTERNAL_INSTANCE)).status, "Rejected");
  assert.deepEqual((await recordsOf(connection.id)).map((r) => [r.action, r.actor]), [
    ["manual", "rule:reject-load-tests"],
    ["reject", "rule:reject-load-tests"],
  ]);
  assert.equal(writesOn(connection), 1);
});
