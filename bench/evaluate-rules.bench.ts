/**
 * Benchmark (a): rule evaluation cost per connection with 1,000 rules. Target: p99 under 50 µs.
 *
 * Measured in the same run against a baseline that does what a naive evaluator would: parse the stored rows
 * with the schema and compile the rules on every call. Reported as a ratio (baseline / compiled).
 *
 * Run standalone: `node bench/evaluate-rules.bench.ts` prints a table; `run()` returns the figures for
 * bench/run.ts. The rule set and connections come from a seeded generator, so every run measures the same work.
 */
import { evaluateRules, compileRuleSet } from "../src/domain/rules/evaluate.ts";
import type { ConnectionFacts } from "../src/domain/rules/facts.ts";
import { parseRuleRows, type RuleRow } from "../src/domain/rules/rule-set.ts";
import { ruleSchema, type Rule } from "../src/domain/rules/schema.ts";

export const RULE_COUNT = 1_000;
export const TARGET_P99_US = 50;

export interface LatencyFigures {
  readonly scenario: string;
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

export interface EvaluateRulesBenchResult {
  readonly name: "evaluate-rules";
  readonly ruleCount: number;
  readonly targetP99Us: number;
  readonly compiled: readonly LatencyFigures[];
  readonly baseline: LatencyFigures;
  /** Baseline mean / compiled mean on the same mixed workload. */
  readonly speedup: number;
  /** Every compiled scenario's p99 is under the target. */
  readonly meetsTarget: boolean;
}

/** Small deterministic PRNG (mulberry32) so the workload is identical on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (next: () => number, length: number) => Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join("");
const guid = (next: () => number) => `${hex(next, 8)}-${hex(next, 4)}-${hex(next, 4)}-${hex(next, 4)}-${hex(next, 12)}`;

interface Estate {
  readonly providerSubs: readonly string[];
  readonly consumerSubs: readonly string[];
  readonly tenants: readonly string[];
  readonly instances: readonly string[];
}

function estate(next: () => number): Estate {
  const providerSubs = Array.from({ length: 10 }, () => guid(next));
  return {
    providerSubs,
    consumerSubs: Array.from({ length: 200 }, () => guid(next)),
    tenants: Array.from({ length: 20 }, () => guid(next)),
    instances: Array.from(
      { length: 100 },
      (_, i) => `/subscriptions/${providerSubs[i % 10]}/resourceGroups/rg-team-${String(i).padStart(3, "0")}/providers/Microsoft.ApiManagement/service/apim-team-${String(i).padStart(3, "0")}`,
    ),
  };
}

const pick = <T>(next: () => number, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

/** A realistic mix: mostly per-instance rules with subscription lists, some wildcards, messages, tenants, audits. */
function generateRules(next: () => number, world: Estate): Rule[] {
  return Array.from({ length: RULE_COUNT }, (_, i) => {
    const kind = next();
    const conditions: Record<string, unknown> = {};
    if (kind < 0.6) {
      conditions["target-instances"] = [pick(next, world.instances)];
      conditions["requester-subscriptions"] = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(next, world.consumerSubs));
    } else if (kind < 0.75) {
      conditions["target-instances"] = [`/subscriptions/${pick(next, world.providerSubs)}/resourceGroups/rg-team-0${Math.floor(next() * 10)}*/providers/Microsoft.ApiManagement/service/*`];
      conditions["private-endpoint-ids"] = [`/subscriptions/${pick(next, world.consumerSubs)}/resourceGroups/*/providers/Microsoft.Network/privateEndpoints/pe-*`];
    } else if (kind < 0.85) {
      conditions["target-instances"] = [pick(next, world.instances)];
      conditions["request-message"] = [`*CHG${Math.floor(next() * 10)}??????*`, `*team-${String(Math.floor(next() * 100)).padStart(3, "0")}*`];
    } else {
      conditions["requester-tenants"] = [pick(next, world.tenants), pick(next, world.tenants)];
    }
    const state = next();
    return ruleSchema.parse({
      id: `rule-${String(i).padStart(4, "0")}`,
      priority: Math.floor(next() * 10_000),
      enabled: state > 0.03,
      mode: state > 0.03 && state < 0.06 ? "audit" : "enforce",
      action: pick(next, ["approve", "approve", "reject", "manual"] as const),
      reason: `Generated rule ${i}`,
      ...(state > 0.06 && state < 0.08 ? { validUntil: "2020-01-01T00:00:00Z" } : {}),
      conditions,
      version: 1,
      updatedAt: "2025-01-01T00:00:00Z",
      updatedBy: { objectId: "bench" },
    });
  });
}

