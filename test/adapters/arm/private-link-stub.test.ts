/**
 * The generic Private Link adapter (src/adapters/arm/private-link.ts) against answers the emulator never gives: each
 * registered type's api-version on the wire, connection pages by nextLink (and a nextLink off ARM's origin or in a
 * loop), a synchronous type's PUT, and what is refused before any request. Real SDK clients over real HTTPS to a stub.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TokenCredential } from "@azure/core-auth";
import { createArmPorts } from "../../../src/adapters/arm/index.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import { PRIVATE_LINK_PROVIDERS, requireProvider } from "../../../src/domain/providers/registry.ts";
import { startHttpsStub, type StubAnswer, type StubRequest } from "./https-stub.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const STORAGE = requireProvider("Microsoft.Storage/storageAccounts");
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata`;
const PE_ID = `/subscriptions/${SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-one`;

const STUB_CREDENTIAL: TokenCredential = { getToken: async () => ({ token: "stub-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };

function connection(resourceId: string, name: string, status = "Pending"): Record<string, unknown> {
  return {
    id: `${resourceId}/privateEndpointConnections/${name}`,
    name,
    properties: {
      privateEndpoint: { id: PE_ID },
      privateLinkServiceConnectionState: { status, description: "from the stub", actionsRequired: "None" },
      provisioningState: "Succeeded",
    },
  };
}

async function withStub(handle: (request: StubRequest, stub: { url: string }) => StubAnswer, run: (ports: ReturnType<typeof createArmPorts>, requests: StubRequest[], url: string) => Promise<void>) {
  const stub = await startHttpsStub(handle);
  try {
    const ports = createArmPorts({ endpoint: stub.url, credential: STUB_CREDENTIAL, caPem: stub.caPem, maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10, pollIntervalInMs: 5 });
    await run(ports, stub.requests, stub.url);
  } finally {
    await stub.close();
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test("every registered type is read with its own api-version: the resource, its connections and one connection", async () => {
  await withStub(
    (request) => {
      const path = request.path.split("?")[0]!;
      if (path.endsWith("/privateEndpointConnections")) return { status: 200, body: { value: [] } };
      if (path.includes("/privateEndpointConnections/")) return { status: 404, body: { error: { code: "NotFound", message: "no" } } };
      const [, , , , , , namespace, type, name] = path.split("/");
      return { status: 200, body: { id: path, name, type: `${namespace}/${type}`, location: "westeurope", properties: { provisioningState: "Succeeded" } } };
    },
    async (ports, requests) => {
      for (const provider of PRIVATE_LINK_PROVIDERS) {
        const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/${provider.resourceType}/res1`;
        requests.length = 0;
        const resource = await ports.privateLink.getResource(id);
        assert.equal(resource?.type, provider.resourceType);
        assert.deepEqual(await collect(ports.privateLink.listConnections(id)), []);
        assert.equal(await ports.privateLink.getConnection(`${id}/privateEndpointConnections/c1`), undefined);
        assert.deepEqual(
          requests.map((r) => [r.method, r.path.split("?")[0], new URL(r.url, "https://x").searchParams.get("api-version")]),
          [
            ["GET", id, provider.apiVersion],
            ["GET", `${id}/privateEndpointConnections`, provider.apiVersion],
            ["GET", `${id}/privateEndpointConnections/c1`, provider.apiVersion],
          ],
          provider.resourceType,
        );
      }
    },
  );
});

test("connection pages are followed by nextLink, one page per request as the caller walks; a link off ARM's origin or a repeated one is refused", async () => {
  let mode: "pages" | "foreign" | "loop" = "pages";
  await withStub(
    (request, stub) => {
      const page = Number(new URL(request.url, stub.url).searchParams.get("page") ?? "1");
      const base = `${stub.url}${ACCOUNT_ID}/privateEndpointConnections?api-version=${STORAGE.apiVersion}`;
      if (mode === "foreign") return { status: 200, body: { value: [connection(ACCOUNT_ID, "c1")], nextLink: `https://attacker.example${ACCOUNT_ID}/privateEndpointConnections?page=2` } };
      if (mode === "loop") return { status: 200, body: { value: [connection(ACCOUNT_ID, `c${page}`)], nextLink: `${base}&page=2` } };
      return { status: 200, body: { value: [connection(ACCOUNT_ID, `c${page}`)], ...(page < 3 ? { nextLink: `${base}&page=${page + 1}` } : {}) } };
    },
    async (ports, requests) => {
      for await (const first of ports.privateLink.listConnections(ACCOUNT_ID)) {
        assert.equal(first.name, "c1");
        break;
      }
      assert.equal(requests.length, 1, "breaking after the first item fetched one page");
      const all = await collect(ports.privateLink.listConnections(ACCOUNT_ID));
      assert.deepEqual(all.map((c) => [c.name, c.resourceId, c.status, c.groupIds]), [
        ["c1", ACCOUNT_ID, "Pending", []],
        ["c2", ACCOUNT_ID, "Pending", []],
        ["c3", ACCOUNT_ID, "Pending", []],
      ], "a storage connection names no group: the consumer's endpoint does");
      mode = "foreign";
      const before = requests.length;
      await assert.rejects(collect(ports.privateLink.listConnections(ACCOUNT_ID)), (e: PortcullisError) => e.code === "InvalidArmResponse" && /not on the ARM endpoint/.test(e.message));
      assert.equal(requests.length, before + 1, "the token never went to the other host");
      mode = "loop";
      await assert.rejects(collect(ports.privateLink.listConnections(ACCOUNT_ID)), (e: PortcullisError) => e.code === "InvalidArmResponse" && /repeats/.test(e.message));
    },
  );
});

test("a synchronous type's approval is done with the PUT's answer (no poll), and the PUT carries the connection's id", async () => {
  const connectionId = `${ACCOUNT_ID}/privateEndpointConnections/pe-one.1`;
  await withStub(
    (request) =>
      request.method === "PUT"
        ? { status: 200, body: { ...connection(ACCOUNT_ID, "pe-one.1", "Approved"), properties: { ...(connection(ACCOUNT_ID, "pe-one.1", "Approved").properties as object), provisioningState: "Updating" } } }
        : { status: 500, body: { error: { code: "Unexpected", message: "no other request" } } },
    async (ports, requests) => {
      assert.equal(STORAGE.connectionWrite.longRunning, false);
      const operation = await ports.privateLink.beginSetConnectionStatus(connectionId, "Approved", "rule r1");
      assert.equal(operation.isDone(), true);
      assert.equal(operation.result()?.status, "Approved");
      assert.deepEqual(requests.map((r) => r.method), ["PUT"]);
      assert.deepEqual(requests[0]!.body, { id: connectionId, properties: { privateLinkServiceConnectionState: { status: "Approved", description: "rule r1" } } });
      assert.match(String(requests[0]!.headers["content-type"]), /^application\/json/);
    },
  );
});

test("an unregistered type, a value the type does not know, or a type without public access is refused before any request", async () => {
  await withStub(
    () => ({ status: 500, body: {} }),
    async (ports, requests) => {
      const vm = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`;
      const pls = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls1`;
      const refused = (code: string) => (e: PortcullisError) => e instanceof PortcullisError && e.kind === "invalid-input" && e.code === code;
      await assert.rejects(ports.privateLink.getResource(vm), refused("UnregisteredResourceType"));
      await assert.rejects(ports.privateLink.getConnection(`${vm}/privateEndpointConnections/c`), refused("UnregisteredResourceType"));
      assert.throws(() => ports.privateLink.listConnections(vm), refused("UnregisteredResourceType"));
      assert.throws(() => ports.privateLink.listResourcesBySubscription(SUB, "Microsoft.Compute/virtualMachines"), refused("UnregisteredResourceType"));
      await assert.rejects(ports.privateLink.beginSetConnectionStatus(`${vm}/privateEndpointConnections/c`, "Approved", "x"), refused("UnregisteredResourceType"));
      await assert.rejects(ports.privateLink.setPublicNetworkAccess(ACCOUNT_ID, "Off"), refused("InvalidPublicNetworkAccess"));
      await assert.rejects(ports.privateLink.setPublicNetworkAccess(pls, "Disabled"), refused("PublicNetworkAccessNotSupported"));
      const serviceBus = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb1`;
      await assert.rejects(ports.privateLink.setPublicNetworkAccess(serviceBus, "Disabled"), refused("PublicNetworkAccessNotPatchable"));
      await assert.rejects(ports.privateLink.getResource("not-an-id"), refused("InvalidResourceId"));
      assert.equal(requests.length, 0);
    },
  );
});

test("a resource of another type than asked, or a malformed one, is a clear error; publicNetworkAccess reads in the registry's spelling", async () => {
  let body: unknown = { id: ACCOUNT_ID, name: "stdata", type: "Microsoft.KeyVault/vaults", location: "westeurope", properties: {} };
  await withStub(
    () => ({ status: 200, body }),
    async (ports) => {
      await assert.rejects(ports.privateLink.getResource(ACCOUNT_ID), (e: PortcullisError) => e.code === "InvalidArmResponse");
      body = { id: ACCOUNT_ID, name: "stdata", type: "Microsoft.Storage/storageAccounts", sku: { name: "Standard_LRS" }, properties: { publicNetworkAccess: "disabled", provisioningState: "Succeeded" } };
      assert.deepEqual(await ports.privateLink.getResource(ACCOUNT_ID), {
        id: ACCOUNT_ID,
        name: "stdata",
        type: "Microsoft.Storage/storageAccounts",
        location: undefined,
        publicNetworkAccess: "Disabled",
        skuName: "Standard_LRS",
        provisioningState: "Succeeded",
      });
      body = { id: ACCOUNT_ID, name: "stdata", type: "Microsoft.Storage/storageAccounts", properties: { publicNetworkAccess: "Sometimes" } };
      assert.equal((await ports.privateLink.getResource(ACCOUNT_ID))?.publicNetworkAccess, "Sometimes", "an unknown value is kept as sent, never read as Disabled");
      body = { name: "no id" };
      await assert.rejects(ports.privateLink.getResource(ACCOUNT_ID), (e: PortcullisError) => e.code === "InvalidArmResponse");
    },
  );
});
