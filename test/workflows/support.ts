/**
 * A whole approval engine over in-memory ports, for unit tests of the workflows: the fake ARM, the in-memory
 * claim store / decision log / publisher, a settable clock and a rule store serving a given rule set.
 */
import { randomUUID } from "node:crypto";
import { createFakeArm, type FakeArm } from "../fakes/arm.ts";
import { createMemoryClaimStore, createMemoryDecisionLog, createRecordingPublisher, type MemoryClaimStore, type MemoryDecisionLog, type RecordingPublisher } from "../fakes/engine-stores.ts";
import { PortcullisError } from "../../src/domain/errors.ts";
import { parseRuleRows, ruleSchema, ruleSetOf, type Rule, type RuleInput, type RuleRow, type RuleSetSnapshot } from "../../src/domain/rules/index.ts";
import type { RuleStore } from "../../src/ports/rule-store.ts";
import type { EngineDeps, EngineTimings } from "../../src/workflows/engine-deps.ts";

export const PROVIDER_SUB = "11111111-1111-1111-1111-111111111111";
export const CONSUMER_SUB = "22222222-2222-2222-2222-222222222222";
export const OTHER_SUB = "33333333-3333-3333-3333-333333333333";
export const CONSUMER_TENANT = "44444444-4444-4444-4444-444444444444";

export const APIM_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-prod`;
export const UNMANAGED_APIM_ID = `/subscriptions/${OTHER_SUB}/resourceGroups/rg-x/providers/Microsoft.ApiManagement/service/apim-other`;

export function endpointId(name: string, subscriptionId = CONSUMER_SUB): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/${name}`;
}

/** A stored rule with defaults for everything a test does not care about. */
export function rule(fields: Omit<Partial<Rule>, "conditions"> & Pick<Rule, "id" | "action"> & { conditions?: RuleInput["conditions"] }): Rule {
  return ruleSchema.parse({
    priority: 100,
    enabled: true,
    mode: "enforce",
    description: "",
    conditions: {},
    reason: `Reason of ${fields.id}.`,
    version: 1,
    updatedAt: "2025-01-01T00:00:00Z",
    updatedBy: { objectId: "tester" },
    ...fields,
  });
}

/** A rule set with one row that does not parse (fail closed). */
export function brokenRuleSet(valid: readonly Rule[]): RuleSetSnapshot {
  const rows: RuleRow[] = valid.map((r) => ({ rowKey: r.id, id: r.id, json: JSON.stringify(r) }));
  rows.push({ rowKey: "broken", id: "broken", json: '{"id":"broken","action":"reject"' });
  return parseRuleRows(rows);
}

/** A RuleStore serving `snapshot` (replaceable); editing methods are not part of these tests. */
export function fixedRuleStore(initial: RuleSetSnapshot): RuleStore & { snapshot: RuleSetSnapshot; failNext: boolean } {
  const notHere = async (): Promise<never> => {
    throw new PortcullisError("internal", "rule editing is not part of the engine's workflow tests");
  };
  const store = {
    snapshot: initial,
    failNext: false,
    async getRuleSet() {
      if (store.failNext) {
        store.failNext = false;
        throw new PortcullisError("transient", "Injected: rule table unreachable.", { code: "ECONNREFUSED" });
      }
      return store.snapshot;
    },
    getRule: notHere,
    putRule: notHere,
    deleteRule: notHere,
    listHistory: notHere,
  };
  return store;
}

export interface TestEngine {
  readonly arm: FakeArm;
  readonly claims: MemoryClaimStore;
  readonly log: MemoryDecisionLog;
  readonly published: RecordingPublisher;
  readonly rules: ReturnType<typeof fixedRuleStore>;
  readonly deps: EngineDeps;
  /** Moves the clock forward. */
  advance(ms: number): void;
  readonly warnings: string[];
}

export interface TestEngineOptions {
  readonly rules?: readonly Rule[];
  readonly ruleSet?: RuleSetSnapshot;
  readonly mode?: EngineDeps["mode"];
  readonly defaultAction?: EngineDeps["defaultAction"];
  readonly timings?: Partial<EngineTimings>;
  /** Share ARM and storage with another engine (two app instances). */
  readonly shared?: Pick<TestEngine, "arm" | "claims" | "log" | "published">;
}

/** Builds an engine that manages APIM_ID, on a clock starting at 2025-06-01T12:00:00Z. */
export function createTestEngine(options: TestEngineOptions = {}): TestEngine {
  const arm = options.shared?.arm ?? createFakeArm({ services: [{ id: APIM_ID }, { id: UNMANAGED_APIM_ID }] });
  const claims = options.shared?.claims ?? createMemoryClaimStore();
  const log = options.shared?.log ?? createMemoryDecisionLog();
  const published = options.shared?.published ?? createRecordingPublisher();
  const rules = fixedRuleStore(options.ruleSet ?? ruleSetOf(options.rules ?? []));
  let now = Date.parse("2025-06-01T12:00:00Z");
  const warnings: string[] = [];
  const deps: EngineDeps = {
    privateLink: arm.ports.privateLink,
    network: arm.ports.network,
    ruleStore: rules,
    claims,
    decisionLog: log,
    notifications: published,
    clock: { now: () => new Date(now) },
    mode: options.mode ?? "enforce",
    defaultAction: options.defaultAction ?? "manual",
    scope: { resourceTypes: ["Microsoft.ApiManagement/service"], resourceIds: [APIM_ID], subscriptionIds: [] },
    armConcurrency: 4,
    timings: { claimLeaseInMs: 60_000, failedRetryDelayInMs: 600_000, connectionRecheckDelaysInMs: [5, 5, 5], firstPollDelayInMs: 0, ...options.timings },
    newId: () => randomUUID().replace(/-/g, "").slice(0, 20),
    log: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  };
  return { arm, claims, log, published, rules, deps, advance: (ms) => (now += ms), warnings };
}

/** A Pending manual connection from `endpoint` (in CONSUMER_SUB unless given) to APIM_ID. */
export function requestPending(engine: TestEngine, name: string, init: { subscriptionId?: string; requestMessage?: string; resourceId?: string } = {}) {
  return engine.arm.requestConnection({
    resourceId: init.resourceId ?? APIM_ID,
    privateEndpointId: endpointId(name, init.subscriptionId),
    ...(init.requestMessage !== undefined ? { requestMessage: init.requestMessage } : {}),
  });
}

/** The connection's status in the fake ARM now. */
export function statusOf(engine: TestEngine, connectionId: string): string | undefined {
  return [...engine.arm.state.connections.values()].find((c) => c.id.toLowerCase() === connectionId.toLowerCase())?.status;
}

export const context = (correlationId = "corr-1", eventIds: string[] = []) => ({ triggeringEventIds: eventIds, correlationId });
