/**
 * Property-based fuzzing of the API through the local host (fast-check): hostile bodies, headers, query strings
 * and route parameters never produce a 5xx and never a write (no ARM write in the emulator's request log, no
 * Table Storage write other than idempotency bookkeeping).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { apiTopology, connectionPathFor, PROVIDER_SUB, resourceIdOf, startApiStack, type ApiReply, type ApiStack } from "./api-stack.ts";

const DEFAULT_TICKET_PATTERN = /^(?:(?:CHG|RITM|INC)\d{7}|[A-Z][A-Z0-9_]+-\d+)$/;
const RUNS = 120;

/** Printable ASCII: what an HTTP header value can carry through fetch. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
/** Strings a ticket validator must refuse. */
const notATicket = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", "CHG123", "chg0000001", "CHG0000001\n", " CHG0000001", "A-")).filter((t) => !DEFAULT_TICKET_PATTERN.test(t));
/** Hostile path segments: traversal, encoded separators, control characters, unicode, over-long. */
const hostileSegment = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom("..", ".", "../..", "a/../../b", "%2e%2e", "a%2Fb", "\u0000", "con\u001fnection", "x".repeat(300), "%", "*", "~", "-", "a b"),
);

describe("fuzzing the API (fast-check): never a 5xx, never a write", () => {
  let api: ApiStack;
  let admin: string;
  let pendingPath: string;

  const noWrites = () => {
    assert.equal(api.armWrites(), 0, "no ARM write");
    assert.equal(api.storageWrites(), 0, "no Table Storage write besides idempotency records");
  };
  const sane = (reply: ApiReply, what: string) => {
    assert.ok(reply.status < 500, `${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
    if (reply.status >= 400 && reply.headers.get("content-type")?.includes("json")) {
      assert.doesNotMatch(JSON.stringify(reply.body), /\bat .+\.ts:\d+|node:internal/, "no stack trace");
    }
  };

  before(async () => {
    api = await startApiStack({ topology: apiTopology(["apim-one"], [{ name: "pe-1", instance: "apim-one" }]), managedInstances: ["apim-one"] });
    admin = await api.token(["Portcullis.Admin"]);
    pendingPath = api.connectionPath("apim-one", "pe-1");
    // Warm up: create the tables (not a state change) and check the stack answers.
    assert.equal((await api.request("GET", "/api/rules", { token: admin })).status, 200);
    assert.equal((await api.request("GET", "/api/decisions", { token: admin })).status, 200);
  });
  after(() => api.close());

  it("survives hostile bodies on every route that takes one", async () => {
    const decisionBody = fc.oneof(
      fc.jsonValue(),
      fc.record({ ticket: notATicket, reason: fc.string(), requestedBy: fc.option(fc.string(), { nil: undefined }) }),
      fc.record({ ticket: fc.constant("CHG0001234"), reason: fc.string(), extra: fc.jsonValue() }),
      fc.record({ ticket: fc.constant("CHG0001234"), reason: fc.oneof(fc.constant(""), fc.constant("x".repeat(141)), fc.integer(), fc.constant("a\u0000b")) }),
    );
    const ruleBody = fc.oneof(
      fc.jsonValue(),
      fc.record({ id: fc.string(), priority: fc.oneof(fc.integer(), fc.double(), fc.string()), action: fc.string(), reason: fc.string() }),
      fc.record({ id: fc.constant("fuzz-rule"), priority: fc.integer({ min: -5, max: -1 }), action: fc.constant("approve"), reason: fc.constant("r") }),
      fc.record({ id: fc.constant("fuzz-rule"), priority: fc.constant(1), action: fc.constant("approve"), reason: fc.constant("r"), conditions: fc.dictionary(fc.string(), fc.jsonValue()) }).filter((b) => Object.keys(b.conditions).length > 0),
    );
    const target = fc.constantFrom("approve", "reject", "revoke", "what-if", "rule");
    const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", undefined);
    const encoding = fc.constantFrom("json", "raw-string", "raw-bytes", "deep");
    await fc.assert(
      fc.asyncProperty(target, decisionBody, ruleBody, fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), contentType, encoding, async (to, decision, rule, rawText, rawBytes, type, how) => {
        const body = to === "rule" ? rule : to === "what-if" ? (how === "json" ? { rules: [rule] } : decision) : decision;
        const rawBody =
          how === "json" ? JSON.stringify(body) ?? "null" : how === "raw-string" ? rawText : how === "raw-bytes" ? rawBytes : `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
        const headers: Record<string, string> = { "portcullis-ticket": "CHG0001234", "if-none-match": "*" };
        if (type !== undefined) headers["content-type"] = type;
        const [method, path] =
          to === "rule" ? ["PUT", "/api/rules/fuzz-rule"] : to === "what-if" ? ["POST", "/api/what-if"] : ["POST", `${pendingPath}/${to}`];
        const reply = await api.request(method, path, { token: admin, rawBody, headers, idempotencyKey: randomUUID() });
        sane(reply, `${method} ${path} ${typeof rawBody === "string" ? rawBody.slice(0, 80) : "bytes"}`);
        if (to !== "what-if") assert.ok(reply.status >= 400, `a fuzzed ${to} body was accepted: ${JSON.stringify(body)}`);
      }),
      { numRuns: RUNS },
    );
    const tooLarge = await api.request("POST", `${pendingPath}/approve`, { token: admin, json: { ticket: "CHG0001234", reason: "x".repeat(70_000) }, idempotencyKey: randomUUID() });
    assert.equal(tooLarge.status, 413);
    noWrites();
  });

  it("survives hostile headers (token, content type, idempotency key, preconditions, platform principal)", async () => {
    const authorization = fc.oneof(headerText, headerText.map((t) => `Bearer ${t}`), fc.constant(`Bearer ${admin}`), fc.constant(`bearer ${admin}x`));
    const clientPrincipal = fc.oneof(headerText, fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "").toString("base64")));
    const optional = (arbitrary: fc.Arbitrary<string>) => fc.option(arbitrary, { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          authorization,
          "content-type": optional(headerText),
          "idempotency-key": optional(headerText),
          "if-match": optional(headerText),
          "if-none-match": optional(headerText),
          "portcullis-ticket": optional(headerText.filter((t) => !DEFAULT_TICKET_PATTERN.test(t))),
          "x-ms-client-principal": optional(clientPrincipal),
          "x-correlation-id": optional(headerText),
        }),
        fc.constantFrom("approve", "rule-put", "rule-delete", "what-if", "list"),
        async (rawHeaders, to) => {
          const headers = Object.fromEntries(Object.entries(rawHeaders).filter((e): e is [string, string] => e[1] !== undefined));
          const [method, path, json] =
            to === "approve"
              ? ["POST", `${pendingPath}/approve`, { ticket: "INC0000001", reason: "fuzz" }]
              : to === "rule-put"
                ? ["PUT", "/api/rules/fuzz-rule", { id: "fuzz-rule", priority: 1, action: "approve", reason: "fuzz" }]
                : to === "rule-delete"
                  ? ["DELETE", "/api/rules/fuzz-rule", undefined]
                  : to === "what-if"
                    ? ["POST", "/api/what-if", { rules: [] }]
                    : ["GET", "/api/connections", undefined];
          const reply = await api.request(method, path, { headers, ...(json !== undefined ? { rawBody: JSON.stringify(json) } : {}) });
          sane(reply, `${method} ${path} ${JSON.stringify(headers).slice(0, 200)}`);
          if (to === "approve" || to === "rule-put" || to === "rule-delete") assert.ok(reply.status >= 400, `${to} went through with ${JSON.stringify(headers)}`);
        },
      ),
      { numRuns: RUNS },
    );
    noWrites();
  });

  it("survives hostile route parameters and query strings, and never reaches a resource the path does not name", async () => {
    const routeParams = fc.record({ subscriptionId: fc.oneof(hostileSegment, fc.constant(PROVIDER_SUB)), resourceGroup: fc.oneof(hostileSegment, fc.constant("rg-apim")), serviceName: fc.oneof(hostileSegment, fc.constant("apim-one")), connectionName: hostileSegment });
    const otherParam = hostileSegment;
    const query = fc.dictionary(fc.oneof(fc.constantFrom("status", "instanceId", "connectionId", "actor", "from", "to", "pageSize", "continuationToken", "code"), fc.string({ maxLength: 12 })), fc.oneof(fc.string({ maxLength: 60 }), fc.constant(resourceIdOf("apim-one")), fc.constant("Pending")), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(routeParams, otherParam, query, fc.constantFrom("get", "approve", "revoke", "rule", "history", "operation", "report", "list", "decisions"), async (params, other, q, to) => {
        const e = encodeURIComponent;
        const connection = `/api/instances/${e(params.subscriptionId)}/${e(params.resourceGroup)}/${e(params.serviceName)}/connections/${e(params.connectionName)}`;
        const search = new URLSearchParams(q).toString();
        const [method, path, json] =
          to === "get"
            ? ["GET", connection, undefined]
            : to === "approve" || to === "revoke"
              ? ["POST", `${connection}/${to}`, { ticket: "CHG0001234", reason: "fuzzed path" }]
              : to === "rule"
                ? ["GET", `/api/rules/${e(other)}`, undefined]
                : to === "history"
                  ? ["GET", `/api/rules/${e(other)}/history`, undefined]
                  : to === "operation"
                    ? ["GET", `/api/operations/${e(other)}`, undefined]
                    : to === "report"
                      ? ["GET", `/api/reports/${e(other)}`, undefined]
                      : to === "list"
                        ? ["GET", `/api/connections?${search}`, undefined]
                        : ["GET", `/api/decisions?${search}`, undefined];
        const reply = await api.request(method, path, { token: admin, ...(json !== undefined ? { json, idempotencyKey: randomUUID() } : {}) });
        sane(reply, `${method} ${path}`);
        if (to === "approve" || to === "revoke") assert.ok(reply.status >= 400, `${path} was accepted`);
      }),
      { numRuns: RUNS },
    );
    const traversal = await api.request("GET", connectionPathFor("apim-one", encodeURIComponent("../../../apim-one")), { token: admin });
    assert.ok([400, 404].includes(traversal.status));
    const encodedSlash = await api.request("GET", `/api/instances/${PROVIDER_SUB}/rg-apim/apim-one%2Fconnections/connections/x`, { token: admin });
    assert.equal(encodedSlash.status, 400);
    assert.deepEqual(encodedSlash.body.errors.map((error: { field: string }) => error.field), ["serviceName"]);
    noWrites();
  });
});
