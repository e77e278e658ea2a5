/**
 * The emulator refuses what Azure refuses and answers as Azure answers (issue 11, section 2). Each test names the
 * azure-rest-api-specs file (or the DOMAIN.md correction) it follows; where nothing is published the test says so.
 */
import assert from "node:assert/strict";
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import { after, before, beforeEach, describe, it } from "node:test";
import { API_VERSIONS } from "../../../dev/arm-emulator/api-versions.ts";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import {
  APIM_RG,
  clients,
  CONSUMER_RG,
  CONSUMER_SUB,
  createEndpoint,
  DNS_RG,
  errorCode,
  FAST_POLL,
  HUB_SUB,
  PROVIDER_SUB,
  rawRequest,
  serviceId,
  SUBNET_ID,
  testTopology,
  ZONE,
  ZONE_ID,
  type RawResponse,
} from "./helpers.ts";

const SERVICE = serviceId("Contoso-Apim");
const APIM = "api-version=2024-05-01";
const NET = "api-version=2026-01-01";
const DNS = "api-version=2024-06-01";
const peUrl = (name: string) => `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints/${name}`;
const ZONE_PATH = `/subscriptions/${HUB_SUB}/resourceGroups/${DNS_RG}/providers/Microsoft.Network/privateDnsZones/${ZONE}`;

function json(response: RawResponse): Record<string, unknown> {
  return response.json as Record<string, unknown>;
}

function peBody(extra: Record<string, unknown> = {}, properties: Record<string, unknown> = {}): string {
  return JSON.stringify({
    location: "westeurope",
    ...extra,
    properties: {
      subnet: { id: SUBNET_ID },
      manualPrivateLinkServiceConnections: [{ name: "c", properties: { privateLinkServiceId: SERVICE, groupIds: ["Gateway"], requestMessage: "hi" } }],
      ...properties,
    },
  });
}

/** Creates a manual endpoint over raw HTTP, waits for its operation, and returns the APIM connection's id and name. */
async function pendingConnection(emulator: ArmEmulator, name = "pe-strict"): Promise<{ id: string; name: string }> {
  const created = await rawRequest(emulator, "PUT", `${peUrl(name)}?${NET}`, { body: peBody() });
  assert.equal(created.status, 201, created.text);
  const list = await rawRequest(emulator, "GET", `${SERVICE}/privateEndpointConnections?${APIM}`);
  const conn = (json(list)["value"] as { id: string; name: string }[]).find((c) => c.name.startsWith(`${name}.`));
  assert.ok(conn, list.text);
  return conn;
}

function approveBody(id: string | undefined, status = "Approved", extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...(id === undefined ? {} : { id }), properties: { privateLinkServiceConnectionState: { status, description: "by test", ...extra } } });
}

