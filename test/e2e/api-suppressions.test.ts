/**
 * Finding suppressions over HTTP on the local stack (OpenID issuer, Azurite, ARM emulator, local Functions host, the
 * production composition): who may list and change them, strict bodies, unknown findings, what is recorded, and
 * their effect on the next audit run, including an expired suppression reopening its finding.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { findingId } from "../../src/domain/audit/findings.ts";
import { apiRoutes, openApiDocument } from "../../src/functions/api.ts";
import { auditOptionsFromSettings } from "../../src/functions/compliance-audit.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import { openApiPath } from "../../src/http/openapi.ts";
import { auditEstate } from "../../src/workflows/audit-estate.ts";
import { apiTopology, resourceIdOf, startApiStack, TICKET, type ApiReply, type ApiStack } from "./api-stack.ts";

const INSTANCE = "apim-audited";
/** Public network access is Enabled although the instance has an approved connection. */
const PUBLIC = findingId("public-network-access", resourceIdOf(INSTANCE), "enabled");
/** A well-formed ID no run recorded. */
const NEVER_SEEN = "capacity-0123456789abcdef0123";
const DAY_MS = 86_400_000;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const ticketHeader = { "portcullis-ticket": TICKET };

interface Entry {
  findingId: string;
  reason: string;
  owner: string;
  expiresAt: string;
  createdAt: string;
  createdBy?: { objectId: string; appId?: string; name?: string };
  ticket?: string;
  expired: boolean;
  finding?: { checkId: string; severity: string; resourceId: string; status: string; runId: string };
}

function assertProblem(reply: ApiReply, status: number, type: string): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.match(reply.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal(reply.body.type, `${PROBLEM_BASE}${type}`);
  assert.equal(reply.body.status, status);
}

function fieldsOf(reply: ApiReply): string[] {
  return (reply.body.errors as { in: string; field: string }[]).map((e) => `${e.in}:${e.field}`).sort();
}

