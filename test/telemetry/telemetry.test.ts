/**
 * Telemetry through the real OpenTelemetry SDK (in-memory exporters) over the app's adapter, the trigger wrapper
 * and the engine wrapper, driving the real workflows over in-memory ports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { EventGridFunctionDefinition, FunctionDefinition, TimerFunctionDefinition } from "../../src/functions/definition.ts";
import { handlePrivateEndpointEvent } from "../../src/functions/private-endpoint-events.ts";
import { runReconcilePending } from "../../src/functions/reconcile-pending.ts";
import { withTelemetry } from "../../src/functions/telemetry.ts";
import type { Telemetry } from "../../src/ports/telemetry.ts";
import { createDecisionHooks, instrumentEngineDeps } from "../../src/telemetry/engine.ts";
import { ATTR, METRIC, SPAN } from "../../src/telemetry/names.ts";
import { redactSecrets } from "../../src/telemetry/redact.ts";
import { recordAuditTelemetry } from "../../src/telemetry/runs.ts";
import type { AuditRunSummary } from "../../src/domain/audit/run.ts";
import { CONSUMER_SUB, createTestEngine, OTHER_SUB, requestPending, rule, statusOf, type TestEngine } from "../workflows/support.ts";
import { createInMemoryTelemetry, invocation } from "./support.ts";

const approveConsumers = rule({ id: "allow-consumer", action: "approve", reason: "Trusted consumer.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } });
const HOST_TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const HOST_SPAN_ID = "b7ad6b7169203331";
const JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhdHRhY2tlciIsImF1ZCI6InBvcnRjdWxsaXMifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

function endpointEvent(privateEndpointId: string, id = "evt-1") {
  return {
    id,
    subject: privateEndpointId,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    dataVersion: "2",
    data: { operationName: "Microsoft.Network/privateEndpoints/write", resourceUri: privateEndpointId },
  };
}

function eventFunction(engine: TestEngine, telemetry: Telemetry): EventGridFunctionDefinition {
  const deps = instrumentEngineDeps(engine.deps, telemetry);
  const definition: FunctionDefinition = withTelemetry(
    { kind: "eventGrid", name: "privateEndpointEvents", handler: (event, context) => handlePrivateEndpointEvent(event, context, async () => deps) },
    async () => telemetry,
  );
  assert.equal(definition.kind, "eventGrid");
  return definition as EventGridFunctionDefinition;
}

function sweepFunction(engine: TestEngine, telemetry: Telemetry): TimerFunctionDefinition {
  const deps = instrumentEngineDeps(engine.deps, telemetry);
  const definition = withTelemetry(
    { kind: "timer", name: "reconcilePending", schedule: "0 */5 * * * *", handler: async (_timer, context) => void (await runReconcilePending(context, async () => deps, telemetry)) },
    async () => telemetry,
  );
  return definition as TimerFunctionDefinition;
}

const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const allText = (spans: readonly ReadableSpan[]) => JSON.stringify(spans.map((s) => ({ attributes: s.attributes, status: s.status, name: s.name })));