/** Drives an LRO to its end over raw HTTP (Location polling). */
async function settle(emulator: ArmEmulator, response: RawResponse): Promise<RawResponse> {
  let current = response;
  for (let i = 0; i < 200 && current.status === 202; i++) {
    const location = new URL(String(current.headers["location"]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    current = await rawRequest(emulator, "GET", `${location.pathname}${location.search}`);
  }
  return current;
}

describe("ARM emulator strictness: api-versions (every published version of each resource type; others 400)", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 0 });
    emulator.throttle.configure({ ...emulator.throttle.config(), enabled: false });
  });
  after(() => emulator.close());

  /** One GET per published version, through an SDK client's pipeline (its bearer token, kept-alive connections). */
  async function statusesFor(path: string, versions: readonly string[]): Promise<Map<string, number>> {
    const client = clients(emulator).apim;
    const statuses = new Map<string, number>();
    for (let i = 0; i < versions.length; i += 10) {
      const batch = versions.slice(i, i + 10);
      const answers = await Promise.all(
        batch.map((version) => client.sendRequest(createPipelineRequest({ url: `${emulator.url}${path}?api-version=${version}`, method: "GET" }))),
      );
      answers.forEach((answer, j) => statuses.set(batch[j]!, answer.status));
    }
    return statuses;
  }

  const cases: { type: keyof typeof API_VERSIONS; spec: string; path: () => Promise<string> }[] = [
    {
      type: "Microsoft.ApiManagement/service",
      spec: "specification/apimanagement/resource-manager/Microsoft.ApiManagement/ApiManagement/readme.md (stable/2016-07-07 … 2024-05-01, previews)",
      path: async () => SERVICE,
    },
    {
      type: "Microsoft.ApiManagement/service/privateEndpointConnections",
      spec: "…/Microsoft.ApiManagement/{stable,preview}/<v>/apimprivatelink.json (since 2021-04-01-preview / 2021-08-01)",
      path: async () => `${SERVICE}/privateEndpointConnections`,
    },
    {
      type: "Microsoft.ApiManagement/service/privateLinkResources",
      spec: "…/apimprivatelink.json",
      path: async () => `${SERVICE}/privateLinkResources/Gateway`,
    },
    {
      type: "Microsoft.Network/privateEndpoints",
      spec: "specification/network/resource-manager/Microsoft.Network/stable/<v>/privateEndpoint.json (2019-04-01 … 2026-01-01)",
      path: async () => `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints`,
    },
    {
      type: "Microsoft.Network/networkInterfaces",
      spec: "specification/network/resource-manager/Microsoft.Network/stable/<v>/networkInterface.json (since 2015-06-15)",
      path: async () => {
        const pe = await createEndpoint(clients(emulator).network, "pe-versions", "Contoso-Apim");
        return pe.networkInterfaces![0]!.id!;
      },
    },
    {
      type: "Microsoft.Network/virtualNetworks",
      spec: "specification/network/resource-manager/Microsoft.Network/stable/<v>/virtualNetwork.json (since 2015-06-15)",
      path: async () => `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-app`,
    },
    {
      type: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
      spec: "…/Microsoft.Network/stable/<v>/privateEndpoint.json (privateDnsZoneGroups since 2020-03-01)",
      path: async () => `${(await createEndpoint(clients(emulator).network, "pe-versions-zg", "Contoso-Apim")).id!}/privateDnsZoneGroups`,
    },
    {
      type: "Microsoft.Network/privateDnsZones",
      spec: "specification/privatedns/resource-manager/Microsoft.Network/stable/{2018-09-01,2020-01-01,2020-06-01,2024-06-01}/privatedns.json",
      path: async () => ZONE_PATH,
    },
  ];

  for (const c of cases) {
    it(`accepts all ${API_VERSIONS[c.type].length} published api-versions of ${c.type} (${c.spec})`, async () => {
      const statuses = await statusesFor(await c.path(), API_VERSIONS[c.type]);
      const refused = [...statuses].filter(([, status]) => status !== 200);
      assert.deepEqual(refused, [], `refused: ${refused.map(([v, s]) => `${v}=${s}`).join(", ")}`);
    });
  }

  it("refuses a version not published for the resource type with 400 InvalidApiVersionParameter listing the published ones", async () => {
    const unknown = await rawRequest(emulator, "GET", `${SERVICE}?api-version=2024-05-02`);
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), "InvalidApiVersionParameter");
    assert.match(String((json(unknown)["error"] as { message: string }).message), /2016-07-07/);
    // 2021-01-01-preview publishes the service but not apimprivatelink.json: connections do not exist in it.
    const tooOld = await rawRequest(emulator, "GET", `${SERVICE}/privateEndpointConnections?api-version=2021-01-01-preview`);
    assert.equal(errorCode(tooOld), "InvalidApiVersionParameter");
    assert.equal((await rawRequest(emulator, "GET", `${SERVICE}?api-version=2021-01-01-preview`)).status, 200);
    // 2019-02-01 publishes networkInterfaces but not privateEndpoints (first in 2019-04-01).
    const noEndpoints = await rawRequest(emulator, "GET", `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints?api-version=2019-02-01`);
    assert.equal(errorCode(noEndpoints), "InvalidApiVersionParameter");
    // A Private DNS version is not a Network version and the other way round.
    assert.equal(errorCode(await rawRequest(emulator, "GET", `${ZONE_PATH}?api-version=2024-05-01`)), "InvalidApiVersionParameter");
  });
});

