/**
 * Every registered Private Link provider end to end on the local stack, under exactly the roles infra/ deploys for
 * every registered type: for each type, the engine approves, rejects and leaves for a human through
 * Event Grid (the consumer's endpoint events and the provider's connection events, delivered twice), through the
 * sweep, and through the HTTP API, over the real function table on the local Functions host, the HTTPS ARM emulator
 * (each type's own LRO shape, api-version and RBAC), Azurite and real tokens from the local issuer.
 *
 * The rules cover every type (`resource-types: "*"`) and decide by the requester's message: "please approve" ->
 * approve, "reject me" -> reject, anything else -> left for a human.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkManagementClient } from "@azure/arm-network";
import type { TopologyInput } from "../../dev/arm-emulator/index.ts";
import { startFunctionsHost, type LocalFunctionsHost } from "../../dev/functions-host/index.ts";
import { startOidcIssuer, type OidcIssuer } from "../../dev/oidc-issuer/index.ts";
import { HANDLED_EVENT_TYPES, handledOperationNames } from "../../src/domain/decisions/arm-events.ts";
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import type { PrivateEndpointConnection } from "../../src/domain/model.ts";
import { PRIVATE_LINK_PROVIDERS, REGISTERED_RESOURCE_TYPES, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";
import { withResolvedSchedules } from "../../src/functions/definition.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import { CONSUMER_SUB, PARTNER_TENANT, PROVIDER_SUB, PROVIDER_TENANT, putRules, quietLog, startEngineStack, subnetIdOf, type EngineStack, waitFor } from "./engine-stack.ts";

const APIM_TYPE = "Microsoft.ApiManagement/service";
const AUDIENCE = "api://portcullis-provider-tests";
const RG = "rg-prov";

/** A name every type accepts (Storage: 3-24 lower-case letters and digits). */
const nameOf = (provider: PrivateLinkProvider) => `pl${provider.resourceType.replace(/^Microsoft\./, "").toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 22)}`;
const resourceIdOf = (provider: PrivateLinkProvider) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/${RG}/providers/${provider.resourceType}/${nameOf(provider)}`;
const groupIdsOf = (provider: PrivateLinkProvider) => (provider.groups[0] !== undefined ? [provider.groups[0].groupId] : []);
/** Unique per type (Event Hubs and Service Bus both call theirs namespaces). */
const short = (provider: PrivateLinkProvider) => provider.resourceType.replace(/^Microsoft\./, "").replace("/", "-").toLowerCase();
const endpointIdOf = (name: string) => `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/${name}`;

const MESSAGES = { approve: "please approve: CHG0001234", reject: "reject me", manual: "hello there" } as const;
type Expectation = keyof typeof MESSAGES;
const STATUS: Record<Expectation, string> = { approve: "Approved", reject: "Rejected", manual: "Pending" };

/** Endpoints the topology seeds (no event is ever published for them: only the sweep and the API find them). */
const SEEDED = (["approve", "reject", "manual"] as const).map((e) => ({ kind: e, prefix: `pe-sw-${e}` })).concat([
  { kind: "manual", prefix: "pe-api-approve" },
  { kind: "manual", prefix: "pe-api-reject" },
]);

function topology(): TopologyInput {
  return {
    tenants: [{ id: PROVIDER_TENANT }, { id: PARTNER_TENANT }],
    subscriptions: [
      {
        id: PROVIDER_SUB,
        tenantId: PROVIDER_TENANT,
        resourceGroups: [
          {
            name: RG,
            location: "westeurope",
            apimServices: [{ name: nameOf(PRIVATE_LINK_PROVIDERS[0]!), location: "westeurope", sku: { name: "Premium", capacity: 1 } }],
            privateLinkResources: PRIVATE_LINK_PROVIDERS.filter((p) => p.resourceType !== APIM_TYPE).map((p) => ({
              type: p.resourceType,
              name: nameOf(p),
              location: "westeurope",
              ...(p.prerequisites.includes("premium-sku") ? { sku: "Premium" } : {}),
              ...(p.resourceType === "Microsoft.Network/privateLinkServices" ? { visibility: ["*"] } : {}),
            })),
          },
        ],
      },
      {
        id: CONSUMER_SUB,
        tenantId: PROVIDER_TENANT,
        resourceGroups: [
          {
            name: "rg-consumer",
            location: "westeurope",
            virtualNetworks: [{ name: "vnet", location: "westeurope", addressPrefixes: ["10.10.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.10.0.0/16" }] }],
            privateEndpoints: PRIVATE_LINK_PROVIDERS.flatMap((p) =>
              SEEDED.map((seed) => ({
                name: `${seed.prefix}-${short(p)}`,
                location: "westeurope",
                subnetId: subnetIdOf(CONSUMER_SUB),
                privateLinkServiceId: resourceIdOf(p),
                groupIds: groupIdsOf(p),
                manual: true,
                requestMessage: MESSAGES[seed.kind as Expectation],
              })),
            ),
          },
        ],
      },
    ],
  } as TopologyInput;
}

let stack: EngineStack;
let issuer: OidcIssuer;
let host: LocalFunctionsHost;
let deps: EngineDeps;
let dir: string;

before(async () => {
  issuer = await startOidcIssuer({ audience: AUDIENCE });
  dir = mkdtempSync(join(tmpdir(), "portcullis-providers-"));
  writeFileSync(join(dir, "oidc-ca.pem"), issuer.caPem);
  stack = await startEngineStack({
    topology: topology(),
    emulator: { lroDelayMs: 20, eventDelivery: { duplicateProbability: 1, retryDelaysMs: [50, 100, 200] } },
    settings: {
      // Every registered type by name (infra/ takes the list; the app also reads "*").
      PORTCULLIS_MANAGED_RESOURCE_TYPES: REGISTERED_RESOURCE_TYPES.join(","),
      PORTCULLIS_MANAGED_SUBSCRIPTIONS: PROVIDER_SUB,
      PORTCULLIS_AUTH_ISSUER: issuer.issuer,
      PORTCULLIS_AUTH_AUDIENCE: AUDIENCE,
      PORTCULLIS_AUTH_CA_FILE: join(dir, "oidc-ca.pem"),
      PORTCULLIS_APPROVAL_WAIT_MS: "10000",
    },
    composition: { armPollIntervalInMs: 20, engineTimings: { firstPollDelayInMs: 0 } },
  });
  Object.assign(process.env, stack.env);
  host = await startFunctionsHost({ definitions: withResolvedSchedules(functionDefinitions, stack.settings), timers: false, log: () => {} });
  // The filter infra/ deploys for every registered type: 24 operation names, within Event Grid's 25.
  const filter = { includedEventTypes: [...HANDLED_EVENT_TYPES], operationNames: [...handledOperationNames(REGISTERED_RESOURCE_TYPES)] };
  const webhook = host.eventGridWebhookUrl("privateEndpointEvents");
  await stack.emulator.events.addSubscription({ id: "consumer-events", subscriptionId: CONSUMER_SUB, endpointUrl: webhook, schema: "EventGridSchema", ...filter });
  await stack.emulator.events.addSubscription({ id: "provider-events", subscriptionId: PROVIDER_SUB, endpointUrl: webhook, schema: "CloudEventSchemaV1_0", ...filter });
  await putRules(stack.composition, [
    { id: "approve-asked", priority: 10, action: "approve", reason: "The requester asked with a change.", conditions: { "resource-types": "*", "request-message": ["please approve*"] } },
    { id: "reject-asked", priority: 20, action: "reject", reason: "The requester asked to be rejected.", conditions: { "resource-types": "*", "request-message": ["reject me"] } },
  ] as never);
  deps = await stack.composition.engineDeps(quietLog);
});

after(async () => {
  await host?.close();
  await stack?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function connectionOf(provider: PrivateLinkProvider, endpointName: string): Promise<PrivateEndpointConnection> {
  for await (const connection of deps.privateLink.listConnections(resourceIdOf(provider))) {
    if (connection.privateEndpointId?.toLowerCase() === endpointIdOf(endpointName).toLowerCase()) return connection;
  }
  throw new Error(`no connection from ${endpointName} on ${resourceIdOf(provider)}`);
}

async function recordsOf(connectionId: string): Promise<DecisionRecord[]> {
  const records: DecisionRecord[] = [];
  for await (const record of deps.decisionLog.listByConnection(connectionId)) records.push(record);
  return records;
}

async function createEndpoint(provider: PrivateLinkProvider, name: string, requestMessage: string): Promise<void> {
  const network = new NetworkManagementClient(stack.ownerCredential("consumer-team", CONSUMER_SUB), CONSUMER_SUB, { endpoint: stack.emulator.url, tlsOptions: { ca: stack.emulator.caPem } });
  await network.privateEndpoints.beginCreateOrUpdateAndWait(
    "rg-consumer",
    name,
    { location: "westeurope", subnet: { id: subnetIdOf(CONSUMER_SUB) }, manualPrivateLinkServiceConnections: [{ name, privateLinkServiceId: resourceIdOf(provider), groupIds: groupIdsOf(provider), requestMessage }] },
    { updateIntervalInMs: 10 },
  );
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = await issuer.mintToken({ roles: ["Portcullis.Approver"], oid: "00000000-0000-4000-8000-0000000000a1", name: "Alice Approver", appid: "provider-tests" });
  const response = await fetch(`${host.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json", "idempotency-key": crypto.randomUUID() } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** The API path of a connection on a resource of any type. */
function apiPathOf(connection: PrivateEndpointConnection): string {
  const [, , subscriptionId, , resourceGroup, , namespace, type, name, , connectionName] = connection.id.split("/");
  return `/api/resources/${subscriptionId}/${resourceGroup}/${namespace}/${type}/${name}/connections/${connectionName}`;
}

describe("event path: the consumer's endpoint and the provider's connection events", () => {
  for (const provider of PRIVATE_LINK_PROVIDERS) {
    test(`${provider.resourceType}: approved, rejected and left for a human`, async () => {
      for (const kind of ["approve", "reject", "manual"] as const) await createEndpoint(provider, `pe-ev-${kind}-${short(provider)}`, MESSAGES[kind]);
      for (const kind of ["approve", "reject", "manual"] as const) {
        const connection = await connectionOf(provider, `pe-ev-${kind}-${short(provider)}`);
        const records = await waitFor(`the ${kind} decision on ${provider.resourceType}`, async () => {
          const found = await recordsOf(connection.id);
          return found.some((r) => r.action === (kind === "manual" ? "manual" : kind)) ? found : undefined;
        });
        const status = await waitFor(`ARM showing ${STATUS[kind]}`, async () => {
          const current = await deps.privateLink.getConnection(connection.id);
          return current?.status === STATUS[kind] && current.provisioningState === "Succeeded" ? current.status : undefined;
        });
        assert.equal(status, STATUS[kind]);
        const decided = records.find((r) => r.action === (kind === "manual" ? "manual" : kind))!;
        assert.ok(decided.triggeringEventIds.length > 0, "the decision names the event that led to it");
        assert.equal(decided.resourceId.toLowerCase(), resourceIdOf(provider).toLowerCase());
      }
      await stack.emulator.events.idle();
      const approved = await connectionOf(provider, `pe-ev-approve-${short(provider)}`);
      const puts = stack.emulator.requests().filter((r) => r.method === "PUT" && r.path.toLowerCase() === approved.id.toLowerCase() && r.status < 300);
      assert.equal(puts.length, 1, "one ARM write despite duplicate deliveries of both sides' events");
    });
  }
});

describe("sweep and API", () => {
  before(async () => {
    await host.fireTimer("reconcilePending");
  });

  for (const provider of PRIVATE_LINK_PROVIDERS) {
    test(`${provider.resourceType}: the sweep approves, rejects and leaves for a human; a person approves and rejects through the API`, async () => {
      for (const kind of ["approve", "reject", "manual"] as const) {
        const connection = await connectionOf(provider, `pe-sw-${kind}-${short(provider)}`);
        assert.equal(connection.status, STATUS[kind], `${kind} by the sweep`);
        const records = await recordsOf(connection.id);
        assert.deepEqual(records.map((r) => [r.action, r.actor, r.triggeringEventIds.length]), [[kind, kind === "manual" ? "default" : `rule:${kind}-asked`, 0]]);
      }

      const listed = await api("GET", `/api/connections?status=Pending&resourceId=${encodeURIComponent(resourceIdOf(provider))}`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const names = listed.body.items.map((c: { privateEndpointId: string }) => c.privateEndpointId.split("/").at(-1)).sort();
      assert.deepEqual(names, [`pe-api-approve-${short(provider)}`, `pe-api-reject-${short(provider)}`, `pe-ev-manual-${short(provider)}`, `pe-sw-manual-${short(provider)}`].sort());
      assert.ok(listed.body.items.every((c: { resourceType: string; resourceId: string }) => c.resourceType === provider.resourceType && c.resourceId.toLowerCase() === resourceIdOf(provider).toLowerCase()));
      const waiting = listed.body.items.find((c: { privateEndpointId: string }) => c.privateEndpointId.endsWith(`pe-sw-manual-${short(provider)}`));
      assert.equal(waiting.latestDecision.action, "manual", "left for a human, and the API says so");

      for (const action of ["approve", "reject"] as const) {
        const connection = await connectionOf(provider, `pe-api-${action}-${short(provider)}`);
        const reply = await api("POST", `${apiPathOf(connection)}/${action}`, { ticket: "CHG0001234", reason: `Partner ${action} by the CAB.` });
        assert.equal(reply.status, 200, JSON.stringify(reply.body));
        assert.equal(reply.body.status, STATUS[action]);
        assert.equal(reply.body.decision.actor, "principal:00000000-0000-4000-8000-0000000000a1");
        assert.equal((await deps.privateLink.getConnection(connection.id))?.status, STATUS[action]);
      }
      const read = await api("GET", apiPathOf(await connectionOf(provider, `pe-api-approve-${short(provider)}`)));
      assert.equal(read.status, 200);
      assert.equal(read.body.resourceType, provider.resourceType);
      assert.deepEqual(read.body.decisions.map((d: { action: string }) => d.action), ["manual", "approve"]);
    });
  }
});
