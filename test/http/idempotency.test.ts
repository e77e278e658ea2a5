/**
 * Idempotency keys over the real Table Storage adapter (Azurite): one execution per key, replays answer from the
 * first response, a different request with the key is refused, concurrent requests cannot both execute, 5xx
 * answers release the key, and keys expire after 24 hours.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TableClient } from "@azure/data-tables";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createTableIdempotencyStore, ensureIdempotencyTable } from "../../src/adapters/tables/idempotency-store.ts";
import { IDEMPOTENCY_WINDOW_MS, IDEMPOTENCY_LOCK_MS, requestFingerprint, startIdempotentRequest, type IdempotencyContext } from "../../src/http/idempotency.ts";
import { ProblemError } from "../../src/http/problem.ts";
import type { IdempotencyStore } from "../../src/ports/idempotency-store.ts";

describe("Idempotency-Key handling on Table Storage", () => {
  let storage: LocalTableStorage;
  let store: IdempotencyStore;
  let now = new Date("2025-06-01T10:00:00Z");
  const warnings: string[] = [];
  const context = (): IdempotencyContext => ({ store, clock: { now: () => now }, log: { warn: (m) => warnings.push(m) } });
  const fingerprintA = requestFingerprint("POST", "/api/x/approve", '{"reason":"a","ticket":"CHG0000001"}');
  const fingerprintB = requestFingerprint("POST", "/api/x/approve", '{"reason":"b","ticket":"CHG0000001"}');

  before(async () => {
    storage = await startAzuriteTables();
    const table = TableClient.fromConnectionString(storage.connectionString, "idemtests", { allowInsecureConnection: true });
    await ensureIdempotencyTable(table);
    store = createTableIdempotencyStore(table);
  });
  after(() => storage.close());

  it("executes the first request and replays its response (status, headers, body) for the same key and body", async () => {
    const first = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-1", fingerprint: fingerprintA });
    assert.equal(first.kind, "execute");
    if (first.kind !== "execute") return;
    await first.complete({ status: 202, headers: { location: "/api/operations/1", "x-ignored": "no", "content-type": "application/json" }, body: { id: "1", nested: { ok: true } } });
    const replay = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-1", fingerprint: fingerprintA });
    assert.equal(replay.kind, "replay");
    if (replay.kind !== "replay") return;
    assert.equal(replay.response.status, 202);
    assert.deepEqual(replay.response.headers, { location: "/api/operations/1", "content-type": "application/json", "idempotent-replayed": "true" });
    assert.deepEqual(replay.response.body, { id: "1", nested: { ok: true } });
  });

  it("refuses the same key with a different request (422) and scopes keys to the caller", async () => {
    await assert.rejects(startIdempotentRequest(context(), { scope: "caller-1", key: "k-1", fingerprint: fingerprintB }), (error: unknown) => error instanceof ProblemError && error.problemType === "idempotency-key-reused");
    const otherCaller = await startIdempotentRequest(context(), { scope: "caller-2", key: "k-1", fingerprint: fingerprintB });
    assert.equal(otherCaller.kind, "execute", "another caller's identical key is a different key");
  });

  it("lets exactly one of many concurrent requests with one key execute; the others are told it is in progress", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () => startIdempotentRequest(context(), { scope: "caller-1", key: "k-concurrent", fingerprint: fingerprintA })),
    );
    const executed = attempts.filter((a) => a.status === "fulfilled" && a.value.kind === "execute");
    const inProgress = attempts.filter((a) => a.status === "rejected" && a.reason instanceof ProblemError && a.reason.problemType === "idempotency-key-in-use");
    assert.equal(executed.length, 1);
    assert.equal(inProgress.length, 7);
    assert.equal((inProgress[0] as PromiseRejectedResult).reason.headers["retry-after"], "1");
  });

  it("releases the key after a 5xx (nothing was done), so the retry executes", async () => {
    const first = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-503", fingerprint: fingerprintA });
    assert.equal(first.kind, "execute");
    if (first.kind === "execute") await first.complete({ status: 503, headers: { "retry-after": "5" }, body: { type: "unavailable" } });
    const retry = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-503", fingerprint: fingerprintB });
    assert.equal(retry.kind, "execute", "even a different body may use a released key");
  });

  it("keeps 4xx answers: a replay gets the same refusal", async () => {
    const first = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-409", fingerprint: fingerprintA });
    if (first.kind === "execute") await first.complete({ status: 409, body: { type: "conflict" } });
    const replay = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-409", fingerprint: fingerprintA });
    assert.equal(replay.kind === "replay" && replay.response.status, 409);
  });

  it("lets a request take over a key whose first request died (lock expired), and forgets keys after 24 hours", async () => {
    const abandoned = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-crash", fingerprint: fingerprintA });
    assert.equal(abandoned.kind, "execute");
    now = new Date(now.getTime() + IDEMPOTENCY_LOCK_MS + 1_000);
    const takeover = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-crash", fingerprint: fingerprintA });
    assert.equal(takeover.kind, "execute");
    if (takeover.kind === "execute") await takeover.complete({ status: 200, body: { done: true } });

    now = new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS + 1_000);
    const reused = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-crash", fingerprint: fingerprintB });
    assert.equal(reused.kind, "execute", "after 24 hours the key is free for a new request");
  });

  it("keeps large responses (compressed, split across properties) for replay", async () => {
    const big = { items: Array.from({ length: 3_000 }, (_, i) => ({ id: `/subscriptions/x/connections/c-${i}`, status: i % 2 ? "Pending" : "Approved", note: "lorem ipsum ".repeat(5) })) };
    const first = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-big", fingerprint: fingerprintA });
    if (first.kind === "execute") await first.complete({ status: 200, body: big });
    const replay = await startIdempotentRequest(context(), { scope: "caller-1", key: "k-big", fingerprint: fingerprintA });
    assert.equal(replay.kind, "replay");
    if (replay.kind === "replay") assert.deepEqual(replay.response.body, big);
  });
});