describe("ARM emulator strictness: request bodies", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 0 });
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("answers 415 UnsupportedMediaType to PUT/PATCH without a JSON Content-Type (DOMAIN.md corrections; ARM RPC)", async () => {
    const plain = await rawRequest(emulator, "PUT", `${peUrl("pe-415")}?${NET}`, { body: peBody(), headers: { "content-type": "text/plain" } });
    assert.equal(plain.status, 415);
    assert.equal(errorCode(plain), "UnsupportedMediaType");
    const form = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, {
      body: JSON.stringify({ tags: { a: "b" } }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(form.status, 415);
    const none = await rawRequest(emulator, "PUT", `${ZONE_PATH}/A/x?${DNS}`, { body: JSON.stringify({ properties: { ttl: 1 } }), headers: { "content-type": "" } });
    assert.equal(none.status, 415);
    assert.equal(emulator.snapshot() !== undefined && (await rawRequest(emulator, "GET", `${ZONE_PATH}/A/x?${DNS}`)).status, 404, "nothing was written");
    const withCharset = await rawRequest(emulator, "PUT", `${ZONE_PATH}/A/x?${DNS}`, {
      body: JSON.stringify({ properties: { ttl: 1, aRecords: [{ ipv4Address: "10.0.0.9" }] } }),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    assert.equal(withCharset.status, 201);
  });

  it("Network refuses unknown members and invalid enum values with 400 InvalidRequestFormat (privateEndpoint.json)", async () => {
    const unknown = await rawRequest(emulator, "PUT", `${peUrl("pe-unknown")}?${NET}`, { body: peBody({}, { privateIpAddress: "10.10.1.9" }) });
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), "InvalidRequestFormat");
    assert.match(unknown.text, /privateIpAddress/);
    const badEnum = await rawRequest(emulator, "PUT", `${peUrl("pe-enum")}?${NET}`, { body: peBody({}, { ipVersionType: "IPv5" }) });
    assert.equal(errorCode(badEnum), "InvalidRequestFormat");
    const topLevel = await rawRequest(emulator, "PUT", `${peUrl("pe-top")}?${NET}`, { body: peBody({ sku: { name: "Standard" } }) });
    assert.equal(errorCode(topLevel), "InvalidRequestFormat");
    assert.equal((await rawRequest(emulator, "GET", `${peUrl("pe-unknown")}?${NET}`)).status, 404, "nothing was created");
  });

  it("Network refuses writable members it does not model instead of dropping them, and ignores read-only ones it echoes", async () => {
    const dns = await rawRequest(emulator, "PUT", `${peUrl("pe-dns")}?${NET}`, { body: peBody({}, { customDnsConfigs: [{ fqdn: "x.example", ipAddresses: ["10.0.0.1"] }] }) });
    assert.equal(dns.status, 400);
    assert.equal(errorCode(dns), "PropertyChangeNotEmulated");
    const echoed = await rawRequest(emulator, "PUT", `${peUrl("pe-echo")}?${NET}`, {
      body: peBody({ etag: 'W/"x"', type: "Microsoft.Network/privateEndpoints" }, { provisioningState: "Succeeded", networkInterfaces: [] }),
    });
    assert.equal(echoed.status, 201, echoed.text);
  });

  it("APIM refuses members PrivateEndpointConnectionRequest does not have and statuses outside its enum (apimprivatelink.json, definitions.json)", async () => {
    const conn = await pendingConnection(emulator);
    const extra = await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, {
      body: JSON.stringify({ id: conn.id, properties: { privateLinkServiceConnectionState: { status: "Approved" }, groupIds: ["Gateway"] } }),
    });
    assert.equal(extra.status, 400);
    assert.equal(errorCode(extra), "ValidationError");
    const badStatus = await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, { body: approveBody(conn.id, "Approve") });
    assert.equal(errorCode(badStatus), "ValidationError");
    const pna = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, { body: JSON.stringify({ properties: { publicNetworkAccess: "Sometimes" } }) });
    assert.equal(errorCode(pna), "ValidationError");
    const view = await rawRequest(emulator, "GET", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`);
    assert.equal((json(view)["properties"] as { privateLinkServiceConnectionState: { status: string } }).privateLinkServiceConnectionState.status, "Pending");
  });

  it("Private DNS refuses unknown members and other record types in an A record set, ignores read-only ones (privatedns.json 2024-06-01)", async () => {
    const unknown = await rawRequest(emulator, "PUT", `${ZONE_PATH}/A/y?${DNS}`, { body: JSON.stringify({ properties: { ttl: 5, aRecords: [], weight: 3 } }) });
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), "BadRequest");
    const cname = await rawRequest(emulator, "PUT", `${ZONE_PATH}/A/y?${DNS}`, { body: JSON.stringify({ properties: { ttl: 5, cnameRecord: { cname: "x" } } }) });
    assert.equal(errorCode(cname), "BadRequest");
    const readOnly = await rawRequest(emulator, "PUT", `${ZONE_PATH}/A/y?${DNS}`, {
      body: JSON.stringify({ name: "y", type: "Microsoft.Network/privateDnsZones/A", properties: { ttl: 5, fqdn: "y.example.", isAutoRegistered: true, aRecords: [{ ipv4Address: "10.0.0.2" }] } }),
    });
    assert.equal(readOnly.status, 201, readOnly.text);
    assert.equal((json(readOnly)["properties"] as { isAutoRegistered: boolean }).isAutoRegistered, false, "read-only isAutoRegistered is ignored");
  });
});

describe("ARM emulator strictness: the APIM service PATCH applies what it accepts (apimanagement.json 2024-05-01, ApiManagementServiceUpdateParameters)", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 0 });
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("applies tags, publisher details, identity, zones and custom hostnames, visible in the next GET", async () => {
    const { apim } = clients(emulator);
    const updated = await apim.apiManagementService.beginUpdateAndWait(
      APIM_RG,
      "Contoso-Apim",
      {
        tags: { owner: "platform" },
        publisherName: "Contoso Platform",
        publisherEmail: "platform@contoso.example",
        notificationSenderEmail: "noreply@contoso.example",
        identity: { type: "SystemAssigned" },
        zones: ["1", "2"],
        hostnameConfigurations: [
          {
            type: "Proxy",
            hostName: "api.contoso.example",
            keyVaultId: "https://kv-contoso.vault.azure.net/secrets/api-contoso",
            certificate: { expiry: new Date("2027-06-30T00:00:00Z"), thumbprint: "A1B2C3", subject: "CN=api.contoso.example" },
          },
        ],
      },
      FAST_POLL,
    );
    const got = await apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
    for (const svc of [updated, got]) {
      assert.deepEqual(svc.tags, { owner: "platform" });
      assert.equal(svc.publisherName, "Contoso Platform");
      assert.equal(svc.notificationSenderEmail, "noreply@contoso.example");
      assert.equal(svc.identity?.type, "SystemAssigned");
      assert.match(String(svc.identity?.principalId), /^[0-9a-f-]{36}$/);
      assert.deepEqual(svc.zones, ["1", "2"]);
      const custom = svc.hostnameConfigurations?.find((h) => h.hostName === "api.contoso.example");
      assert.equal(custom?.certificateSource, "KeyVault");
      assert.equal(custom?.certificate?.thumbprint, "A1B2C3");
    }
  });

  it("refuses a writable property it does not model (400 PropertyChangeNotEmulated) and changes nothing", async () => {
    const response = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, {
      body: JSON.stringify({ tags: { a: "b" }, properties: { virtualNetworkType: "External" } }),
    });
    assert.equal(response.status, 400);
    assert.equal(errorCode(response), "PropertyChangeNotEmulated");
    const svc = await clients(emulator).apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
    assert.deepEqual(svc.tags, {});
    assert.equal(svc.virtualNetworkType, "None");
  });

  it("refuses members the spec does not have (400 ValidationError) and ignores read-only ones echoed from a GET", async () => {
    const unknown = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, { body: JSON.stringify({ properties: { publicAccess: "Disabled" } }) });
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), "ValidationError");
    const echoed = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, {
      body: JSON.stringify({ properties: { gatewayUrl: "https://elsewhere.example", platformVersion: "stv1", publisherName: "Echo" } }),
    });
    assert.equal(echoed.status, 200, echoed.text);
    const props = json(echoed)["properties"] as { gatewayUrl: string; platformVersion: string; publisherName: string };
    assert.equal(props.gatewayUrl, "https://contoso-apim.azure-api.net");
    assert.equal(props.platformVersion, "stv2");
    assert.equal(props.publisherName, "Echo");
  });

  it("answers the PATCH 202 with Location and Azure-AsyncOperation on the operationresults URL (ApiManagementUpdateServicePublisherDetails.json)", async () => {
    const slow = await startArmEmulator({ topology: testTopology(), lroDelayMs: 0, lroRetryAfterSeconds: 1 });
    try {
      slow.operations.configure({ hold: true });
      const response = await rawRequest(slow, "PATCH", `${SERVICE}?${APIM}`, { body: JSON.stringify({ properties: { publisherName: "Later" } }) });
      assert.equal(response.status, 202);
      const location = String(response.headers["location"]);
      assert.equal(response.headers["azure-asyncoperation"], location);
      assert.match(new URL(location).pathname, /\/service\/Contoso-Apim\/operationresults\/[0-9a-f-]{36}$/);
      assert.equal(response.headers["retry-after"], "1");
      const status = json(response);
      assert.equal(status["status"], "InProgress");
      assert.equal(status["id"], new URL(location).pathname);
      assert.match(String(status["name"]), /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(String(status["startTime"]))));
      // OperationStatus_Get (operationStatuses.json 2024-05-01) answers for the same operation.
      const byLocation = await rawRequest(slow, "GET", `/subscriptions/${PROVIDER_SUB}/providers/Microsoft.ApiManagement/locations/westeurope/operationStatuses/${status["name"]}?${APIM}`);
      assert.equal(byLocation.status, 200);
      assert.equal(json(byLocation)["status"], "InProgress");
      const during = await clients(slow).apim.apiManagementService.get(APIM_RG, "Contoso-Apim");
      assert.equal(during.provisioningState, "Updating");
      slow.operations.configure({ hold: false });
      slow.operations.release();
      const done = await rawRequest(slow, "GET", `${new URL(location).pathname}${new URL(location).search}`);
      assert.equal(done.status, 200);
      assert.equal((json(done)["properties"] as { publisherName: string }).publisherName, "Later");
    } finally {
      await slow.close();
    }
  });
});

describe("ARM emulator strictness: operations in flight and state transitions", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: testTopology(), lroDelayMs: 0, lroRetryAfterSeconds: 2 });
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  async function control(method: string, path: string, body?: unknown): Promise<RawResponse> {
    return rawRequest(emulator, method, `/_emulator${path}`, body === undefined ? { token: null } : { token: null, body: JSON.stringify(body) });
  }

  it("holds an approval in flight through the control API; a second write to the connection gets 409 Conflict until it is released (DOMAIN.md corrections)", async () => {
    const conn = await pendingConnection(emulator);
    assert.equal((await control("PUT", "/operations/settings", { hold: true })).status, 200);
    const first = await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, { body: approveBody(conn.id) });
    assert.equal(first.status, 202);
    assert.equal(first.headers["retry-after"], "2", "APIM's 202 carries Retry-After when the emulator is told the RP's value");
    const listed = json(await control("GET", "/operations")) as unknown as { id: string; resourceId: string; status: string; held: boolean }[];
    const held = listed.find((o) => o.resourceId === conn.id);
    assert.equal(held?.status, "InProgress");
    assert.equal(held?.held, true);

    const second = await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, { body: approveBody(conn.id, "Rejected") });
    assert.equal(second.status, 409);
    assert.equal(errorCode(second), "Conflict");
    const deleting = await rawRequest(emulator, "DELETE", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`);
    assert.equal(deleting.status, 409);
    const during = json(await rawRequest(emulator, "GET", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`))["properties"] as {
      provisioningState: string;
      privateLinkServiceConnectionState: { status: string };
    };
    assert.equal(during.provisioningState, "Updating");
    assert.equal(during.privateLinkServiceConnectionState.status, "Pending");

    assert.equal((await control("PUT", "/operations/settings", { hold: false })).status, 200);
    assert.deepEqual(json(await control("POST", "/operations/release")), { released: 1 });
    const final = await settle(emulator, first);
    assert.equal(final.status, 200);
    assert.equal((json(final)["properties"] as { privateLinkServiceConnectionState: { status: string } }).privateLinkServiceConnectionState.status, "Approved");
    const again = await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, { body: approveBody(conn.id, "Rejected") });
    assert.equal(again.status, 200, "once the operation is over the connection can be written again");
  });

  it("completes one held operation on demand (POST /_emulator/operations/{id}/complete)", async () => {
    const conn = await pendingConnection(emulator);
    emulator.operations.configure({ hold: true });
    await rawRequest(emulator, "PUT", `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`, { body: approveBody(conn.id) });
    const op = emulator.operations.list().find((o) => o.resourceId === conn.id)!;
    assert.equal((await control("POST", `/operations/${op.id}/complete`)).status, 204);
    assert.equal((await control("POST", `/operations/${op.id}/complete`)).status, 404);
    const { apim } = clients(emulator);
    assert.equal((await apim.privateEndpointConnectionOperations.getByName(APIM_RG, "Contoso-Apim", conn.name)).privateLinkServiceConnectionState?.status, "Approved");
  });

  it("Network answers a PUT during the endpoint's operation with 429 RetryableErrorDueToAnotherOperation + Retry-After, a DELETE or zone-group PUT with 409 AnotherOperationInProgress", async () => {
    emulator.operations.configure({ hold: true });
    const created = await rawRequest(emulator, "PUT", `${peUrl("pe-busy")}?${NET}`, { body: peBody() });
    assert.equal(created.status, 201);
    assert.equal(created.headers["retry-after"], "2", "the 201 carries Retry-After when configured");
    const update = await rawRequest(emulator, "PUT", `${peUrl("pe-busy")}?${NET}`, { body: peBody({ tags: { a: "b" } }) });
    assert.equal(update.status, 429);
    assert.equal(errorCode(update), "RetryableErrorDueToAnotherOperation");
    assert.ok(Number(update.headers["retry-after"]) >= 1);
    const removal = await rawRequest(emulator, "DELETE", `${peUrl("pe-busy")}?${NET}`);
    assert.equal(removal.status, 409);
    assert.equal(errorCode(removal), "AnotherOperationInProgress");
    const group = await rawRequest(emulator, "PUT", `${peUrl("pe-busy")}/privateDnsZoneGroups/default?${NET}`, {
      body: JSON.stringify({ properties: { privateDnsZoneConfigs: [{ name: "z", properties: { privateDnsZoneId: ZONE_ID } }] } }),
    });
    assert.equal(group.status, 409);
    assert.equal(errorCode(group), "AnotherOperationInProgress");
    emulator.operations.configure({ hold: false });
    emulator.operations.release();
    const deleted = await rawRequest(emulator, "DELETE", `${peUrl("pe-busy")}?${NET}`);
    assert.equal(deleted.status, 202);
    assert.equal(deleted.headers["retry-after"], "2", "the DELETE 202 carries Retry-After when configured");
  });

  it("refuses Rejected -> Approved, allows Pending -> Approved -> Rejected (nothing published for APIM: an inference, see state.ts)", async () => {
    const conn = await pendingConnection(emulator);
    const url = `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`;
    assert.equal((await rawRequest(emulator, "PUT", url, { body: approveBody(conn.id, "Approved") })).status, 200);
    assert.equal((await rawRequest(emulator, "PUT", url, { body: approveBody(conn.id, "Rejected") })).status, 200);
    const reapprove = await rawRequest(emulator, "PUT", url, { body: approveBody(conn.id, "Approved") });
    assert.equal(reapprove.status, 400);
    assert.equal(errorCode(reapprove), "PrivateEndpointConnectionStatusTransitionNotAllowed");
    const pending = await rawRequest(emulator, "PUT", url, { body: approveBody(conn.id, "Pending") });
    assert.equal(pending.status, 400);
  });

  it("refuses the approve/reject PUT without the connection id, or with another connection's id: 400 ApproveOrRejectPrivateEndpointConnectionBadRequest (DOMAIN.md corrections)", async () => {
    const conn = await pendingConnection(emulator);
    const url = `${SERVICE}/privateEndpointConnections/${conn.name}?${APIM}`;
    const missing = await rawRequest(emulator, "PUT", url, { body: approveBody(undefined) });
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing), "ApproveOrRejectPrivateEndpointConnectionBadRequest");
    assert.match(missing.text, /Request ID is unexpected null/);
    const other = await rawRequest(emulator, "PUT", url, { body: approveBody(`${SERVICE}/privateEndpointConnections/someone-else`) });
    assert.equal(errorCode(other), "ApproveOrRejectPrivateEndpointConnectionBadRequest");
    const caseInsensitive = await rawRequest(emulator, "PUT", url, { body: approveBody(conn.id.toUpperCase().replace("/SUBSCRIPTIONS/", "/subscriptions/")) });
    assert.equal(caseInsensitive.status, 200, "resource ids compare case-insensitively");
  });

  it("refuses publicNetworkAccess Disabled without an approved connection with 400 NotSupported (azure-rest-api-specs issue 24947)", async () => {
    const response = await rawRequest(emulator, "PATCH", `${SERVICE}?${APIM}`, { body: JSON.stringify({ properties: { publicNetworkAccess: "Disabled" } }) });
    assert.equal(response.status, 400);
    assert.equal(errorCode(response), "NotSupported");
    assert.match(response.text, /Private Endpoint Connection/);
  });
});

describe("ARM emulator strictness: Private DNS (privatedns.json 2024-06-01)", () => {
  let emulator: ArmEmulator;
  before(async () => {
    const topology = testTopology();
    const hub = topology.subscriptions!.find((s) => s.id === HUB_SUB)!;
    const zone = hub.resourceGroups![0]!.privateDnsZones![0]!;
    zone.tags = { owner: "dns-team" };
    zone.virtualNetworkLinks = [
      { ...zone.virtualNetworkLinks![0]!, tags: { spoke: "app" } },
      {
        name: "link-new",
        virtualNetworkId: `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-new`,
        virtualNetworkLinkState: "InProgress",
      },
    ];
    emulator = await startArmEmulator({ topology, lroDelayMs: 0 });
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("ignores If-None-Match values other than '*' (\"Other values will be ignored\") and refuses '*' on an existing set with 412", async () => {
    const { dns } = clients(emulator);
    const updated = await dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "existing", { ttl: 60, aRecords: [{ ipv4Address: "10.1.2.4" }] }, { ifNoneMatch: '"some-etag"' });
    assert.deepEqual(updated.aRecords?.map((r) => r.ipv4Address), ["10.1.2.4"]);
    await assert.rejects(
      dns.recordSets.createOrUpdate(DNS_RG, ZONE, "A", "existing", { ttl: 60, aRecords: [] }, { ifNoneMatch: "*" }),
      (e: { statusCode?: number }) => e.statusCode === 412,
    );
  });

  it("zones and virtual network links carry their tags; a link can be InProgress (virtualNetworkLinkState)", async () => {
    const { dns } = clients(emulator);
    const zone = await dns.privateZones.get(DNS_RG, ZONE);
    assert.deepEqual(zone.tags, { owner: "dns-team" });
    const links = new Map<string, { tags?: Record<string, string>; virtualNetworkLinkState?: string }>();
    for await (const link of dns.virtualNetworkLinks.list(DNS_RG, ZONE)) links.set(link.name!, { tags: link.tags, virtualNetworkLinkState: link.virtualNetworkLinkState });
    assert.deepEqual(links.get("link-app"), { tags: { spoke: "app" }, virtualNetworkLinkState: "Completed" });
    assert.deepEqual(links.get("link-new"), { tags: {}, virtualNetworkLinkState: "InProgress" });
  });
});
