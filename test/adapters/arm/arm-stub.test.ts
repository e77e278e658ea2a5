/**
 * The ARM adapters against answers the emulator never gives: malformed bodies, unknown statuses, exact page
 * boundaries and scripted retries. Real SDK clients over real HTTPS to a scripted stub.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TokenCredential } from "@azure/core-auth";
import { createArmPorts } from "../../../src/adapters/arm/index.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import { startHttpsStub, type StubAnswer, type StubRequest } from "./https-stub.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const SERVICE_ID = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-one`;
const CONNECTION_ID = `${SERVICE_ID}/privateEndpointConnections/pe-one.0001`;
const PE_ID = `/subscriptions/${SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-one`;

function connectionBody(status: unknown, id = CONNECTION_ID): Record<string, unknown> {
  return {
    id,
    name: id.split("/").at(-1),
    type: "Microsoft.ApiManagement/service/privateEndpointConnections",
    properties: {
      privateEndpoint: { id: PE_ID },
      privateLinkServiceConnectionState: { status, description: "from the stub", actionsRequired: "None" },
      provisioningState: "Succeeded",
    },
  };
}

/** The stub checks no token; any bearer will do. */
const STUB_CREDENTIAL: TokenCredential = { getToken: async () => ({ token: "stub-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };

async function withStub(handle: (request: StubRequest, stub: { url: string }) => StubAnswer, run: (ports: ReturnType<typeof createArmPorts>, requests: StubRequest[]) => Promise<void>) {
  const stub = await startHttpsStub(handle);
  try {
    const ports = createArmPorts({
      endpoint: stub.url,
      credential: STUB_CREDENTIAL,
      caPem: stub.caPem,
      maxRetries: 3,
      retryDelayInMs: 5,
      maxRetryDelayInMs: 20,
      pollIntervalInMs: 5,
    });
    await run(ports, stub.requests);
  } finally {
    await stub.close();
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test("an unrecognised connection status is never read as Approved or Pending", async () => {
  await withStub(
    () => ({ status: 200, body: connectionBody("Disconnected") }),
    async (ports) => {
      const connection = await ports.privateLink.getConnection(CONNECTION_ID);
      assert.equal(connection?.status, "Rejected");
      assert.equal(connection?.privateEndpointId, PE_ID);
      assert.deepEqual(connection?.groupIds, ["Gateway"]);
    },
  );
});

test("a connection without a status, or a body that is not JSON, is a clear error and never an approval", async () => {
  const answers: StubAnswer[] = [
    { status: 200, body: { ...connectionBody("Approved"), properties: { provisioningState: "Succeeded" } } },
    { status: 200, body: "{ this is not json" },
  ];
  await withStub(
    () => answers.shift()!,
    async (ports) => {
      await assert.rejects(ports.privateLink.getConnection(CONNECTION_ID), (e: PortcullisError) => {
        assert.equal(e.kind, "internal");
        assert.equal(e.code, "InvalidArmResponse");
        assert.match(e.message, /privateLinkServiceConnectionState/);
        return true;
      });
      await assert.rejects(ports.privateLink.getConnection(CONNECTION_ID), (e: PortcullisError) => e instanceof PortcullisError && e.kind === "internal" && e.code === "PARSE_ERROR");
    },
  );
});

test("a connection listed under an instance it does not belong to is refused", async () => {
  const foreign = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/other/privateEndpointConnections/x`;
  await withStub(
    () => ({ status: 200, body: { value: [connectionBody("Pending", foreign)] } }),
    async (ports) => {
      await assert.rejects(collect(ports.privateLink.listConnections(SERVICE_ID)), (e: PortcullisError) => e.code === "InvalidArmResponse");
    },
  );
});

test("lists are walked page by page, fetching the next page only when the caller gets there", async () => {
  const service = (n: number) => ({
    id: `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-${n}`,
    name: `apim-${n}`,
    location: "westeurope",
    sku: { name: "Developer", capacity: 1 },
    properties: { platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Enabled", provisioningState: "Succeeded" },
  });
  await withStub(
    (request, stub) => {
      const n = Number(new URL(request.url, stub.url).searchParams.get("page") ?? "1");
      const next = `${stub.url}/subscriptions/${SUB}/providers/Microsoft.ApiManagement/service?api-version=2024-05-01&page=${n + 1}`;
      return { status: 200, body: { value: [service(n)], ...(n < 3 ? { nextLink: next } : {}) } };
    },
    async (ports, requests) => {
      for await (const service of ports.apim.listServicesBySubscription(SUB)) {
        assert.equal(service.name, "apim-1");
        break;
      }
      assert.equal(requests.length, 1, "breaking after the first item fetched one page");
      const services = await collect(ports.apim.listServicesBySubscription(SUB));
      assert.deepEqual(services.map((s) => s.name), ["apim-1", "apim-2", "apim-3"]);
      assert.deepEqual(services[0], {
        id: service(1).id,
        name: "apim-1",
        location: "westeurope",
        skuName: "Developer",
        platformVersion: "stv2",
        virtualNetworkType: "None",
        publicNetworkAccess: "Enabled",
        provisioningState: "Succeeded",
      });
      assert.equal(requests.length, 4);
    },
  );
});

test("503s are retried by the SDK and counted; a 403 leaves as forbidden and a 404 as undefined", async () => {
  let calls = 0;
  await withStub(
    (request) => {
      if (request.path.endsWith("/privateEndpoints/denied")) return { status: 403, body: { error: { code: "AuthorizationFailed", message: "no access" } } };
      if (request.path.endsWith("/privateEndpoints/gone")) return { status: 404, body: { error: { code: "ResourceNotFound", message: "gone" } } };
      calls += 1;
      return calls <= 2
        ? { status: 503, body: { error: { code: "ServiceUnavailable", message: "try later" } } }
        : { status: 200, body: connectionBody("Pending") };
    },
    async (ports) => {
      assert.equal((await ports.privateLink.getConnection(CONNECTION_ID))?.status, "Pending");
      const stats = ports.callCounter.snapshot();
      assert.equal(stats.requests, 3);
      assert.equal(stats.serverErrors, 2);
      const denied = PE_ID.replace(/pe-one$/, "denied");
      await assert.rejects(ports.network.getPrivateEndpoint(denied), (e: PortcullisError) => e.kind === "forbidden" && e.code === "AuthorizationFailed");
      assert.equal(await ports.network.getPrivateEndpoint(PE_ID.replace(/pe-one$/, "gone")), undefined);
    },
  );
});

test("an approval in flight can be serialized, resumed elsewhere and awaited to its final state", async () => {
  let pollsLeft = 2;
  await withStub(
    (request, stub) => {
      if (request.method === "PUT") {
        const body = request.body as { id?: string; properties?: { privateLinkServiceConnectionState?: { status?: string; description?: string } } };
        assert.equal(body.id, CONNECTION_ID);
        assert.deepEqual(body.properties?.privateLinkServiceConnectionState, { status: "Approved", description: "rule r1" });
        return { status: 202, headers: { location: `${stub.url}/operations/op1` } };
      }
      if (request.path === "/operations/op1") {
        pollsLeft -= 1;
        return pollsLeft > 0 ? { status: 202, headers: { location: `${stub.url}/operations/op1` } } : { status: 200, body: connectionBody("Approved") };
      }
      return { status: 404, body: { error: { code: "NotFound", message: request.url } } };
    },
    async (ports, requests) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      assert.equal(started.isDone(), false);
      assert.equal(started.result(), undefined);
      const resumed = await ports.privateLink.resumeSetConnectionStatus(started.serialize());
      assert.equal(requests.filter((r) => r.method === "GET").length, 1, "resuming asks ARM once whether it has finished meanwhile");
      assert.equal(resumed.isDone(), false);
      const final = await resumed.pollUntilDone();
      assert.equal(final.status, "Approved");
      assert.equal(resumed.result()?.status, "Approved");
      assert.equal(requests.filter((r) => r.method === "PUT").length, 1, "resuming does not send the PUT again");
      await assert.rejects(ports.privateLink.resumeSetConnectionStatus("{}"), (e: PortcullisError) => e.kind === "invalid-input");
    },
  );
});

/** The stub answers each request with the next scripted answer for its method and path. */
function scripted(script: Record<string, StubAnswer[]>) {
  return (request: StubRequest, stub: { url: string }): StubAnswer => {
    const key = `${request.method} ${request.path}`;
    const answer = script[key]?.shift();
    if (answer === undefined) return { status: 404, body: { error: { code: "NotScripted", message: key } } };
    const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([name, value]) => [name, value.replace("{stub}", stub.url)]));
    return { ...answer, headers };
  };
}

const seen = (requests: StubRequest[]) => requests.map((r) => `${r.method} ${r.path}`);

test("approving sends one PUT through the SDK's pipeline and no poll; pollUntilDone waits ARM's Retry-After before polling", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 202, headers: { location: "{stub}/operations/op2", "retry-after": "1" } }],
      "GET /operations/op2": [{ status: 200, body: connectionBody("Approved") }],
    }),
    async (ports, requests) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      assert.deepEqual(seen(requests), [`PUT ${CONNECTION_ID}`]);
      const put = requests[0]!;
      assert.equal(put.headers["authorization"], "Bearer stub-token");
      assert.match(String(put.headers["user-agent"]), /azsdk-js-arm-resources/); // the generic resources client's pipeline
      assert.equal(new URL(put.url, "https://x").searchParams.get("api-version"), "2024-05-01");

      const waited = performance.now();
      await assert.rejects(started.pollUntilDone({ abortSignal: AbortSignal.timeout(150) }), (e: PortcullisError) => e.kind === "transient");
      assert.ok(performance.now() - waited < 900, "an abort ends the wait at once");
      assert.equal(requests.length, 1, "Retry-After: 1 had not passed, so nothing was polled");

      await started.poll();
      assert.equal(started.result()?.status, "Approved");
      assert.deepEqual(seen(requests), [`PUT ${CONNECTION_ID}`, "GET /operations/op2"]);
      assert.deepEqual(ports.callCounter.snapshot().requestsByMethod, { PUT: 1, GET: 1 });
    },
  );
});

test("Azure-AsyncOperation: polled until Succeeded, then the resource is read for the result", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 201, headers: { "azure-asyncoperation": "{stub}/asyncops/a1" }, body: { ...connectionBody("Pending"), properties: { provisioningState: "Updating" } } }],
      "GET /asyncops/a1": [
        { status: 200, body: { status: "InProgress" } },
        { status: 200, headers: { "azure-asyncoperation": "{stub}/asyncops/a2" }, body: { status: "Running" } },
      ],
      "GET /asyncops/a2": [{ status: 200, body: { status: "Succeeded" } }],
      [`GET ${CONNECTION_ID}`]: [{ status: 200, body: connectionBody("Rejected") }],
    }),
    async (ports, requests) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Rejected", "no rule matches");
      const final = await started.pollUntilDone();
      assert.equal(final.status, "Rejected");
      assert.equal(final.privateEndpointId, PE_ID);
      assert.deepEqual(seen(requests), [`PUT ${CONNECTION_ID}`, "GET /asyncops/a1", "GET /asyncops/a1", "GET /asyncops/a2", `GET ${CONNECTION_ID}`]);
    },
  );
});

test("an operation ARM reports Failed ends done, and its error (code and message) is what result() and pollUntilDone throw", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 202, headers: { "azure-asyncoperation": "{stub}/asyncops/f1" } }],
      "GET /asyncops/f1": [{ status: 200, body: { status: "Failed", error: { code: "PrivateEndpointConnectionUpdateFailed", message: "the update failed" } } }],
    }),
    async (ports) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      const isTheFailure = (e: PortcullisError) => e instanceof PortcullisError && e.code === "PrivateEndpointConnectionUpdateFailed" && e.message === "the update failed";
      await assert.rejects(started.pollUntilDone(), isTheFailure);
      assert.equal(started.isDone(), true);
      assert.throws(() => started.result(), isTheFailure);
    },
  );
});

test("a PUT answered 200 with a terminal provisioningState is done without a poll, and resuming it reads the resource", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 200, body: connectionBody("Approved") }],
      [`GET ${CONNECTION_ID}`]: [{ status: 200, body: connectionBody("Approved") }],
    }),
    async (ports, requests) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      assert.equal(started.isDone(), true);
      assert.equal((await started.pollUntilDone()).status, "Approved");
      assert.equal(requests.length, 1);
      const resumed = await ports.privateLink.resumeSetConnectionStatus(started.serialize());
      assert.equal((await resumed.pollUntilDone()).status, "Approved");
      assert.deepEqual(seen(requests), [`PUT ${CONNECTION_ID}`, `GET ${CONNECTION_ID}`]);
    },
  );
});

test("polls ride out 503s through the SDK's retries; a 404 from the polling URL ends the operation as not-found", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 202, headers: { location: "{stub}/operations/op3" } }],
      "GET /operations/op3": [
        { status: 503, body: { error: { code: "ServiceUnavailable", message: "try later" } } },
        { status: 202, headers: { location: "{stub}/operations/op3" } },
        { status: 404, body: { error: { code: "ResourceNotFound", message: "the connection was deleted meanwhile" } } },
      ],
    }),
    async (ports) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      await started.poll();
      assert.equal(started.isDone(), false, "503 then 202: still running");
      assert.equal(ports.callCounter.snapshot().serverErrors, 1);
      await started.poll();
      assert.equal(started.isDone(), true);
      assert.throws(() => started.result(), (e: PortcullisError) => e.kind === "not-found" && e.code === "ResourceNotFound");
    },
  );
});

test("malformed answers are clear errors, never an approval: a final body without a status, a 202 without a polling URL", async () => {
  await withStub(
    scripted({
      [`PUT ${CONNECTION_ID}`]: [{ status: 202, headers: { location: "{stub}/operations/op4" } }, { status: 202 }],
      "GET /operations/op4": [{ status: 200, body: { ...connectionBody("Approved"), properties: { provisioningState: "Succeeded" } } }],
    }),
    async (ports) => {
      const started = await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1");
      await assert.rejects(started.pollUntilDone(), (e: PortcullisError) => e.code === "InvalidArmResponse" && /privateLinkServiceConnectionState/.test(e.message));
      assert.equal(started.result(), undefined);
      await assert.rejects(ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1"), (e: PortcullisError) => e.code === "InvalidArmResponse");
    },
  );
});

test("the ARM token goes to the ARM endpoint only: a polling URL on another host is refused, from ARM or from a tampered state", async () => {
  await withStub(
    scripted({ [`PUT ${CONNECTION_ID}`]: [{ status: 202, headers: { location: "https://attacker.example/operations/x" } }, { status: 202, headers: { location: "{stub}/operations/op5" } }] }),
    async (ports, requests) => {
      await assert.rejects(ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1"), (e: PortcullisError) => e.code === "InvalidArmResponse" && /attacker\.example/.test(e.message));
      const saved = JSON.parse((await ports.privateLink.beginSetConnectionStatus(CONNECTION_ID, "Approved", "rule r1")).serialize()) as { operation: { pollingUrl: string } };
      saved.operation.pollingUrl = "https://attacker.example/operations/op5";
      await assert.rejects(ports.privateLink.resumeSetConnectionStatus(JSON.stringify(saved)), (e: PortcullisError) => e.kind === "invalid-input");
      assert.equal(requests.length, 2, "only the two PUTs reached ARM");
    },
  );
});

test("Resource Graph: a row that does not parse goes to onUnreadableRow and the listing goes on; without it, the listing fails InvalidArmResponse", async () => {
  const { createResourceGraphInventory } = await import("../../../src/adapters/arm/resource-graph.ts");
  const row = (name: string, status: unknown) => ({
    id: `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/${name}`,
    name,
    type: "microsoft.apimanagement/service",
    location: "westeurope",
    subscriptionId: SUB,
    sku: { name: "Premium" },
    properties: { publicNetworkAccess: "Disabled", privateEndpointConnections: [connectionBody(status, `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/${name}/privateEndpointConnections/pe-${name}.0001`)] },
  });
  const stub = await startHttpsStub(() => ({
    status: 200,
    headers: { "x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05" },
    body: { totalRecords: 3, count: 3, resultTruncated: "false", data: [row("apim-a", "Approved"), row("apim-odd", 42), row("apim-c", "Pending")] },
  }));
  try {
    const inventory = createResourceGraphInventory({ endpoint: stub.url, credential: STUB_CREDENTIAL, caPem: stub.caPem, retryOptions: { maxRetries: 0 } });
    const unreadable: { resourceId: string | undefined; code: string | undefined }[] = [];
    const items = await collect(inventory.resources({ subscriptions: [SUB] }, ["Microsoft.ApiManagement/service"], { onUnreadableRow: (r) => unreadable.push({ resourceId: r.resourceId, code: r.error.code }) }));
    assert.deepEqual(items.map((i) => i.resource.name), ["apim-a", "apim-c"]);
    assert.deepEqual(unreadable, [{ resourceId: `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-odd`, code: "InvalidArmResponse" }]);
    await assert.rejects(collect(inventory.resources({ subscriptions: [SUB] }, ["Microsoft.ApiManagement/service"])), (e: PortcullisError) => e.code === "InvalidArmResponse");
  } finally {
    await stub.close();
  }
});
