import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import azf from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { createTableIdempotencyStore, ensureIdempotencyTable } from "../../../src/adapters/tables/idempotency-store.ts";
import { createTableOperationStore, ensureOperationTable } from "../../../src/adapters/tables/operation-store.ts";
import { deleteEntitiesWhere } from "../../../src/adapters/tables/tables.ts";
import { housekeeping, runHousekeeping } from "../../../src/functions/housekeeping.ts";
import { functionDefinitions } from "../../../src/functions/index.ts";
import type { IdempotencyState, IdempotencyStore } from "../../../src/ports/idempotency-store.ts";
import type { OperationState, OperationStatus, OperationStore } from "../../../src/ports/operation-store.ts";
import { deleteExpiredApiRows, type HousekeepingDeps } from "../../../src/workflows/housekeeping.ts";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const at = (offsetInMs: number) => new Date(NOW.getTime() + offsetInMs);

/** A key created `ageInMs` before NOW (its 24-hour window counted from then), answered unless a lock is given. */
function idempotencyKey(key: string, ageInMs: number, lockedUntil?: Date): IdempotencyState {
  const createdAt = at(-ageInMs);
  return {
    scope: "caller-1",
    key,
    fingerprint: "fp",
    createdAt,
    expiresAt: new Date(createdAt.getTime() + DAY),
    lockedUntil,
    response: lockedUntil === undefined ? { status: 202, headers: { location: `/api/operations/${key}` }, body: '{"ok":true}' } : undefined,
  };
}

/** An operation last updated `ageInMs` before NOW. */
function operation(status: OperationStatus, ageInMs: number): OperationState {
  return {
    id: randomUUID(),
    action: "approve",
    resourceId: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe",
    status,
    createdAt: at(-ageInMs - HOUR),
    updatedAt: at(-ageInMs),
    createdBy: "caller-1",
    resumeState: status === "Running" ? '{"poller":"x"}' : undefined,
    result: status === "Running" ? undefined : '{"kind":"completed"}',
  };
}

/** An InvocationContext whose log lines are kept. */
function invocation(): { context: azf.InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const context = new azf.InvocationContext({
    invocationId: "inv-1",
    functionName: "housekeeping",
    logHandler: (level, ...args) => lines.push(`${level}: ${args.map(String).join(" ")}`),
  });
  return { context, lines };
}

