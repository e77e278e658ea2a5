import { test } from "node:test";
import assert from "node:assert/strict";
import { decideConnection } from "../../src/workflows/decide-connection.ts";
import {
  brokenRuleSet,
  CONSUMER_SUB,
  CONSUMER_TENANT,
  context,
  createTestEngine,
  OTHER_SUB,
  requestPending,
  rule,
  statusOf,
  UNMANAGED_APIM_ID,
} from "./support.ts";

const approveConsumers = rule({
  id: "allow-consumer-sub",
  action: "approve",
  priority: 10,
  version: 3,
  reason: "Consumer subscription is on the allow list.",
  conditions: { "requester-subscriptions": [CONSUMER_SUB], "group-ids": ["Gateway"] },
});

test("approves a Pending connection a rule matches, names the rule in the description, records and notifies once", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-a");

  const decision = await decideConnection({ connectionId: connection.id, context: context("corr-a", ["evt-1"]) }, engine.deps);

  assert.equal(decision.outcome, "approved");
  assert.equal(statusOf(engine, connection.id), "Approved");
  const stored = engine.arm.state.connections.get(connection.id.toLowerCase())!;
  assert.match(stored.description ?? "", /Portcullis rule allow-consumer-sub v3: Consumer subscription is on the allow list\./);
  assert.equal(engine.log.records.length, 1);
  const record = engine.log.records[0]!;
  assert.equal(record.actor, "rule:allow-consumer-sub");
  assert.equal(record.ruleVersion, 3);
  assert.equal(record.outcome, "applied");
  assert.equal(record.statusBefore, "Pending");
  assert.equal(record.statusAfter, "Approved");
  assert.equal(record.requesterSubscriptionId, CONSUMER_SUB);
  assert.deepEqual(record.triggeringEventIds, ["evt-1"]);
  assert.equal(record.correlationId, "corr-a");
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.Approved"]);
  assert.match(decision.summary, /approved by rule:allow-consumer-sub v3/);
});

test("a second run over the same state is a no-op: no ARM write, no record, no notification", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-a");
  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  const writesBefore = engine.claims.writes;

  const again = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(again.outcome, "settled");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.published.published.length, 1);
  assert.equal(engine.claims.writes, writesBefore);
});

test("leaves a connection Pending for a human when no rule matches (default manual), recording and notifying it once", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-b", { subscriptionId: OTHER_SUB });

  const first = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  const second = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(first.outcome, "awaiting-manual");
  assert.equal(second.outcome, "awaiting-manual");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.log.records[0]!.action, "manual");
  assert.equal(engine.log.records[0]!.actor, "default");
  assert.equal(engine.log.records[0]!.outcome, "skipped");
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.AwaitingManualApproval"]);
});

test("rejects a connection no rule matches when the default action is reject", async () => {
  const engine = createTestEngine({ rules: [approveConsumers], defaultAction: "reject" });
  const { connection } = requestPending(engine, "pe-c", { subscriptionId: OTHER_SUB });

  const decision = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(decision.outcome, "rejected");
  assert.equal(statusOf(engine, connection.id), "Rejected");
  assert.equal(engine.log.records[0]!.actor, "default");
  assert.match(engine.arm.state.connections.get(connection.id.toLowerCase())!.description ?? "", /^Rejected by Portcullis default action/);
});

test("an audit-mode rule is recorded as would-apply and decides nothing; the enforce rule below it decides", async () => {
  const auditReject = rule({ id: "audit-reject-all", action: "reject", priority: 1, mode: "audit" });
  const engine = createTestEngine({ rules: [auditReject, approveConsumers] });
  const { connection } = requestPending(engine, "pe-d");

  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(statusOf(engine, connection.id), "Approved");
  const audit = engine.log.records.filter((r) => r.mode === "audit");
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.actor, "rule:audit-reject-all");
  assert.equal(audit[0]!.action, "reject");
  assert.equal(audit[0]!.outcome, "would-apply");
  assert.equal(engine.log.records.filter((r) => r.outcome === "applied").length, 1);
});

test("dry-run evaluates and records would-approve once, and never writes to ARM", async () => {
  const engine = createTestEngine({ rules: [approveConsumers], mode: "dry-run" });
  const { connection } = requestPending(engine, "pe-e");

  const first = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(first.outcome, "would-approve");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.log.records[0]!.mode, "dry-run");
  assert.equal(engine.log.records[0]!.outcome, "would-apply");
  assert.equal(engine.published.published.length, 0);
});