test("one trace per event decision: the event's span (continuing the host's trace) -> the decision span with connection, rule, actor, event and correlation IDs -> the ARM write", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-traced");
  const recorded = createInMemoryTelemetry();
  const { context } = invocation({ invocationId: "inv-42", traceParent: `00-${HOST_TRACE_ID}-${HOST_SPAN_ID}-01` });

  await eventFunction(engine, recorded.telemetry).handler(endpointEvent(privateEndpoint.id), context);

  assert.equal(statusOf(engine, connection.id), "Approved");
  const root = recorded.span("privateEndpointEvents");
  const decision = recorded.span(SPAN.decision);
  const armWrite = recorded.span(SPAN.armWrite);
  for (const span of [root, decision, armWrite]) assert.equal(span.spanContext().traceId, HOST_TRACE_ID, `${span.name} is in the host's trace`);
  assert.equal(parentOf(root), HOST_SPAN_ID);
  assert.equal(parentOf(decision), root.spanContext().spanId);
  assert.equal(parentOf(armWrite), decision.spanContext().spanId);
  assert.equal(root.kind, SpanKind.SERVER, "Application Insights files it under requests");
  assert.equal(armWrite.kind, SpanKind.CLIENT);
  assert.deepEqual(
    { event: root.attributes[ATTR.eventId], correlation: root.attributes[ATTR.correlationId], invocation: root.attributes[ATTR.invocationId] },
    { event: "evt-1", correlation: "inv-42", invocation: "inv-42" },
  );
  assert.deepEqual(
    {
      connection: decision.attributes[ATTR.connectionId],
      rule: decision.attributes[ATTR.ruleId],
      ruleVersion: decision.attributes[ATTR.ruleVersion],
      actor: decision.attributes[ATTR.actor],
      actorKind: decision.attributes[ATTR.actorKind],
      events: decision.attributes[ATTR.eventIds],
      correlation: decision.attributes[ATTR.correlationId],
      action: decision.attributes[ATTR.action],
      outcome: decision.attributes[ATTR.outcome],
      statusAfter: decision.attributes[ATTR.statusAfter],
    },
    {
      connection: connection.id,
      rule: "allow-consumer",
      ruleVersion: 1,
      actor: "rule:allow-consumer",
      actorKind: "rule",
      events: ["evt-1"],
      correlation: "inv-42",
      action: "approve",
      outcome: "applied",
      statusAfter: "Approved",
    },
  );
  assert.equal(decision.attributes[ATTR.decisionId], engine.log.records[0]!.id, "the span names the decision record");
  assert.equal(armWrite.attributes[ATTR.targetStatus], "Approved");
  assert.equal(decision.status.code, SpanStatusCode.UNSET);
  const decisions = (await recorded.metrics()).filter((m) => m.name === METRIC.decisions.name);
  assert.deepEqual(decisions, [
    { name: METRIC.decisions.name, value: 1, attributes: { [ATTR.outcome]: "applied", [ATTR.action]: "approve", [ATTR.mode]: "enforce", [ATTR.actorKind]: "rule", [ATTR.ruleId]: "allow-consumer" } },
  ]);
});

test("a second delivery of the same event changes nothing and records no second decision", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-twice");
  const recorded = createInMemoryTelemetry();
  const handler = eventFunction(engine, recorded.telemetry).handler;
  await handler(endpointEvent(privateEndpoint.id), invocation({ invocationId: "inv-a" }).context);
  await handler(endpointEvent(privateEndpoint.id), invocation({ invocationId: "inv-b" }).context);

  assert.equal(recorded.spans().filter((s) => s.name === "privateEndpointEvents").length, 2);
  assert.equal(recorded.spans().filter((s) => s.name === SPAN.armWrite).length, 1, "one ARM write");
  const applied = (await recorded.metrics()).filter((m) => m.name === METRIC.decisions.name && m.attributes[ATTR.outcome] === "applied");
  assert.equal(applied.reduce((sum, m) => sum + Number(m.value), 0), 1);
});

