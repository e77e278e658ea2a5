import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { createTableDecisionLog, DECISIONS_TABLE_SUFFIX, ensureDecisionLogTable } from "../../../src/adapters/tables/decision-log.ts";
import { tableClientFor } from "../../../src/adapters/tables/tables.ts";
import { decisionRecordId, type DecisionRecord } from "../../../src/domain/decisions/decision.ts";
import { resourceIdKey } from "../../../src/domain/resource-id.ts";
import type { DecisionLog } from "../../../src/ports/decision-log.ts";
import { decisionRecord, definedFields } from "../../fakes/decision-records.ts";

const SUB = "22222222-2222-2222-2222-222222222222";
const apim = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${name}`;
const conn = (service: string, name: string) => `${apim(service)}/privateEndpointConnections/${name}`;

let sequence = 0;
/** A record of `connection` (of instance `service`) that started `minutes` after 2025-06-01T00:00Z. */
function record(service: string, connection: string, minutes: number, fields: Partial<DecisionRecord> = {}): DecisionRecord {
  const startedAt = new Date(Date.UTC(2025, 5, 1) + minutes * 60_000);
  return decisionRecord({
    id: decisionRecordId(startedAt, `t${++sequence}`),
    connectionId: conn(service, connection),
    resourceId: apim(service),
    reason: `decision at minute ${minutes}`,
    explanation: ["no rule matched"],
    correlationId: `corr-${sequence}`,
    startedAt,
    recordedAt: new Date(startedAt.getTime() + 1_000),
    ...fields,
  });
}

const approval = (service: string, connection: string, minutes: number, actor = "principal:alice") =>
  record(service, connection, minutes, { action: "approve", actor, ticket: "CHG0000001", statusAfter: "Approved", outcome: "applied" });

/** Counts the requests a table client sends and the entities its queries return. */
function requestCounter() {
  const counts = { requests: 0, queries: 0, rowsReturned: 0 };
  const policy: PipelinePolicy = {
    name: "count-table-requests",
    async sendRequest(request, next) {
      const response = await next(request);
      counts.requests += 1;
      if (request.method === "GET" && /\(\)$|%28%29$/.test(new URL(request.url).pathname)) {
        counts.queries += 1;
        const body = JSON.parse(response.bodyAsText ?? "{}") as { value?: unknown[] };
        counts.rowsReturned += body.value?.length ?? 0;
      }
      return response;
    },
  };
  return {
    counts,
    policy,
    reset() {
      counts.requests = 0;
      counts.queries = 0;
      counts.rowsReturned = 0;
    },
  };
}

/** Fails the next `times` entity group transactions with a 503 before they reach the service. */
function transactionFailures() {
  let remaining = 0;
  const policy: PipelinePolicy = {
    name: "fail-transactions",
    async sendRequest(request, next) {
      if (remaining > 0 && request.method === "POST" && request.url.includes("$batch")) {
        remaining -= 1;
        const { RestError } = await import("@azure/core-rest-pipeline");
        throw new RestError("Injected: the service is unavailable.", { statusCode: 503, request });
      }
      return next(request);
    },
  };
  return { policy, failNext: (times = 1) => (remaining = times) };
}

describe("Table Storage decision log: latest decisions per connection (Azurite)", () => {
  let storage: LocalTableStorage;
  let log: DecisionLog;
  /** A second app instance on the same table. */
  let otherLog: DecisionLog;
  const counter = requestCounter();
  const failures = transactionFailures();
  let prefixSequence = 0;

  before(async () => {
    storage = await startAzuriteTables();
  });
  after(async () => {
    await storage.close();
  });
  beforeEach(async () => {
    const settings = { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: `latest${++prefixSequence}` };
    const table = tableClientFor(settings, DECISIONS_TABLE_SUFFIX, {
      clientOptions: { additionalPolicies: [{ policy: counter.policy, position: "perCall" }, { policy: failures.policy, position: "perCall" }] },
    });
    await ensureDecisionLogTable(table);
    log = createTableDecisionLog(table);
    otherLog = createTableDecisionLog(tableClientFor(settings, DECISIONS_TABLE_SUFFIX));
  });

  test("the latest decision is the newest of several records, with every field intact, plus the status-change facts", async () => {
    const first = record("apim-a", "pe-1", 0);
    const approved = approval("apim-a", "pe-1", 10);
    const revoked = record("apim-a", "pe-1", 20, { action: "revoke", actor: "principal:bob", ticket: "INC0000002", statusBefore: "Approved", statusAfter: "Rejected", outcome: "applied" });
    const note = record("apim-a", "pe-1", 30, { action: "approve", actor: "rule:r1", outcome: "would-apply", mode: "dry-run", ruleId: "r1", ruleVersion: 3 });
    for (const r of [first, approved, revoked, note]) await log.append(r);

    const latest = await log.listLatestByResource(apim("apim-a"));
    assert.equal(latest.size, 1);
    const decisions = latest.get(resourceIdKey(conn("apim-a", "pe-1")))!;
    assert.deepEqual(definedFields(decisions.latest), definedFields(note));
    assert.deepEqual(decisions.latestStatusChange, { id: revoked.id, action: "revoke", actor: "principal:bob", recordedAt: revoked.recordedAt });
    assert.equal(decisions.latestRejection?.id, revoked.id);
    assert.equal(decisions.firstRecordAt.toISOString(), first.startedAt.toISOString());
  });

  test("an older record appended after a newer one does not move the latest decision back", async () => {
    const newer = approval("apim-a", "pe-1", 60);
    const older = record("apim-a", "pe-1", 5);
    await log.append(newer);
    await log.append(older);
    const decisions = (await log.listLatestByResource(apim("apim-a"))).get(resourceIdKey(conn("apim-a", "pe-1")))!;
    assert.equal(decisions.latest.id, newer.id);
    assert.equal(decisions.latestStatusChange?.id, newer.id);
    assert.equal(decisions.firstRecordAt.toISOString(), older.startedAt.toISOString(), "the first record time still moves earlier");
    const history = await log.query({ resourceId: apim("apim-a") });
    assert.deepEqual(history.items.map((r) => r.id), [older.id, newer.id], "both records are in the log, oldest first, and no index row is listed as a record");
  });

  test("concurrent appends from two app instances, in any order, all land and leave the newest as latest", async () => {
    const connections = ["pe-1", "pe-2", "pe-3", "pe-4"];
    const records = connections.map((name) =>
      Array.from({ length: 10 }, (_, i) => record("apim-a", name, i, i % 3 === 0 ? { action: "approve", outcome: "applied", statusAfter: "Approved" } : {})),
    );
    const shuffled = records.flat().sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((r, i) => (i % 2 === 0 ? log : otherLog).append(r)));
    const latest = await log.listLatestByResource(apim("apim-a"));
    for (const [index, name] of connections.entries()) {
      const ofConnection = records[index]!;
      const decisions = latest.get(resourceIdKey(conn("apim-a", name)))!;
      assert.equal(decisions.latest.id, ofConnection.at(-1)!.id, name);
      assert.equal(decisions.latestStatusChange?.id, ofConnection[9]!.id, name);
      assert.equal(decisions.firstRecordAt.toISOString(), ofConnection[0]!.startedAt.toISOString(), name);
      const stored: DecisionRecord[] = [];
      for await (const r of log.listByConnection(conn("apim-a", name))) stored.push(r);
      assert.deepEqual(stored.map((r) => r.id), ofConnection.map((r) => r.id), name);
    }
  });

  test("the same record appended concurrently and again later is stored once and changes nothing", async () => {
    const r1 = record("apim-a", "pe-1", 1);
    const r2 = approval("apim-a", "pe-1", 2);
    await log.append(r1);
    await Promise.all([log.append(r2), otherLog.append(r2), log.append(r2)]);
    await otherLog.append(r1);
    const decisions = (await log.listLatestByResource(apim("apim-a"))).get(resourceIdKey(conn("apim-a", "pe-1")))!;
    assert.equal(decisions.latest.id, r2.id);
    assert.equal((await log.query({ connectionId: conn("apim-a", "pe-1") })).items.length, 2);
  });

  test("each instance lists only its own connections, each under its own key", async () => {
    const a1 = record("apim-a", "pe-1", 1);
    const a2 = approval("apim-a", "pe-2", 2);
    const b1 = approval("apim-b", "pe-1", 3);
    const ab = record("apim-ab", "pe-1", 4);
    for (const r of [a1, a2, b1, ab]) await log.append(r);
    const ofA = await log.listLatestByResource(apim("APIM-A"));
    assert.deepEqual([...ofA.keys()].sort(), [resourceIdKey(a1.connectionId), resourceIdKey(a2.connectionId)].sort());
    assert.equal(ofA.get(resourceIdKey(a2.connectionId))!.latest.id, a2.id);
    const ofB = await log.listLatestByResource(apim("apim-b"));
    assert.deepEqual([...ofB.values()].map((d) => d.latest.id), [b1.id]);
    assert.equal((await log.listLatestByResource(apim("apim-none"))).size, 0);
  });

  test("listing reads one page of one row per connection, however long the history: 200 decisions on one connection", async () => {
    await log.append(record("apim-a", "pe-quiet", 0));
    await log.append(record("apim-a", "pe-busy", 0));
    counter.reset();
    await log.listLatestByResource(apim("apim-a"));
    const before = { ...counter.counts };
    for (let i = 1; i <= 200; i++) await log.append(record("apim-a", "pe-busy", i, i % 50 === 0 ? { action: "approve", outcome: "applied", statusAfter: "Approved" } : {}));

    counter.reset();
    const latest = await log.listLatestByResource(apim("apim-a"));
    assert.deepEqual(counter.counts, before, "the same requests and rows as with one decision per connection");
    assert.deepEqual(counter.counts, { requests: 1, queries: 1, rowsReturned: 2 });
    assert.equal(latest.get(resourceIdKey(conn("apim-a", "pe-busy")))!.latest.reason, "decision at minute 200");
    assert.equal(latest.get(resourceIdKey(conn("apim-a", "pe-busy")))!.latestStatusChange?.recordedAt.toISOString(), "2025-06-01T03:20:01.000Z");
  });

  test("an append costs a bounded number of requests however long the history (point read + one transaction)", async () => {
    await log.append(record("apim-a", "pe-1", 0));
    counter.reset();
    await log.append(record("apim-a", "pe-1", 1));
    const early = counter.counts.requests;
    for (let i = 2; i < 60; i++) await log.append(record("apim-a", "pe-1", i));
    counter.reset();
    await log.append(record("apim-a", "pe-1", 60));
    assert.equal(counter.counts.requests, early);
    assert.equal(early, 3, "conn~ insert, ~latest~ point read, instance transaction");
  });

  test("a deleted connection leaves the listing and its index row is removed", async () => {
    await log.append(record("apim-a", "pe-1", 1));
    await log.append(approval("apim-a", "pe-2", 2));
    await log.append(record("apim-a", "pe-1", 3, { action: "delete", actor: "out-of-band", statusBefore: "Pending", statusAfter: "Deleted", outcome: "applied" }));
    counter.reset();
    const latest = await log.listLatestByResource(apim("apim-a"));
    assert.deepEqual([...latest.keys()], [resourceIdKey(conn("apim-a", "pe-2"))]);
    assert.equal(counter.counts.rowsReturned, 1, "the deleted connection's row is gone, not just skipped");
    assert.equal((await log.query({ resourceId: apim("apim-a") })).items.length, 3, "its records stay in the log");
  });

  test("an append whose instance transaction failed shows in neither the listing nor the instance's records until it is retried", async () => {
    const first = record("apim-a", "pe-1", 1);
    const second = approval("apim-a", "pe-1", 2);
    await log.append(first);
    failures.failNext();
    await assert.rejects(log.append(second), (error: Error & { kind?: string }) => error.kind === "transient");
    const stale = (await log.listLatestByResource(apim("apim-a"))).get(resourceIdKey(conn("apim-a", "pe-1")))!;
    assert.equal(stale.latest.id, first.id);
    assert.deepEqual((await log.query({ resourceId: apim("apim-a") })).items.map((r) => r.id), [first.id], "the index and the instance's records agree");

    await log.append(second);
    const repaired = (await log.listLatestByResource(apim("apim-a"))).get(resourceIdKey(conn("apim-a", "pe-1")))!;
    assert.equal(repaired.latest.id, second.id);
    assert.deepEqual((await log.query({ connectionId: conn("apim-a", "pe-1") })).items.map((r) => r.id), [first.id, second.id]);
  });
});
