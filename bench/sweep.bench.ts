/**
 * Benchmark (b): Pending connections across 10 instances decided by the sweep (reconcilePending) against the ARM
 * emulator with ARM's write throttling on, through the production wiring (src/composition.ts): real SDK clients
 * over HTTPS, real Table Storage (Azurite), the real rule store.
 *
 * Measured in the same run:
 * - the lower bound the write throttle allows: the bucket's first `capacity` writes are free, the rest arrive at
 *   `refill` per second, so deciding N connections (one PUT each) takes at least (N − capacity) / refill seconds;
 * - a one-at-a-time approve-and-poll loop, the way the CLI and the published approval scripts do it (PUT, poll the
 *   long-running operation to the end, next). It never reaches the throttle (one write per operation time), so
 *   its time per connection is measured on a sample and multiplied by N.
 *
 * Scale: by default the numbers are ARM's scaled down proportionally to keep the run short: 200 connections,
 * write bucket 20 refilled 10 per second (Azure: 200, 10/s; lower bound 18 s instead of 80 s). BENCH_SWEEP_FULL=1
 * runs 1,000 connections with Azure's 200 / 10 per second. Reads keep Azure's 250 / 25 per second. Every approval's
 * long-running operation takes 1.8 s and its in-progress answers carry Retry-After: 2, as ARM's do; APIM's take
 * tens of seconds in Azure, which only widens the one-at-a-time loop's gap. The sweep runs with
 * PORTCULLIS_ARM_CONCURRENCY=28 on a warm app instance (SDK modules loaded, as after any earlier invocation).
 * The lower bound leaves out the last approval's own operation time (1.8 s), which no sweep can avoid.
 *
 * Run standalone: `node bench/sweep.bench.ts`; `run()` returns the figures for bench/run.ts.
 */
import { pathToFileURL } from "node:url";
import { OWNER_ROLE_ID } from "../dev/arm-emulator/rbac.ts";
import { objectIdForClient } from "../dev/oidc-issuer/index.ts";
import { createArmPorts } from "../src/adapters/arm/index.ts";
import type { PrivateEndpointConnection } from "../src/domain/model.ts";
import { reconcilePending } from "../src/workflows/reconcile-pending.ts";
import { printBenchResult, type BenchResult } from "./report.ts";
import {
  CONSUMER_SUB,
  endpointIdOf,
  engineTopology,
  PROVIDER_SUB,
  putRules,
  quietLog,
  resourceIdOf,
  startEngineStack,
  type PendingSeed,
} from "../test/e2e/engine-stack.ts";

export interface SweepBenchScale {
  readonly connections: number;
  readonly instances: number;
  readonly writeCapacity: number;
  readonly writeRefillPerSecond: number;
  /** How long each approval's long-running operation runs in the emulator. */
  readonly lroDelayMs: number;
  /** The Retry-After (whole seconds) its in-progress answers carry; pollers wait that long between polls. */
  readonly lroRetryAfterSeconds: number;
  /** Connections the one-at-a-time loop approves to measure its time per connection. */
  readonly baselineSample: number;
  /** PORTCULLIS_ARM_CONCURRENCY for the sweep. */
  readonly concurrency: number;
}

export const SCALED: SweepBenchScale = {
  connections: 200,
  instances: 10,
  writeCapacity: 20,
  writeRefillPerSecond: 10,
  lroDelayMs: 1_800,
  lroRetryAfterSeconds: 2,
  baselineSample: 10,
  concurrency: 28,
};

export const FULL: SweepBenchScale = { ...SCALED, connections: 1_000, writeCapacity: 200 };