describe("finding suppressions over HTTP", () => {
  let stack: ApiStack;
  let admin: string;
  let approver: string;
  let reader: string;
  let unexplained: string;
  let firstRun: string;

  const suppression = (overrides: Record<string, unknown> = {}) => ({ reason: "Cut-over to private access planned", owner: "platform-team@contoso.example", expiresAt: inDays(30), ...overrides });
  const put = (id: string, token: string | undefined, json: unknown = suppression(), headers: Record<string, string> = ticketHeader) =>
    stack.request("PUT", `/api/suppressions/${id}`, { ...(token !== undefined ? { token } : {}), json, headers });
  const remove = (id: string, token: string | undefined, headers: Record<string, string> = ticketHeader) =>
    stack.request("DELETE", `/api/suppressions/${id}`, { ...(token !== undefined ? { token } : {}), headers });
  const list = async (token = reader) => {
    const reply = await stack.request("GET", "/api/suppressions", { token });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body as { latestRunId?: string; items: Entry[] };
  };
  const runAudit = async (key: string) => {
    const run = await stack.request("POST", "/api/audits", { token: admin, idempotencyKey: key });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    return run.body as { runId: string; opened: number; findings: { open: number; suppressed: number } };
  };
  const latestStatuses = async () => {
    const report = await stack.request("GET", "/api/reports/latest", { token: reader });
    return Object.fromEntries((report.body.findings as { id: string; status: string }[]).map((f) => [f.id, f.status]));
  };

  before(async () => {
    stack = await startApiStack({
      topology: apiTopology([INSTANCE], [{ name: "pe-approved", instance: INSTANCE, status: "Approved" }]),
      managedInstances: [INSTANCE],
    });
    [admin, approver, reader] = await Promise.all([stack.token(["Portcullis.Admin"]), stack.token(["Portcullis.Approver"]), stack.token(["Portcullis.Reader"])]);
  });
  after(() => stack.close());

  test("before any audit the list is empty and no ID can be suppressed (404)", async () => {
    assert.deepEqual(await list(), { items: [] });
    assertProblem(await put(PUBLIC, admin), 404, "not-found");
  });

  test("role matrix: no token is 401 everywhere; Reader and Approver may list but not write; Admin writes", async () => {
    const writesBefore = stack.storageWrites();
    for (const reply of [await stack.request("GET", "/api/suppressions"), await put(NEVER_SEEN, undefined), await remove(NEVER_SEEN, undefined)]) {
      assertProblem(reply, 401, "unauthenticated");
    }
    for (const token of [reader, approver]) {
      assert.equal((await stack.request("GET", "/api/suppressions", { token })).status, 200);
      assertProblem(await put(NEVER_SEEN, token), 403, "forbidden");
      assertProblem(await remove(NEVER_SEEN, token), 403, "forbidden");
    }
    // Admin gets past authorization: the well-formed ID is simply unknown (nothing recorded, nothing suppressed).
    assertProblem(await put(NEVER_SEEN, admin), 404, "not-found");
    assertProblem(await remove(NEVER_SEEN, admin), 404, "not-found");
    assert.equal(stack.storageWrites(), writesBefore, "refused requests store nothing");
  });

  test("an audit records the findings that can then be suppressed", async () => {
    const run = await runAudit("suppressions-run-1");
    firstRun = run.runId;
    const statuses = await latestStatuses();
    assert.equal(statuses[PUBLIC], "open");
    unexplained = Object.keys(statuses).find((id) => id.startsWith("unexplained-approval-"))!;
    assert.ok(unexplained, JSON.stringify(statuses));
    assertProblem(await put(NEVER_SEEN, admin), 404, "not-found");
  });

  test("bad requests are problem+json 400 (each field named), 415 or 404, and store nothing", async () => {
    const writesBefore = stack.storageWrites();
    const empty = await put(PUBLIC, admin, {});
    assertProblem(empty, 400, "validation");
    assert.deepEqual(fieldsOf(empty), ["body:expiresAt", "body:owner", "body:reason"]);

    const blank = await put(PUBLIC, admin, suppression({ reason: " ", owner: "", expiresAt: "next friday" }));
    assert.deepEqual(fieldsOf(blank), ["body:expiresAt", "body:owner", "body:reason"]);
    const unknownField = await put(PUBLIC, admin, suppression({ expires: "never" }));
    assertProblem(unknownField, 400, "validation");
    assert.match(JSON.stringify(unknownField.body.errors), /expires/);
    const noZone = await put(PUBLIC, admin, suppression({ expiresAt: "2030-01-01T00:00:00" }));
    assert.deepEqual(fieldsOf(noZone), ["body:expiresAt"]);

    const past = await put(PUBLIC, admin, suppression({ expiresAt: inDays(-1) }));
    assertProblem(past, 400, "validation");
    assert.deepEqual(fieldsOf(past), ["body:expiresAt"]);
    assert.match(past.body.errors[0].detail, /must be in the future/);
    const tooFar = await put(PUBLIC, admin, suppression({ expiresAt: inDays(366) }));
    assert.match(tooFar.body.errors[0].detail, /at most 365 days ahead/);
    const hidden = await put(PUBLIC, admin, suppression({ reason: "Accepted \u202erisk", owner: "sec\u200b@contoso.example" }));
    assertProblem(hidden, 400, "validation");
    assert.deepEqual(fieldsOf(hidden), ["body:owner", "body:reason"]);
    assert.match(JSON.stringify(hidden.body.errors), /U\+202E at position 9/);

    assert.deepEqual(fieldsOf(await put(PUBLIC, admin, suppression(), {})), ["header:portcullis-ticket"]);
    assert.deepEqual(fieldsOf(await put(PUBLIC, admin, suppression(), { "portcullis-ticket": "see the ticket" })), ["header:Portcullis-Ticket"]);
    assert.deepEqual(fieldsOf(await remove(PUBLIC, admin, {})), ["header:portcullis-ticket"]);
    assert.deepEqual(fieldsOf(await put("..%2F..%2Fetc", admin)), ["path:findingId"]);
    assert.deepEqual(fieldsOf(await put("not-a-check-0123456789abcdef0123", admin)), ["path:findingId"]);
    assertProblem(
      await stack.request("PUT", `/api/suppressions/${PUBLIC}`, { token: admin, rawBody: "reason=x", headers: { ...ticketHeader, "content-type": "text/plain" } }),
      415,
      "unsupported-media-type",
    );
    assertProblem(await remove(PUBLIC, admin), 404, "not-found");
    assert.equal(stack.storageWrites(), writesBefore);
    assert.deepEqual((await list()).items, []);
  });

  test("hostile bodies never cause a 5xx or a write (fast-check)", async () => {
    const writesBefore = stack.storageWrites();
    // Expiries the policy refuses: in the past, or more than 365 days ahead.
    const outOfRange = fc.oneof(
      fc.date({ min: new Date(0), max: new Date(Date.now() - DAY_MS), noInvalidDate: true }),
      fc.date({ min: new Date(Date.now() + 366 * DAY_MS), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ reason: fc.string(), owner: fc.string(), expiresAt: fc.oneof(fc.string(), outOfRange.map((d) => d.toISOString())) }, { requiredKeys: [] }),
      fc.record({ reason: fc.constant("r"), owner: fc.constant("o"), expiresAt: fc.constant(inDays(1)), extra: fc.jsonValue() }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(PUBLIC, NEVER_SEEN), async (json, id) => {
        const reply = await put(id, admin, json);
        assert.ok(reply.status >= 400 && reply.status < 500, `${reply.status} for ${JSON.stringify(json)}`);
      }),
      { numRuns: 40 },
    );
    assert.equal(stack.storageWrites(), writesBefore);
  });

  test("an admin suppresses a finding: the caller, time and ticket are recorded, and the next run shows it suppressed", async () => {
    const expiresAt = inDays(30);
    const created = await put(PUBLIC, admin, suppression({ expiresAt: expiresAt.replace("Z", "+00:00") }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const entry = created.body as Entry;
    assert.equal(entry.findingId, PUBLIC);
    assert.equal(entry.expiresAt, expiresAt, "stored in UTC");
    assert.equal(entry.owner, "platform-team@contoso.example");
    assert.deepEqual(entry.createdBy, { objectId: "00000000-0000-4000-8000-000000000001", appId: "api-tests", name: "Tester Portcullis.Admin" });
    assert.equal(entry.ticket, TICKET);
    assert.ok(Math.abs(Date.parse(entry.createdAt) - Date.now()) < 60_000);
    assert.equal(entry.expired, false);
    assert.deepEqual([entry.finding?.checkId, entry.finding?.resourceId, entry.finding?.status, entry.finding?.runId], ["public-network-access", resourceIdOf(INSTANCE), "open", firstRun]);

    const replaced = await put(PUBLIC, admin, suppression({ reason: "Cut-over moved to next sprint", expiresAt }));
    assert.equal(replaced.status, 200);
    const listed = await list();
    assert.equal(listed.latestRunId, firstRun);
    assert.deepEqual(listed.items.map((i) => [i.findingId, i.reason, i.expired, i.finding?.status]), [[PUBLIC, "Cut-over moved to next sprint", false, "open"]]);
    assert.equal((await latestStatuses())[PUBLIC], "open", "the stored run is not rewritten; the change applies from the next run");

    const run = await runAudit("suppressions-run-2");
    assert.equal(run.findings.suppressed, 1);
    const report = await stack.request("GET", "/api/reports/latest", { token: reader });
    const finding = (report.body.findings as { id: string; status: string; suppression?: Entry }[]).find((f) => f.id === PUBLIC)!;
    assert.equal(finding.status, "suppressed");
    assert.equal(finding.suppression?.reason, "Cut-over moved to next sprint");
    assert.equal(finding.suppression?.createdBy?.objectId, "00000000-0000-4000-8000-000000000001");
    assert.equal(finding.suppression?.ticket, TICKET);
    assert.deepEqual((await list()).items.map((i) => [i.finding?.status, i.finding?.runId]), [["suppressed", run.runId]]);
  });

  test("DELETE removes a suppression (204), then 404; the finding stays open at the next run", async () => {
    assert.equal((await put(unexplained, admin)).status, 201);
    const removed = await remove(unexplained, admin);
    assert.equal(removed.status, 204);
    assert.equal(removed.body, undefined);
    assertProblem(await remove(unexplained, admin), 404, "not-found");
    assert.deepEqual((await list()).items.map((i) => i.findingId), [PUBLIC]);
    await runAudit("suppressions-run-3");
    const statuses = await latestStatuses();
    assert.equal(statuses[unexplained], "open");
    assert.equal(statuses[PUBLIC], "suppressed");
  });

  test("a suppression past its expiry lists as expired and suppresses nothing", async () => {
    // What an expired suppression looks like once its time has passed (the API refuses to set one in the past).
    const store = stack.engine.composition.auditStore();
    await store.putSuppression({ findingId: unexplained, reason: "Accepted last quarter", owner: "sec@contoso.example", expiresAt: inDays(-1), createdAt: inDays(-60) });
    const items = (await list()).items;
    assert.deepEqual(items.map((i) => [i.findingId, i.expired]), [[unexplained, true], [PUBLIC, false]], "soonest expiry first");
    assert.equal(items[0]!.createdBy, undefined, "a row added by hand names nobody");
    const run = await runAudit("suppressions-run-4");
    assert.equal(run.findings.suppressed, 1);
    assert.equal((await latestStatuses())[unexplained], "open");
  });

  test("when the suppression set over the API expires, the next run reopens the finding (the audit's own lifecycle)", async () => {
    const [{ expiresAt }] = (await list()).items.filter((i) => i.findingId === PUBLIC) as [Entry];
    const deps = await stack.engine.composition.auditDeps(() => {});
    const afterExpiry = new Date(Date.parse(expiresAt) + 60_000);
    const run = await auditEstate({ ...deps, clock: { now: () => afterExpiry } }, auditOptionsFromSettings(stack.engine.composition.settings, "manual", "expiry test"));
    assert.equal(run.findings.suppressed, 0);
    assert.equal(run.opened, 1, "the expired suppression reopened the finding");
    assert.equal((await latestStatuses())[PUBLIC], "open");
  });

  test("the OpenAPI document covers the routes and describes the body with the schema that enforces it", () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, { requestBody?: { content: { "application/json": { schema: object } } } }>> };
    assert.deepEqual(Object.keys(document.paths["/suppressions"]!), ["get"]);
    assert.deepEqual(Object.keys(document.paths["/suppressions/{findingId}"]!).sort(), ["delete", "put"]);
    const route = apiRoutes.find((r) => r.name === "putSuppression")!;
    const validate = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(document.paths[openApiPath(route.route)]!["put"]!.requestBody!.content["application/json"].schema);
    for (const sample of [suppression(), suppression({ extra: 1 }), { reason: "r", owner: "o" }, suppression({ expiresAt: "soon" }), suppression({ owner: "x".repeat(201) })]) {
      assert.equal(validate(sample), route.body!.safeParse(sample).success, JSON.stringify(sample));
    }
  });
});
