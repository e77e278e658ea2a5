/**
 * The OpenAPI document: valid OpenAPI 3.1, covering exactly the HTTP functions the app registers, and describing
 * requests with the same schemas the handlers enforce (checked by validating sample requests both ways).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Validator } from "@seriousme/openapi-schema-validator";
import { apiRoutes, openApiDocument } from "../../src/functions/api.ts";
import type { HttpFunctionDefinition } from "../../src/functions/definition.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import { openApiPath } from "../../src/http/openapi.ts";

type Operation = { operationId: string; security: { bearer?: string[] }[]; requestBody?: { content: { "application/json": { schema: object } } }; responses: Record<string, unknown> };
const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>> };

describe("OpenAPI document", () => {
  it("validates as OpenAPI 3.1", async () => {
    assert.equal(document.openapi, "3.1.0");
    const result = await new Validator().validate(document as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it("covers every HTTP function in the function table, and documents nothing else", () => {
    const registered = functionDefinitions
      .filter((d): d is HttpFunctionDefinition => d.kind === "http")
      .flatMap((d) => d.methods.map((m) => `${m.toLowerCase()} ${openApiPath(d.route)} ${d.name}`))
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => `${method} ${path} ${op.operationId}`))
      .sort();
    assert.deepEqual(documented, registered);
  });

  it("documents the 502 problem+json of approve, reject and revoke: ARM's refusal, recorded, naming its code and never its message", () => {
    const manual = Object.values(document.paths).flatMap((item) => Object.values(item)).filter((op) => /^(approve|reject|revoke)Connection$/.test(op.operationId));
    assert.equal(manual.length, 3);
    for (const op of manual) {
      const refused = op.responses["502"] as { description: string; content: Record<string, unknown> } | undefined;
      assert.ok(refused, `${op.operationId} documents 502`);
      assert.ok("application/problem+json" in refused.content);
      assert.match(refused.description, /error code, never ARM's message/);
      assert.match(refused.description, /claim .* ends at once/);
    }
  });

  it("requires a bearer token with the route's role on every operation but /health", () => {
    for (const route of apiRoutes) {
      const op = document.paths[openApiPath(route.route)]![route.method.toLowerCase()]!;
      assert.deepEqual(op.security, [{ bearer: [route.role] }], route.name);
      for (const status of ["400", "401", "403", "500", "503"]) assert.ok(op.responses[status], `${route.name} documents ${status}`);
    }
    assert.deepEqual(document.paths["/health"]!["get"]!.security, []);
  });

  it("documents the warnings array of rule PUT and what-if responses, and the route list knows each route's bearer role", () => {
    const warningsOf = (path: string, method: string, status: string) => {
      const response = document.paths[path]![method]!.responses[status] as { content: { "application/json": { schema: { properties?: Record<string, { type?: string; items?: { properties?: Record<string, unknown> } }> } } } };
      return response.content["application/json"].schema.properties?.["warnings"];
    };
    for (const [path, method, status] of [["/rules/{ruleId}", "put", "200"], ["/rules/{ruleId}", "put", "201"], ["/what-if", "post", "200"]] as const) {
      const warnings = warningsOf(path, method, status);
      assert.equal(warnings?.type, "array", `${method} ${path} ${status}`);
      assert.deepEqual(Object.keys(warnings!.items!.properties!).sort(), ["code", "field", "message", "ruleId"]);
    }
    const http = functionDefinitions.filter((d): d is HttpFunctionDefinition => d.kind === "http");
    for (const route of apiRoutes) assert.equal(http.find((d) => d.name === route.name)!.requiresBearerRole, route.role, route.name);
    assert.equal(http.find((d) => d.name === "health")!.requiresBearerRole, undefined);
  });

  it("describes request bodies with the schemas the handlers enforce (both accept and refuse the same samples)", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const approve = apiRoutes.find((r) => r.name === "approveConnection")!;
    const putRule = apiRoutes.find((r) => r.name === "putRule")!;
    const samples: [typeof approve, unknown][] = [
      [approve, { ticket: "CHG0000001", reason: "ok" }],
      [approve, { ticket: "CHG0000001", reason: "ok", requestedBy: "someone" }],
      [approve, { ticket: "CHG0000001", reason: "ok", actor: "forged" }],
      [approve, { ticket: "CHG0000001" }],
      [approve, { ticket: "", reason: "x" }],
      [approve, { ticket: "CHG0000001", reason: "x".repeat(141) }],
      [approve, ["CHG0000001", "ok"]],
      [putRule, { id: "r1", priority: 1, action: "approve", reason: "ok" }],
      [putRule, { id: "r1", priority: 1, action: "approve", reason: "ok", conditions: { "requester-subscriptions": ["c1c1c1c1-0000-4000-8000-000000000002"] } }],
      [putRule, { id: "r1", priority: 1, action: "approve", reason: "ok", conditions: { "no-such-condition": ["x"] } }],
      [putRule, { id: "Not Kebab", priority: 1, action: "approve", reason: "ok" }],
      [putRule, { id: "r1", priority: -1, action: "approve", reason: "ok" }],
      [putRule, { id: "r1", priority: 1, action: "maybe", reason: "ok" }],
      [putRule, { id: "r1", priority: 1, action: "approve", reason: "ok", version: 7 }],
    ];
    for (const [route, sample] of samples) {
      const op = document.paths[openApiPath(route.route)]![route.method.toLowerCase()]!;
      const validate = ajv.compile(op.requestBody!.content["application/json"].schema);
      assert.equal(validate(sample), route.body!.safeParse(sample).success, `${route.name}: ${JSON.stringify(sample)}`);
    }
  });
});
