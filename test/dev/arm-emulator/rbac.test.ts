/**
 * RBAC as ARM applies it. The action table follows Microsoft Learn: "Understand Azure role definitions" (how actions
 * are formed: {Company}.{ProviderName}/{resourceType}/{action}; wildcards; NotActions), the resource provider
 * operations reference (role-based-access-control/permissions/networking for Microsoft.Network incl. Private DNS and
 * locations/operations; permissions/integration for Microsoft.ApiManagement incl. service/operationresults/read;
 * permissions/management-and-governance for Microsoft.Resources), and the emulator's own LRO URLs (lro.ts,
 * routes/apim.ts: APIM's Location; routes/network.ts: Network's Azure-AsyncOperation / Location).
 * Then the pipeline over HTTPS: 401s with ARM's codes and WWW-Authenticate, 403 AuthorizationFailed in ARM's words,
 * scope inheritance, and that the control API and the custom-topic sink stay outside RBAC.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ownerAtRoot, startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { actionMatches, isAuthorized, definitionIndex, requiredPermission, scopeCovers } from "../../../dev/arm-emulator/rbac.ts";
import { objectIdForClient, startOidcIssuer, type OidcIssuer } from "../../../dev/oidc-issuer/index.ts";
import { APIM_RG, armToken, CONSUMER_RG, CONSUMER_SUB, errorCode, HUB_SUB, PROVIDER_SUB, rawRequest, testTopology, ZONE } from "./helpers.ts";

const S = `/subscriptions/${PROVIDER_SUB}`;
const SVC = `${S}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service/Contoso-Apim`;
const PE = `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints/pe-1`;
const ZONE_PATH = `/subscriptions/${HUB_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/${ZONE}`;

describe("ARM RBAC: the action of each request, derived from method and path", () => {
  const table: readonly [method: string, path: string, action: string][] = [
    // Microsoft.Resources above the providers
    ["GET", S, "Microsoft.Resources/subscriptions/read"],
    ["GET", `${S}/resourceGroups`, "Microsoft.Resources/subscriptions/resourceGroups/read"],
    ["GET", `${S}/resourceGroups/${APIM_RG}`, "Microsoft.Resources/subscriptions/resourceGroups/read"],
    ["DELETE", `${S}/resourceGroups/${APIM_RG}`, "Microsoft.Resources/subscriptions/resourceGroups/delete"],
    // API Management (permissions/integration)
    ["GET", `${S}/providers/Microsoft.ApiManagement/service`, "Microsoft.ApiManagement/service/read"],
    ["GET", `${S}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service`, "Microsoft.ApiManagement/service/read"],
    ["GET", SVC, "Microsoft.ApiManagement/service/read"],
    ["PATCH", SVC, "Microsoft.ApiManagement/service/write"],
    ["PUT", SVC, "Microsoft.ApiManagement/service/write"],
    ["GET", `${SVC}/privateEndpointConnections`, "Microsoft.ApiManagement/service/privateEndpointConnections/read"],
    ["PUT", `${SVC}/privateEndpointConnections/pe-1.abc`, "Microsoft.ApiManagement/service/privateEndpointConnections/write"],
    ["DELETE", `${SVC}/privateEndpointConnections/pe-1.abc`, "Microsoft.ApiManagement/service/privateEndpointConnections/delete"],
    ["GET", `${SVC}/privateLinkResources/Gateway`, "Microsoft.ApiManagement/service/privateLinkResources/read"],
    // APIM's 202 Location (routes/apim.ts): "Gets current status of long running operation"
    ["GET", `${SVC}/operationresults/0b5c6c3e-1111-4222-8333-444455556666`, "Microsoft.ApiManagement/service/operationresults/read"],
    ["POST", `${SVC}/backup`, "Microsoft.ApiManagement/service/backup/action"],
    // Network (permissions/networking)
    ["GET", `/subscriptions/${CONSUMER_SUB}/providers/Microsoft.Network/privateEndpoints`, "Microsoft.Network/privateEndpoints/read"],
    ["GET", PE, "Microsoft.Network/privateEndpoints/read"],
    ["PUT", PE, "Microsoft.Network/privateEndpoints/write"],
    ["DELETE", PE, "Microsoft.Network/privateEndpoints/delete"],
    ["GET", `${PE}/privateDnsZoneGroups`, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"],
    ["PUT", `${PE}/privateDnsZoneGroups/default`, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write"],
    ["GET", `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/networkInterfaces/pe-1.nic.1`, "Microsoft.Network/networkInterfaces/read"],
    // Network's Azure-AsyncOperation and Location URLs (routes/network.ts)
    ["GET", `/subscriptions/${CONSUMER_SUB}/providers/Microsoft.Network/locations/westeurope/operations/op-1`, "Microsoft.Network/locations/operations/read"],
    ["GET", `/subscriptions/${CONSUMER_SUB}/providers/Microsoft.Network/locations/westeurope/operationResults/op-1`, "Microsoft.Network/locations/operationResults/read"],
    // Private DNS (permissions/networking, Microsoft.Network/privateDnsZones/*)
    ["GET", `/subscriptions/${HUB_SUB}/providers/Microsoft.Network/privateDnsZones`, "Microsoft.Network/privateDnsZones/read"],
    ["GET", ZONE_PATH, "Microsoft.Network/privateDnsZones/read"],
    ["GET", `${ZONE_PATH}/A`, "Microsoft.Network/privateDnsZones/A/read"],
    ["GET", `${ZONE_PATH}/ALL`, "Microsoft.Network/privateDnsZones/ALL/read"],
    ["GET", `${ZONE_PATH}/A/contoso-apim`, "Microsoft.Network/privateDnsZones/A/read"],
    ["PUT", `${ZONE_PATH}/A/contoso-apim`, "Microsoft.Network/privateDnsZones/A/write"],
    ["DELETE", `${ZONE_PATH}/A/contoso-apim`, "Microsoft.Network/privateDnsZones/A/delete"],
    ["GET", `${ZONE_PATH}/virtualNetworkLinks/link-hub`, "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read"],
    // An extension resource under another resource restarts at its own namespace.
    ["GET", `${SVC}/providers/Microsoft.Authorization/roleAssignments`, "Microsoft.Authorization/roleAssignments/read"],
  ];
  for (const [method, path, action] of table) {
    it(`${method} ${path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{id}")} needs ${action} at that path`, () => {
      assert.deepEqual(requiredPermission(method, path), { action, scope: path });
    });
  }

  it("a trailing slash and percent-encoding do not change the action; a path outside ARM has none", () => {
    assert.equal(requiredPermission("GET", `${SVC}/`)?.action, "Microsoft.ApiManagement/service/read");
    assert.equal(requiredPermission("GET", `${ZONE_PATH.replace("privatelink.azure-api.net", "privatelink%2Eazure-api.net")}/A/x`)?.action, "Microsoft.Network/privateDnsZones/A/read");
    assert.equal(requiredPermission("GET", "/_emulator/state"), undefined);
    assert.equal(requiredPermission("GET", "/"), undefined);
  });
});

describe("ARM RBAC: wildcards, NotActions and scope inheritance", () => {
  it("wildcards match any run of characters, case-insensitively", () => {
    assert.ok(actionMatches("*", "Microsoft.Network/privateDnsZones/A/delete"));
    assert.ok(actionMatches("*/read", "Microsoft.ApiManagement/service/operationresults/read"));
    assert.ok(!actionMatches("*/read", "Microsoft.ApiManagement/service/write"));
    assert.ok(actionMatches("Microsoft.Network/privateDnsZones/*", "microsoft.network/PRIVATEDNSZONES/a/write"));
    assert.ok(!actionMatches("Microsoft.Network/privateDnsZones/A/read", "Microsoft.Network/privateDnsZones/A/write"));
    // privateEndpoints/read does not imply its zone groups: they are their own action.
    assert.ok(!actionMatches("Microsoft.Network/privateEndpoints/read", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"));
  });

  it("an assignment applies at its scope and below, never above or beside it", () => {
    assert.ok(scopeCovers("/", SVC));
    assert.ok(scopeCovers(S, SVC));
    assert.ok(scopeCovers(`${S}/resourceGroups/${APIM_RG.toUpperCase()}`, SVC));
    assert.ok(scopeCovers(SVC, `${SVC}/operationresults/1`));
    assert.ok(!scopeCovers(SVC, `${S}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service`), "a list above the resource");
    assert.ok(!scopeCovers(SVC, `${SVC}-2`), "a sibling whose name starts the same");
    assert.ok(!scopeCovers(`${S}/resourceGroups/${APIM_RG}`, S));
  });

  it("NotActions take actions out of the same permission block; Contributor cannot write role assignments, Reader reads", () => {
    const definitions = definitionIndex([]);
    const principal = "p-1";
    const contributor = [{ principalId: principal, scope: S, roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c" }];
    assert.ok(isAuthorized(principal, { action: "Microsoft.ApiManagement/service/write", scope: SVC }, contributor, definitions));
    assert.ok(!isAuthorized(principal, { action: "Microsoft.Authorization/roleAssignments/write", scope: SVC }, contributor, definitions));
    const reader = [{ principalId: principal, scope: S, roleDefinitionId: "acdd72a7-3385-48ef-bd42-f6fba4a5b6fa" }];
    assert.ok(isAuthorized(principal, { action: "Microsoft.ApiManagement/service/operationresults/read", scope: `${SVC}/operationresults/1` }, reader, definitions));
    assert.ok(!isAuthorized(principal, { action: "Microsoft.ApiManagement/service/write", scope: SVC }, reader, definitions));
    assert.ok(!isAuthorized("someone-else", { action: "Microsoft.ApiManagement/service/read", scope: SVC }, reader, definitions));
    const unknownRole = [{ principalId: principal, scope: "/", roleDefinitionId: "00000000-0000-0000-0000-000000000000" }];
    assert.ok(!isAuthorized(principal, { action: "Microsoft.ApiManagement/service/read", scope: SVC }, unknownRole, definitions), "an unknown role grants nothing");
  });
});