describe("Housekeeping of the API's tables (Azurite)", () => {
  let storage: LocalTableStorage;
  let tableNumber = 0;

  before(async () => {
    storage = await startAzuriteTables();
  });
  after(async () => {
    await storage.close();
  });

  const newTable = () => TableClient.fromConnectionString(storage.connectionString, `housekeeping${++tableNumber}`, { allowInsecureConnection: true });

  async function newIdempotencyStore(): Promise<IdempotencyStore> {
    const table = newTable();
    await ensureIdempotencyTable(table);
    return createTableIdempotencyStore(table);
  }

  async function newOperationStore(): Promise<OperationStore> {
    const table = newTable();
    await ensureOperationTable(table);
    return createTableOperationStore(table);
  }

  test("idempotency keys: expired ones are deleted; young ones and expired ones a request still holds are kept", async () => {
    const store = await newIdempotencyStore();
    const expired = [idempotencyKey("old-answered", 25 * HOUR), idempotencyKey("old-lock-lapsed", 30 * HOUR, at(-6 * HOUR)), idempotencyKey("days-old", 9 * DAY)];
    const kept = [
      idempotencyKey("young-answered", 23 * HOUR),
      idempotencyKey("young-in-progress", 1000, at(5 * 60 * 1000)),
      // Claimed just before its window ended: its lock outlasts the window, so the request is still running.
      idempotencyKey("expired-still-locked", 24 * HOUR + 60 * 1000, at(4 * 60 * 1000)),
    ];
    for (const state of [...expired, ...kept]) await store.create(state);

    assert.equal(await store.deleteExpired({ before: NOW }), expired.length);
    for (const state of expired) assert.equal(await store.get(state), undefined, `${state.key} should be deleted`);
    for (const state of kept) assert.equal((await store.get(state))?.key, state.key, `${state.key} should be kept`);
    assert.equal(await store.deleteExpired({ before: NOW }), 0);
  });

  test("operations: finished ones past the retention are deleted; running and recent ones are kept", async () => {
    const store = await newOperationStore();
    const expired = [operation("Succeeded", 8 * DAY), operation("Failed", 30 * DAY)];
    const kept = [operation("Running", 30 * DAY), operation("Succeeded", 6 * DAY), operation("Failed", HOUR), operation("Running", HOUR)];
    for (const state of [...expired, ...kept]) await store.create(state);

    const before = at(-7 * DAY);
    assert.equal(await store.deleteExpired({ before }), expired.length);
    for (const state of expired) assert.equal(await store.get(state.id), undefined, `${state.status} ${state.id} should be deleted`);
    for (const state of kept) assert.equal((await store.get(state.id))?.status, state.status, `${state.status} updated ${state.updatedAt.toISOString()} should be kept`);
    assert.equal(await store.deleteExpired({ before }), 0);
  });

  test("many expired rows are all deleted and counted, with bounded concurrency", async () => {
    const store = await newIdempotencyStore();
    const young = idempotencyKey("young", HOUR);
    await store.create(young);
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.create(idempotencyKey(`old-${i}`, 2 * DAY + i * HOUR))));
    assert.equal(await store.deleteExpired({ before: NOW }), 40);
    assert.equal(await store.deleteExpired({ before: NOW }), 0);
    assert.equal((await store.get(young))?.key, "young");
  });

  test("a row rewritten between the query and its delete is kept and not counted", async () => {
    const table = newTable();
    await table.createTable();
    await table.createEntity({ partitionKey: "a", rowKey: "r", state: "old" });
    await table.createEntity({ partitionKey: "b", rowKey: "r", state: "old" });
    // The same Azurite table, but another writer takes row "a" over just before its delete is sent.
    const racing: TableClient = Object.create(table);
    racing.deleteEntity = async (partitionKey, rowKey, options) => {
      if (partitionKey === "a") await table.updateEntity({ partitionKey: "a", rowKey: "r", state: "taken over" }, "Replace");
      return await table.deleteEntity(partitionKey, rowKey, options);
    };
    const deleted = await deleteEntitiesWhere(racing, { filter: "state eq 'old'", select: ["partitionKey", "rowKey"] }, () => true);
    assert.equal(deleted, 1);
    assert.equal((await table.getEntity<{ state: string }>("a", "r")).state, "taken over");
    await assert.rejects(table.getEntity("b", "r"), { statusCode: 404 });
  });

  test("the workflow applies the retention, and the timer logs how many rows of each kind it deleted", async () => {
    const deps: HousekeepingDeps = {
      idempotencyStore: await newIdempotencyStore(),
      operationStore: await newOperationStore(),
      clock: { now: () => NOW },
      operationRetentionInMs: 7 * DAY,
    };
    for (const state of [idempotencyKey("old-1", 2 * DAY), idempotencyKey("old-2", 3 * DAY), idempotencyKey("young", HOUR)]) await deps.idempotencyStore.create(state);
    for (const state of [operation("Succeeded", 8 * DAY), operation("Succeeded", 6 * DAY), operation("Running", 60 * DAY)]) await deps.operationStore.create(state);

    const first = invocation();
    const summary = await runHousekeeping(first.context, async () => deps);
    assert.deepEqual(summary.deleted, { idempotencyKeys: 2, operations: 1 });
    assert.deepEqual(summary.failures, []);
    assert.ok(first.lines.some((line) => /deleted 2 expired idempotency key\(s\) and 1 finished operation\(s\)/.test(line)), first.lines.join("\n"));

    const second = invocation();
    assert.deepEqual((await runHousekeeping(second.context, async () => deps)).deleted, { idempotencyKeys: 0, operations: 0 });
    assert.ok(second.lines.some((line) => /deleted 0 expired idempotency key\(s\) and 0 finished operation\(s\)/.test(line)), second.lines.join("\n"));
  });

  test("a kind that cannot be cleaned is logged as an error and the other kind is still cleaned", async () => {
    const missingTable = createTableOperationStore(newTable());
    const deps: HousekeepingDeps = { idempotencyStore: await newIdempotencyStore(), operationStore: missingTable, clock: { now: () => NOW }, operationRetentionInMs: 7 * DAY };
    await deps.idempotencyStore.create(idempotencyKey("old", 2 * DAY));
    const { context, lines } = invocation();
    const summary = await runHousekeeping(context, async () => deps);
    assert.deepEqual(summary.deleted, { idempotencyKeys: 1, operations: 0 });
    assert.deepEqual(summary.failures.map((f) => f.target), ["operations"]);
    assert.ok(lines.some((line) => line.startsWith("error: Could not delete expired operations: not-found")), lines.join("\n"));
  });

  test("the workflow refuses a retention that would delete operations as soon as they finish", async () => {
    const deps: HousekeepingDeps = { idempotencyStore: await newIdempotencyStore(), operationStore: await newOperationStore(), clock: { now: () => NOW }, operationRetentionInMs: 0 };
    await assert.rejects(deleteExpiredApiRows(deps), RangeError);
  });

  test("the timer is registered, reading its schedule from PORTCULLIS_HOUSEKEEPING_SCHEDULE", () => {
    // The table holds each trigger wrapped with telemetry (src/functions/telemetry.ts): the same name, kind and schedule.
    assert.ok(functionDefinitions.some((d) => d.name === housekeeping.name && d.kind === "timer" && d.schedule === housekeeping.schedule));
    assert.equal(housekeeping.kind, "timer");
    assert.equal(housekeeping.schedule, "%PORTCULLIS_HOUSEKEEPING_SCHEDULE%");
  });
});
