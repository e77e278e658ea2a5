/**
 * The emulated Resource Graph endpoint over HTTPS, through the emulator's whole ARM pipeline (bearer token, request
 * log): the response shape of azure-rest-api-specs resourcegraph stable/2024-04-01/resourcegraph.json, rows as the
 * resources' own GETs answer them, paging with $skipToken (Learn, "Guidance for pagination"), Resource Graph's error
 * shape, the quota headers and 429 (Learn, "Guidance for throttled requests"), results trimmed to what the caller may
 * read with no 403 (Learn, Resource Graph overview, "Permissions"), scopes, and the lag / freeze control.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ownerAtRoot, startArmEmulator, type ArmEmulator } from "../../../../dev/arm-emulator/index.ts";
import { objectIdForClient } from "../../../../dev/oidc-issuer/index.ts";
import { topLevelResourceIds } from "../../../../dev/arm-emulator/resource-graph/service.ts";
import { BUILT_IN_ROLES } from "../../../../dev/arm-emulator/rbac.ts";
import { CONSUMER_RG, HUB_SUB, PARTNER_SUB, rawRequest, TENANT, type RawResponse } from "../helpers.ts";
import { CONSUMER_SUB, GRAPH_PATH, graphEstate, PROVIDER_SUB, serviceId } from "./estate.ts";

interface Page {
  totalRecords: number;
  count: number;
  resultTruncated: string;
  $skipToken?: string;
  facets: unknown[];
  data: Record<string, unknown>[];
}

let emulator: ArmEmulator;

async function graph(body: Record<string, unknown>, token?: string): Promise<RawResponse> {
  return rawRequest(emulator, "POST", GRAPH_PATH, { body: JSON.stringify(body), ...(token === undefined ? {} : { token }) });
}

async function page(body: Record<string, unknown>, token?: string): Promise<Page> {
  const response = await graph(body, token);
  assert.equal(response.status, 200, response.text);
  return response.json as Page;
}

async function tokenFor(clientId: string): Promise<string> {
  const token = await emulator.credential(clientId).getToken("https://management.azure.com/.default");
  return token!.token;
}

async function control(method: string, path: string, body?: unknown): Promise<RawResponse> {
  return rawRequest(emulator, method, `/_emulator${path}`, { token: null, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

const ALL = { subscriptions: [PROVIDER_SUB, CONSUMER_SUB, PARTNER_SUB, HUB_SUB] };

before(async () => {
  emulator = await startArmEmulator({ topology: graphEstate(), lroDelayMs: 0 });
});
after(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  emulator.setAuthorization(ownerAtRoot());
  await control("PUT", "/resource-graph", { quota: null });
});

describe("Resource Graph endpoint: request and response shape", () => {
  it("answers QueryResponse with rows as the resources' own GETs answer them, type lower-cased", async () => {
    const result = await page({ ...ALL, query: "resources | where name =~ 'contoso-apim'" });
    assert.equal(result.totalRecords, 1);
    assert.equal(result.count, 1);
    assert.equal(result.resultTruncated, "false");
    assert.deepEqual(result.facets, []);
    const row = result.data[0]!;
    assert.equal(row["id"], serviceId("Contoso-Apim"));
    assert.equal(row["type"], "microsoft.apimanagement/service");
    assert.equal(row["subscriptionId"], PROVIDER_SUB);
    assert.equal(row["resourceGroup"], "rg-apim");
    assert.equal(row["tenantId"], TENANT);
    assert.equal(row["location"], "westeurope", "Resource Graph spells locations by their short name");
    const get = await rawRequest(emulator, "GET", `${serviceId("Contoso-Apim")}?api-version=2024-05-01`);
    assert.deepEqual(row["properties"], (get.json as { properties: unknown }).properties);
    assert.deepEqual(row["sku"], (get.json as { sku: unknown }).sku);
  });

  it("covers every top-level resource of the estate: services, endpoints, NICs, VNets, zones", async () => {
    const result = await page({ ...ALL, query: "resources | project id, type" });
    const types = new Set(result.data.map((r) => r["type"]));
    for (const type of ["microsoft.apimanagement/service", "microsoft.network/privateendpoints", "microsoft.network/networkinterfaces", "microsoft.network/virtualnetworks", "microsoft.network/privatednszones"]) {
      assert.ok(types.has(type), `no ${type} row`);
    }
    assert.equal(result.data.filter((r) => r["type"] === "microsoft.network/privateendpoints").length, 5);
  });

  it("the pending-connections query finds exactly the Pending connections", async () => {
    const result = await page({
      ...ALL,
      query:
        "resources | where type in~ ('microsoft.apimanagement/service') | mv-expand c = properties.privateEndpointConnections | where tostring(c.properties.privateLinkServiceConnectionState.status) =~ 'Pending' | project id, pe = tostring(c.properties.privateEndpoint.id)",
    });
    assert.deepEqual(result.data.map((r) => String(r["pe"]).split("/").at(-1)).sort(), ["pe-1", "pe-2", "pe-4"]);
  });

  it("resultFormat table answers columns and rows", async () => {
    const result = await page({ ...ALL, query: "resources | where name =~ 'contoso-apim' | project id, name", options: { resultFormat: "table" } });
    assert.deepEqual(result.data, { columns: [{ name: "id", type: "string" }, { name: "name", type: "string" }], rows: [[serviceId("Contoso-Apim"), "Contoso-Apim"]] });
  });
});

describe("Resource Graph endpoint: paging", () => {
  it("pages with $skipToken until no token comes back; totalRecords stays the whole result", async () => {
    const query = "resources | project id, type | order by id asc";
    const full = await page({ ...ALL, query });
    assert.ok(full.totalRecords > 5);
    const seen: unknown[] = [];
    let skipToken: string | undefined;
    let pages = 0;
    do {
      const next = await page({ ...ALL, query, options: { $top: 2, ...(skipToken === undefined ? {} : { $skipToken: skipToken }) } });
      assert.equal(next.totalRecords, full.totalRecords);
      assert.ok(next.count <= 2);
      assert.equal(next.resultTruncated, "false");
      seen.push(...next.data.map((r) => r["id"]));
      skipToken = next.$skipToken;
      pages += 1;
    } while (skipToken !== undefined);
    assert.equal(pages, Math.ceil(full.totalRecords / 2));
    assert.deepEqual(seen, full.data.map((r) => r["id"]));
  });

  it("100 rows by default; $top above 1000 is refused", async () => {
    emulator.reset();
    const first = await page({ ...ALL, query: "resources | project id" });
    assert.ok(first.count <= 100);
    const tooMany = await graph({ ...ALL, query: "resources", options: { $top: 1001 } });
    assert.equal(tooMany.status, 400);
  });

  it("a $skipToken works only with the query and scopes it was issued for", async () => {
    const first = await page({ ...ALL, query: "resources | project id", options: { $top: 1 } });
    assert.ok(first.$skipToken);
    const other = await graph({ ...ALL, query: "resources | project id, name", options: { $top: 1, $skipToken: first.$skipToken } });
    assert.equal(other.status, 400);
    const details = (other.json as { error: { details: { code: string }[] } }).error.details;
    assert.equal(details.at(-1)?.code, "InvalidSkipToken");
    const garbage = await graph({ ...ALL, query: "resources | project id", options: { $skipToken: "not-a-token" } });
    assert.equal(garbage.status, 400);
  });

  it("no $skipToken when the query uses limit/take or projects no id: resultTruncated says rows were cut", async () => {
    const limited = await page({ ...ALL, query: "resources | project id | take 5", options: { $top: 2 } });
    assert.equal(limited.count, 2);
    assert.equal(limited.$skipToken, undefined);
    assert.equal(limited.resultTruncated, "true");
    const noId = await page({ ...ALL, query: "resources | project name", options: { $top: 2 } });
    assert.equal(noId.$skipToken, undefined);
    assert.equal(noId.resultTruncated, "true");
  });
});

describe("Resource Graph endpoint: errors as Resource Graph sends them", () => {
  it("an invalid query is 400 BadRequest with InvalidQuery and the parser's detail", async () => {
    const response = await graph({ ...ALL, query: "resources | where name == 'x' and" });
    assert.equal(response.status, 400);
    const error = (response.json as { error: { code: string; message: string; details: Record<string, unknown>[] } }).error;
    assert.equal(error.code, "BadRequest");
    assert.match(error.message, /^Please provide below info when asking for support: timestamp = .+, correlationId = .+\.$/);
    assert.equal(error.details[0]!["code"], "InvalidQuery");
    assert.equal(error.details[1]!["code"], "ParserFailure");
    assert.equal(typeof error.details[1]!["characterPositionInLine"], "number");
  });

  it("an operator outside the subset, another table, a missing query, a wrong api-version, GET, no token", async () => {
    const codeOf = (r: RawResponse) => (r.json as { error: { details?: { code: string }[]; code: string } }).error;
    assert.equal(codeOf(await graph({ ...ALL, query: "resources | summarize count()" })).details?.at(-1)?.code, "InvalidQueryLanguage");
    assert.equal(codeOf(await graph({ ...ALL, query: "securityresources" })).details?.at(-1)?.code, "DisallowedLogicalTableName");
    const missing = await graph({ ...ALL });
    assert.equal(missing.status, 400);
    const version = await rawRequest(emulator, "POST", "/providers/Microsoft.ResourceGraph/resources?api-version=2018-09-01-preview", { body: JSON.stringify({ query: "resources" }) });
    assert.equal(version.status, 400);
    assert.equal(codeOf(version).code, "InvalidApiVersionParameter");
    assert.equal((await rawRequest(emulator, "GET", GRAPH_PATH)).status, 405);
    assert.equal((await rawRequest(emulator, "POST", GRAPH_PATH, { token: null, body: "{}" })).status, 401);
  });
});

describe("Resource Graph endpoint: answer size", () => {
  it("an answer over 16 MiB is 400 ResponsePayloadTooLarge; a narrower projection of the same rows is fine", async () => {
    const big = graphEstate() as { subscriptions: { id: string; resourceGroups: { apimServices?: { tags?: Record<string, string> }[] }[] }[] };
    big.subscriptions.find((s) => s.id === PROVIDER_SUB)!.resourceGroups[0]!.apimServices![0]!.tags = { padding: "x".repeat(17 * 1024 * 1024) };
    emulator.reset(big as never);
    try {
      const tooLarge = await graph({ ...ALL, query: "resources | where type =~ 'microsoft.apimanagement/service'" });
      assert.equal(tooLarge.status, 400);
      assert.equal((tooLarge.json as { error: { details: { code: string }[] } }).error.details.at(-1)?.code, "ResponsePayloadTooLarge");
      assert.equal((await graph({ ...ALL, query: "resources | where type =~ 'microsoft.apimanagement/service' | project id, name" })).status, 200);
    } finally {
      emulator.reset(graphEstate());
    }
  });
});

describe("Resource Graph endpoint: quota", () => {
  it("counts down x-ms-user-quota-remaining, then answers 429 RateLimiting until the window resets", async () => {
    await control("PUT", "/resource-graph", { quota: { limit: 3, windowMs: 1500 } });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const ok = await graph({ ...ALL, query: "resources | take 1" });
      assert.equal(ok.status, 200);
      remaining.push(String(ok.headers["x-ms-user-quota-remaining"]));
      assert.match(String(ok.headers["x-ms-user-quota-resets-after"]), /^00:00:0[0-2]$/);
    }
    assert.deepEqual(remaining, ["2", "1", "0"]);
    const throttled = await graph({ ...ALL, query: "resources | take 1" });
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers["x-ms-user-quota-remaining"], "0");
    assert.equal((throttled.json as { error: { code: string } }).error.code, "RateLimiting");
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const again = await graph({ ...ALL, query: "resources | take 1" });
    assert.equal(again.status, 200);
    assert.equal(again.headers["x-ms-user-quota-remaining"], "2");
  });

  it("the quota is per principal", async () => {
    await control("PUT", "/resource-graph", { quota: { limit: 1, windowMs: 60_000 } });
    emulator.setAuthorization({ roleAssignments: [...ownerAtRoot().roleAssignments, ...ownerAtRoot(objectIdForClient("auditor")).roleAssignments] });
    assert.equal((await graph({ ...ALL, query: "resources | take 1" })).status, 200);
    assert.equal((await graph({ ...ALL, query: "resources | take 1" })).status, 429);
    assert.equal((await graph({ ...ALL, query: "resources | take 1" }, await tokenFor("auditor"))).status, 200);
  });
});

describe("Resource Graph endpoint: RBAC and scopes", () => {
  const reader = BUILT_IN_ROLES.find((r) => r.roleName === "Reader")!.id;
  it("returns only what the caller may read, and no 403 for what it may not", async () => {
    const app = objectIdForClient("portcullis-local");
    const apimOnly = { id: "0f0f0f0f-0000-4000-8000-00000000a001", roleName: "APIM reader", permissions: [{ actions: ["Microsoft.ApiManagement/service/read"] }] };
    emulator.setAuthorization({ roleDefinitions: [apimOnly], roleAssignments: [{ principalId: app, scope: `/subscriptions/${PROVIDER_SUB}`, roleDefinitionId: apimOnly.id }] });
    const apim = await page({ ...ALL, query: "resources | project id, type" });
    assert.ok(apim.data.length > 0);
    assert.ok(apim.data.every((r) => r["type"] === "microsoft.apimanagement/service"), "endpoints and NICs are not readable");

    emulator.setAuthorization({ roleAssignments: [] });
    const none = await page({ ...ALL, query: "resources" });
    assert.equal(none.totalRecords, 0);
  });

  it("an assignment at a resource group shows that group's resources only", async () => {
    const app = objectIdForClient("portcullis-local");
    emulator.setAuthorization({ roleAssignments: [{ principalId: app, scope: `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}`, roleDefinitionId: reader }] });
    const result = await page({ ...ALL, query: "resources | project id, resourceGroup" });
    assert.ok(result.data.length > 0);
    assert.ok(result.data.every((r) => r["resourceGroup"] === CONSUMER_RG));
  });

  it("subscriptions narrow the scope; the tenant root group (named by tenant ID) and configured groups widen it", async () => {
    const consumer = await page({ subscriptions: [CONSUMER_SUB], query: "resources | project id, subscriptionId" });
    assert.ok(consumer.data.length > 0 && consumer.data.every((r) => r["subscriptionId"] === CONSUMER_SUB));
    const root = await page({ managementGroups: [TENANT], query: "resources | project id, subscriptionId" });
    assert.ok(root.data.some((r) => r["subscriptionId"] === PROVIDER_SUB) && root.data.some((r) => r["subscriptionId"] === CONSUMER_SUB));
    await control("PUT", "/resource-graph", { managementGroups: { "mg-platform": [PROVIDER_SUB] } });
    const group = await page({ managementGroups: ["mg-platform"], query: "resources | project id, subscriptionId" });
    assert.ok(group.data.length > 0 && group.data.every((r) => r["subscriptionId"] === PROVIDER_SUB));
    const unknown = await graph({ managementGroups: ["mg-nope"], query: "resources" });
    assert.equal(unknown.status, 400);
    const tenant = await page({ query: "resources | project id" });
    assert.equal(tenant.totalRecords, (await page({ ...ALL, query: "resources | project id" })).totalRecords, "no scope: everything the caller may read");
  });
});

describe("Resource Graph endpoint: lag behind ARM", () => {
  const pendingOf = async () =>
    (
      await page({
        ...ALL,
        query:
          "resources | mv-expand c = properties.privateEndpointConnections | where tostring(c.properties.privateLinkServiceConnectionState.status) == 'Pending' | project id, name = tostring(c.name)",
      })
    ).data.map((r) => String(r["name"]));

  async function approveFirstPending(): Promise<string> {
    const list = await rawRequest(emulator, "GET", `${serviceId("Contoso-Apim")}/privateEndpointConnections?api-version=2024-05-01`);
    const pending = (list.json as { value: { name: string; properties: { privateLinkServiceConnectionState: { status: string } } }[] }).value.find(
      (c) => c.properties.privateLinkServiceConnectionState.status === "Pending",
    )!;
    const put = await rawRequest(emulator, "PUT", `${serviceId("Contoso-Apim")}/privateEndpointConnections/${pending.name}?api-version=2024-05-01`, {
      body: JSON.stringify({
        id: `${serviceId("Contoso-Apim")}/privateEndpointConnections/${pending.name}`,
        properties: { privateLinkServiceConnectionState: { status: "Approved", description: "by hand" } },
      }),
    });
    assert.ok(put.status === 200 || put.status === 201 || put.status === 202, put.text);
    return pending.name;
  }

  it("frozen: keeps answering the state of the moment it froze until unfrozen", async () => {
    const before = await pendingOf();
    await control("PUT", "/resource-graph", { frozen: true });
    const approved = await approveFirstPending();
    assert.ok((await pendingOf()).includes(approved), "a frozen inventory still shows the approved connection as Pending");
    await control("PUT", "/resource-graph", { frozen: false });
    const after = await pendingOf();
    assert.ok(!after.includes(approved));
    assert.equal(after.length, before.length - 1);
  });

  it("lagMs: a change shows only once it is older than the lag", async () => {
    await control("PUT", "/resource-graph", { lagMs: 400 });
    const approved = await approveFirstPending();
    assert.ok((await pendingOf()).includes(approved), "within the lag the change is not visible");
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(!(await pendingOf()).includes(approved), "past the lag it is");
    const settings = await control("GET", "/resource-graph");
    assert.equal((settings.json as { lagMs: number }).lagMs, 400);
  });

  it("reset goes back to live answers and the documented quota", async () => {
    await control("PUT", "/resource-graph", { frozen: true, lagMs: 1000 });
    emulator.reset();
    const settings = (await control("GET", "/resource-graph")).json as { lagMs: number; frozen: boolean; quota: unknown };
    assert.deepEqual(settings, { lagMs: 0, frozen: false, quota: { limit: 15, windowMs: 5000 }, managementGroups: {} });
  });
});

describe("Resource Graph emulator: rows come from the state generically", () => {
  it("every Map of records with a top-level resource ID is a source of rows; child resources and subscriptions are not", () => {
    const state = {
      subscriptions: new Map([["s", { id: PROVIDER_SUB }]]),
      vaults: new Map([["kv", { id: `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1` }]]),
      children: new Map([["c", { id: `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1/privateEndpointConnections/c1` }]]),
      notAMap: [{ id: `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st` }],
    };
    assert.deepEqual(topLevelResourceIds(state), [`/subscriptions/${PROVIDER_SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-1`]);
  });
});