test("the sweep's trace holds each decision; it records its duration, decisions by outcome and the Pending age of what it left for a human", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const approved = requestPending(engine, "pe-sweep-a").connection;
  const waiting = requestPending(engine, "pe-sweep-b", { subscriptionId: OTHER_SUB }).connection;
  const recorded = createInMemoryTelemetry();
  const sweep = sweepFunction(engine, recorded.telemetry);

  await sweep.handler(timer, invocation({ invocationId: "sweep-1" }).context);
  engine.advance(3 * 60 * 60 * 1000);
  await sweep.handler(timer, invocation({ invocationId: "sweep-2" }).context);

  const [first] = recorded.spans().filter((s) => s.name === "reconcilePending" && s.attributes[ATTR.invocationId] === "sweep-1");
  assert.ok(first, "the first sweep's span");
  assert.equal(first.kind, SpanKind.SERVER);
  const firstDecisions = recorded.spans().filter((s) => s.name === SPAN.decision && s.attributes[ATTR.correlationId] === "sweep-1");
  assert.deepEqual(firstDecisions.map((s) => s.attributes[ATTR.connectionId]).sort(), [approved.id, waiting.id].sort());
  for (const span of firstDecisions) {
    assert.equal(parentOf(span), first.spanContext().spanId);
    assert.equal(span.spanContext().traceId, first.spanContext().traceId);
  }
  const manual = firstDecisions.find((s) => s.attributes[ATTR.connectionId] === waiting.id)!;
  assert.deepEqual([manual.attributes[ATTR.action], manual.attributes[ATTR.outcome], manual.attributes[ATTR.actor]], ["manual", "skipped", "default"]);

  const metrics = await recorded.metrics();
  const decisions = metrics.filter((m) => m.name === METRIC.decisions.name);
  const count = (outcome: string, action: string) =>
    decisions.filter((m) => m.attributes[ATTR.outcome] === outcome && m.attributes[ATTR.action] === action).reduce((sum, m) => sum + Number(m.value), 0);
  assert.equal(count("applied", "approve"), 1);
  assert.ok(count("skipped", "manual") >= 1, "the connection left for a human is recorded");
  const pendingAge = metrics.filter((m) => m.name === METRIC.pendingAge.name);
  assert.equal(pendingAge.length, 1, "one series: the waiting connection");
  assert.deepEqual(pendingAge[0]!.attributes, { [ATTR.connectionId]: waiting.id, [ATTR.resourceId]: waiting.resourceId });
  const ages = pendingAge[0]!.value as { count: number; max: number; min: number };
  assert.deepEqual([ages.count, ages.min, ages.max], [2, 0, 3 * 60 * 60], "0 s at the first sweep, 3 h at the second");
  const durations = metrics.filter((m) => m.name === METRIC.sweepDuration.name);
  assert.deepEqual(durations.map((m) => m.attributes), [{ [ATTR.ruleSetUsable]: "true", [ATTR.outcome]: "ok", [ATTR.inventory]: "arm-listing" }]);
  assert.equal((durations[0]!.value as { count: number }).count, 2);
});

test("a write ARM refuses fails its decision and ARM spans, and a token in the refusal never reaches an attribute", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-refused");
  engine.arm.failNext("beginSetConnectionStatus", "forbidden", { message: `The client with token Bearer ${JWT} has no authorization`, code: "AuthorizationFailed" });
  const recorded = createInMemoryTelemetry();

  await eventFunction(engine, recorded.telemetry).handler(endpointEvent(privateEndpoint.id), invocation().context);

  assert.equal(statusOf(engine, connection.id), "Pending");
  const decision = recorded.span(SPAN.decision);
  assert.equal(decision.attributes[ATTR.outcome], "failed");
  assert.equal(decision.status.code, SpanStatusCode.ERROR);
  assert.equal(recorded.span(SPAN.armWrite).status.code, SpanStatusCode.ERROR);
  assert.match(String(decision.attributes[ATTR.error]), /AuthorizationFailed/);
  const exported = allText(recorded.spans());
  assert.ok(!exported.includes("eyJ"), exported);
  assert.ok(exported.includes("[redacted]"));
  const failed = (await recorded.metrics()).filter((m) => m.name === METRIC.decisions.name && m.attributes[ATTR.outcome] === "failed");
  assert.equal(failed.length, 1);
});

test("what a function logs is redacted before the host sees it: tokens, keys, signatures and secrets", async () => {
  const recorded = createInMemoryTelemetry();
  const definition = withTelemetry(
    {
      kind: "eventGrid",
      name: "logsSecrets",
      handler: async (_event, context) => {
        context.log(`token ${JWT} for the request`);
        context.warn("storage: DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5;EndpointSuffix=core.windows.net");
        context.error(new Error("GET https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=AbCdEf123%2Bsecret&se=2030 failed"));
        context.info("headers", JSON.stringify({ authorization: `Bearer ${JWT}`, "x-functions-key": "k3y-v4lue" }));
        throw new Error(`client_secret=s3cr3t-value rejected`);
      },
    },
    async () => recorded.telemetry,
  ) as EventGridFunctionDefinition;
  const { context, lines } = invocation();

  await assert.rejects(definition.handler({ id: "e" }, context), /client_secret/);

  const logged = lines.join("\n");
  for (const secret of ["eyJ", "c2VjcmV0a2V5c2VjcmV0a2V5", "AbCdEf123", "k3y-v4lue"]) assert.ok(!logged.includes(secret), `${secret} leaked:\n${logged}`);
  assert.match(logged, /AccountName=acct;AccountKey=\[redacted\]/, "the rest of the line still reads");
  assert.ok(!allText(recorded.spans()).includes("s3cr3t-value"), "the failure recorded on the span is redacted");
  assert.equal(recorded.span("logsSecrets").status.code, SpanStatusCode.ERROR);
});