test("fails closed: with one stored rule row broken, nothing is approved even though an approve rule matches", async () => {
  const engine = createTestEngine({ ruleSet: brokenRuleSet([approveConsumers]) });
  const { connection } = requestPending(engine, "pe-f");

  const decision = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(decision.outcome, "awaiting-manual");
  assert.equal(decision.evaluation?.decidedBy.kind, "fail-closed");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
  assert.equal(engine.log.records[0]!.actor, "fail-closed");
  assert.ok(engine.log.records[0]!.explanation.some((line) => line.includes("broken")));
});

test("never overturns a human: a connection rejected in the portal after it was listed is recorded, not approved", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection: listed } = requestPending(engine, "pe-g");
  engine.arm.updateConnection(listed.id, { status: "Rejected", description: "Rejected by the owner in the portal" });

  const decision = await decideConnection({ connectionId: listed.id, connection: listed, context: context() }, engine.deps);

  assert.equal(decision.outcome, "settled");
  assert.equal(statusOf(engine, listed.id), "Rejected");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.log.records[0]!.actor, "out-of-band");
  assert.equal(engine.log.records[0]!.statusAfter, "Rejected");
});

test("a connection approved by someone else is recorded once as an out-of-band decision", async () => {
  const engine = createTestEngine({ rules: [] });
  const { connection } = requestPending(engine, "pe-h");
  engine.arm.updateConnection(connection.id, { status: "Approved", description: "az network private-endpoint-connection approve" });

  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(engine.log.records.length, 1);
  const record = engine.log.records[0]!;
  assert.equal(record.actor, "out-of-band");
  assert.equal(record.action, "approve");
  assert.equal(record.statusAfter, "Approved");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);
});

test("the requester tenant decides only where it is known (an event's tenant), never when unknown", async () => {
  const tenantRule = rule({ id: "allow-tenant", action: "approve", conditions: { "requester-tenants": [CONSUMER_TENANT] } });
  const engine = createTestEngine({ rules: [tenantRule] });
  const unknown = requestPending(engine, "pe-i").connection;
  const known = requestPending(engine, "pe-j").connection;

  const withoutTenant = await decideConnection({ connectionId: unknown.id, context: context() }, engine.deps);
  const withTenant = await decideConnection({ connectionId: known.id, requesterTenantId: CONSUMER_TENANT, context: context() }, engine.deps);

  assert.equal(withoutTenant.outcome, "awaiting-manual");
  assert.equal(withTenant.outcome, "approved");
});

test("a 403 reading the consumer's endpoint leaves its request message unknown, so a message condition does not match", async () => {
  const messageRule = rule({ id: "allow-ticketed", action: "approve", conditions: { "request-message": ["*CHG*"] } });
  const engine = createTestEngine({ rules: [messageRule] });
  const { connection } = requestPending(engine, "pe-k", { requestMessage: "Please approve CHG0001234" });
  engine.arm.failNext("getPrivateEndpoint", "forbidden");

  const decision = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(decision.outcome, "awaiting-manual");
  assert.ok(decision.evaluation?.explanation.some((line) => line.includes("not known")));
});

test("ARM refusing the write is recorded as failed and notified, then not retried until the back-off has passed", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-l");
  engine.arm.failNext("beginSetConnectionStatus", "forbidden", { code: "AuthorizationFailed" });

  const failed = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  const soon = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  engine.advance(600_001);
  const later = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(failed.outcome, "failed");
  assert.equal(soon.outcome, "retry-later");
  assert.equal(later.outcome, "approved");
  assert.deepEqual(engine.log.records.map((r) => r.outcome), ["failed", "applied"]);
  assert.match(engine.log.records[0]!.error ?? "", /AuthorizationFailed/);
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.DecisionFailed", "Portcullis.Connection.Approved"]);
});

test("item 3: polling answers 403 and a re-read shows the connection unchanged: only then is the decision recorded as failed", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-poll-unchanged");
  engine.arm.lroPollsToComplete = 3;
  engine.arm.failNext("poll", "forbidden", { code: "AuthorizationFailed", message: "The client 'app-identity' has no authorization over scope '/subscriptions/x'." });

  const failed = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(failed.outcome, "failed");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.deepEqual(engine.log.records.map((r) => [r.actor, r.outcome]), [["rule:allow-consumer-sub", "failed"]]);
  assert.equal(engine.log.records[0]!.error, "ARM refused the change: 403 AuthorizationFailed");
  assert.doesNotMatch(engine.log.records[0]!.error ?? "", /app-identity|scope/, "ARM's message (our identity and scope) is not recorded");
  assert.deepEqual(engine.published.published.map((n) => n.type), ["Portcullis.Connection.DecisionFailed"]);
});

