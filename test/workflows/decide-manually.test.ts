import { test } from "node:test";
import assert from "node:assert/strict";
import { decideConnection } from "../../src/workflows/decide-connection.ts";
import { decideManually, resumeManualDecision, type ManualDecisionRequest, type PendingManualDecision } from "../../src/workflows/decide-manually.ts";
import { setTimeout as sleep } from "node:timers/promises";
import type { LongRunningOperation, PrivateLinkPort } from "../../src/ports/arm.ts";
import type { PrivateEndpointConnection } from "../../src/domain/model.ts";
import { context, createTestEngine, requestPending, rule, statusOf, UNMANAGED_APIM_ID, type TestEngine } from "./support.ts";

const alice = { objectId: "aaaaaaaa-0000-0000-0000-000000000001", name: "Alice Admin", appId: "app-1" };

function manual(connectionId: string, action: ManualDecisionRequest["action"], overrides: Partial<ManualDecisionRequest> = {}): ManualDecisionRequest {
  return { connectionId, action, ticket: "CHG0001234", reason: "Partner onboarding approved by CAB.", actor: alice, correlationId: "req-1", ...overrides };
}

/** ARM operations that take real time per poll (as the SDK's pollers wait between polls), so a time bound can pass. */
function slowPolls(apim: PrivateLinkPort, pollDelayInMs: number): PrivateLinkPort {
  const slow = (inner: LongRunningOperation<PrivateEndpointConnection>): LongRunningOperation<PrivateEndpointConnection> => {
    const operation: LongRunningOperation<PrivateEndpointConnection> = {
      async poll(options) {
        await sleep(pollDelayInMs, undefined, { signal: options?.abortSignal });
        await inner.poll(options);
      },
      isDone: () => inner.isDone(),
      result: () => inner.result(),
      async pollUntilDone(options) {
        while (!operation.isDone()) await operation.poll(options);
        return operation.result()!;
      },
      serialize: () => inner.serialize(),
    };
    return operation;
  };
  return {
    ...apim,
    beginSetConnectionStatus: async (...args) => slow(await apim.beginSetConnectionStatus(...args)),
    resumeSetConnectionStatus: async (...args) => slow(await apim.resumeSetConnectionStatus(...args)),
  };
}

function pendingConnection(engine: TestEngine, name: string) {
  return requestPending(engine, name).connection;
}

test("a human approves a Pending connection: ARM confirms, the record names the person and the ticket, and it is notified", async () => {
  const engine = createTestEngine();
  const connection = pendingConnection(engine, "pe-1");

  const result = await decideManually(manual(connection.id, "approve", { requestedBy: "bob@contoso.com" }), engine.deps);

  assert.equal(result.kind, "completed");
  assert.equal(statusOf(engine, connection.id), "Approved");
  const record = engine.log.records[0]!;
  assert.equal(record.actor, `principal:${alice.objectId}`);
  assert.equal(record.actorName, "Alice Admin");
  assert.equal(record.ticket, "CHG0001234");
  assert.equal(record.requestedBy, "bob@contoso.com");
  assert.equal(record.outcome, "applied");
  assert.match(engine.arm.state.connections.get(connection.id.toLowerCase())!.description ?? "", /^Approved by Alice Admin via Portcullis \[CHG0001234\]/);
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.Approved"]);

  const sweep = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  assert.equal(sweep.records.length, 0, "the engine does not record a human's decision twice");
});

test("errors the API maps: not Pending → conflict, unmanaged → not-found, missing → not-found", async () => {
  const engine = createTestEngine();
  const connection = pendingConnection(engine, "pe-2");
  engine.arm.updateConnection(connection.id, { status: "Rejected" });
  const unmanaged = requestPending(engine, "pe-3", { resourceId: UNMANAGED_APIM_ID }).connection;

  await assert.rejects(decideManually(manual(connection.id, "approve"), engine.deps), { kind: "conflict" });
  await assert.rejects(decideManually(manual(unmanaged.id, "approve"), engine.deps), { kind: "not-found" });
  await assert.rejects(decideManually(manual(`${connection.id}-missing`, "approve"), engine.deps), { kind: "not-found" });
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
});

