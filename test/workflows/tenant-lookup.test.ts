/**
 * The requester-tenant lookup: the cache over TenantPort (TTLs for found / none / failed answers on an injected clock,
 * bounded size, one request for concurrent lookups), disputes with an event's tenant, and the engine using it:
 * the sweep decides under a tenant rule on the hint, records where the tenant came from, and holds when the hint
 * is missing, failed or disputed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PortcullisError } from "../../src/domain/errors.ts";
import type { TenantPort } from "../../src/ports/arm.ts";
import { decideConnection } from "../../src/workflows/decide-connection.ts";
import { decideManually } from "../../src/workflows/decide-manually.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import { createTenantLookup, resolveRequesterTenant, ruleSetReadsRequesterTenant, type TenantLookup } from "../../src/workflows/tenant-lookup.ts";
import { ruleSetOf } from "../../src/domain/rules/index.ts";
import { CONSUMER_SUB, CONSUMER_TENANT, context, createTestEngine, endpointId, OTHER_SUB, requestPending, rule, statusOf } from "./support.ts";

const SUB = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT = "bbbbbbbb-0000-4000-8000-000000000002";
const OTHER_TENANT = "cccccccc-0000-4000-8000-000000000003";

/** A port answering from a map, counting calls; `fail` makes the next calls throw transient; `gate` holds answers. */
function scriptedPort(tenants: Record<string, string | undefined>) {
  const state = { calls: 0, fail: 0, gate: undefined as Promise<void> | undefined };
  const port: TenantPort = {
    async discoverSubscriptionTenant(subscriptionId) {
      state.calls++;
      if (state.gate !== undefined) await state.gate;
      if (state.fail > 0) {
        state.fail--;
        throw new PortcullisError("transient", "ARM answered 503.", { statusCode: 503 });
      }
      return tenants[subscriptionId.toLowerCase()];
    },
  };
  return { port, state };
}

function clockAt(start = Date.parse("2026-01-01T00:00:00Z")) {
  let now = start;
  return { clock: { now: () => new Date(now) }, advance: (ms: number) => (now += ms) };
}

