/**
 * The generic Private Link adapter (src/adapters/arm/private-link.ts) for every registered type, with the real Azure SDK
 * clients over HTTPS against the local ARM emulator: the subscription's resources of a type, the resource, its
 * connections, approve and reject (a long-running type's operation serialized and resumed in another process, a
 * synchronous type's done with its PUT), delete, and publicNetworkAccess where the type's PATCH carries it.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../../dev/arm-emulator/index.ts";
import { createArmPorts, type AzureArmPorts } from "../../../src/adapters/arm/index.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import { PRIVATE_LINK_PROVIDERS, type PrivateLinkProvider } from "../../../src/domain/providers/registry.ts";

const TENANT = "11111111-1111-4111-8111-111111111111";
const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const CONSUMER = "c1c1c1c1-0000-4000-8000-000000000002";
const VNET_ID = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
const SUBNET_ID = `${VNET_ID}/subnets/snet-pe`;
const APIM_TYPE = "Microsoft.ApiManagement/service";

/** A name every type accepts (Storage: lower-case letters and digits, 3-24). */
const nameOf = (provider: PrivateLinkProvider) => `res${provider.resourceType.split("/")[1]!.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 18)}`;
const idOf = (provider: PrivateLinkProvider) => `/subscriptions/${PROVIDER}/resourceGroups/rg-prov/providers/${provider.resourceType}/${nameOf(provider)}`;

const TOPOLOGY: TopologyInput = {
  tenants: [{ id: TENANT }],
  subscriptions: [
    {
      id: PROVIDER,
      tenantId: TENANT,
      resourceGroups: [
        {
          name: "rg-prov",
          location: "westeurope",
          apimServices: [{ name: nameOf(PRIVATE_LINK_PROVIDERS[0]!), location: "westeurope", sku: { name: "Developer", capacity: 1 } }],
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
      id: CONSUMER,
      tenantId: TENANT,
      resourceGroups: [
        {
          name: "rg-app",
          location: "westeurope",
          virtualNetworks: [{ name: "vnet-app", location: "westeurope", addressPrefixes: ["10.10.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.10.1.0/24" }] }],
        },
      ],
    },
  ],
} as TopologyInput;

let emulator: ArmEmulator;
before(async () => {
  emulator = await startArmEmulator({ topology: TOPOLOGY, lroDelayMs: 40, pageSize: 2 });
});
after(() => emulator.close());
beforeEach(() => emulator.reset());

/** A fresh set of ports, as another process would build them (own clients, own call counter). */
function ports(): AzureArmPorts {
  return createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem, maxRetries: 4, retryDelayInMs: 10, maxRetryDelayInMs: 50, pollIntervalInMs: 10 });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The consumer asks for a manual connection to the resource's first group (a Private Link Service has none). */
async function requestConnection(provider: PrivateLinkProvider, endpointName: string): Promise<string> {
  const network = new NetworkManagementClient(emulator.credential(), CONSUMER, { endpoint: emulator.url, tlsOptions: { ca: emulator.caPem } });
  const groupIds = provider.groups[0] !== undefined ? [provider.groups[0].groupId] : [];
  const endpoint = await network.privateEndpoints.createOrUpdate(
    "rg-app",
    endpointName,
    { location: "westeurope", subnet: { id: SUBNET_ID }, manualPrivateLinkServiceConnections: [{ name: endpointName, privateLinkServiceId: idOf(provider), groupIds, requestMessage: `please approve ${endpointName}` }] },
    { updateIntervalInMs: 10 },
  );
  return endpoint.id!;
}

async function connectionFrom(arm: AzureArmPorts, provider: PrivateLinkProvider, endpointId: string) {
  const connection = (await collect(arm.privateLink.listConnections(idOf(provider)))).find((c) => c.privateEndpointId?.toLowerCase() === endpointId.toLowerCase());
  assert.ok(connection, `a connection from ${endpointId}`);
  return connection;
}

