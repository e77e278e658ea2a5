import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TableClient } from "@azure/data-tables";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { createTableRuleStore, RULES_TABLE_SUFFIX } from "../../../src/adapters/tables/rule-store.ts";
import { ensureTable, tableClientFor } from "../../../src/adapters/tables/tables.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import type { RuleInput } from "../../../src/domain/rules/schema.ts";
import type { Clock } from "../../../src/ports/clock.ts";

const ann = { objectId: "00000000-0000-0000-0000-00000000a001", name: "Ann Admin" };
const bob = { objectId: "00000000-0000-0000-0000-00000000b002", appId: "00000000-0000-0000-0000-0000000000c3" };

const draft = (overrides: Partial<RuleInput> = {}): RuleInput => ({ id: "approve-orders", priority: 10, action: "approve", reason: "Orders team", ...overrides });

/** A clock the test moves by hand. */
function manualClock(start = "2025-06-01T12:00:00.000Z"): Clock & { advance(ms: number): void } {
  let now = Date.parse(start);
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

async function rejectsWith(promise: Promise<unknown>, kind: PortcullisError["kind"]): Promise<PortcullisError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PortcullisError, `expected a PortcullisError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  assert.fail(`expected ${kind}, but it succeeded`);
}

describe("Table Storage rule store (Azurite)", () => {
  let storage: LocalTableStorage;
  let tableCount = 0;

  before(async () => {
    storage = await startAzuriteTables();
  });
  after(async () => {
    await storage.close();
  });

  /** A fresh table, and a client for it that records every request it sends. */
  async function freshTable(options: { create?: boolean } = {}): Promise<{ prefix: string; client: TableClient; requests: string[] }> {
    const prefix = `t${++tableCount}x${Date.now().toString(36)}`;
    const { client, requests } = countingClient(prefix);
    if (options.create ?? true) await ensureTable(client);
    return { prefix, client, requests };
  }

  function countingClient(prefix: string, clientOptions = {}): { client: TableClient; requests: string[] } {
    const settings = { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: prefix };
    const client = tableClientFor(settings, RULES_TABLE_SUFFIX, { clientOptions });
    const requests: string[] = [];
    client.pipeline.addPolicy({
      name: "record-requests",
      sendRequest: async (request, next) => {
        requests.push(`${request.method} ${decodeURIComponent(new URL(request.url).pathname)}`);
        return await next(request);
      },
    });
    return { client, requests };
  }

  test("creates a rule with If-None-Match, stamps who and when, and refuses a second create", async () => {
    const { client } = await freshTable();
    const clock = manualClock();
    const store = createTableRuleStore({ table: client, clock });
    const created = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann, ticket: "CHG0000001" });
    assert.equal(created.rule.version, 1);
    assert.equal(created.rule.updatedAt, "2025-06-01T12:00:00.000Z");
    assert.deepEqual(created.rule.updatedBy, ann);
    assert.deepEqual(created.rule.conditions, {}, "no default is written in: left out, resource-types and group-ids mean API Management and Gateway");
    const read = await store.getRule("approve-orders");
    assert.deepEqual(read, created);
    await rejectsWith(store.putRule(draft({ reason: "Someone else's" }), { ifNoneMatch: "*", actor: bob }), "precondition-failed");
    assert.equal((await store.getRule("approve-orders"))!.rule.reason, "Orders team");
  });

  test("updates with If-Match and refuses a stale ETag without changing the rule", async () => {
    const { client } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    const v1 = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    const v2 = await store.putRule(draft({ priority: 5, reason: "Reviewed" }), { ifMatch: v1.etag, actor: bob });
    assert.equal(v2.rule.version, 2);
    assert.notEqual(v2.etag, v1.etag);
    const stale = await rejectsWith(store.putRule(draft({ action: "reject" }), { ifMatch: v1.etag, actor: ann }), "precondition-failed");
    assert.equal(stale.statusCode, 412);
    assert.deepEqual(await store.getRule("approve-orders"), v2);
    await rejectsWith(store.putRule(draft({ id: "never-created" }), { ifMatch: v1.etag, actor: ann }), "precondition-failed");
  });

  test("lets exactly one of two editors holding the same ETag win", async () => {
    const { client, prefix } = await freshTable();
    const first = createTableRuleStore({ table: client, clock: manualClock() });
    const second = createTableRuleStore({ table: countingClient(prefix).client, clock: manualClock() });
    const v1 = await first.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    const outcomes = await Promise.allSettled([
      first.putRule(draft({ reason: "Ann's edit" }), { ifMatch: v1.etag, actor: ann }),
      second.putRule(draft({ reason: "Bob's edit" }), { ifMatch: v1.etag, actor: bob }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
    const loser = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    assert.equal((loser.reason as PortcullisError).kind, "precondition-failed");
    const history = await first.listHistory("approve-orders");
    assert.deepEqual(history.map((h) => h.version), [2, 1]);
    assert.equal(history[0]!.rule!.reason, (await first.getRule("approve-orders"))!.rule.reason);
  });

  test("commits a rule change and its history entry together or not at all", async () => {
    const { client, prefix } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    const v1 = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    // Another writer commits version 2's history entry just before our transaction reaches storage.
    const rival = countingClient(prefix).client;
    let raced = false;
    client.pipeline.addPolicy({
      name: "race-another-writer",
      sendRequest: async (request, next) => {
        if (request.method === "POST" && request.url.includes("$batch") && !raced) {
          raced = true;
          const entry = { ruleId: "approve-orders", version: 2, change: "updated", changedAt: "2025-06-01T12:00:00Z", changedBy: bob };
          await rival.createEntity({ partitionKey: "rules", rowKey: "history:approve-orders:999999997", entry: JSON.stringify(entry) });
        }
        return await next(request);
      },
    });
    await rejectsWith(store.putRule(draft({ reason: "Lost update" }), { ifMatch: v1.etag, actor: ann }), "precondition-failed");
    assert.ok(raced);
    assert.deepEqual(await store.getRule("approve-orders"), v1, "the rule row was rolled back with the failed history insert");
  });

  test("keeps every version in history, newest first, with who, when, ticket and what changed", async () => {
    const { client } = await freshTable();
    const clock = manualClock();
    const store = createTableRuleStore({ table: client, clock });
    const v1 = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann, ticket: "CHG0000001" });
    clock.advance(60_000);
    const v2 = await store.putRule(draft({ action: "reject", reason: "Paused" }), { ifMatch: v1.etag, actor: bob });
    clock.advance(60_000);
    await store.deleteRule("approve-orders", { ifMatch: v2.etag, actor: ann, ticket: "CHG0000002" });
    const history = await store.listHistory("approve-orders");
    assert.deepEqual(
      history.map((h) => [h.version, h.change, h.changedBy.objectId, h.changedAt, h.ticket]),
      [
        [3, "deleted", ann.objectId, "2025-06-01T12:02:00.000Z", "CHG0000002"],
        [2, "updated", bob.objectId, "2025-06-01T12:01:00.000Z", undefined],
        [1, "created", ann.objectId, "2025-06-01T12:00:00.000Z", "CHG0000001"],
      ],
    );
    assert.deepEqual(history[0]!.rule, v2.rule, "a deletion keeps the rule it removed");
    assert.deepEqual(history[2]!.rule, v1.rule);
    assert.deepEqual(await store.listHistory("never-existed"), []);
  });

  test("deletes with If-Match only, and a re-created rule continues the version sequence", async () => {
    const { client } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    const v1 = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    await rejectsWith(store.deleteRule("approve-orders", { ifMatch: 'W/"datetime\'2000-01-01T00%3A00%3A00Z\'"', actor: ann }), "precondition-failed");
    await store.deleteRule("approve-orders", { ifMatch: v1.etag, actor: ann });
    assert.equal(await store.getRule("approve-orders"), undefined);
    await rejectsWith(store.deleteRule("approve-orders", { ifMatch: v1.etag, actor: ann }), "not-found");
    const again = await store.putRule(draft(), { ifNoneMatch: "*", actor: bob });
    assert.equal(again.rule.version, 3);
    assert.deepEqual((await store.listHistory("approve-orders")).map((h) => h.change), ["created", "deleted", "created"]);
  });

  test("refuses a write without a precondition, or an invalid rule, and writes nothing", async () => {
    const { client } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    await rejectsWith(store.putRule(draft(), { actor: ann }), "invalid-input");
    await rejectsWith(store.putRule(draft(), { ifNoneMatch: "*", ifMatch: "x", actor: ann }), "invalid-input");
    const invalid = await rejectsWith(store.putRule({ ...draft(), conditions: { colour: ["red"] } } as RuleInput, { ifNoneMatch: "*", actor: ann }), "invalid-input");
    assert.match(invalid.message, /unknown condition "colour"; valid conditions are resource-types, target-resources, target-instances/);
    await rejectsWith(store.putRule(draft(), { ifNoneMatch: "*", actor: { objectId: "" } }), "invalid-input");
    const rows = [];
    for await (const entity of client.listEntities()) rows.push(entity.rowKey);
    assert.deepEqual(rows, []);
  });

  test("re-validates the cached rule set with one point read when nothing changed", async () => {
    const { client, requests } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    const first = await store.getRuleSet();
    requests.length = 0;
    const second = await store.getRuleSet();
    const third = await store.getRuleSet();
    assert.equal(second, first, "the same snapshot object, so its compiled form is reused");
    assert.equal(third, first);
    assert.equal(requests.length, 2, requests.join("\n"));
    for (const request of requests) assert.match(request, /^GET .*\(PartitionKey='rules',RowKey='marker'\)$/);
  });

  test("serves the cache without any request within cacheTtlMs, and re-validates after it", async () => {
    const { client, requests } = await freshTable();
    const clock = manualClock();
    const store = createTableRuleStore({ table: client, clock, cacheTtlMs: 1_000 });
    await store.getRuleSet();
    requests.length = 0;
    clock.advance(999);
    await store.getRuleSet();
    assert.equal(requests.length, 0);
    clock.advance(1);
    await store.getRuleSet();
    assert.equal(requests.length, 1);
  });

  test("sees its own writes at once, even within cacheTtlMs", async () => {
    const { client } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock(), cacheTtlMs: 60_000 });
    const empty = await store.getRuleSet();
    const created = await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    const after = await store.getRuleSet();
    assert.notEqual(after.version, empty.version);
    assert.deepEqual(after.status === "usable" ? after.rules : undefined, [created.rule]);
  });

  test("shares one re-validation between concurrent callers", async () => {
    const { client, requests } = await freshTable();
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    await store.getRuleSet();
    requests.length = 0;
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => store.getRuleSet()));
    assert.equal(new Set(snapshots).size, 1);
    assert.equal(requests.length, 1);
  });

  test("sees a change made by another store instance on the next call", async () => {
    const { client, prefix } = await freshTable();
    const reader = createTableRuleStore({ table: client, clock: manualClock() });
    const writer = createTableRuleStore({ table: countingClient(prefix).client, clock: manualClock() });
    const before = await reader.getRuleSet();
    assert.deepEqual(before.status === "usable" ? before.rules : undefined, []);
    const created = await writer.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    const afterCreate = await reader.getRuleSet();
    assert.deepEqual(afterCreate.status === "usable" ? afterCreate.rules : undefined, [created.rule]);
    assert.notEqual(afterCreate.version, before.version);
    await writer.deleteRule("approve-orders", { ifMatch: created.etag, actor: ann });
    const afterDelete = await reader.getRuleSet();
    assert.deepEqual(afterDelete.status === "usable" ? afterDelete.rules : undefined, []);
    assert.equal(afterDelete.version, before.version, "the version names the content");
  });

  test("makes the rule set unusable when a malformed row is written directly, and reports it", async () => {
    const { client, prefix } = await freshTable();
    const clock = manualClock();
    const store = createTableRuleStore({ table: client, clock, rescanIntervalMs: 60_000 });
    await store.putRule(draft(), { ifNoneMatch: "*", actor: ann });
    assert.equal((await store.getRuleSet()).status, "usable");
    await client.createEntity({ partitionKey: "rules", rowKey: "rule:hand-edited", rule: '{"id":"hand-edited","priority":"high"}' });
    const fresh = await createTableRuleStore({ table: countingClient(prefix).client, clock }).getRuleSet();
    assert.equal(fresh.status, "unusable");
    assert.deepEqual(fresh.status === "unusable" ? fresh.problems.map((p) => p.rowKey) : [], ["rule:hand-edited"]);
    assert.ok(fresh.status === "unusable" && fresh.problems[0]!.etag);
    // The long-lived store notices a hand edit (which does not touch the change marker) at its next rescan.
    assert.equal((await store.getRuleSet()).status, "usable");
    clock.advance(60_000);
    assert.equal((await store.getRuleSet()).status, "unusable");
    await rejectsWith(store.getRule("hand-edited"), "internal");
  });

  test("fails instead of returning an empty rule set when the table does not exist", async () => {
    const { client } = await freshTable({ create: false });
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    await rejectsWith(store.getRuleSet(), "not-found");
  });

  test("reports storage that cannot be reached as transient, also when a cached set exists", async () => {
    const other = await startAzuriteTables();
    const settings = { PORTCULLIS_TABLES_CONNECTION_STRING: other.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "gone" };
    const client = tableClientFor(settings, RULES_TABLE_SUFFIX, { clientOptions: { retryOptions: { maxRetries: 0 } } });
    await ensureTable(client);
    const store = createTableRuleStore({ table: client, clock: manualClock() });
    await store.getRuleSet();
    await other.close();
    await rejectsWith(store.getRuleSet(), "transient");
    await rejectsWith(store.putRule(draft(), { ifNoneMatch: "*", actor: ann }), "transient");
  });
});
