/**
 * The audit's HTTP API on the local stack (OpenID issuer, Azurite, ARM emulator, local Functions host, the
 * production composition): POST /api/audits (Admin) and the reports in every format (Reader).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadSarifValidator } from "../domain/reports/sarif-schema.ts";
import { openApiDocument } from "../../src/functions/api.ts";
import { apiTopology, startApiStack, type ApiStack } from "./api-stack.ts";

let stack: ApiStack;
let admin: string;
let reader: string;
let approver: string;

before(async () => {
  stack = await startApiStack({
    topology: apiTopology(["apim-audited"], [{ name: "pe-approved", instance: "apim-audited", status: "Approved" }]),
    managedInstances: ["apim-audited"],
  });
  admin = await stack.token(["Portcullis.Admin"]);
  reader = await stack.token(["Portcullis.Reader"]);
  approver = await stack.token(["Portcullis.Approver"]);
});

after(async () => {
  await stack.close();
});

describe("audit API", () => {
  test("before any run, the latest report is 404 problem details", async () => {
    const reply = await stack.request("GET", "/api/reports/latest", { token: reader });
    assert.equal(reply.status, 404);
    assert.match(reply.headers.get("content-type") ?? "", /application\/problem\+json/);
  });

  test("POST /api/audits needs the Admin role and an Idempotency-Key", async () => {
    assert.equal((await stack.request("POST", "/api/audits", { idempotencyKey: "k-anon" })).status, 401);
    assert.equal((await stack.request("POST", "/api/audits", { token: approver, idempotencyKey: "k-approver" })).status, 403);
    assert.equal((await stack.request("POST", "/api/audits", { token: admin })).status, 400);
  });

  test("an admin runs an audit now; a replay with the same key answers with the same run; reports render in every format", async () => {
    const run = await stack.request("POST", "/api/audits", { token: admin, idempotencyKey: "audit-now-1" });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    assert.equal(run.body.trigger, "manual");
    assert.match(run.body.requestedBy, /^Tester Portcullis\.Admin \(principal:/);
    assert.equal(run.body.instances, 1);
    assert.equal(run.headers.get("location"), `/api/reports/${run.body.runId}`);
    assert.deepEqual(run.body.openByCheck, { "public-network-access": 1, "unexplained-approval": 1 }, "approved in the topology, not by Portcullis; public access still on");

    const replay = await stack.request("POST", "/api/audits", { token: admin, idempotencyKey: "audit-now-1" });
    assert.equal(replay.body.runId, run.body.runId);

    const json = await stack.request("GET", "/api/reports/latest", { token: reader });
    assert.equal(json.status, 200);
    assert.equal(json.body.summary.runId, run.body.runId);
    assert.deepEqual(json.body.findings.map((f: { checkId: string }) => f.checkId).sort(), ["public-network-access", "unexplained-approval"]);

    const html = await stack.request("GET", `/api/reports/${run.body.runId}?format=html`, { token: reader });
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(html.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.match(html.body, /^<!doctype html>/);

    const csv = await stack.request("GET", `/api/reports/${run.body.runId}?format=csv`, { token: reader });
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(csv.headers.get("content-disposition") ?? "", new RegExp(`filename="portcullis-compliance-${run.body.runId}\\.csv"`));
    assert.match(csv.body, /^runId,findingId,/);

    const md = await stack.request("GET", "/api/reports/latest?format=md", { token: reader });
    assert.match(md.body, /^# Portcullis compliance report/);

    const sarif = await stack.request("GET", "/api/reports/latest?format=sarif", { token: reader });
    assert.match(sarif.headers.get("content-type") ?? "", /^application\/sarif\+json/);
    const validate = loadSarifValidator();
    assert.ok(validate(sarif.body), JSON.stringify(validate.errors));
  });

  test("bad input: an unknown format or a malformed run ID is 400, an unknown run 404", async () => {
    assert.equal((await stack.request("GET", "/api/reports/latest?format=pdf", { token: reader })).status, 400);
    assert.equal((await stack.request("GET", "/api/reports/..%2Fetc", { token: reader })).status, 400);
    assert.equal((await stack.request("GET", "/api/reports/20990101T000000Z-deadbeef", { token: reader })).status, 404);
    assert.equal((await stack.request("GET", "/api/reports/latest")).status, 401);
  });

  test("the OpenAPI document covers the audit routes", () => {
    const paths = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths);
    for (const path of ["/audits", "/reports/latest", "/reports/{runId}"]) assert.ok(paths.some((p) => p.endsWith(path)), `${path} in ${paths.join(", ")}`);
  });
});
