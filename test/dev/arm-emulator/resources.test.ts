/**
 * Microsoft.Resources' subscription resource list (resources.json, Resources_List) as the core adapter calls it —
 * `$filter=resourceType eq '…'`, nextLink pages, GenericResourceExpanded items without properties — authorized as
 * `Microsoft.Resources/subscriptions/resources/read` and filtered to what the caller may read; and the
 * Microsoft-managed subscription of a Data Factory managed virtual network, which no caller's assignment reaches.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ownerAtRoot, startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { objectIdForClient } from "../../../dev/oidc-issuer/index.ts";
import { errorCode, rawRequest } from "./helpers.ts";

const DEMO = new URL("../../../dev/arm-emulator/topologies/demo.json", import.meta.url).pathname;
const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const MANAGED = "f0f0f0f0-0000-4000-8000-00000000adf0";
const READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f6fba4a5b6fa";
const V = "api-version=2025-04-01";
const STORAGE = `/subscriptions/${PROVIDER}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stcontosodata`;

let emulator: ArmEmulator;

async function tokenOf(clientId: string): Promise<string> {
  return (await emulator.credential(clientId).getToken("https://management.azure.com/.default"))!.token;
}

async function listAll(path: string, token?: string): Promise<{ id: string; type: string; properties?: unknown }[]> {
  const items: { id: string; type: string; properties?: unknown }[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const answer = await rawRequest(emulator, "GET", next, token === undefined ? {} : { token });
    assert.equal(answer.status, 200, answer.text);
    const page = answer.json as { value: { id: string; type: string }[]; nextLink?: string };
    items.push(...page.value);
    next = page.nextLink === undefined ? undefined : new URL(page.nextLink).pathname + new URL(page.nextLink).search;
  }
  return items;
}

before(async () => {
  emulator = await startArmEmulator({ topology: DEMO });
});
after(async () => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setAuthorization(ownerAtRoot());
});

describe("ARM emulator: Microsoft.Resources subscription resource list", () => {
  it("$filter=resourceType eq '<type>' answers that type's resources, GenericResourceExpanded without properties", async () => {
    const filter = encodeURIComponent("resourceType eq 'Microsoft.Storage/storageAccounts'");
    const items = await listAll(`/subscriptions/${PROVIDER}/resources?$filter=${filter}&${V}`);
    assert.deepEqual(items.map((i) => i.id), [STORAGE]);
    const [item] = items as { type: string; sku?: { name: string }; kind?: string; location?: string; properties?: unknown }[];
    assert.equal(item!.type, "Microsoft.Storage/storageAccounts");
    assert.equal(item!.sku?.name, "Standard_RAGRS");
    assert.equal(item!.kind, "StorageV2");
    assert.equal(item!.properties, undefined);
    assert.equal(emulator.requests().at(-1)!.action, "Microsoft.Resources/subscriptions/resources/read");
  });

  it("the type in the filter compares case-insensitively; $top pages by nextLink through every resource of the subscription", async () => {
    const lower = encodeURIComponent("resourceType eq 'microsoft.keyvault/VAULTS'");
    assert.equal((await listAll(`/subscriptions/${PROVIDER}/resources?$filter=${lower}&${V}`)).length, 1);
    const first = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER}/resources?$top=3&${V}`);
    const page = first.json as { value: unknown[]; nextLink?: string };
    assert.equal(page.value.length, 3);
    assert.ok(decodeURIComponent(page.nextLink ?? "").includes("$skiptoken="));
    const all = await listAll(`/subscriptions/${PROVIDER}/resources?$top=3&${V}`);
    // Two APIM services and one resource of each of the nine other registered types.
    assert.equal(all.length, 11);
    assert.equal(new Set(all.map((i) => i.id)).size, 11);
  });

  it("a caller who may read only one resource group gets only its resources; one with no access at all gets 403 naming the list's action", async () => {
    emulator.setAuthorization({
      roleAssignments: [
        ...ownerAtRoot().roleAssignments,
        { principalId: objectIdForClient("rg-reader"), scope: `/subscriptions/${PROVIDER}/resourceGroups/rg-data`, roleDefinitionId: READER_ROLE_ID },
      ],
    });
    const items = await listAll(`/subscriptions/${PROVIDER}/resources?${V}`, await tokenOf("rg-reader"));
    assert.equal(items.length, 9);
    assert.ok(items.every((i) => i.id.includes("/resourceGroups/rg-data/")));
    const denied = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER}/resources?${V}`, { token: await tokenOf("nobody") });
    assert.equal(denied.status, 403);
    assert.equal(errorCode(denied), "AuthorizationFailed");
    assert.match(denied.text, /'Microsoft\.Resources\/subscriptions\/resources\/read'/);
  });

  it("refuses a filter it does not understand and an unpublished api-version (400)", async () => {
    const bad = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER}/resources?$filter=${encodeURIComponent("tagName eq 'env'")}&${V}`);
    assert.equal(bad.status, 400);
    const version = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER}/resources?api-version=2014-01-01`);
    assert.equal(version.status, 400);
    assert.equal(errorCode(version), "InvalidApiVersionParameter");
  });
});

describe("ARM emulator: a Data Factory managed private endpoint (Microsoft-managed subscription)", () => {
  it("arrives Pending on the storage account, its endpoint ID and description naming the factory", async () => {
    const answer = await rawRequest(emulator, "GET", `${STORAGE}/privateEndpointConnections?api-version=2023-05-01`);
    const [conn] = (answer.json as { value: { name: string; properties: { privateEndpoint: { id: string }; privateLinkServiceConnectionState: { status: string; description: string } } }[] }).value;
    assert.equal(conn!.properties.privateLinkServiceConnectionState.status, "Pending");
    assert.match(conn!.properties.privateEndpoint.id, new RegExp(`^/subscriptions/${MANAGED}/resourceGroups/[^/]+/providers/Microsoft\\.Network/privateEndpoints/contoso-adf\\.`));
    assert.match(conn!.properties.privateLinkServiceConnectionState.description, /Data Factory 'contoso-adf'/);
    assert.match(conn!.name, /^contoso-adf\./);
  });

  it("its endpoint cannot be read by anyone, not even Owner at '/' (403 AuthorizationFailed), nor its subscription listed", async () => {
    const answer = await rawRequest(emulator, "GET", `${STORAGE}/privateEndpointConnections?api-version=2023-05-01`);
    const endpointId = (answer.json as { value: { properties: { privateEndpoint: { id: string } } }[] }).value[0]!.properties.privateEndpoint.id;
    const read = await rawRequest(emulator, "GET", `${endpointId}?api-version=2024-05-01`);
    assert.equal(read.status, 403);
    assert.equal(errorCode(read), "AuthorizationFailed");
    const listed = await rawRequest(emulator, "GET", `/subscriptions/${MANAGED}/resources?${V}`);
    assert.equal(listed.status, 403);
  });

  it("the storage owner approves it like any other connection; the event names the provider subscription", async () => {
    const answer = await rawRequest(emulator, "GET", `${STORAGE}/privateEndpointConnections?api-version=2023-05-01`);
    const conn = (answer.json as { value: { id: string }[] }).value[0]!;
    const put = await rawRequest(emulator, "PUT", `${conn.id}?api-version=2023-05-01`, {
      body: JSON.stringify({ properties: { privateLinkServiceConnectionState: { status: "Approved", description: "ADF contoso-adf" } } }),
    });
    assert.equal(put.status, 200, put.text);
    const state = emulator.snapshot() as { privateEndpoints: { name: string; links: { status: string }[] }[] };
    assert.equal(state.privateEndpoints.find((p) => p.name.startsWith("contoso-adf."))?.links[0]?.status, "Approved");
  });
});
