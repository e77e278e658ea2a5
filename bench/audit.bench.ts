/**
 * Compliance audit on the ARM emulator with read throttling on (Azure's numbers: 250 reads per subscription,
 * refilled at 25/s), through the real ARM adapter over HTTPS.
 *
 * Scaled down from the issue's 1,000 instances × 20 connections to 100 × 20 by default (BENCH_AUDIT_INSTANCES,
 * BENCH_AUDIT_CONNECTIONS, BENCH_AUDIT_CONSUMERS change it): at Azure's refill rate the full size would take
 * ~30 minutes per audit, and the ratios do not depend on the size. The consumers' endpoints are spread over
 * several consumer subscriptions (each its own throttle bucket), as in a real estate. Every GET gets 25 ms of
 * latency (BENCH_AUDIT_LATENCY_MS), since an emulator answering in a millisecond flatters sequential code.
 *
 * Measured in the same run: the audit as deployed (bounded concurrency, per-subscription read pacing, zones
 * read once) and a naive audit (the same code with one call at a time, no pacing and no zone cache): ARM calls
 * per instance, 429s, wall time against the throttle's lower bound, and peak memory.
 *
 * Throttle lower bound: a subscription's reads beyond its bucket must wait for refill, so no audit can finish
 * before max over subscriptions of (reads − capacity) / refill-rate.
 */
import { pathToFileURL } from "node:url";
import { startArmEmulator, type ArmEmulator } from "../dev/arm-emulator/index.ts";
import type { TopologyInput } from "../dev/arm-emulator/topology.ts";
import { createArmPorts } from "../src/adapters/arm/index.ts";
import type { AuditRunSummary } from "../src/domain/audit/run.ts";
import { auditEstate, type AuditEstateOptions } from "../src/workflows/audit-estate.ts";
import { ARM_READ_BUDGET } from "../src/workflows/audit-limiter.ts";
import type { DecisionRecord } from "../src/domain/decisions/decision.ts";
import { latestDecisionsByConnection, type LatestDecisions } from "../src/domain/decisions/latest-decisions.ts";
import type { DecisionLog } from "../src/ports/decision-log.ts";
import { approvalRecord, createMemoryAuditStore, createMemoryDnsOwnershipStore, createNotificationRecorder, createStaticRuleStore } from "../test/workflows/audit-fakes.ts";
import { printBenchResult, type BenchResult } from "./report.ts";

