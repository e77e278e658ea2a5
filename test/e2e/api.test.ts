/**
 * The manual approval API end to end on the local stack: real tokens from the local issuer, the local Functions
 * host, Azurite, the ARM emulator and the production composition. Scenarios a ticketing system depends on.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { decisionResultSchema, operationSchema } from "../../src/functions/api-views.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import {
  apiTopology,
  connectionPathFor,
  CONSUMER_SUB,
  PARTNER_SUB,
  resourceIdOf,
  startApiStack,
  TICKET,
  type ApiStack,
} from "./api-stack.ts";

const ENDPOINTS = [
  ...["list-a", "approve-a", "reject-a", "replay-a", "race-a", "same-key-a", "outage-a", "revoke-a", "dryrun-a", "refused-a", "busy-a"].map((name) => ({ name, instance: "apim-one" })),
  { name: "partner-b", instance: "apim-two", subscriptionId: PARTNER_SUB },
  { name: "approved-b", instance: "apim-two", status: "Approved" as const },
  { name: "hidden-h", instance: "apim-hidden" },
];

const decisionBody = (reason: string, extra: Record<string, unknown> = {}) => ({ ticket: TICKET, reason, ...extra });

describe("manual approval API on the local stack", () => {
  let api: ApiStack;
  let reader: string;
  let approver: string;
  let admin: string;

  before(async () => {
    api = await startApiStack({
      topology: apiTopology(["apim-one", "apim-two", "apim-hidden"], ENDPOINTS),
      managedInstances: ["apim-one", "apim-two"],
      settings: { PORTCULLIS_APPROVAL_WAIT_MS: "1500" },
      composition: { armRetryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
    });
    [reader, approver, admin] = await Promise.all([
      api.token(["Portcullis.Reader"]),
      api.token(["Portcullis.Approver"], { oid: "aaaaaaaa-0000-4000-8000-00000000a991", name: "Grace Approver" }),
      api.token(["Portcullis.Admin"], { oid: "aaaaaaaa-0000-4000-8000-00000000ad31", name: "Alan Admin" }),
    ]);
  });
  after(() => api.close());

  it("lists the connections of managed instances only, with their latest decision, filterable by status and instance", async () => {
    const all = await api.request("GET", "/api/connections", { token: reader });
    assert.equal(all.status, 200);
    const ids = all.body.items.map((c: { id: string }) => c.id);
    assert.ok(ids.includes(api.connectionId("apim-one", "list-a")));
    assert.ok(ids.includes(api.connectionId("apim-two", "partner-b")));
    assert.ok(!ids.some((id: string) => id.includes("apim-hidden")), "an unmanaged instance's connections are never listed");
    const partner = all.body.items.find((c: { id: string }) => c.id === api.connectionId("apim-two", "partner-b"));
    assert.equal(partner.requesterSubscriptionId, PARTNER_SUB);
    assert.equal(partner.status, "Pending");
    assert.equal(partner.latestDecision, undefined);

    const approvedOnly = await api.request("GET", "/api/connections?status=Approved", { token: reader });
    assert.deepEqual(approvedOnly.body.items.map((c: { id: string }) => c.id), [api.connectionId("apim-two", "approved-b")]);
    const instanceOnly = await api.request("GET", `/api/connections?instanceId=${encodeURIComponent(resourceIdOf("apim-two"))}`, { token: reader });
    assert.deepEqual(instanceOnly.body.items.map((c: { id: string }) => c.id).sort(), [api.connectionId("apim-two", "approved-b"), api.connectionId("apim-two", "partner-b")].sort());
  });

  it("answers 404 alike for an unmanaged instance that exists and one that does not", async () => {
    const hidden = await api.request("GET", api.connectionPath("apim-hidden", "hidden-h"), { token: reader });
    const hiddenName = api.connectionId("apim-hidden", "hidden-h").split("/").at(-1)!;
    const missing = await api.request("GET", connectionPathFor("apim-nowhere", hiddenName), { token: reader });
    const missingConnection = await api.request("GET", connectionPathFor("apim-one", hiddenName), { token: reader });
    for (const reply of [hidden, missing, missingConnection]) {
      assert.equal(reply.status, 404);
      assert.equal(reply.headers.get("content-type"), "application/problem+json");
      assert.equal(reply.body.type, `${PROBLEM_BASE}not-found`);
    }
    const { correlationId: _a, ...hiddenProblem } = hidden.body;
    const { correlationId: _b, ...missingProblem } = missing.body;
    assert.deepEqual(hiddenProblem, missingProblem, "nothing tells an unmanaged instance from a missing one");
    const listHidden = await api.request("GET", `/api/connections?instanceId=${encodeURIComponent(resourceIdOf("apim-hidden"))}`, { token: reader });
    assert.equal(listHidden.status, 404);
    const approveHidden = await api.request("POST", `${api.connectionPath("apim-hidden", "hidden-h")}/approve`, {
      token: admin,
      json: decisionBody("Hidden"),
      idempotencyKey: randomUUID(),
    });
    assert.equal(approveHidden.status, 404);
    assert.equal(api.emulator.snapshot() !== undefined, true);
  });

  it("approves a Pending connection, recording the token's identity as actor and requestedBy only as the claimed requester", async () => {
    const writesBefore = api.armWrites();
    const storageBefore = api.storageWrites();
    const reply = await api.request("POST", `${api.connectionPath("apim-one", "approve-a")}/approve`, {
      token: approver,
      json: decisionBody("Consumer onboarding approved", { requestedBy: "mallory@fabrikam.example" }),
      idempotencyKey: randomUUID(),
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const result = decisionResultSchema.parse(reply.body);
    assert.equal(result.status, "Approved");
    assert.equal(result.outcome, "applied");
    assert.equal(result.decision.actor, "principal:aaaaaaaa-0000-4000-8000-00000000a991");
    assert.equal(result.decision.actorName, "Grace Approver");
    assert.equal(result.decision.actorAppId, "api-tests");
    assert.equal(result.decision.ticket, TICKET);
    assert.equal(result.decision.requestedBy, "mallory@fabrikam.example");
    assert.equal(api.armWrites() - writesBefore, 1, "exactly one ARM write");
    assert.ok(api.storageWrites() - storageBefore >= 3, "claim taken, decision appended, claim settled (the counter sees writes)");

    const read = await api.request("GET", api.connectionPath("apim-one", "approve-a"), { token: reader });
    assert.equal(read.body.status, "Approved");
    assert.match(read.body.description, /Approved by Grace Approver via Portcullis \[CHG0001234\]: Consumer onboarding approved/);
    assert.equal(read.body.latestDecision.id, result.decision.id);
    assert.equal(read.body.decisions.length, 1);

    const again = await api.request("POST", `${api.connectionPath("apim-one", "approve-a")}/approve`, {
      token: approver,
      json: decisionBody("Twice"),
      idempotencyKey: randomUUID(),
    });
    assert.equal(again.status, 409, "only a Pending connection can be approved");
    assert.equal(again.body.type, `${PROBLEM_BASE}conflict`);
  });

  it("rejects a Pending connection; revoking needs the Admin role, a reason and an Approved connection", async () => {
    const rejected = await api.request("POST", `${api.connectionPath("apim-one", "reject-a")}/reject`, {
      token: approver,
      json: decisionBody("Unknown requester"),
      idempotencyKey: randomUUID(),
    });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.status, "Rejected");

    const revokePath = `${api.connectionPath("apim-two", "approved-b")}/revoke`;
    const byApprover = await api.request("POST", revokePath, { token: approver, json: decisionBody("No longer needed"), idempotencyKey: randomUUID() });
    assert.equal(byApprover.status, 403);
    assert.equal(byApprover.body.type, `${PROBLEM_BASE}forbidden`);
    const withoutReason = await api.request("POST", revokePath, { token: admin, json: { ticket: TICKET }, idempotencyKey: randomUUID() });
    assert.equal(withoutReason.status, 400);
    assert.deepEqual(withoutReason.body.errors.map((e: { field: string }) => e.field), ["reason"]);
    const revoked = await api.request("POST", revokePath, { token: admin, json: decisionBody("Contract ended"), idempotencyKey: randomUUID() });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.status, "Rejected");
    assert.equal(revoked.body.decision.action, "revoke");
    assert.equal(revoked.body.decision.statusBefore, "Approved");

    const revokePending = await api.request("POST", `${api.connectionPath("apim-one", "revoke-a")}/revoke`, {
      token: admin,
      json: decisionBody("Not approved yet"),
      idempotencyKey: randomUUID(),
    });
    assert.equal(revokePending.status, 409);
  });

  it("refuses a ticket that does not match the ticket pattern, naming the field", async () => {
    const reply = await api.request("POST", `${api.connectionPath("apim-one", "list-a")}/approve`, {
      token: approver,
      json: { ticket: "TICKET-ONE", reason: "x" },
      idempotencyKey: randomUUID(),
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.type, `${PROBLEM_BASE}validation`);
    assert.deepEqual(reply.body.errors, [{ in: "body", field: "ticket", detail: reply.body.errors[0].detail }]);
    assert.match(reply.body.errors[0].detail, /must match/);
  });

  it("refuses bidi controls and zero-width characters in a reason, ticket or requester with 400 naming the field and the position, and writes nothing", async () => {
    const writes = api.armWrites();
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ ticket: "CHG0012345", reason: "Approved \u202eby security" }, "reason", /bidi controls \(found U\+202E at position 9/],
      [{ ticket: "CHG001\u200b2345", reason: "Orders team" }, "ticket", /zero-width characters \(found U\+200B at position 6/],
      [{ ticket: "CHG0012345", reason: "Orders \u2066team\u2069" }, "reason", /bidi controls \(found U\+2066 at position 7/],
      [{ ticket: "CHG0012345", reason: "Orders team", requestedBy: "jane\u200f@contoso.example" }, "requestedBy", /bidi controls \(found U\+200F at position 4/],
    ];
    for (const [body, field, detail] of cases) {
      const reply = await api.request("POST", `${api.connectionPath("apim-one", "list-a")}/approve`, { token: approver, json: body, idempotencyKey: randomUUID() });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.headers.get("content-type"), "application/problem+json");
      assert.equal(reply.body.type, `${PROBLEM_BASE}validation`);
      assert.deepEqual(reply.body.errors.map((e: { in: string; field: string }) => [e.in, e.field]), [["body", field]]);
      assert.match(reply.body.errors[0].detail, detail);
    }
    assert.equal(api.armWrites(), writes, "nothing reached ARM");
  });

  it("replays the first response for a repeated Idempotency-Key and does nothing; a different body is 422", async () => {
    const key = randomUUID();
    const path = `${api.connectionPath("apim-one", "replay-a")}/approve`;
    const first = await api.request("POST", path, { token: approver, json: decisionBody("Replay me"), idempotencyKey: key });
    assert.equal(first.status, 200);
    const writes = api.armWrites();
    const storage = api.storageWrites();
    const replay = await api.request("POST", path, { token: approver, json: { reason: "Replay me", ticket: TICKET }, idempotencyKey: key });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(replay.body, first.body, "the first response, byte for byte");
    assert.equal(api.armWrites(), writes, "no ARM write on replay");
    assert.equal(api.storageWrites(), storage, "no decision or claim written on replay");

    const different = await api.request("POST", path, { token: approver, json: decisionBody("Something else"), idempotencyKey: key });
    assert.equal(different.status, 422);
    assert.equal(different.body.type, `${PROBLEM_BASE}idempotency-key-reused`);
    const otherRoute = await api.request("POST", `${api.connectionPath("apim-one", "replay-a")}/reject`, { token: approver, json: decisionBody("Replay me"), idempotencyKey: key });
    assert.equal(otherRoute.status, 422, "the key belongs to the first request's method and path");
    const withoutKey = await api.request("POST", path, { token: approver, json: decisionBody("No key") });
    assert.equal(withoutKey.status, 400);
    assert.deepEqual(withoutKey.body.errors, [{ in: "header", field: "Idempotency-Key", detail: "required" }]);
  });

  it("executes concurrent requests with one Idempotency-Key once: the others are told it is in progress or get the replay", async () => {
    const key = randomUUID();
    const path = `${api.connectionPath("apim-one", "same-key-a")}/approve`;
    const writes = api.armWrites();
    const replies = await Promise.all(Array.from({ length: 4 }, () => api.request("POST", path, { token: approver, json: decisionBody("Same key"), idempotencyKey: key })));
    const executed = replies.filter((r) => r.status === 200 && r.headers.get("idempotent-replayed") === null);
    assert.equal(executed.length, 1, replies.map((r) => r.status).join(","));
    for (const reply of replies.filter((r) => !executed.includes(r))) {
      assert.ok(
        (reply.status === 409 && reply.body.type === `${PROBLEM_BASE}idempotency-key-in-use` && reply.headers.get("retry-after") === "1") ||
          (reply.status === 200 && reply.headers.get("idempotent-replayed") === "true"),
        `${reply.status} ${JSON.stringify(reply.body)}`,
      );
    }
    assert.equal(api.armWrites() - writes, 1, "one ARM write");
  });

  it("lets exactly one of a concurrent approve and reject on one connection win; the other gets 409", async () => {
    const base = api.connectionPath("apim-one", "race-a");
    const writes = api.armWrites();
    const [approve, reject] = await Promise.all([
      api.request("POST", `${base}/approve`, { token: approver, json: decisionBody("Race: approve"), idempotencyKey: randomUUID() }),
      api.request("POST", `${base}/reject`, { token: approver, json: decisionBody("Race: reject"), idempotencyKey: randomUUID() }),
    ]);
    const statuses = [approve.status, reject.status].sort();
    assert.deepEqual(statuses, [200, 409], `${approve.status} ${JSON.stringify(approve.body)} / ${reject.status} ${JSON.stringify(reject.body)}`);
    assert.equal(api.armWrites() - writes, 1, "one ARM write");
    const winner = approve.status === 200 ? approve : reject;
    const read = await api.request("GET", base, { token: reader });
    assert.equal(read.body.status, winner.body.status);
    assert.equal(read.body.decisions.length, 1, "one decision record");
  });

  it("answers 202 with an operation when ARM outlasts the wait, and the operation reports progress then the final state", async () => {
    const slow = await startApiStack({
      topology: apiTopology(["apim-one"], [{ name: "slow-a", instance: "apim-one" }]),
      managedInstances: ["apim-one"],
      settings: { PORTCULLIS_APPROVAL_WAIT_MS: "300" },
      lroDelayMs: 1_500,
    });
    try {
      const token = await slow.token(["Portcullis.Approver"], { oid: "aaaaaaaa-0000-4000-8000-00000000a991" });
      const started = Date.now();
      const reply = await slow.request("POST", `${slow.connectionPath("apim-one", "slow-a")}/approve`, { token, json: decisionBody("Slow ARM"), idempotencyKey: randomUUID() });
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      assert.ok(Date.now() - started < 1_500, "answered at the wait bound, not when ARM finished");
      const operation = operationSchema.parse(reply.body);
      assert.equal(operation.status, "Running");
      const location = reply.headers.get("location")!;
      assert.equal(location, `/api/operations/${operation.id}`);
      assert.ok(Number(reply.headers.get("retry-after")) >= 1);

      const progress = await slow.request("GET", location, { token });
      assert.equal(progress.status, 200);
      assert.equal(progress.body.status, "Running", "ARM is still working");
      assert.equal(progress.headers.get("retry-after"), "1");

      slow.emulator.faults.add({ method: "GET", pathPattern: "/operationresults/", latencyMs: 400, times: 1 });
      let polled = progress;
      for (let i = 0; i < 40 && polled.body.status === "Running"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        polled = await slow.request("GET", location, { token });
      }
      const finished = operationSchema.parse(polled.body);
      assert.equal(finished.status, "Succeeded");
      assert.equal(finished.result?.status, "Approved");
      assert.equal(finished.result?.decision.actor, "principal:aaaaaaaa-0000-4000-8000-00000000a991");
      const again = await slow.request("GET", location, { token });
      assert.deepEqual(again.body, polled.body, "a finished operation keeps its result");
      const read = await slow.request("GET", slow.connectionPath("apim-one", "slow-a"), { token });
      assert.equal(read.body.status, "Approved");
      assert.equal(read.body.decisions.length, 1, "recorded once");
      assert.equal(slow.emulator.requests().filter((r) => r.method === "PUT").length, 1, "one ARM write");
      assert.equal((await slow.request("GET", `/api/operations/${randomUUID()}`, { token })).status, 404);
    } finally {
      await slow.close();
    }
  });

  it("answers 503 with Retry-After when ARM is unreachable, leaves nothing half-done, and a retry with the same key then succeeds", async () => {
    const path = `${api.connectionPath("apim-one", "outage-a")}/approve`;
    const key = randomUUID();
    const fault = api.emulator.faults.add({ method: "PUT", pathPattern: "/privateEndpointConnections/outage-a\\.", status: 503, errorCode: "ServiceUnavailable" });
    const down = await api.request("POST", path, { token: approver, json: decisionBody("During an outage"), idempotencyKey: key });
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.type, `${PROBLEM_BASE}unavailable`);
    assert.ok(Number(down.headers.get("retry-after")) >= 1);
    assert.doesNotMatch(JSON.stringify(down.body), /127\.0\.0\.1|stack|at \w+ \(/, "no internals in the problem");
    const read = await api.request("GET", api.connectionPath("apim-one", "outage-a"), { token: reader });
    assert.equal(read.body.status, "Pending");
    assert.deepEqual(read.body.decisions, [], "no decision recorded for a write that did not happen");

    api.emulator.faults.remove(fault.id);
    const retried = await api.request("POST", path, { token: approver, json: decisionBody("During an outage"), idempotencyKey: key });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.headers.get("idempotent-replayed"), null, "a 503 released the key: the retry ran");
  });

  it("answers 502 with ARM's error code (never its message) when ARM refuses a write outright, records the refusal, and does not lock the next caller out", async () => {
    for (const [endpoint, status, code] of [
      ["refused-a", 403, "AuthorizationFailed"],
      ["busy-a", 409, "AnotherOperationInProgress"],
    ] as const) {
      const path = `${api.connectionPath("apim-one", endpoint)}/approve`;
      const fault = api.emulator.faults.add({ method: "PUT", pathPattern: `/privateEndpointConnections/${endpoint}\\.`, status, errorCode: code, times: 1 });
      const refused = await api.request("POST", path, { token: approver, json: decisionBody("Refused by ARM"), idempotencyKey: randomUUID() });
      api.emulator.faults.remove(fault.id);
      assert.equal(refused.status, 502, JSON.stringify(refused.body));
      assert.equal(refused.headers.get("content-type"), "application/problem+json");
      assert.equal(refused.body.type, `${PROBLEM_BASE}upstream-refused`);
      assert.match(refused.body.detail, new RegExp(`${status} ${code}`));
      assert.doesNotMatch(JSON.stringify(refused.body), /Injected fault|emulator answers/, "ARM's message text is not passed on");

      const read = await api.request("GET", api.connectionPath("apim-one", endpoint), { token: reader });
      assert.equal(read.body.status, "Pending");
      assert.deepEqual(read.body.decisions.map((d: { outcome: string; ticket: string }) => [d.outcome, d.ticket]), [["failed", TICKET]], "the refusal is recorded");

      const next = await api.request("POST", path, { token: approver, json: decisionBody("Second try"), idempotencyKey: randomUUID() });
      assert.equal(next.status, 200, `the claim ended at once: ${JSON.stringify(next.body)}`);
    }
  });

  it("serves the decision log filtered by connection, instance and actor, in pages", async () => {
    const byConnection = await api.request("GET", `/api/decisions?connectionId=${encodeURIComponent(api.connectionId("apim-one", "approve-a"))}`, { token: reader });
    assert.equal(byConnection.status, 200);
    assert.equal(byConnection.body.items.length, 1);
    assert.equal(byConnection.body.items[0].action, "approve");

    const byInstance = `/api/decisions?instanceId=${encodeURIComponent(resourceIdOf("apim-one"))}&actor=${encodeURIComponent("principal:aaaaaaaa-0000-4000-8000-00000000a991")}`;
    const firstPage = await api.request("GET", `${byInstance}&pageSize=2`, { token: reader });
    assert.equal(firstPage.status, 200);
    assert.equal(firstPage.body.items.length, 2);
    assert.ok(typeof firstPage.body.continuationToken === "string");
    const seen = [...firstPage.body.items];
    let token: string | undefined = firstPage.body.continuationToken;
    while (token !== undefined) {
      const page = await api.request("GET", `${byInstance}&pageSize=2&continuationToken=${encodeURIComponent(token)}`, { token: reader });
      assert.equal(page.status, 200);
      seen.push(...page.body.items);
      token = page.body.continuationToken;
    }
    assert.ok(seen.length >= 4, `approve, reject, replay, race, slow, outage by the approver: ${seen.length}`);
    assert.equal(new Set(seen.map((d: { id: string }) => d.id)).size, seen.length, "no record twice across pages");
    assert.ok(seen.every((d: { actor: string }) => d.actor === "principal:aaaaaaaa-0000-4000-8000-00000000a991"));

    const forged = await api.request("GET", `/api/decisions?continuationToken=${encodeURIComponent("bm90IGEgdG9rZW4=")}`, { token: reader });
    assert.equal(forged.status, 400);
    const unmanaged = await api.request("GET", `/api/decisions?instanceId=${encodeURIComponent(resourceIdOf("apim-hidden"))}`, { token: reader });
    assert.equal(unmanaged.status, 404);
  });

  it("manages rules with ETags: create needs If-None-Match: *, updates and deletes need a current If-Match; history keeps every version", async () => {
    const rule = { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is trusted", conditions: { "requester-subscriptions": [CONSUMER_SUB] } };
    const ticketHeader = { "portcullis-ticket": "CHG0009999" };
    const noPrecondition = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: rule, headers: ticketHeader });
    assert.equal(noPrecondition.status, 428);
    assert.equal(noPrecondition.body.type, `${PROBLEM_BASE}precondition-required`);
    const asApprover = await api.request("PUT", "/api/rules/allow-consumer", { token: approver, json: rule, headers: { ...ticketHeader, "if-none-match": "*" } });
    assert.equal(asApprover.status, 403);

    const created = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: rule, headers: { ...ticketHeader, "if-none-match": "*" } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get("location"), "/api/rules/allow-consumer");
    const etag1 = created.headers.get("etag")!;
    assert.ok(etag1.length > 0);
    assert.equal(created.body.version, 1);
    assert.equal(created.body.updatedBy.objectId, "aaaaaaaa-0000-4000-8000-00000000ad31");
    assert.deepEqual(created.body.warnings, [], "a rule on the requester subscription approves nothing too broad");

    // Valid but approving too much: stored, and said in `warnings` (disabled here, so it changes no decision).
    const broad = { id: "approve-any-endpoint", priority: 999, enabled: false, action: "approve", reason: "Anyone", conditions: { "private-endpoint-ids": ["*"] } };
    const broadCreated = await api.request("PUT", "/api/rules/approve-any-endpoint", { token: admin, json: broad, headers: { ...ticketHeader, "if-none-match": "*" } });
    assert.equal(broadCreated.status, 201, JSON.stringify(broadCreated.body));
    assert.deepEqual(broadCreated.body.warnings.map((w: { ruleId: string; code: string; field: string }) => [w.ruleId, w.code, w.field]), [["approve-any-endpoint", "wildcards-only", "conditions.private-endpoint-ids"]]);
    const broadDeleted = await api.request("DELETE", "/api/rules/approve-any-endpoint", { token: admin, headers: { ...ticketHeader, "if-match": broadCreated.headers.get("etag")! } });
    assert.equal(broadDeleted.status, 204);

    const createAgain = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: rule, headers: { ...ticketHeader, "if-none-match": "*" } });
    assert.equal(createAgain.status, 412);
    const read = await api.request("GET", "/api/rules/allow-consumer", { token: reader });
    assert.equal(read.headers.get("etag"), etag1);

    const updated = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: { ...rule, priority: 5 }, headers: { ...ticketHeader, "if-match": etag1 } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const etag2 = updated.headers.get("etag")!;
    assert.notEqual(etag2, etag1);
    const stale = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: { ...rule, priority: 1 }, headers: { ...ticketHeader, "if-match": etag1 } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.type, `${PROBLEM_BASE}precondition-failed`);
    const wrongId = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: { ...rule, id: "other" }, headers: { ...ticketHeader, "if-match": etag2 } });
    assert.equal(wrongId.status, 400);
    const unknownField = await api.request("PUT", "/api/rules/allow-consumer", { token: admin, json: { ...rule, owner: "me" }, headers: { ...ticketHeader, "if-match": etag2 } });
    assert.equal(unknownField.status, 400);

    const listed = await api.request("GET", "/api/rules", { token: reader });
    assert.equal(listed.body.status, "usable");
    assert.deepEqual(listed.body.rules.map((r: { id: string; priority: number }) => [r.id, r.priority]), [["allow-consumer", 5]]);

    const deleteWithout = await api.request("DELETE", "/api/rules/allow-consumer", { token: admin, headers: ticketHeader });
    assert.equal(deleteWithout.status, 428);
    const deleteStale = await api.request("DELETE", "/api/rules/allow-consumer", { token: admin, headers: { ...ticketHeader, "if-match": etag1 } });
    assert.equal(deleteStale.status, 412);
    const deleted = await api.request("DELETE", "/api/rules/allow-consumer", { token: admin, headers: { ...ticketHeader, "if-match": etag2 } });
    assert.equal(deleted.status, 204);
    assert.equal((await api.request("GET", "/api/rules/allow-consumer", { token: reader })).status, 404);

    const history = await api.request("GET", "/api/rules/allow-consumer/history", { token: reader });
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.items.map((h: { change: string; version: number }) => [h.change, h.version]), [["deleted", 3], ["updated", 2], ["created", 1]]);
    assert.ok(history.body.items.every((h: { ticket: string; changedBy: { objectId: string } }) => h.ticket === "CHG0009999" && h.changedBy.objectId === "aaaaaaaa-0000-4000-8000-00000000ad31"));
    assert.equal((await api.request("GET", "/api/rules/never-existed/history", { token: reader })).status, 404);
  });

  it("what-if compares a proposed rule set with the stored one against current connections and writes nothing", async () => {
    const armWrites = api.armWrites();
    const storageWrites = api.storageWrites();
    const reply = await api.request("POST", "/api/what-if", {
      token: admin,
      idempotencyKey: randomUUID(),
      json: {
        rules: [
          { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
          { id: "reject-partner", priority: 20, action: "reject", reason: "Partner needs a contract", conditions: { "requester-subscriptions": [PARTNER_SUB] } },
        ],
      },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(reply.body.warnings, []);
    const tooBroad = await api.request("POST", "/api/what-if", {
      token: admin,
      idempotencyKey: randomUUID(),
      json: { rules: [{ id: "approve-all", priority: 1, action: "approve", reason: "Everyone" }] },
    });
    assert.equal(tooBroad.status, 200, JSON.stringify(tooBroad.body));
    assert.deepEqual(tooBroad.body.warnings.map((w: { ruleId: string; code: string }) => [w.ruleId, w.code]), [["approve-all", "approves-everything"]]);
    const partner = reply.body.connections.find((c: { connectionId: string }) => c.connectionId === api.connectionId("apim-two", "partner-b"));
    assert.equal(partner.stored.action, "manual");
    assert.equal(partner.proposed.action, "reject");
    assert.equal(partner.wouldTakeEffect, true);
    const listA = reply.body.connections.find((c: { connectionId: string }) => c.connectionId === api.connectionId("apim-one", "list-a"));
    assert.equal(listA.proposed.action, "approve");
    assert.deepEqual(reply.body.rules.find((r: { ruleId: string }) => r.ruleId === "reject-partner").reject, [api.connectionId("apim-two", "partner-b")]);
    assert.ok(!reply.body.connections.some((c: { connectionId: string }) => c.connectionId.includes("apim-hidden")));
    assert.ok(reply.body.summary.changedPending >= 2);
    assert.equal(api.armWrites(), armWrites, "no ARM write");
    assert.equal(api.storageWrites(), storageWrites, "no rule, claim or decision written");

    const duplicate = await api.request("POST", "/api/what-if", {
      token: admin,
      idempotencyKey: randomUUID(),
      json: { rules: [{ id: "x", priority: 1, action: "approve", reason: "a" }, { id: "x", priority: 2, action: "reject", reason: "b" }] },
    });
    assert.equal(duplicate.status, 400);
    assert.equal(duplicate.body.errors[0].field, "rules.1.id");
  });

  it("what-if shows a rule that needs the requester tenant as an unknown-fact outcome: kind, rule, version and missing facts", async () => {
    const reply = await api.request("POST", "/api/what-if", {
      token: admin,
      idempotencyKey: randomUUID(),
      json: {
        rules: [
          { id: "reject-partner-tenant", priority: 5, action: "reject", reason: "Partner tenant blocked", conditions: { "requester-tenants": ["22222222-2222-4222-8222-222222222222"] } },
          { id: "approve-partner", priority: 20, action: "approve", reason: "Partner subscription", conditions: { "requester-subscriptions": [PARTNER_SUB] } },
        ],
      },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const partner = reply.body.connections.find((c: { connectionId: string }) => c.connectionId === api.connectionId("apim-two", "partner-b"));
    assert.equal(partner.proposed.action, "manual", "never approved while the tenant is unknown");
    assert.deepEqual(partner.proposed.decidedBy, { kind: "unknown-fact", ruleId: "reject-partner-tenant", ruleVersion: 1, missingFacts: ["requesterTenantId"] });
    assert.match(partner.proposed.reason, /reject-partner-tenant .*requester tenant/);
    assert.ok(partner.proposedExplanation.some((line: string) => line.includes("could match, but the requester tenant is not known")));
    assert.deepEqual(reply.body.rules.find((r: { ruleId: string }) => r.ruleId === "reject-partner-tenant").manual.includes(partner.connectionId), true);
  });

  it("records dry-run decisions without writing to ARM when PORTCULLIS_MODE is dry-run", async () => {
    const dryRun = await startApiStack({
      topology: apiTopology(["apim-one"], [{ name: "dryrun-a", instance: "apim-one" }]),
      managedInstances: ["apim-one"],
      settings: { PORTCULLIS_MODE: "dry-run" },
    });
    try {
      const token = await dryRun.token(["Portcullis.Approver"]);
      const reply = await dryRun.request("POST", `${dryRun.connectionPath("apim-one", "dryrun-a")}/approve`, { token, json: decisionBody("Dry run"), idempotencyKey: randomUUID() });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.outcome, "would-apply");
      assert.equal(dryRun.armWrites(), 0);
      const read = await dryRun.request("GET", dryRun.connectionPath("apim-one", "dryrun-a"), { token });
      assert.equal(read.body.status, "Pending");
    } finally {
      await dryRun.close();
    }
  });

  it("answers 503 with Retry-After when Table Storage is unreachable", async () => {
    const lonely = await startApiStack({
      topology: apiTopology(["apim-one"], []),
      managedInstances: ["apim-one"],
      composition: { tableClientOptions: { retryOptions: { maxRetries: 0 } } },
    });
    try {
      const token = await lonely.token(["Portcullis.Reader"]);
      assert.equal((await lonely.request("GET", "/api/rules", { token })).status, 200);
      await lonely.engine.storage.close();
      const reply = await lonely.request("GET", "/api/rules", { token });
      assert.equal(reply.status, 503);
      assert.equal(reply.body.type, `${PROBLEM_BASE}unavailable`);
      assert.ok(Number(reply.headers.get("retry-after")) >= 1);
    } finally {
      await lonely.close();
    }
  });
});