describe("the tenant lookup cache", () => {
  test("reuses a named tenant for the positive TTL, then asks ARM again", async () => {
    const { port, state } = scriptedPort({ [SUB]: TENANT });
    const time = clockAt();
    const lookup = createTenantLookup(port, { clock: time.clock, positiveTtlInMs: 3_600_000 });
    assert.equal((await lookup.lookup(SUB)).tenantId, TENANT);
    assert.equal((await lookup.lookup(SUB.toUpperCase())).tenantId, TENANT, "subscription IDs compare case-insensitively");
    time.advance(3_599_999);
    await lookup.lookup(SUB);
    assert.equal(state.calls, 1);
    time.advance(1);
    assert.equal((await lookup.lookup(SUB)).outcome, "found");
    assert.equal(state.calls, 2);
  });

  test("remembers 'names no tenant' for minutes and a failure for a minute, never as a tenant", async () => {
    const { port, state } = scriptedPort({});
    const time = clockAt();
    const lookup = createTenantLookup(port, { clock: time.clock, negativeTtlInMs: 600_000, failureTtlInMs: 60_000 });
    assert.deepEqual([(await lookup.lookup(SUB)).outcome, (await lookup.lookup(SUB)).tenantId], ["none", undefined]);
    time.advance(599_999);
    await lookup.lookup(SUB);
    assert.equal(state.calls, 1);
    time.advance(1);
    state.fail = 1;
    const failed = await lookup.lookup(SUB);
    assert.equal(failed.outcome, "failed");
    assert.equal(failed.tenantId, undefined);
    assert.match(failed.detail ?? "", /transient: ARM answered 503/);
    time.advance(59_999);
    assert.equal((await lookup.lookup(SUB)).outcome, "failed", "a failure is not retried at once for every connection of the sweep");
    assert.equal(state.calls, 2);
    time.advance(1);
    assert.equal((await lookup.lookup(SUB)).outcome, "none");
    assert.equal(state.calls, 3);
  });

  test("concurrent lookups of one subscription share one request", async () => {
    const { port, state } = scriptedPort({ [SUB]: TENANT });
    let open!: () => void;
    state.gate = new Promise<void>((resolve) => (open = resolve));
    const lookup = createTenantLookup(port, { clock: clockAt().clock });
    const answers = Promise.all(Array.from({ length: 20 }, () => lookup.lookup(SUB)));
    open();
    assert.deepEqual(new Set((await answers).map((h) => h.tenantId)), new Set([TENANT]));
    assert.equal(state.calls, 1);
  });

  test("keeps at most maxEntries subscriptions, dropping the oldest first", async () => {
    const subs = Array.from({ length: 4 }, (_, i) => `aaaaaaaa-0000-4000-8000-00000000000${i}`);
    const { port, state } = scriptedPort(Object.fromEntries(subs.map((s) => [s, TENANT])));
    const lookup = createTenantLookup(port, { clock: clockAt().clock, maxEntries: 3 });
    for (const s of subs) await lookup.lookup(s);
    assert.equal(state.calls, 4);
    await lookup.lookup(subs[3]!);
    await lookup.lookup(subs[1]!);
    assert.equal(state.calls, 4, "the newest three are still cached");
    await lookup.lookup(subs[0]!);
    assert.equal(state.calls, 5, "the oldest was evicted");
  });

  test("an event naming another tenant sets the cached hint aside until the positive TTL passes; an agreeing event changes nothing", async () => {
    const { port, state } = scriptedPort({ [SUB]: TENANT });
    const time = clockAt();
    const lookup = createTenantLookup(port, { clock: time.clock, positiveTtlInMs: 3_600_000 });
    await lookup.lookup(SUB);
    assert.equal(lookup.observeEventTenant(SUB, TENANT.toUpperCase()), undefined);
    assert.equal(lookup.observeEventTenant(SUB, OTHER_TENANT)?.tenantId, TENANT, "returns the hint it disputes");
    const disputed = await lookup.lookup(SUB);
    assert.equal(disputed.outcome, "disputed");
    assert.equal(disputed.tenantId, undefined);
    assert.match(disputed.detail ?? "", new RegExp(`named tenant ${TENANT}.*an event named ${OTHER_TENANT}`));
    time.advance(3_600_000);
    assert.equal((await lookup.lookup(SUB)).tenantId, TENANT);
    assert.equal(state.calls, 2);
  });
});

