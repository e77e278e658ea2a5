/**
 * The emulator's ARM front door over raw HTTPS: authentication, api-version, case-insensitive names, bad input
 * (malformed JSON, unknown routes, wrong methods, oversized bodies), fault injection, throttling, the control API
 * and the local custom-topic endpoint. Bad input never takes the server down.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { APIM_RG, CONSUMER_RG, CONSUMER_SUB, errorCode, PROVIDER_SUB, rawRequest, SUBNET_ID, testTopology } from "./helpers.ts";

const API = "api-version=2024-05-01";
const SERVICE_PATH = `/subscriptions/${PROVIDER_SUB}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service/Contoso-Apim`;

describe("ARM emulator: HTTP front door", () => {
  let emulator: ArmEmulator;

  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), requiredToken: "test-token", lroDelayMs: 5 });
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("answers 401 AuthenticationFailed without a bearer token, with a WWW-Authenticate challenge", async () => {
    const missing = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`, { token: null });
    assert.equal(missing.status, 401);
    assert.equal(errorCode(missing), "AuthenticationFailed");
    assert.match(String(missing.headers["www-authenticate"]), /^Bearer /);
    const basic = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    assert.equal(basic.status, 401);
    assert.equal(errorCode(basic), "AuthenticationFailed");
  });

  it("answers 401 InvalidAuthenticationToken for a token other than the required one", async () => {
    const wrong = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`, { token: "someone-else" });
    assert.equal(wrong.status, 401);
    assert.equal(errorCode(wrong), "InvalidAuthenticationToken");
  });

  it("answers 400 MissingApiVersionParameter and InvalidApiVersionParameter listing the supported versions", async () => {
    const missing = await rawRequest(emulator, "GET", SERVICE_PATH);
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing), "MissingApiVersionParameter");
    const unknown = await rawRequest(emulator, "GET", `${SERVICE_PATH}?api-version=2099-01-01`);
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), "InvalidApiVersionParameter");
    assert.match((unknown.json as { error: { message: string } }).error.message, /2024-05-01/);
    const networkVersionOnApim = await rawRequest(emulator, "GET", `${SERVICE_PATH}?api-version=2026-01-01`);
    assert.equal(errorCode(networkVersionOnApim), "InvalidApiVersionParameter");
  });

  it("compares names case-insensitively and answers with the stored casing", async () => {
    const upper = await rawRequest(emulator, "GET", `${SERVICE_PATH.toUpperCase().replace("SUBSCRIPTIONS", "subscriptions")}?${API}`);
    assert.equal(upper.status, 200);
    assert.equal((upper.json as { name: string }).name, "Contoso-Apim");
    assert.equal((upper.json as { id: string }).id, SERVICE_PATH);
  });

  it("sends ARM's headers: request id, echoed correlation id, remaining reads", async () => {
    const response = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`, { headers: { "x-ms-correlation-request-id": "corr-1" } });
    assert.equal(response.headers["x-ms-correlation-request-id"], "corr-1");
    assert.match(String(response.headers["x-ms-request-id"]), /^[0-9a-f-]{36}$/);
    assert.equal(response.headers["x-ms-ratelimit-remaining-subscription-reads"], "249");
    assert.match(String(response.headers["content-type"]), /^application\/json/);
  });

  it("answers 404 for unknown subscriptions, resource groups, types and namespaces", async () => {
    const sub = await rawRequest(emulator, "GET", `/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ApiManagement/service?${API}`);
    assert.equal(sub.status, 404);
    assert.equal(errorCode(sub), "SubscriptionNotFound");
    const rg = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER_SUB}/resourceGroups/nope/providers/Microsoft.ApiManagement/service/x?${API}`);
    assert.equal(errorCode(rg), "ResourceGroupNotFound");
    const type = await rawRequest(emulator, "GET", `${SERVICE_PATH}/gizmos/g1?${API}`);
    assert.equal(type.status, 404);
    assert.equal(errorCode(type), "InvalidResourceType");
    const namespace = await rawRequest(emulator, "GET", `/subscriptions/${PROVIDER_SUB}/providers/Microsoft.Gizmo/things?${API}`);
    assert.equal(namespace.status, 404);
    assert.equal(errorCode(namespace), "InvalidResourceNamespace");
    const bare = await rawRequest(emulator, "GET", `/nothing-here?${API}`);
    assert.equal(bare.status, 404);
  });

  it("never normalizes dot segments: '..' in a name does not walk up to the parent resource", async () => {
    const response = await rawRequest(emulator, "GET", `${SERVICE_PATH}/privateEndpointConnections/%2e%2e?${API}`);
    assert.equal(response.status, 404);
    assert.equal(errorCode(response), "ResourceNotFound");
  });

  it("answers 405 with Allow for a method the resource does not support", async () => {
    const response = await rawRequest(emulator, "POST", `${SERVICE_PATH}?${API}`, { body: "{}" });
    assert.equal(response.status, 405);
    assert.equal(errorCode(response), "MethodNotAllowed");
    assert.equal(response.headers["allow"], "GET, PATCH");
  });

  it("answers 400 InvalidRequestContent for malformed JSON and 400 for a body of the wrong shape", async () => {
    const malformed = await rawRequest(emulator, "PATCH", `${SERVICE_PATH}?${API}`, { body: '{"properties": {' });
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed), "InvalidRequestContent");
    const peUrl = `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints/pe-x?api-version=2026-01-01`;
    const wrongShape = await rawRequest(emulator, "PUT", peUrl, { body: JSON.stringify({ location: "westeurope", properties: { subnet: "oops" } }) });
    assert.equal(wrongShape.status, 400);
    assert.equal(errorCode(wrongShape), "InvalidRequestFormat");
    const empty = await rawRequest(emulator, "PUT", peUrl, { body: "" });
    assert.equal(empty.status, 400);
  });

  it("answers 413 for a body over 4 MB and keeps serving", async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const response = await rawRequest(emulator, "PATCH", `${SERVICE_PATH}?${API}`, { body: huge });
    assert.equal(response.status, 413);
    assert.equal(errorCode(response), "RequestEntityTooLarge");
    const after413 = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    assert.equal(after413.status, 200);
  });

  it("injects a 503 for the next matching request only, then answers normally", async () => {
    const added = await rawRequest(emulator, "POST", "/_emulator/faults", { token: null, body: JSON.stringify({ method: "GET", pathPattern: "/service/contoso-apim$", status: 503, times: 1 }) });
    assert.equal(added.status, 201);
    const failed = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    assert.equal(failed.status, 503);
    assert.equal(errorCode(failed), "ServiceUnavailable");
    const ok = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    assert.equal(ok.status, 200);
  });

  it("drops the connection when a fault says so, and survives it", async () => {
    emulator.faults.add({ pathPattern: "/service/contoso-apim$", drop: true, times: 1 });
    await assert.rejects(rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`), /socket hang up|ECONNRESET/);
    assert.equal((await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`)).status, 200);
    assert.deepEqual(emulator.requests().map((r) => r.status), [0, 200]);
  });

  it("throttles per subscription with 429, Retry-After and TooManyRequests", async () => {
    const configured = await rawRequest(emulator, "PUT", "/_emulator/throttling", {
      token: null,
      body: JSON.stringify({ enabled: true, reads: { capacity: 2, refillPerSecond: 0.5 } }),
    });
    assert.equal(configured.status, 200);
    assert.equal((await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`)).headers["x-ms-ratelimit-remaining-subscription-reads"], "1");
    await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    const throttled = await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    assert.equal(throttled.status, 429);
    assert.equal(errorCode(throttled), "TooManyRequests");
    assert.equal(throttled.headers["retry-after"], "2");
    const otherSubscription = await rawRequest(emulator, "GET", `/subscriptions/${CONSUMER_SUB}/providers/Microsoft.Network/privateEndpoints?api-version=2026-01-01`);
    assert.equal(otherSubscription.status, 200);
    emulator.throttle.configure({ enabled: true });
  });

  it("records every ARM request and the control API reads, clears and resets", async () => {
    await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`);
    const log = await rawRequest(emulator, "GET", "/_emulator/requests", { token: null });
    assert.deepEqual(
      (log.json as { method: string; status: number; apiVersion: string; subscriptionId: string }[]).map((r) => [r.method, r.status, r.apiVersion, r.subscriptionId]),
      [["GET", 200, "2024-05-01", PROVIDER_SUB]],
    );
    assert.equal((await rawRequest(emulator, "DELETE", "/_emulator/requests", { token: null })).status, 204);
    assert.equal(emulator.requests().length, 0);

    const state = await rawRequest(emulator, "GET", "/_emulator/state", { token: null });
    assert.equal((state.json as { apimServices: unknown[] }).apimServices.length, 4);
    const reset = await rawRequest(emulator, "POST", "/_emulator/reset", { token: null, body: JSON.stringify({ subscriptions: [] }) });
    assert.equal(reset.status, 200);
    assert.equal((await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`)).status, 404);
    const badTopology = await rawRequest(emulator, "POST", "/_emulator/reset", { token: null, body: JSON.stringify({ subscriptions: [{ id: "not-a-guid" }] }) });
    assert.equal(badTopology.status, 400);
    assert.match(badTopology.text, /subscriptions\.0\.id/);
    emulator.reset(testTopology());
  });

  it("refuses bad control requests with 400 / 404 and keeps serving", async () => {
    assert.equal((await rawRequest(emulator, "POST", "/_emulator/faults", { token: null, body: "{nope" })).status, 400);
    assert.equal((await rawRequest(emulator, "POST", "/_emulator/faults", { token: null, body: JSON.stringify({ status: 42 }) })).status, 400);
    assert.equal((await rawRequest(emulator, "GET", "/_emulator/unknown", { token: null })).status, 404);
    assert.equal((await rawRequest(emulator, "GET", `${SERVICE_PATH}?${API}`)).status, 200);
  });

  it("accepts events on the local custom topic and shows them through the control API", async () => {
    const event = { id: "e1", subject: "portcullis/decisions/1", eventType: "Portcullis.ConnectionApproved", eventTime: new Date().toISOString(), dataVersion: "1", data: { ok: true } };
    const published = await rawRequest(emulator, "POST", "/_eventgrid/topics/portcullis/api/events", {
      token: null,
      headers: { "aeg-sas-key": "any" },
      body: JSON.stringify([event]),
    });
    assert.equal(published.status, 200);
    const received = await rawRequest(emulator, "GET", "/_emulator/topics/portcullis/events", { token: null });
    assert.deepEqual((received.json as { id: string }[]).map((e) => e.id), ["e1"]);
    assert.equal(emulator.requests().length, 0, "custom-topic traffic is not ARM traffic");
  });

  // Operation-status bodies follow the ARM RPC async-operation contract: id, name, status, startTime (endTime once over).
  it("creates a private endpoint over raw HTTP: 201 with Azure-AsyncOperation, then the operation status has id, name, status, startTime, endTime", async () => {
    const serviceId = SERVICE_PATH;
    const response = await rawRequest(emulator, "PUT", `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints/pe-raw?api-version=2026-01-01`, {
      body: JSON.stringify({
        location: "westeurope",
        properties: { subnet: { id: SUBNET_ID }, manualPrivateLinkServiceConnections: [{ name: "c", properties: { privateLinkServiceId: serviceId, groupIds: ["Gateway"] } }] },
      }),
    });
    assert.equal(response.status, 201);
    assert.equal((response.json as { properties: { provisioningState: string } }).properties.provisioningState, "Updating");
    const operationUrl = new URL(String(response.headers["azure-asyncoperation"]));
    assert.equal(operationUrl.origin, emulator.url);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const status = await rawRequest(emulator, "GET", `${operationUrl.pathname}${operationUrl.search}`);
    const body = status.json as { id: string; name: string; status: string; startTime: string; endTime: string };
    assert.equal(body.status, "Succeeded");
    assert.equal(body.id, operationUrl.pathname);
    assert.equal(body.name, operationUrl.pathname.split("/").at(-1));
    assert.ok(Date.parse(body.startTime) <= Date.parse(body.endTime), `${body.startTime} .. ${body.endTime}`);
  });
});
