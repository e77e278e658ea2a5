/**
 * The HTTP API under load on the local stack: 50 concurrent clients for 30 s (BENCH_API_SECONDS shortens it,
 * BENCH_API_CLIENTS changes the count) on a 50/50 mix of list and approve calls, through the local Functions host
 * with real tokens, Azurite and the ARM emulator; then, in the same run, the same calls made straight to the
 * emulator with the ARM SDK (listByService; beginCreateOrUpdate + pollUntilDone). Reported: requests/s, p50 / p99
 * latency and errors for each, and our overhead as ratios.
 *
 * What each call does: "list" reads one instance's 25 connections (the API also reads each one's latest decision
 * from the decision log); "approve" approves the next Pending connection of a pool (the API also checks the token,
 * claims the connection, records the decision and keeps the Idempotency-Key). Every ARM request gets
 * BENCH_API_ARM_LATENCY_MS (default 25 ms) of latency in both phases, since an emulator answering in a millisecond
 * would flatter the baseline; ARM throttling is off so that neither phase measures the throttle.
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { ApiManagementClient } from "@azure/arm-apimanagement";
import { apiTopology, CONSUMER_SUB, connectionPathFor, PROVIDER_SUB, resourceIdOf, startApiStack, TICKET, type ApiStack } from "../test/e2e/api-stack.ts";
import { printBenchResult, type BenchResult } from "./report.ts";

const RESOURCE_GROUP = "rg-apim";
const LIST_TARGET = "apim-small";
const LISTED_CONNECTIONS = 25;
/** Azure allows 100 private endpoint connections per APIM instance, so each pool spreads over several. */
const CONNECTIONS_PER_INSTANCE = 100;

interface PoolItem {
  readonly instance: string;
  readonly connectionName: string;
}

interface Load {
  readonly seconds: number;
  readonly clients: number;
  readonly armLatencyMs: number;
  /** Pending connections for each phase: enough that approvals never run out within `seconds`. */
  readonly apiPool: number;
  readonly sdkPool: number;
}

