import { test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { Readable } from "node:stream";
import type { HttpFunctionDefinition } from "../../../src/functions/definition.ts";
import { startTestHost } from "./host-fixture.ts";

/** Echoes what the handler received, so tests see the request exactly as a handler does. */
const echo: HttpFunctionDefinition = {
  kind: "http",
  name: "echo",
  route: "echo/{id:int}/{*rest}",
  methods: ["GET", "POST"],
  authLevel: "anonymous",
  handler: async (request, context) => {
    context.log("echoing", request.method);
    return {
      jsonBody: {
        method: request.method,
        url: request.url,
        params: request.params,
        query: Object.fromEntries(request.query),
        body: await request.text(),
        contentType: request.headers.get("content-type"),
        functionName: context.functionName,
        invocationId: context.invocationId,
      },
    };
  },
};

const ok = (name: string, authLevel: HttpFunctionDefinition["authLevel"]): HttpFunctionDefinition => ({
  kind: "http",
  name,
  route: name,
  methods: ["GET"],
  authLevel,
  handler: async () => ({ body: `hello from ${name}` }),
});

test("HTTP trigger: route values, query and the raw body reach the handler; malformed JSON stays text", async (t) => {
  const host = await startTestHost(t, { definitions: [echo] });
  const response = await fetch(`${host.url}/api/echo/42/a/b%20c?x=1&x=2&y=z`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  const seen = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(seen["params"], { id: "42", rest: "a/b c" });
  assert.deepEqual(seen["query"], { x: "1,2", y: "z" });
  assert.equal(seen["body"], "{not json");
  assert.equal(seen["contentType"], "application/json");
  assert.equal(seen["method"], "POST");
  assert.equal(seen["url"], `${host.url}/api/echo/42/a/b%20c?x=1&x=2&y=z`);
  assert.equal(seen["functionName"], "echo");
  assert.match(String(seen["invocationId"]), /^[0-9a-f-]{36}$/);
  assert.ok(host.lines.some((l) => l.includes("Functions.echo information: echoing POST")), "context.log reaches the console");
  assert.ok(
    host.lines.some((l) => new RegExp(`Executed 'Functions\\.echo' \\(Succeeded, Trigger=httpTrigger, Id=${String(seen["invocationId"])}, Duration=\\d+ms\\)`).test(l)),
    "one summary line per invocation",
  );
});

test("HTTP trigger: a constraint that fails, an unknown route and a method not listed all answer 404", async (t) => {
  const host = await startTestHost(t, { definitions: [echo] });
  assert.equal((await fetch(`${host.url}/api/echo/not-a-number/x`)).status, 404);
  assert.equal((await fetch(`${host.url}/api/nothing-here`)).status, 404);
  assert.equal((await fetch(`${host.url}/elsewhere`)).status, 404);
  assert.equal((await fetch(`${host.url}/api/echo/1/x`, { method: "DELETE" })).status, 404);
});

test("HTTP trigger: the most specific route wins, whatever the table order", async (t) => {
  const route = (name: string, template: string): HttpFunctionDefinition => ({
    kind: "http", name, route: template, methods: ["GET"], authLevel: "anonymous", handler: async () => ({ body: name }),
  });
  const host = await startTestHost(t, {
    definitions: [route("anything", "items/{*rest}"), route("byName", "items/{name}"), route("byId", "items/{id:int}"), route("special", "items/special")],
  });
  const hit = async (path: string): Promise<string> => (await fetch(`${host.url}/api/${path}`)).text();
  assert.equal(await hit("items/special"), "special");
  assert.equal(await hit("items/7"), "byId");
  assert.equal(await hit("items/seven"), "byName");
  assert.equal(await hit("items/a/b"), "anything");
});

test("HTTP trigger: auth levels take the keys the real host accepts, and nothing else", async (t) => {
  const host = await startTestHost(t, {
    definitions: [ok("open", "anonymous"), ok("guarded", "function"), ok("other", "function"), ok("adminOnly", "admin")],
  });
  const status = async (name: string, key?: string): Promise<number> =>
    (await fetch(`${host.url}/api/${name}`, key === undefined ? {} : { headers: { "x-functions-key": key } })).status;
  const { master, defaultFunctionKey, eventGridSystemKey, functionKeys } = host.keys;

  assert.equal(await status("open"), 200);
  assert.equal(await status("open", "wrong"), 200);

  assert.equal(await status("guarded"), 401);
  assert.equal(await status("guarded", "wrong"), 401);
  assert.equal(await status("guarded", functionKeys["guarded"]), 200);
  assert.equal(await status("guarded", defaultFunctionKey), 200);
  assert.equal(await status("guarded", master), 200);
  assert.equal(await status("guarded", functionKeys["other"]), 401, "another function's key");
  assert.equal(await status("guarded", eventGridSystemKey), 401, "a system key is not a function key");

  assert.equal(await status("adminOnly"), 401);
  assert.equal(await status("adminOnly", defaultFunctionKey), 401);
  assert.equal(await status("adminOnly", functionKeys["adminOnly"]), 401);
  assert.equal(await status("adminOnly", master), 200);
});

test("HTTP trigger: the key may come in the code query parameter, but a present header wins", async (t) => {
  const host = await startTestHost(t, { definitions: [ok("guarded", "function")], keys: { defaultFunctionKey: "good-key" } });
  assert.equal(host.keys.defaultFunctionKey, "good-key");
  assert.equal((await fetch(`${host.url}/api/guarded?code=good-key`)).status, 200);
  assert.equal((await fetch(`${host.url}/api/guarded?code=bad-key`)).status, 401);
  assert.equal((await fetch(`${host.url}/api/guarded?code=good-key`, { headers: { "x-functions-key": "bad-key" } })).status, 401);
  assert.equal((await fetch(`${host.url}/api/guarded?code=bad-key`, { headers: { "x-functions-key": "good-key" } })).status, 200);
});

test("HTTP trigger: a handler that throws gets a 500 with no error detail, and the failure is logged", async (t) => {
  const host = await startTestHost(t, {
    definitions: [{
      kind: "http", name: "boom", route: "boom", methods: ["GET"], authLevel: "anonymous",
      handler: async () => {
        throw new Error("secret internals at /srv/app.ts:12");
      },
    }],
  });
  const response = await fetch(`${host.url}/api/boom`);
  assert.equal(response.status, 500);
  assert.equal(await response.text(), "");
  assert.ok(host.lines.some((l) => /Executed 'Functions\.boom' \(Failed, Trigger=httpTrigger, Id=[0-9a-f-]{36}, Duration=\d+ms\)/.test(l)));
  assert.ok(host.lines.some((l) => l.includes("secret internals")), "the console gets the error");
});

test("HTTP trigger: responses are serialized as the library does (status, headers, cookies, bytes, streams, 204)", async (t) => {
  const respond = (name: string, init: () => unknown): HttpFunctionDefinition => ({
    kind: "http", name, route: name, methods: ["GET"], authLevel: "anonymous",
    handler: async () => init() as never,
  });
  const host = await startTestHost(t, {
    definitions: [
      respond("created", () => ({
        status: 201,
        headers: { location: "/things/1", "x-custom": "yes" },
        cookies: [{ name: "session", value: "a b;c", path: "/", httpOnly: true, secure: true, sameSite: "Lax", maxAge: 60 }],
        jsonBody: { id: 1 },
      })),
      respond("bytes", () => ({ body: new Uint8Array([0, 1, 2, 255]), headers: { "content-type": "application/octet-stream" } })),
      respond("stream", () => ({ body: Readable.from([Buffer.from("chunk-1,"), Buffer.from("chunk-2")]) })),
      respond("plain", () => ({ body: "just text" })),
      respond("empty", () => ({ status: 204, body: "dropped" })),
      respond("badStatus", () => ({ status: 99 })),
    ],
  });
  const created = await fetch(`${host.url}/api/created`);
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("location"), "/things/1");
  assert.equal(created.headers.get("x-custom"), "yes");
  assert.equal(created.headers.get("content-type"), "application/json");
  assert.deepEqual(created.headers.getSetCookie(), ["session=a%20b%3Bc; max-age=60; path=/; secure; samesite=lax; httponly"]);
  assert.deepEqual(await created.json(), { id: 1 });

  const bytes = await fetch(`${host.url}/api/bytes`);
  assert.deepEqual([...new Uint8Array(await bytes.arrayBuffer())], [0, 1, 2, 255]);

  assert.equal(await (await fetch(`${host.url}/api/stream`)).text(), "chunk-1,chunk-2");

  const plain = await fetch(`${host.url}/api/plain`);
  assert.equal(plain.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert.equal(await plain.text(), "just text");

  const empty = await fetch(`${host.url}/api/empty`);
  assert.equal(empty.status, 204);
  assert.equal(await empty.text(), "");

  assert.equal((await fetch(`${host.url}/api/badStatus`)).status, 500, "a status the library refuses fails the invocation");
});

test("HTTP trigger: bodies over the limit get 413, whether announced or streamed", async (t) => {
  const host = await startTestHost(t, { definitions: [echo], maxRequestBodyBytes: 1024 });
  const atLimit = await fetch(`${host.url}/api/echo/1/x`, { method: "POST", body: "a".repeat(1024) });
  assert.equal(atLimit.status, 200);

  const announced = await fetch(`${host.url}/api/echo/1/x`, { method: "POST", body: "a".repeat(1025) });
  assert.equal(announced.status, 413);

  const streamedStatus = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${host.url}/api/echo/1/x`, { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (error) => (error.message.includes("EPIPE") || error.message.includes("ECONNRESET") ? undefined : reject(error)));
    for (let i = 0; i < 8; i++) req.write("b".repeat(512));
    req.end();
  });
  assert.equal(streamedStatus, 413);

  assert.equal((await fetch(`${host.url}/api/echo/1/x`)).status, 200, "the host still serves afterwards");
});

test("HTTP host: malformed requests get 400/414 and the process keeps serving", async (t) => {
  const host = await startTestHost(t, { definitions: [echo] });
  const port = Number(new URL(host.url).port);
  const raw = (payload: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(payload));
      let received = "";
      socket.on("data", (chunk) => (received += chunk.toString()));
      socket.on("close", () => resolve(received));
      socket.on("error", () => resolve(received));
    });

  assert.match(await raw("THIS IS NOT HTTP\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await raw("GET /api/echo/1/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await raw("GET /api/echo/1/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.equal((await fetch(`${host.url}/api/echo/1/${"x".repeat(5000)}`)).status, 414);

  const after = await fetch(`${host.url}/api/echo/1/still-alive`);
  assert.equal(after.status, 200);
  assert.deepEqual(((await after.json()) as { params: unknown }).params, { id: "1", rest: "still-alive" });
});

test("HTTP host: start-up refuses duplicate names and bad route templates with the function's name", async () => {
  const { startFunctionsHost } = await import("../../../dev/functions-host/index.ts");
  await assert.rejects(startFunctionsHost({ definitions: [ok("same", "anonymous"), ok("SAME", "anonymous")], log: () => {} }), /two functions are named 'SAME'/);
  await assert.rejects(
    startFunctionsHost({ definitions: [{ ...ok("broken", "anonymous"), route: "items/{id:nonsense}" }], log: () => {} }),
    /function 'broken': route template 'items\/\{id:nonsense\}' is invalid: unknown constraint 'nonsense'/,
  );
});