export interface SweepBenchFigures {
  readonly scale: SweepBenchScale;
  readonly sweepWallMs: number;
  readonly lowerBoundMs: number;
  /** Reads the sweep made in the instances' subscription (re-reads before acting, operation polls, listings). */
  readonly providerReads: number;
  /** The same bound for those reads under ARM's read bucket (250, 25/s): binding when reads per write exceed 2.5. */
  readonly readLowerBoundMs: number;
  /** sweep wall time / lower bound (target ≤ 1.2). */
  readonly vsLowerBound: number;
  readonly baselinePerConnectionMs: number;
  /** baselinePerConnectionMs × connections. */
  readonly baselineWallMs: number;
  /** baseline wall time / sweep wall time (target ≥ 10). */
  readonly speedup: number;
  /** Connections of the managed instances Approved in ARM after the sweep. */
  readonly approved: number;
  /** Decision records of applied approvals (one per connection when every decision happened once). */
  readonly appliedRecords: number;
  readonly connectionWrites: number;
  readonly throttled: number;
  readonly failures: number;
}

const BASELINE_INSTANCE = "apim-baseline";
const instanceName = (i: number) => `apim-${String(i).padStart(2, "0")}`;

/** Runs the sweep and the baseline once at `scale` and returns the figures. */
/** The principal of the one-at-a-time script the sweep is compared with. */
const BASELINE_CLIENT_ID = "one-at-a-time-script";