test("a transient ARM failure before the write throws, records nothing, and the next run decides at once", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-m");
  engine.arm.failNext("beginSetConnectionStatus", "transient", { statusCode: 429, retryAfterSeconds: 1 });

  await assert.rejects(decideConnection({ connectionId: connection.id, context: context() }, engine.deps), { kind: "transient" });
  assert.equal(engine.log.records.length, 0);
  assert.equal(statusOf(engine, connection.id), "Pending");

  const retried = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);
  assert.equal(retried.outcome, "approved");
  assert.equal(engine.log.records.length, 1);
});

test("storage unreachable means no decision: the claim cannot be taken, so nothing is approved", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-n");
  engine.claims.failNext("create");

  await assert.rejects(decideConnection({ connectionId: connection.id, context: context() }, engine.deps), { kind: "transient" });
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 0);

  engine.rules.failNext = true;
  await assert.rejects(decideConnection({ connectionId: connection.id, context: context() }, engine.deps), { kind: "transient" });
  assert.equal(statusOf(engine, connection.id), "Pending");
});

test("two engines deciding the same connection at once make one ARM write and one record", async () => {
  const first = createTestEngine({ rules: [approveConsumers] });
  const second = createTestEngine({ rules: [approveConsumers], shared: first });
  const { connection } = requestPending(first, "pe-o");

  const outcomes = await Promise.all([
    decideConnection({ connectionId: connection.id, context: context("one") }, first.deps),
    decideConnection({ connectionId: connection.id, context: context("two") }, second.deps),
  ]);

  assert.deepEqual(outcomes.map((d) => d.outcome).sort(), ["approved", "claimed-elsewhere"]);
  assert.equal(first.arm.calls.beginSetConnectionStatus, 1);
  assert.equal(first.log.records.length, 1);
});

test("a run that stopped after ARM approved but before recording is recorded by a later run as the rule's decision, once", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-p");
  engine.log.failNext("append");

  await assert.rejects(decideConnection({ connectionId: connection.id, context: context("run-1") }, engine.deps), { kind: "transient" });
  assert.equal(statusOf(engine, connection.id), "Approved");
  assert.equal(engine.log.records.length, 0);
  const whileLeased = await decideConnection({ connectionId: connection.id, context: context("run-2") }, engine.deps);
  assert.equal(whileLeased.outcome, "claimed-elsewhere");

  engine.advance(60_001);
  const recovered = await decideConnection({ connectionId: connection.id, context: context("run-3") }, engine.deps);
  await decideConnection({ connectionId: connection.id, context: context("run-4") }, engine.deps);

  assert.equal(recovered.outcome, "approved");
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.log.records[0]!.actor, "rule:allow-consumer-sub");
  assert.equal(engine.log.records[0]!.outcome, "applied");
  assert.equal(engine.log.records[0]!.correlationId, "run-1");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
});

test("the run whose polling failed after ARM accepted its write records the landed write when it retries, without writing again", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-p2");
  engine.arm.failNext("poll", "transient", { statusCode: 429, retryAfterSeconds: 1 });

  await assert.rejects(decideConnection({ connectionId: connection.id, context: context("sweep-1") }, engine.deps), { kind: "transient" });
  const intent = [...engine.claims.claims.values()][0]!.lease!.intent;
  engine.arm.updateConnection(connection.id, { status: "Approved", description: intent.description });

  const other = await decideConnection({ connectionId: connection.id, context: context("event-9") }, engine.deps);
  const retried = await decideConnection({ connectionId: connection.id, context: context("sweep-1") }, engine.deps);

  assert.equal(other.outcome, "claimed-elsewhere");
  assert.equal(retried.outcome, "approved");
  assert.equal(engine.log.records.length, 1);
  assert.equal(engine.log.records[0]!.actor, "rule:allow-consumer-sub");
  assert.equal(engine.arm.calls.beginSetConnectionStatus, 1);
});

test("a notification that cannot be published never fails or undoes the decision", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-q");
  engine.published.failNext("publish");

  const decision = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(decision.outcome, "approved");
  assert.equal(engine.log.records.length, 1);
  assert.ok(engine.warnings.some((w) => w.includes("Could not publish")));
});

test("connections of instances Portcullis does not manage are ignored", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection } = requestPending(engine, "pe-r", { resourceId: UNMANAGED_APIM_ID });

  const decision = await decideConnection({ connectionId: connection.id, context: context() }, engine.deps);

  assert.equal(decision.outcome, "unmanaged");
  assert.equal(statusOf(engine, connection.id), "Pending");
  assert.equal(engine.log.records.length, 0);
});