for (const provider of PRIVATE_LINK_PROVIDERS) {
  describe(`${provider.resourceType} through the generic adapter`, () => {
    test("lists the type's resources in the subscription and reads the resource with its public access", async () => {
      const arm = ports();
      const listed = await collect(arm.privateLink.listResourcesBySubscription(PROVIDER, provider.resourceType.toLowerCase()));
      assert.deepEqual(listed.map((r) => [r.id.toLowerCase(), r.type.toLowerCase()]), [[idOf(provider).toLowerCase(), provider.resourceType.toLowerCase()]]);
      const resource = await arm.privateLink.getResource(idOf(provider));
      assert.equal(resource?.name, nameOf(provider));
      assert.equal(resource?.publicNetworkAccess, provider.publicNetworkAccess === undefined ? undefined : "Enabled");
      if (provider.resourceType === "Microsoft.Network/privateLinkServices") assert.deepEqual(resource?.privateLinkService?.visibilitySubscriptions, ["*"]);
      assert.equal(await arm.privateLink.getResource(idOf(provider).replace(nameOf(provider), "nosuchresource")), undefined);
    });

    test("approves a Pending connection (resumed in another process when long-running), rejects and deletes another", async () => {
      const first = ports();
      const approveId = await requestConnection(provider, "pe-approve");
      const rejectId = await requestConnection(provider, "pe-reject");
      const pending = await connectionFrom(first, provider, approveId);
      assert.equal(pending.status, "Pending");
      assert.equal(pending.resourceId.toLowerCase(), idOf(provider).toLowerCase());
      assert.deepEqual((await first.privateLink.getConnection(pending.id))?.status, "Pending");

      const started = await first.privateLink.beginSetConnectionStatus(pending.id, "Approved", "rule r1: team A");
      if (provider.connectionWrite.longRunning) {
        assert.equal(started.isDone(), false, "ARM answered with an operation to poll");
        const second = ports();
        const resumed = await second.privateLink.resumeSetConnectionStatus(started.serialize());
        assert.equal((await resumed.pollUntilDone()).status, "Approved");
      } else {
        assert.equal(started.isDone(), true, "a synchronous PUT is the whole operation");
        assert.equal(started.result()?.status, "Approved");
        assert.deepEqual(first.callCounter.snapshot().requestsByMethod.PUT, 1);
      }
      const approved = await first.privateLink.getConnection(pending.id);
      assert.equal(approved?.status, "Approved");
      assert.equal(approved?.description, "rule r1: team A");
      assert.equal(approved?.provisioningState, "Succeeded");

      const other = await connectionFrom(first, provider, rejectId);
      const rejected = await (await first.privateLink.beginSetConnectionStatus(other.id, "Rejected", "no rule matches")).pollUntilDone();
      assert.equal(rejected.status, "Rejected");
      await first.privateLink.deleteConnection(other.id);
      assert.equal(await first.privateLink.getConnection(other.id), undefined);
      await first.privateLink.deleteConnection(other.id);
    });

    if (provider.publicNetworkAccess?.patchable === true) {
      test("sets publicNetworkAccess with a PATCH of the type's value", async () => {
        const arm = ports();
        if (provider.resourceType === APIM_TYPE) {
          // APIM refuses Disabled until a connection is approved (DOMAIN.md corrections).
          await assert.rejects(arm.privateLink.setPublicNetworkAccess(idOf(provider), "Disabled"), (e: PortcullisError) => e.kind === "invalid-input");
          const endpointId = await requestConnection(provider, "pe-public");
          await (await arm.privateLink.beginSetConnectionStatus((await connectionFrom(arm, provider, endpointId)).id, "Approved", "ok")).pollUntilDone();
        }
        const updated = await arm.privateLink.setPublicNetworkAccess(idOf(provider), "disabled");
        assert.equal(updated.publicNetworkAccess, "Disabled");
        assert.equal((await arm.privateLink.getResource(idOf(provider)))?.publicNetworkAccess, "Disabled");
      });
    }
  });
}
