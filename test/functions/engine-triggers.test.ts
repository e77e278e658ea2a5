import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import azf from "@azure/functions";
import { handlePrivateEndpointEvent, privateEndpointEvents } from "../../src/functions/private-endpoint-events.ts";
import { reconcilePending, runReconcilePending } from "../../src/functions/reconcile-pending.ts";
import { brokenRuleSet, CONSUMER_SUB, createTestEngine, OTHER_SUB, requestPending, rule, statusOf } from "../workflows/support.ts";

/** An InvocationContext whose log lines are kept. */
function invocation(): { context: azf.InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (...args: unknown[]) => lines.push(`${level}: ${args.map(String).join(" ")}`);
  const context = new azf.InvocationContext({
    invocationId: "inv-1",
    functionName: "test",
    logHandler: (level, ...args) => keep(level)(...args),
  });
  return { context, lines };
}

const approveConsumers = rule({ id: "allow-consumer", action: "approve", reason: "Trusted consumer.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } });

function endpointEvent(privateEndpointId: string) {
  return {
    id: "evt-1",
    subject: privateEndpointId,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    dataVersion: "2",
    data: { operationName: "Microsoft.Network/privateEndpoints/write", resourceUri: privateEndpointId },
  };
}

test("the trigger table entries are the engine's: an Event Grid trigger and a timer on the schedule setting", () => {
  assert.equal(privateEndpointEvents.kind, "eventGrid");
  assert.equal(privateEndpointEvents.name, "privateEndpointEvents");
  assert.equal(reconcilePending.kind, "timer");
  assert.equal(reconcilePending.schedule, "%PORTCULLIS_RECONCILE_SCHEDULE%");
});

test("malformed and ignored events are acknowledged with the reason logged, and touch nothing", async () => {
  let engineBuilt = false;
  const getDeps = async () => {
    engineBuilt = true;
    throw new Error("no engine is needed for these events");
  };
  const { context, lines } = invocation();

  await handlePrivateEndpointEvent({ id: "bad", eventType: "Microsoft.Resources.ResourceWriteSuccess", subject: "/nope", eventTime: "x", data: { operationName: "Microsoft.Network/privateEndpoints/write" } }, context, getDeps);
  await handlePrivateEndpointEvent({ ...endpointEvent("/x"), data: { operationName: "Microsoft.Network/networkInterfaces/write" } }, context, getDeps);
  await handlePrivateEndpointEvent("not even an object", context, getDeps);

  assert.equal(engineBuilt, false);
  assert.match(lines[0]!, /^warning: Malformed event bad acknowledged without action: resource '\/nope' is not a private endpoint ARM resource ID/);
  assert.match(lines[1]!, /^information: Ignored event evt-1: operation 'Microsoft.Network\/networkInterfaces\/write' is not one Portcullis acts on/);
  assert.match(lines[2]!, /^warning: Malformed event \(no id\)/);
});

test("Microsoft's published example events are logged as ignored (information), never warned about as malformed", async () => {
  const getDeps = async () => {
    throw new Error("no engine is needed for events Portcullis does not act on");
  };
  const { context, lines } = invocation();
  const fixtures = new URL("../fixtures/events/", import.meta.url);
  const published = readdirSync(fixtures).filter((f) => f.startsWith("published-")).sort();
  for (const name of published) {
    const [event] = JSON.parse(readFileSync(new URL(name, fixtures), "utf8")) as unknown[];
    await handlePrivateEndpointEvent(event, context, getDeps);
  }
  assert.equal(lines.length, published.length);
  for (const line of lines) assert.match(line, /^information: Ignored event .*: operation 'Microsoft\.(Storage|EventHub)\/.*' is not one Portcullis acts on|^information: Ignored event .*: event type 'Microsoft\.Resources\.ResourceActionSuccess' is not one Portcullis acts on/);

  const [placeholders] = JSON.parse(readFileSync(new URL("acted-on-with-placeholders.json", fixtures), "utf8")) as unknown[];
  await handlePrivateEndpointEvent(placeholders, context, getDeps);
  assert.match(lines.at(-1)!, /^warning: Malformed event .* acknowledged without action: data does not parse: tenantId: data\.tenantId is not a GUID/);
});

test("a handled event logs which rule decided the connection and why", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-fn");
  const { context, lines } = invocation();

  await handlePrivateEndpointEvent(endpointEvent(privateEndpoint.id), context, async () => engine.deps);

  assert.equal(statusOf(engine, connection.id), "Approved");
  assert.ok(lines.some((l) => l.includes(`${connection.id}: approved: approved by rule:allow-consumer v1: Trusted consumer.`)), lines.join("\n"));
  assert.equal(engine.log.records[0]!.correlationId, "inv-1");
});

test("a duplicate delivery racing the first logs claimed-elsewhere as the normal outcome it is, not as a failure", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { connection, privateEndpoint } = requestPending(engine, "pe-twice");
  const first = invocation();
  const second = invocation();

  // Event Grid delivers at least once: the same event twice, at the same moment.
  await Promise.all([
    handlePrivateEndpointEvent(endpointEvent(privateEndpoint.id), first.context, async () => engine.deps),
    handlePrivateEndpointEvent(endpointEvent(privateEndpoint.id), second.context, async () => engine.deps),
  ]);

  assert.equal(statusOf(engine, connection.id), "Approved");
  const lines = [...first.lines, ...second.lines];
  assert.equal(lines.filter((l) => l.includes(": approved: approved by rule:allow-consumer")).length, 1, lines.join("\n"));
  const elsewhere = lines.find((l) => l.includes(`${connection.id}: another run is already deciding it`));
  assert.ok(elsewhere, lines.join("\n"));
  assert.match(elsewhere, /^information: .*left to that run, as intended for duplicate or racing deliveries\.$/);
  assert.ok(!lines.some((l) => /claimed-elsewhere/.test(l)), "the outcome's code name is not shown as if it were an error");
});

test("a transient failure makes the invocation fail (so Event Grid redelivers) after logging it", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const { privateEndpoint } = requestPending(engine, "pe-retry");
  engine.arm.failNext("getPrivateEndpoint", "transient");
  const { context, lines } = invocation();

  await assert.rejects(handlePrivateEndpointEvent(endpointEvent(privateEndpoint.id), context, async () => engine.deps), { kind: "transient" });
  assert.ok(lines.some((l) => l.startsWith("error: Event evt-1 failed transiently")));
});

test("the sweep logs its counts, each decision, the connections left for a human, and a rule set failing closed", async () => {
  const engine = createTestEngine({ rules: [approveConsumers] });
  const approved = requestPending(engine, "pe-a").connection;
  const waiting = requestPending(engine, "pe-b", { subscriptionId: OTHER_SUB }).connection;
  const { context, lines } = invocation();

  const summary = await runReconcilePending(context, async () => engine.deps);

  assert.equal(summary.outcomes.approved, 1);
  assert.match(lines.join("\n"), /Sweep: 2 connection\(s\) on 1 instance\(s\)/);
  assert.ok(lines.some((l) => l.includes(`${approved.id}: approved: approved by rule:allow-consumer`)));
  assert.ok(lines.some((l) => l.includes(`Pending for a human: ${waiting.id}`)));

  const broken = createTestEngine({ ruleSet: brokenRuleSet([approveConsumers]) });
  requestPending(broken, "pe-c");
  const second = invocation();
  await runReconcilePending(second.context, async () => broken.deps);
  assert.ok(second.lines.some((l) => l.startsWith("error: The rule set is unusable, so nothing was decided automatically")));
});