describe("resolving the requester tenant", () => {
  const lookupOf = (tenants: Record<string, string | undefined>) => {
    const scripted = scriptedPort(tenants);
    return { lookup: createTenantLookup(scripted.port, { clock: clockAt().clock }), state: scripted.state };
  };

  test("the event's tenant wins and costs no lookup", async () => {
    const { lookup, state } = lookupOf({ [SUB]: OTHER_TENANT });
    const resolved = await resolveRequesterTenant({ eventTenantId: TENANT, requesterSubscriptionId: SUB, needed: true }, lookup);
    assert.deepEqual([resolved.tenantId, resolved.source], [TENANT, "event"]);
    assert.match(resolved.explanation ?? "", /comes from the event/);
    assert.equal(state.calls, 0);
  });

  test("without an event tenant, nothing is looked up unless a rule reads the tenant", async () => {
    const { lookup, state } = lookupOf({ [SUB]: TENANT });
    const resolved = await resolveRequesterTenant({ eventTenantId: undefined, requesterSubscriptionId: SUB, needed: false }, lookup);
    assert.deepEqual([resolved.tenantId, resolved.source, resolved.explanation], [undefined, undefined, undefined]);
    assert.equal(state.calls, 0);
  });

  test("a found hint is used and says it is a hint from ARM's challenge", async () => {
    const { lookup } = lookupOf({ [SUB]: TENANT });
    const resolved = await resolveRequesterTenant({ eventTenantId: undefined, requesterSubscriptionId: SUB, needed: true }, lookup);
    assert.deepEqual([resolved.tenantId, resolved.source], [TENANT, "arm-challenge"]);
    assert.match(resolved.explanation ?? "", new RegExp(`${TENANT} is a hint: ARM's 401 challenge .* ${SUB}`));
  });

  test("an event disagreeing with a cached hint is explained, and the sweep then does not use the hint", async () => {
    const { lookup } = lookupOf({ [SUB]: TENANT });
    await lookup.lookup(SUB);
    const fromEvent = await resolveRequesterTenant({ eventTenantId: OTHER_TENANT, requesterSubscriptionId: SUB, needed: true }, lookup);
    assert.equal(fromEvent.tenantId, OTHER_TENANT);
    assert.match(fromEvent.explanation ?? "", /the two disagree, so that hint is set aside/);
    const sweep = await resolveRequesterTenant({ eventTenantId: undefined, requesterSubscriptionId: SUB, needed: true }, lookup);
    assert.deepEqual([sweep.tenantId, sweep.source], [undefined, undefined]);
    assert.match(sweep.explanation ?? "", /disputed hint decides nothing/);
  });

  test("which rule sets need the tenant: an enabled rule with requester-tenants", () => {
    const tenantRule = rule({ id: "t", action: "reject", conditions: { "requester-tenants": [TENANT] } });
    assert.equal(ruleSetReadsRequesterTenant(ruleSetOf([tenantRule])), true);
    assert.equal(ruleSetReadsRequesterTenant(ruleSetOf([{ ...tenantRule, enabled: false }])), false);
    assert.equal(ruleSetReadsRequesterTenant(ruleSetOf([rule({ id: "s", action: "approve", conditions: { "requester-subscriptions": [SUB] } })])), false);
    assert.equal(ruleSetReadsRequesterTenant(undefined), false);
  });
});