const TENANT = "11111111-1111-4111-8111-111111111111";
const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const consumerSubscription = (i: number) => `c1c1c1c1-0000-4000-8000-${String(i + 2).padStart(12, "0")}`;
const apimId = (i: number) => `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-${String(i).padStart(4, "0")}`;
const ZONE_ID = `/subscriptions/${PROVIDER}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;

interface Size {
  readonly instances: number;
  readonly connections: number;
  readonly consumers: number;
  /** Latency the emulator adds to every GET, standing in for ARM's (tens of milliseconds, not the emulator's one). */
  readonly latencyMs: number;
}

function sizeFromEnv(): Size {
  const int = (name: string, fallback: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
    return value;
  };
  return {
    instances: int("BENCH_AUDIT_INSTANCES", 100),
    connections: int("BENCH_AUDIT_CONNECTIONS", 20),
    consumers: int("BENCH_AUDIT_CONSUMERS", 4),
    latencyMs: int("BENCH_AUDIT_LATENCY_MS", 25),
  };
}

/** Every tenth instance's A record is missing: the drift both audits must find. */
const hasRecord = (i: number) => i % 10 !== 0;

/** The IP the emulator gives endpoint k of instance i: endpoints are numbered in topology order within their consumer's /16. */
function endpointIp(size: Size, i: number, k: number): string {
  const offset = 4 + Math.floor(i / size.consumers) * size.connections + k;
  return `10.0.${Math.floor(offset / 256)}.${offset % 256}`;
}

/** Instance i's endpoints live in consumer subscription i mod consumers, one /16 VNet per consumer. */
function topology(size: Size): TopologyInput {
  const vnetId = (c: number) => `/subscriptions/${consumerSubscription(c)}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
  return {
    tenants: [{ id: TENANT, displayName: "Contoso" }],
    subscriptions: [
      {
        id: PROVIDER,
        tenantId: TENANT,
        resourceGroups: [
          {
            name: "rg-apim",
            location: "westeurope",
            apimServices: Array.from({ length: size.instances }, (_, i) => ({
              name: apimId(i).split("/").at(-1)!,
              location: "westeurope",
              sku: { name: "Premium", capacity: 1 },
              publicNetworkAccess: "Disabled" as const,
            })),
          },
          {
            name: "rg-dns",
            location: "westeurope",
            privateDnsZones: [
              {
                name: "privatelink.azure-api.net",
                virtualNetworkLinks: Array.from({ length: size.consumers }, (_, c) => ({ name: `link-${c}`, virtualNetworkId: vnetId(c) })),
                aRecords: Array.from({ length: size.instances }, (_, i) => i)
                  .filter(hasRecord)
                  .map((i) => ({
                    name: apimId(i).split("/").at(-1)!,
                    ttl: 10,
                    ipv4Addresses: Array.from({ length: size.connections }, (_, k) => endpointIp(size, i, k)),
                  })),
              },
            ],
          },
        ],
      },
      ...Array.from({ length: size.consumers }, (_, c) => ({
        id: consumerSubscription(c),
        tenantId: TENANT,
        resourceGroups: [
          {
            name: "rg-app",
            location: "westeurope",
            virtualNetworks: [{ name: "vnet-app", location: "westeurope", addressPrefixes: ["10.0.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.0.0.0/16" }] }],
            privateEndpoints: Array.from({ length: size.instances }, (_, i) => i)
              .filter((i) => i % size.consumers === c)
              .flatMap((i) =>
                Array.from({ length: size.connections }, (_, k) => ({
                  name: `pe-${i}-${k}`,
                  location: "westeurope",
                  subnetId: `${vnetId(c)}/subnets/snet-pe`,
                  privateLinkServiceId: apimId(i),
                  connectionName: `pe-${i}-${k}`,
                  status: "Approved" as const,
                })),
              ),
          },
        ],
      })),
    ],
  };
}

/**
 * A decision log holding one rule approval per connection, with each instance's latest decisions indexed like
 * the Table adapter's. Built before the measured runs, with throttling off (the emulator names connections itself).
 */
async function approvalsLog(emulator: ArmEmulator, size: Size): Promise<Pick<DecisionLog, "listLatestByResource">> {
  const arm = createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem });
  const byInstance = new Map<string, ReadonlyMap<string, LatestDecisions>>();
  for (let i = 0; i < size.instances; i++) {
    const records: DecisionRecord[] = [];
    for await (const c of arm.privateLink.listConnections(apimId(i))) records.push(approvalRecord(c.id, apimId(i), new Date("2025-05-01T00:00:00.000Z")));
    byInstance.set(apimId(i).toLowerCase(), latestDecisionsByConnection(records));
  }
  return {
    async listLatestByResource(resourceId) {
      return byInstance.get(resourceId.toLowerCase()) ?? new Map();
    },
  };
}

interface Measured {
  readonly summary: AuditRunSummary;
  readonly wallMs: number;
  readonly peakHeapMb: number;
  readonly armRequests: number;
  readonly throttled: number;
  readonly lowerBoundMs: number;
}

/** The throttle's lower bound for the reads the emulator served: max over subscriptions of (reads − capacity) / refill. */
function throttleLowerBoundMs(emulator: ArmEmulator): number {
  const reads = new Map<string, number>();
  for (const r of emulator.requests()) {
    if (r.method !== "GET" || r.status === 429 || r.subscriptionId === undefined) continue;
    reads.set(r.subscriptionId, (reads.get(r.subscriptionId) ?? 0) + 1);
  }
  const { capacity, refillPerSecond } = ARM_READ_BUDGET;
  return Math.max(0, ...[...reads.values()].map((n) => (Math.max(0, n - capacity) / refillPerSecond) * 1000));
}