function generateConnections(next: () => number, world: Estate, count: number): ConnectionFacts[] {
  return Array.from({ length: count }, (_, i) => {
    const serviceId = pick(next, world.instances);
    const sub = pick(next, world.consumerSubs);
    return {
      connectionId: `${serviceId}/privateEndpointConnections/pe-${i}.${hex(next, 8)}`,
      serviceId,
      privateEndpointId: `/subscriptions/${sub}/resourceGroups/rg-consumer-${i}/providers/Microsoft.Network/privateEndpoints/pe-${i}`,
      requesterSubscriptionId: sub,
      requesterTenantId: next() < 0.3 ? pick(next, world.tenants) : undefined,
      requestMessage: `Connection for team-${String(Math.floor(next() * 100)).padStart(3, "0")}, change CHG${hex(next, 7).replace(/[a-f]/g, "7")}, ${"details ".repeat(Math.floor(next() * 12))}`,
      groupIds: ["Gateway"],
    };
  });
}

/** A connection no rule can match: every rule is considered, none decides (the worst case for the loop). */
function unmatchedConnection(): ConnectionFacts {
  const sub = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  const serviceId = `/subscriptions/${sub}/resourceGroups/rg-elsewhere/providers/Microsoft.ApiManagement/service/apim-elsewhere`;
  return {
    connectionId: `${serviceId}/privateEndpointConnections/pe-x`,
    serviceId,
    privateEndpointId: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-x`,
    requesterSubscriptionId: sub,
    requesterTenantId: "eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee",
    requestMessage: "nothing to see here",
    groupIds: ["Gateway"],
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Times each call individually (performance.now is sub-microsecond in Node) and summarises in microseconds. */
function measure(scenario: string, samples: number, call: (i: number) => unknown): LatencyFigures {
  const warmup = Math.min(samples, 2_000);
  for (let i = 0; i < warmup; i++) call(i);
  const durations = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    call(i);
    durations[i] = (performance.now() - started) * 1_000;
  }
  durations.sort();
  const mean = durations.reduce((sum, d) => sum + d, 0) / samples;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { scenario, samples, p50Us: round(percentile(durations, 50)), p99Us: round(percentile(durations, 99)), meanUs: round(mean) };
}

/** Runs the benchmark and returns the figures (nothing printed). */
export function run(options: { readonly samples?: number; readonly baselineSamples?: number } = {}): EvaluateRulesBenchResult {
  const samples = options.samples ?? 20_000;
  const baselineSamples = options.baselineSamples ?? 40;
  const next = random(20_250_601);
  const world = estate(next);
  const rules = generateRules(next, world);
  const rows: RuleRow[] = rules.map((r) => ({ rowKey: `rule:${r.id}`, id: r.id, json: JSON.stringify(r) }));
  const connections = generateConnections(next, world, 1_000);
  const worst = unmatchedConnection();
  const evaluation = { now: new Date("2025-06-01T12:00:00Z"), defaultAction: "manual" as const };

  const compiled = compileRuleSet(parseRuleRows(rows));
  const mixed = measure("compiled, mixed connections", samples, (i) => evaluateRules(connections[i % connections.length]!, compiled, evaluation));
  const unmatched = measure("compiled, no rule matches (all 1,000 considered)", samples, () => evaluateRules(worst, compiled, evaluation));
  const baseline = measure("baseline: parse + compile per call, mixed", baselineSamples, (i) =>
    evaluateRules(connections[i % connections.length]!, compileRuleSet(parseRuleRows(rows)), evaluation),
  );
  return {
    name: "evaluate-rules",
    ruleCount: RULE_COUNT,
    targetP99Us: TARGET_P99_US,
    compiled: [mixed, unmatched],
    baseline,
    speedup: Math.round((baseline.meanUs / mixed.meanUs) * 10) / 10,
    meetsTarget: mixed.p99Us < TARGET_P99_US && unmatched.p99Us < TARGET_P99_US,
  };
}

function printTable(result: EvaluateRulesBenchResult): void {
  const rows = [...result.compiled, result.baseline];
  const width = Math.max(...rows.map((r) => r.scenario.length));
  console.log(`Rule evaluation per connection, ${result.ruleCount} rules (target p99 < ${result.targetP99Us} µs)`);
  console.log(`${"scenario".padEnd(width)}  ${"samples".padStart(8)}  ${"p50 µs".padStart(10)}  ${"p99 µs".padStart(10)}  ${"mean µs".padStart(10)}`);
  for (const r of rows) {
    console.log(`${r.scenario.padEnd(width)}  ${String(r.samples).padStart(8)}  ${r.p50Us.toFixed(2).padStart(10)}  ${r.p99Us.toFixed(2).padStart(10)}  ${r.meanUs.toFixed(2).padStart(10)}`);
  }
  console.log(`speedup vs baseline (mean): ${result.speedup}x; target met: ${result.meetsTarget ? "yes" : "NO"}`);
}

if (import.meta.main) printTable(run());