export async function measure(scale: SweepBenchScale): Promise<SweepBenchFigures> {
  const instances = Array.from({ length: scale.instances }, (_, i) => instanceName(i));
  const pending: PendingSeed[] = Array.from({ length: scale.connections }, (_, i) => ({ name: `pe-${i}`, instance: instances[i % scale.instances]! }));
  const warmUpEndpoint = endpointIdOf(CONSUMER_SUB, pending[0]!.name);
  for (let i = 0; i < scale.baselineSample; i++) pending.push({ name: `pe-baseline-${i}`, instance: BASELINE_INSTANCE });
  const stack = await startEngineStack({
    topology: engineTopology([...instances, BASELINE_INSTANCE], pending),
    emulator: { lroDelayMs: scale.lroDelayMs, lroRetryAfterSeconds: scale.lroRetryAfterSeconds },
    settings: {
      PORTCULLIS_MANAGED_SUBSCRIPTIONS: "",
      PORTCULLIS_MANAGED_INSTANCES: instances.map(resourceIdOf).join(","),
      PORTCULLIS_ARM_CONCURRENCY: String(scale.concurrency),
    },
    // The app holds exactly the deployed roles (its managed instances only); the one-at-a-time script that sets the
    // baseline runs as its own principal with Owner on the baseline instance.
    roles: {
      change: (roles) => ({
        ...roles,
        roleAssignments: [...roles.roleAssignments, { principalId: objectIdForClient(BASELINE_CLIENT_ID), scope: resourceIdOf(BASELINE_INSTANCE), roleDefinitionId: OWNER_ROLE_ID }],
      }),
    },
  });
  try {
    await putRules(stack.composition, [
      { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
    ]);
    const deps = await stack.composition.engineDeps(quietLog);
    const throttle = () => stack.emulator.throttle.configure({ enabled: true, writes: { capacity: scale.writeCapacity, refillPerSecond: scale.writeRefillPerSecond } });

    // The one-at-a-time loop, on its own (unmanaged) instance, with fresh buckets.
    const sample: PrivateEndpointConnection[] = [];
    const script = createArmPorts({ endpoint: stack.emulator.url, credential: stack.emulator.credential(BASELINE_CLIENT_ID), caPem: stack.emulator.caPem });
    for await (const connection of script.privateLink.listConnections(resourceIdOf(BASELINE_INSTANCE))) sample.push(connection);
    throttle();
    const baselineStarted = performance.now();
    for (const connection of sample) {
      const operation = await script.privateLink.beginSetConnectionStatus(connection.id, "Approved", "Approved by a one-at-a-time script");
      await operation.pollUntilDone();
    }
    const baselinePerConnectionMs = (performance.now() - baselineStarted) / sample.length;

    // The sweep on a warm app instance (SDK modules loaded, as after any earlier invocation), with fresh buckets.
    await deps.network.getPrivateEndpoint(warmUpEndpoint);
    throttle();
    stack.emulator.clearRequests();
    const started = performance.now();
    const summary = await reconcilePending("bench-sweep", deps);
    const sweepWallMs = performance.now() - started;

    const requests = stack.emulator.requests();
    let approved = 0;
    let appliedRecords = 0;
    for (const instance of instances) {
      for await (const connection of deps.privateLink.listConnections(resourceIdOf(instance))) if (connection.status === "Approved") approved += 1;
      let continuationToken: string | undefined;
      do {
        const page = await deps.decisionLog.query({ resourceId: resourceIdOf(instance) }, { pageSize: 1000, ...(continuationToken ? { continuationToken } : {}) });
        appliedRecords += page.items.filter((r) => r.outcome === "applied" && r.action === "approve").length;
        continuationToken = page.continuationToken;
      } while (continuationToken !== undefined);
    }
    const connectionWrites = requests.filter((r) => r.method === "PUT" && /\/privateEndpointConnections\//i.test(r.path) && r.status < 300).length;
    const lowerBoundMs = (Math.max(0, scale.connections - scale.writeCapacity) / scale.writeRefillPerSecond) * 1000;
    const providerReads = requests.filter((r) => r.method === "GET" && r.status < 400 && r.subscriptionId?.toLowerCase() === PROVIDER_SUB).length;
    const reads = stack.emulator.throttle.config().reads;
    const readLowerBoundMs = (Math.max(0, providerReads - reads.capacity) / reads.refillPerSecond) * 1000;
    const baselineWallMs = baselinePerConnectionMs * scale.connections;
    return {
      scale,
      sweepWallMs,
      lowerBoundMs,
      providerReads,
      readLowerBoundMs,
      vsLowerBound: sweepWallMs / lowerBoundMs,
      baselinePerConnectionMs,
      baselineWallMs,
      speedup: baselineWallMs / sweepWallMs,
      approved,
      appliedRecords,
      connectionWrites,
      throttled: requests.filter((r) => r.status === 429).length,
      failures: summary.connectionFailures.length + summary.instanceFailures.length,
    };
  } finally {
    await stack.close();
  }
}

/** The benchmark as bench/run.ts runs it (scaled unless BENCH_SWEEP_FULL=1), with the figures attached. */
export async function run(): Promise<BenchResult & { figures: SweepBenchFigures }> {
  const scale = process.env["BENCH_SWEEP_FULL"] === "1" ? FULL : SCALED;
  const f = await measure(scale);
  return {
    name: `sweep: ${scale.connections} Pending connections on ${scale.instances} instances, writes throttled ${scale.writeCapacity} + ${scale.writeRefillPerSecond}/s, operations ${scale.lroDelayMs} ms`,
    rows: [
      ["sweep wall time", f.sweepWallMs / 1000, "s"],
      ["write-throttle lower bound", f.lowerBoundMs / 1000, `s ((${scale.connections} − ${scale.writeCapacity}) / ${scale.writeRefillPerSecond} per s)`],
      ["sweep / lower bound", f.vsLowerBound, "x"],
      ["reads in the instances' subscription", f.providerReads, `(${(f.providerReads / scale.connections).toFixed(1)} per connection)`],
      ["read-throttle lower bound", f.readLowerBoundMs / 1000, "s (those reads under ARM's 250 + 25/s)"],
      ["one-at-a-time loop per connection", f.baselinePerConnectionMs / 1000, `s (sample of ${scale.baselineSample})`],
      ["one-at-a-time loop for all", f.baselineWallMs / 1000, "s (per connection × N)"],
      ["one-at-a-time / sweep", f.speedup, "x"],
      ["approved in ARM / ARM writes / decision records", `${f.approved} / ${f.connectionWrites} / ${f.appliedRecords}`],
      ["429 answers (retried after Retry-After)", f.throttled],
      ["failures reported", f.failures],
    ],
    targets: [
      { description: "sweep within 1.2x of the write throttle's lower bound", met: f.vsLowerBound <= 1.2 },
      { description: "sweep at least 10x faster than the one-at-a-time loop", met: f.speedup >= 10 },
      {
        description: "every connection approved with exactly one ARM write and one decision record",
        met: f.approved === scale.connections && f.connectionWrites === scale.connections && f.appliedRecords === scale.connections,
      },
    ],
    figures: f,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printBenchResult(await run());
}