async function measure(emulator: ArmEmulator, size: Size, decisionLog: Pick<DecisionLog, "listLatestByResource">, tuning: Partial<AuditEstateOptions>): Promise<Measured> {
  emulator.throttle.reset();
  emulator.clearRequests();
  const arm = createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem });
  global.gc?.();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 25);
  const started = performance.now();
  const summary = await auditEstate(
    {
      arm,
      auditStore: createMemoryAuditStore(),
      decisionLog,
      dnsOwnership: createMemoryDnsOwnershipStore(),
      ruleStore: createStaticRuleStore(),
      notifications: createNotificationRecorder(),
      clock: { now: () => new Date() },
    },
    {
      managedInstanceIds: [],
      managedSubscriptionIds: [PROVIDER],
      managedResourceTypes: ["Microsoft.ApiManagement/service"],
      dnsZoneIds: [ZONE_ID],
      policy: { publicAccessExemptIds: [], publicAccessDisabledRequired: "when-approved", pendingMaxAgeHours: 24, rejectedMaxAgeDays: 30, capacityWarning: 80 },
      remediations: [],
      mode: "dry-run",
      concurrency: 8,
      trigger: "manual",
      ...tuning,
    },
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  if (summary.instances !== size.instances || summary.unreadableInstances !== 0) {
    throw new Error(`audit saw ${summary.instances} instances (${summary.unreadableInstances} unreadable), expected ${size.instances}`);
  }
  const stats = arm.callCounter.snapshot();
  return { summary, wallMs, peakHeapMb: (peakHeap - baseHeap) / 1_048_576, armRequests: stats.requests, throttled: stats.throttled, lowerBoundMs: throttleLowerBoundMs(emulator) };
}

export async function run(): Promise<BenchResult> {
  const size = sizeFromEnv();
  const emulator = await startArmEmulator({ topology: topology(size) });
  try {
    emulator.throttle.configure({ enabled: false });
    const log = await approvalsLog(emulator, size);
    emulator.faults.add({ method: "GET", latencyMs: size.latencyMs });
    emulator.throttle.configure({ enabled: true, reads: ARM_READ_BUDGET });
    const ours = await measure(emulator, size, log, {});
    const naive = await measure(emulator, size, log, { concurrency: 1, readBudget: null, cacheZones: false });
    const perInstance = (m: Measured) => m.armRequests / size.instances;
    const vsBound = ours.wallMs / Math.max(1, ours.lowerBoundMs);
    const expectedFindings = Array.from({ length: size.instances }, (_, i) => i).filter((i) => !hasRecord(i)).length;
    return {
      name: `audit: ${size.instances} instances × ${size.connections} connections, ${size.consumers} consumer subscriptions, read throttling 250 / 25 per s, ${size.latencyMs} ms per read`,
      rows: [
        ["ARM calls per instance (audit)", perInstance(ours), "requests, retries included"],
        ["ARM calls per instance (naive)", perInstance(naive), "requests, retries included"],
        ["429 answers (audit / naive)", `${ours.throttled} / ${naive.throttled}`],
        ["wall time (audit)", ours.wallMs / 1000, "s"],
        ["throttle lower bound (audit's reads)", ours.lowerBoundMs / 1000, "s"],
        ["audit / lower bound", vsBound, "x"],
        ["wall time (naive)", naive.wallMs / 1000, "s"],
        ["throttle lower bound (naive's reads)", naive.lowerBoundMs / 1000, "s"],
        ["naive / audit wall time", naive.wallMs / ours.wallMs, "x"],
        ["peak heap growth (audit / naive)", `${ours.peakHeapMb.toFixed(1)} / ${naive.peakHeapMb.toFixed(1)}`, "MB"],
        ["findings open (audit / naive / expected)", `${ours.summary.findings.open} / ${naive.summary.findings.open} / ${expectedFindings}`],
      ],
      targets: [
        { description: "audit wall time within 1.2x of the throttle's lower bound", met: vsBound <= 1.2 },
        { description: "both audits find exactly the missing records (one per ten instances)", met: ours.summary.findings.open === expectedFindings && naive.summary.findings.open === expectedFindings },
      ],
    };
  } finally {
    await emulator.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printBenchResult(await run());
}