describe("ARM emulator: tokens and role assignments over HTTPS", () => {
  let issuer: OidcIssuer;
  let emulator: ArmEmulator;
  const app = objectIdForClient("portcullis-local");
  const API = "api-version=2024-05-01";

  before(async () => {
    issuer = await startOidcIssuer({ audience: "https://management.azure.com/" });
    const { issuer: iss, jwksUri, tokenEndpoint, caPem } = issuer;
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 5, identity: { issuer: iss, jwksUri, tokenEndpoint, caPem } });
  });
  beforeEach(() => {
    emulator.reset();
    emulator.setAuthorization(ownerAtRoot());
  });
  after(async () => {
    await emulator.close();
    await issuer.close();
  });

  it("401 ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience and InvalidAuthenticationToken, each with a challenge naming the tenant", async () => {
    // A second issuer stands in for a forger: its tokens are well-formed but signed by a key the emulator does not trust.
    const forger: OidcIssuer = await startOidcIssuer({ audience: "https://management.azure.com/" });
    try {
      const forged = await forger.mintToken({ oid: app });
      const cases: [token: string, code: string][] = [[forged, "InvalidAuthenticationToken"], ["not-a-jwt", "InvalidAuthenticationToken"]];
      for (const [token, code] of cases) {
        const answer = await rawRequest(emulator, "GET", `${SVC}?${API}`, { token });
        assert.equal(answer.status, 401);
        assert.equal(errorCode(answer), code);
        assert.match(String(answer.headers["www-authenticate"]), /^Bearer authorization_uri="https:\/\/login\.windows\.net\/11111111-1111-4111-8111-111111111111", error="invalid_token"/);
      }
    } finally {
      await forger.close();
    }
    const noOid = await issuer.mintToken({ extraClaims: { oid: undefined } });
    assert.equal(errorCode(await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: noOid })), "InvalidAuthenticationToken");
    const apiToken = await tokenAt(emulator, "api://portcullis");
    const wrongAudience = await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: apiToken });
    assert.equal(wrongAudience.status, 401);
    assert.equal(errorCode(wrongAudience), "InvalidAuthenticationTokenAudience");
    assert.match(JSON.stringify(wrongAudience.json), /'https:\/\/management\.azure\.com\/'/);
  });

  it("accepts both ARM audiences, with and without the trailing slash", async () => {
    for (const resource of ["https://management.azure.com", "https://management.core.windows.net/"]) {
      const answer = await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: await tokenAt(emulator, resource) });
      assert.equal(answer.status, 200, resource);
    }
  });

  it("an expired token answers 401 ExpiredAuthenticationToken, also after the same token was once accepted", async () => {
    const alreadyExpired = await issuer.mintToken({ oid: app, expiresInSeconds: -10 });
    const first = await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: alreadyExpired });
    assert.equal(first.status, 401);
    assert.equal(errorCode(first), "ExpiredAuthenticationToken");
    assert.match(String(first.headers["www-authenticate"]), /error="invalid_token"/);
    const shortLived = await issuer.mintToken({ oid: app, expiresInSeconds: 2 }); // at least 1 s left (exp is whole seconds)
    assert.equal((await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: shortLived })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const answer = await rawRequest(emulator, "GET", `${SVC}?${API}`, { token: shortLived });
    assert.equal(answer.status, 401);
    assert.equal(errorCode(answer), "ExpiredAuthenticationToken");
  });

  it("403 AuthorizationFailed in ARM's words for an action the principal lacks; nothing changes", async () => {
    emulator.setAuthorization({ roleAssignments: [{ principalId: app, scope: SVC, roleDefinitionId: "acdd72a7-3385-48ef-bd42-f6fba4a5b6fa" }] });
    assert.equal((await rawRequest(emulator, "GET", `${SVC}?${API}`)).status, 200, "Reader at the instance reads it");
    const patch = await rawRequest(emulator, "PATCH", `${SVC}?${API}`, { body: JSON.stringify({ properties: { publicNetworkAccess: "Disabled" } }) });
    assert.equal(patch.status, 403);
    assert.equal(errorCode(patch), "AuthorizationFailed");
    assert.equal(
      (patch.json as { error: { message: string } }).error.message,
      `The client '${app}' with object id '${app}' does not have authorization to perform action 'Microsoft.ApiManagement/service/write' over scope '${SVC}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    const read = await rawRequest(emulator, "GET", `${SVC}?${API}`);
    assert.notEqual((read.json as { properties: { publicNetworkAccess?: string } }).properties.publicNetworkAccess, "Disabled");
    // Read at the instance is not read of the list at its resource group or subscription (a list needs read at its own scope).
    const list = await rawRequest(emulator, "GET", `${S}/providers/Microsoft.ApiManagement/service?${API}`);
    assert.equal(list.status, 403);
    assert.match((list.json as { error: { message: string } }).error.message, new RegExp(`over scope '${S}/providers/Microsoft.ApiManagement/service'`));
  });

  it("authorization is checked before existence: a missing resource out of reach answers 403, not 404", async () => {
    emulator.setAuthorization({ roleAssignments: [] });
    const answer = await rawRequest(emulator, "GET", `${S}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service/does-not-exist?${API}`);
    assert.equal(answer.status, 403);
  });

  it("role assignments are seeded through the control API (PUT /_emulator/authorization), validated, and kept across reset", async () => {
    const custom = { id: "11111111-2222-4333-8444-555555555555", roleName: "reads services", permissions: [{ actions: ["Microsoft.ApiManagement/service/read"] }] };
    const put = await control(emulator, "PUT", "/authorization", { roleDefinitions: [custom], roleAssignments: [{ principalId: app, scope: S, roleDefinitionId: custom.id }] });
    assert.equal(put.status, 200);
    emulator.reset();
    assert.equal((await rawRequest(emulator, "GET", `${SVC}?${API}`)).status, 200);
    assert.equal((await rawRequest(emulator, "GET", `${SVC}/privateEndpointConnections?${API}`)).status, 403);
    const bad = await control(emulator, "PUT", "/authorization", { roleAssignments: [{ principalId: app, scope: "no-slash", roleDefinitionId: custom.id }] });
    assert.equal(bad.status, 400);
    assert.equal((await control(emulator, "GET", "/authorization")).status, 200);
  });

  it("the control API and the local custom-topic sink are not ARM and need no token or role", async () => {
    emulator.setAuthorization({ roleAssignments: [] });
    assert.equal((await rawRequest(emulator, "GET", "/_emulator/state", { token: null })).status, 200);
    const topic = await rawRequest(emulator, "POST", "/_eventgrid/topics/portcullis-notifications/api/events", {
      token: null,
      headers: { "content-type": "application/cloudevents-batch+json", "aeg-sas-key": "any" },
      body: "[]",
    });
    assert.notEqual(topic.status, 403);
    assert.notEqual(topic.status, 401);
  });

  it("the request log names the caller's object ID and the action each request was authorized against", async () => {
    const token = await armToken(emulator);
    await Promise.all(Array.from({ length: 10 }, () => rawRequest(emulator, "GET", `${SVC}?${API}`, { token })));
    assert.equal(emulator.requests().length, 10);
    assert.ok(emulator.requests().every((r) => r.principalId === app && r.status === 200 && r.action === "Microsoft.ApiManagement/service/read"));
  });
});

async function tokenAt(emulator: ArmEmulator, resource: string): Promise<string> {
  const response = await fetchForm(emulator, { grant_type: "client_credentials", client_id: "portcullis-local", scope: `${resource}/.default` });
  return response.access_token;
}

async function fetchForm(emulator: ArmEmulator, form: Record<string, string>): Promise<{ access_token: string }> {
  const { request } = await import("node:https");
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(emulator.identity.tokenEndpoint, { method: "POST", ca: emulator.identity.caPem, headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { access_token: string }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function control(emulator: ArmEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const answer = await rawRequest(emulator, method, `/_emulator${path}`, { token: null, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: answer.status, json: answer.json };
}