function loadFromEnv(): Load {
  const number = (name: string, fallback: number, min: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}`);
    return value;
  };
  const seconds = number("BENCH_API_SECONDS", 30, 1);
  return {
    seconds,
    clients: Math.trunc(number("BENCH_API_CLIENTS", 50, 1)),
    armLatencyMs: number("BENCH_API_ARM_LATENCY_MS", 25, 0),
    apiPool: Math.trunc(Math.min(8_000, Math.max(300, seconds * 200))),
    sdkPool: Math.trunc(Math.min(20_000, Math.max(500, seconds * 500))),
  };
}

interface Sample {
  readonly kind: "list" | "approve";
  readonly ms: number;
  readonly ok: boolean;
}

interface PhaseResult {
  readonly samples: readonly Sample[];
  readonly elapsedMs: number;
  /** True when the pool ran out before the time was up (then the phase ended early). */
  readonly exhausted: boolean;
}

/** A quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs `clients` workers for `seconds`, alternating list and approve per worker, until time or the pool is up. */
async function runPhase(load: Load, pool: PoolItem[], call: (kind: "list" | "approve", target: PoolItem | undefined) => Promise<boolean>): Promise<PhaseResult> {
  const samples: Sample[] = [];
  const started = performance.now();
  const deadline = started + load.seconds * 1000;
  let exhausted = false;
  const worker = async (index: number) => {
    let turn = index;
    while (performance.now() < deadline && !exhausted) {
      const kind = turn++ % 2 === 0 ? "list" : "approve";
      const target = kind === "approve" ? pool.pop() : undefined;
      if (kind === "approve" && target === undefined) {
        exhausted = true;
        break;
      }
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await call(kind, target);
      } catch {
        ok = false;
      }
      samples.push({ kind, ms: performance.now() - t0, ok });
    }
  };
  await Promise.all(Array.from({ length: load.clients }, (_, i) => worker(i)));
  return { samples, elapsedMs: performance.now() - started, exhausted };
}

function summarize(phase: PhaseResult) {
  const all = phase.samples.map((s) => s.ms).sort((a, b) => a - b);
  const of = (kind: Sample["kind"]) => phase.samples.filter((s) => s.kind === kind).map((s) => s.ms).sort((a, b) => a - b);
  return {
    requests: phase.samples.length,
    perSecond: phase.samples.length / (phase.elapsedMs / 1000),
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    errors: phase.samples.filter((s) => !s.ok).length,
    listP50: quantile(of("list"), 0.5),
    approveP50: quantile(of("approve"), 0.5),
    approveP99: quantile(of("approve"), 0.99),
  };
}

/** The Pending connections of the instances whose names start with `prefix`, from the emulator's state. */
function pendingPool(api: ApiStack, prefix: string): PoolItem[] {
  const snapshot = api.emulator.snapshot() as { apimServices: { name: string; connections: { name: string; status: string }[] }[] };
  return snapshot.apimServices
    .filter((s) => s.name.startsWith(prefix))
    .flatMap((s) => s.connections.filter((c) => c.status === "Pending").map((c) => ({ instance: s.name, connectionName: c.name })));
}

/** `count` endpoints spread over instances `{prefix}{n}` of at most CONNECTIONS_PER_INSTANCE each. */
function poolEndpoints(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ name: `pe-${prefix}${i}`, instance: `${prefix}${Math.floor(i / CONNECTIONS_PER_INSTANCE)}` }));
}

export async function run(): Promise<BenchResult> {
  const load = loadFromEnv();
  const apiEndpoints = poolEndpoints("apim-api-", load.apiPool);
  const sdkEndpoints = poolEndpoints("apim-sdk-", load.sdkPool);
  const endpoints = [
    ...Array.from({ length: LISTED_CONNECTIONS }, (_, i) => ({ name: `pe-small-${i}`, instance: LIST_TARGET, subscriptionId: CONSUMER_SUB })),
    ...apiEndpoints,
    ...sdkEndpoints,
  ];
  const instances = [...new Set(endpoints.map((e) => e.instance))];
  const api = await startApiStack({
    topology: apiTopology(instances, endpoints),
    managedInstances: instances,
    settings: { PORTCULLIS_APPROVAL_WAIT_MS: "60000" },
    lroDelayMs: 20,
  });
  try {
    api.emulator.throttle.configure({ enabled: false });
    if (load.armLatencyMs > 0) api.emulator.faults.add({ latencyMs: load.armLatencyMs });
    const token = await api.token(["Portcullis.Approver"]);
    const listPath = `/api/connections?instanceId=${encodeURIComponent(resourceIdOf(LIST_TARGET))}`;

    const apiPool = pendingPool(api, "apim-api-");
    const apiCall = async (kind: "list" | "approve", target: PoolItem | undefined) => {
      if (kind === "list") return (await api.request("GET", listPath, { token })).status === 200;
      const reply = await api.request("POST", `${connectionPathFor(target!.instance, target!.connectionName)}/approve`, {
        token,
        json: { ticket: TICKET, reason: "Benchmark approval" },
        idempotencyKey: randomUUID(),
      });
      return reply.status === 200;
    };
    for (let i = 0; i < 3; i++) await apiCall("list", undefined);
    const viaApi = await runPhase(load, apiPool, apiCall);

    const client = new ApiManagementClient(api.emulator.credential(), PROVIDER_SUB, {
      endpoint: api.emulator.url,
      tlsOptions: { ca: api.emulator.caPem },
      credentialScopes: [`${new URL(api.emulator.url).origin}/.default`],
    });
    const sdkPool = pendingPool(api, "apim-sdk-");
    const sdkCall = async (kind: "list" | "approve", target: PoolItem | undefined) => {
      if (kind === "list") {
        let count = 0;
        for await (const _ of client.privateEndpointConnectionOperations.listByService(RESOURCE_GROUP, LIST_TARGET)) count += 1;
        return count === LISTED_CONNECTIONS;
      }
      const poller = await client.privateEndpointConnectionOperations.beginCreateOrUpdate(
        RESOURCE_GROUP,
        target!.instance,
        target!.connectionName,
        { properties: { privateLinkServiceConnectionState: { status: "Approved", description: "Benchmark approval" } } },
        { updateIntervalInMs: 20 },
      );
      const result = await poller.pollUntilDone();
      return result.privateLinkServiceConnectionState?.status === "Approved";
    };
    for (let i = 0; i < 3; i++) await sdkCall("list", undefined);
    const viaSdk = await runPhase(load, sdkPool, sdkCall);

    const a = summarize(viaApi);
    const b = summarize(viaSdk);
    const ratio = (x: number, y: number) => x / y;
    return {
      name: `HTTP API: ${load.clients} clients × ${load.seconds} s, 50/50 list (${LISTED_CONNECTIONS} connections) and approve, ARM latency ${load.armLatencyMs} ms`,
      rows: [
        ["API requests", a.requests],
        ["API throughput", a.perSecond, "req/s"],
        ["API latency p50 / p99", `${a.p50.toFixed(1)} / ${a.p99.toFixed(1)}`, "ms"],
        ["API list p50, approve p50 / p99", `${a.listP50.toFixed(1)}, ${a.approveP50.toFixed(1)} / ${a.approveP99.toFixed(1)}`, "ms"],
        ["API errors", a.errors, viaApi.exhausted ? "(approval pool ran out; phase ended early)" : ""],
        ["SDK requests", b.requests],
        ["SDK throughput", b.perSecond, "req/s"],
        ["SDK latency p50 / p99", `${b.p50.toFixed(1)} / ${b.p99.toFixed(1)}`, "ms"],
        ["SDK list p50, approve p50 / p99", `${b.listP50.toFixed(1)}, ${b.approveP50.toFixed(1)} / ${b.approveP99.toFixed(1)}`, "ms"],
        ["SDK errors", b.errors, viaSdk.exhausted ? "(approval pool ran out; phase ended early)" : ""],
        ["overhead: throughput SDK / API", ratio(b.perSecond, a.perSecond), "x"],
        ["overhead: p50 API / SDK", ratio(a.p50, b.p50), "x"],
        ["overhead: p99 API / SDK", ratio(a.p99, b.p99), "x"],
        ["overhead: approve p50 API / SDK", ratio(a.approveP50, b.approveP50), "x"],
      ],
      targets: [
        { description: "no errors through the API under load", met: a.errors === 0 },
        { description: "the approval pool lasted the whole run (the mix stayed 50/50)", met: !viaApi.exhausted && !viaSdk.exhausted },
      ],
    };
  } finally {
    await api.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printBenchResult(await run());
}