describe("the engine with the tenant lookup", () => {
  const rejectPartner = rule({ id: "reject-partner", action: "reject", priority: 10, reason: "Partner tenant.", conditions: { "requester-tenants": [CONSUMER_TENANT] } });
  const approveAll = rule({ id: "approve-known", action: "approve", priority: 100, reason: "Known.", conditions: { "requester-subscriptions": [CONSUMER_SUB, OTHER_SUB] } });

  function engineWithLookup(): { engine: ReturnType<typeof createTestEngine>; deps: EngineDeps; lookup: TenantLookup } {
    const engine = createTestEngine({ rules: [rejectPartner, approveAll] });
    const lookup = createTenantLookup(engine.arm.ports.tenants, { clock: engine.deps.clock });
    return { engine, deps: { ...engine.deps, tenantLookup: lookup }, lookup };
  }

  test("the sweep rejects under a tenant rule on the hint and records that the tenant came from ARM's challenge", async () => {
    const { engine, deps } = engineWithLookup();
    engine.arm.state.subscriptionTenants.set(CONSUMER_SUB, CONSUMER_TENANT);
    const { connection } = requestPending(engine, "pe-partner");

    const decision = await decideConnection({ connectionId: connection.id, context: context() }, deps);

    assert.equal(decision.outcome, "rejected");
    assert.equal(statusOf(engine, connection.id), "Rejected");
    const [record] = engine.log.records;
    assert.deepEqual([record!.actor, record!.requesterTenantId, record!.requesterTenantSource], ["rule:reject-partner", CONSUMER_TENANT, "arm-challenge"]);
    assert.match(record!.explanation[1]!, /is a hint: ARM's 401 challenge/);
    assert.equal(engine.arm.calls.discoverSubscriptionTenant, 1);
  });

  test("the event's tenant is recorded as such; a disagreeing hint is named in the explanation", async () => {
    const { engine, deps, lookup } = engineWithLookup();
    engine.arm.state.subscriptionTenants.set(CONSUMER_SUB, "dddddddd-0000-4000-8000-000000000004");
    await lookup.lookup(CONSUMER_SUB);
    const { connection } = requestPending(engine, "pe-event");

    const decision = await decideConnection({ connectionId: connection.id, requesterTenantId: CONSUMER_TENANT, context: context() }, deps);

    assert.equal(decision.outcome, "rejected");
    const [record] = engine.log.records;
    assert.deepEqual([record!.requesterTenantId, record!.requesterTenantSource], [CONSUMER_TENANT, "event"]);
    assert.ok(record!.explanation.some((line) => /the two disagree, so that hint is set aside/.test(line)));
  });

  test("when ARM names no tenant or the lookup fails, the tenant rule holds the connection for a person instead of the approve rule approving it", async () => {
    for (const setup of ["none", "failed"] as const) {
      const { engine, deps } = engineWithLookup();
      if (setup === "failed") engine.arm.failNext("discoverSubscriptionTenant", "transient");
      const { connection } = requestPending(engine, `pe-${setup}`);

      const decision = await decideConnection({ connectionId: connection.id, context: context() }, deps);

      assert.equal(decision.outcome, "awaiting-manual", setup);
      assert.equal(statusOf(engine, connection.id), "Pending");
      const [record] = engine.log.records;
      assert.deepEqual([record!.action, record!.actor, record!.requesterTenantId, record!.requesterTenantSource], ["manual", "rule:reject-partner", undefined, undefined]);
      assert.match(record!.explanation[1]!, setup === "none" ? /names no tenant/ : /failed \(transient/);
    }
  });

  test("the re-read before the write confirms the hint's requester: a connection that now names another private endpoint is not written", async () => {
    const { engine, deps } = engineWithLookup();
    engine.arm.state.subscriptionTenants.set(CONSUMER_SUB, CONSUMER_TENANT);
    const { connection } = requestPending(engine, "pe-first");
    const key = connection.id.toLowerCase();
    // Listed with the first endpoint; by the time of the write ARM names another requester's endpoint.
    engine.arm.state.connections.set(key, { ...engine.arm.state.connections.get(key)!, privateEndpointId: endpointId("pe-other", OTHER_SUB) });

    await decideConnection({ connectionId: connection.id, connection, context: context() }, deps);

    assert.equal(engine.arm.calls.beginSetConnectionStatus, 0, "the rejection decided for the first requester was not sent");
    assert.equal(statusOf(engine, connection.id), "Pending");
  });

  test("a human's decision through the API records the requester tenant as a hint", async () => {
    const { engine, deps } = engineWithLookup();
    engine.arm.state.subscriptionTenants.set(CONSUMER_SUB, CONSUMER_TENANT);
    const { connection } = requestPending(engine, "pe-manual");

    const result = await decideManually(
      { connectionId: connection.id, action: "approve", ticket: "CHG1", reason: "Checked.", actor: { objectId: "aaaaaaaa-0000-0000-0000-000000000001" }, correlationId: "c" },
      deps,
    );

    assert.equal(result.kind, "completed");
    const record = result.kind === "completed" ? result.record : undefined;
    assert.deepEqual([record?.requesterTenantId, record?.requesterTenantSource], [CONSUMER_TENANT, "arm-challenge"]);
    assert.match(record?.explanation[0] ?? "", /is a hint: ARM's 401 challenge/);
  });

  test("no rule reads the tenant: no lookup at all", async () => {
    const engine = createTestEngine({ rules: [approveAll] });
    const deps = { ...engine.deps, tenantLookup: createTenantLookup(engine.arm.ports.tenants, { clock: engine.deps.clock }) };
    const { connection } = requestPending(engine, "pe-plain");
    assert.equal((await decideConnection({ connectionId: connection.id, context: context() }, deps)).outcome, "approved");
    assert.equal(engine.arm.calls.discoverSubscriptionTenant, 0);
    assert.equal(engine.log.records[0]!.requesterTenantSource, undefined);
  });
});