test("revoke rejects an approved connection, and refuses one that is not approved", async () => {
  const engine = createTestEngine({ rules: [rule({ id: "allow-all", action: "approve" })] });
  const connection = pendingConnection(engine, "pe-4");
  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  const pending = pendingConnection(engine, "pe-5");

  const result = await decideManually(manual(connection.id, "revoke"), engine.deps);
  await assert.rejects(decideManually(manual(pending.id, "revoke"), engine.deps), { kind: "conflict" });

  assert.equal(result.kind, "completed");
  assert.equal(statusOf(engine, connection.id), "Rejected");
  const revoke = engine.log.records.at(-1)!;
  assert.equal(revoke.action, "revoke");
  assert.equal(revoke.statusBefore, "Approved");
  assert.equal(revoke.statusAfter, "Rejected");
});

test("a long ARM operation returns in-progress; resuming finishes it once, however often it is resumed", async () => {
  const engine = createTestEngine({ rules: [rule({ id: "reject-all", action: "reject" })] });
  engine.arm.lroPollsToComplete = 1_000_000;
  const deps = { ...engine.deps, privateLink: slowPolls(engine.deps.privateLink, 2) };
  const connection = pendingConnection(engine, "pe-6");

  const started = await decideManually(manual(connection.id, "approve"), deps, { waitInMs: 20 });
  assert.equal(started.kind, "in-progress");
  const operation = JSON.parse(JSON.stringify((started as { operation: PendingManualDecision }).operation)) as PendingManualDecision;

  const engineMeanwhile = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  assert.equal(engineMeanwhile.outcome, "claimed-elsewhere", "the engine keeps off a connection a human is deciding");

  const stillRunning = await resumeManualDecision(operation, deps, { waitInMs: 10 });
  assert.equal(stillRunning.kind, "in-progress");
  engine.arm.state.operations.forEach((op) => (op.pollsRemaining = 1));
  const [first, second] = await Promise.all([resumeManualDecision(operation, deps), resumeManualDecision(operation, deps)]);
  const third = await resumeManualDecision(operation, deps);

  assert.equal(first.kind, "completed");
  assert.equal(second.kind, "completed");
  assert.equal(third.kind, "completed");
  assert.equal(statusOf(engine, connection.id), "Approved");
  assert.equal(engine.log.records.filter((r) => r.outcome === "applied").length, 1);
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
});

test("two people deciding one connection at once: one wins, the other gets a conflict", async () => {
  const engine = createTestEngine();
  const connection = pendingConnection(engine, "pe-7");

  const results = await Promise.allSettled([
    decideManually(manual(connection.id, "approve"), engine.deps),
    decideManually(manual(connection.id, "reject", { actor: { objectId: "bbbbbbbb-0000-0000-0000-000000000002" } }), engine.deps),
  ]);

  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.equal(rejected.reason.kind, "conflict");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
});

test("dry-run records what the person asked for and never writes to ARM", async () => {
  const engine = createTestEngine({ mode: "dry-run" });
  const connection = pendingConnection(engine, "pe-8");

  const result = await decideManually(manual(connection.id, "approve"), engine.deps);

  assert.equal(result.kind, "completed");
  assert.equal((result as { record: { outcome: string } }).record.outcome, "would-apply");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
});

test("ARM refusing a manual decision is recorded as failed and returned as such", async () => {
  const engine = createTestEngine();
  const connection = pendingConnection(engine, "pe-9");
  engine.arm.failNext("poll", "invalid-input", { code: "InvalidRequestFormat" });

  const result = await decideManually(manual(connection.id, "approve"), engine.deps);

  assert.equal(result.kind, "failed");
  assert.match(engine.log.records[0]!.error ?? "", /InvalidRequestFormat/);
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.DecisionFailed"]);
});