test("redaction keeps what operators need: IDs, rule reasons, ARM error codes, URLs without secrets", () => {
  const keep = [
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe.1",
    "approved by rule:allow-consumer v1: Trusted consumer (RITM0042424)",
    'ARM refused: 409 {"code":"AnotherOperationInProgress","message":"Another operation is in progress"}',
    "https://management.azure.com/subscriptions/x?api-version=2024-05-01",
  ];
  for (const text of keep) assert.equal(redactSecrets(text), text);
  assert.equal(redactSecrets("Authorization: Bearer abc.def-ghi_jkl"), "Authorization: [redacted]");
  assert.equal(redactSecrets("password=hunter22&user=x"), "password=[redacted]&user=x");
  assert.equal(redactSecrets("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"), "-----BEGIN PRIVATE KEY-----[redacted]-----END PRIVATE KEY-----");
});

test("an audit run records its compliance score as a gauge by trigger", async () => {
  const recorded = createInMemoryTelemetry();
  const summary = { runId: "run-1", trigger: "timer", score: 72 } as unknown as AuditRunSummary;
  recordAuditTelemetry(summary, recorded.telemetry);
  recordAuditTelemetry({ ...summary, runId: "run-2", score: 85 }, recorded.telemetry);
  const scores = (await recorded.metrics()).filter((m) => m.name === METRIC.auditScore.name);
  assert.deepEqual(scores, [{ name: METRIC.auditScore.name, value: 85, attributes: { [ATTR.auditTrigger]: "timer" } }]);
});

test("every function in the app's table runs through the telemetry wrapper, keeping its name, kind, route and schedule", async () => {
  const { functionDefinitions } = await import("../../src/functions/index.ts");
  const { health } = await import("../../src/functions/health.ts");
  const { reconcilePending } = await import("../../src/functions/reconcile-pending.ts");
  const wrappedHealth = functionDefinitions.find((d) => d.name === health.name);
  assert.ok(wrappedHealth && wrappedHealth !== health && wrappedHealth.kind === "http" && wrappedHealth.route === health.route);
  const wrappedSweep = functionDefinitions.find((d) => d.name === reconcilePending.name);
  assert.ok(wrappedSweep && wrappedSweep.kind === "timer" && wrappedSweep.schedule === reconcilePending.schedule);
});

test("a decision span ends however the claim ends: settled, ended early, lost to another run, or its settle write failing", async () => {
  const recorded = createInMemoryTelemetry();
  const hooks = createDecisionHooks(recorded.telemetry);
  const now = new Date("2025-06-01T12:00:00Z");
  const intent = { action: "approve", mode: "enforce", actor: "rule:r", ruleId: "r", ruleVersion: 1, triggeringEventIds: [], correlationId: "c", statusBefore: "Pending" };
  const claim = (connectionId: string, owner: string | undefined, expiresAt = new Date(now.getTime() + 60_000)) =>
    ({
      connectionId,
      privateEndpointId: "pe",
      resourceId: "svc",
      lease: owner === undefined ? undefined : { owner, startedAt: now, expiresAt, intent },
      recordedStatus: undefined,
      marks: [],
      retryNotBefore: undefined,
      updatedAt: now,
    }) as unknown as Parameters<typeof hooks.claimWritten>[0];

  hooks.claimWritten(claim("c1", "a"));
  hooks.claimWritten(claim("c1", undefined)); // settled
  hooks.claimWritten(claim("c2", "b"));
  hooks.claimWritten(claim("c2", "b", now)); // lease ended early (expires now)
  hooks.claimLost(claim("c3", "c"), "another run took the claim first");
  hooks.claimWritten(claim("c4", "d"));
  hooks.claimLost(claim("c4", undefined), "precondition failed"); // settling lost to a take-over

  assert.equal(hooks.open.size, 0, "no decision span left open");
  const spans = recorded.spans().filter((s) => s.name === SPAN.decision);
  assert.deepEqual(spans.map((s) => s.attributes[ATTR.connectionId]).sort(), ["c1", "c2", "c3", "c4"]);
  assert.equal(spans.find((s) => s.attributes[ATTR.connectionId] === "c3")!.attributes[ATTR.claimLost], "another run took the claim first");
});
