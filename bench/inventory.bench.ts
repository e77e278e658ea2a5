/**
 * The inventory port's two adapters on the same estate (issue 13 groundwork; the sweep and audit benches of issue 13
 * build on it once the inventory is wired into them): ARM listing vs Azure Resource Graph, through the real SDKs over
 * HTTPS to the ARM emulator, with ARM's read throttling on (250 per subscription, refilled at 25/s), 25 ms of latency
 * per ARM read (BENCH_INVENTORY_LATENCY_MS), and Resource Graph's documented quota (15 queries per 5 s per user).
 *
 * Estate (scaled; BENCH_INVENTORY_INSTANCES / _CONNECTIONS / _SUBSCRIPTIONS change it): 100 APIM instances × 20
 * connections spread over 10 provider subscriptions, every tenth connection Pending, the endpoints in 4 consumer
 * subscriptions.
 *
 * Measured, per adapter: requests and wall time for (a) the sweep's question, every Pending connection, and (b) the
 * audit's inventory, every instance with its connections, their endpoints and NICs; peak heap growth while streaming;
 * and whether both adapters return the same candidates (the heap includes the emulator, which runs in this process
 * and copies its estate for every Resource Graph query). Lower bound for Resource Graph: its quota, i.e.
 * floor((queries − 1) / 15) × 5 s.
 */
import { pathToFileURL } from "node:url";
import { startArmEmulator, type ArmEmulator } from "../dev/arm-emulator/index.ts";
import type { TopologyInput } from "../dev/arm-emulator/topology.ts";
import { createArmPorts } from "../src/adapters/arm/index.ts";
import { createArmListingInventory } from "../src/adapters/arm/inventory-arm.ts";
import { createResourceGraphInventory } from "../src/adapters/arm/resource-graph.ts";
import type { InventoryPort, InventoryScope } from "../src/ports/inventory.ts";
import { printBenchResult, type BenchResult } from "./report.ts";

const TENANT = "11111111-1111-4111-8111-111111111111";
const APIM = "Microsoft.ApiManagement/service";
const providerSubscription = (s: number) => `a0a0a0a0-0000-4000-8000-${String(s + 1).padStart(12, "0")}`;
const consumerSubscription = (c: number) => `c1c1c1c1-0000-4000-8000-${String(c + 1).padStart(12, "0")}`;
const CONSUMERS = 4;
const QUOTA = { limit: 15, windowMs: 5000 };

interface Size {
  readonly instances: number;
  readonly connections: number;
  readonly subscriptions: number;
  readonly latencyMs: number;
}

function sizeFromEnv(): Size {
  const int = (name: string, fallback: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
    return value;
  };
  return {
    instances: int("BENCH_INVENTORY_INSTANCES", 100),
    connections: int("BENCH_INVENTORY_CONNECTIONS", 20),
    subscriptions: int("BENCH_INVENTORY_SUBSCRIPTIONS", 10),
    latencyMs: int("BENCH_INVENTORY_LATENCY_MS", 25),
  };
}

const apimId = (size: Size, i: number) =>
  `/subscriptions/${providerSubscription(i % size.subscriptions)}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-${String(i).padStart(4, "0")}`;

function topology(size: Size): TopologyInput {
  const vnetId = (c: number) => `/subscriptions/${consumerSubscription(c)}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
  return {
    tenants: [{ id: TENANT }],
    subscriptions: [
      ...Array.from({ length: size.subscriptions }, (_, s) => ({
        id: providerSubscription(s),
        tenantId: TENANT,
        resourceGroups: [
          {
            name: "rg-apim",
            location: "westeurope",
            apimServices: Array.from({ length: size.instances }, (_, i) => i)
              .filter((i) => i % size.subscriptions === s)
              .map((i) => ({ name: apimId(size, i).split("/").at(-1)!, location: "westeurope", sku: { name: "Premium", capacity: 1 } })),
          },
        ],
      })),
      ...Array.from({ length: CONSUMERS }, (_, c) => ({
        id: consumerSubscription(c),
        tenantId: TENANT,
        resourceGroups: [
          {
            name: "rg-app",
            location: "westeurope",
            virtualNetworks: [{ name: "vnet-app", location: "westeurope", addressPrefixes: ["10.0.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.0.0.0/16" }] }],
            privateEndpoints: Array.from({ length: size.instances }, (_, i) => i)
              .filter((i) => i % CONSUMERS === c)
              .flatMap((i) =>
                Array.from({ length: size.connections }, (_, k) => ({
                  name: `pe-${i}-${k}`,
                  location: "westeurope",
                  subnetId: `${vnetId(c)}/subnets/snet-pe`,
                  privateLinkServiceId: apimId(size, i),
                  connectionName: `pe-${i}-${k}`,
                  ...(k % 10 === 0 ? {} : { status: "Approved" as const }),
                })),
              ),
          },
        ],
      })),
    ],
  };
}

interface Measured {
  readonly pending: string[];
  readonly sweepRequests: number;
  readonly sweepMs: number;
  readonly auditRequests: number;
  readonly auditMs: number;
  readonly peakHeapMb: number;
  readonly throttled: number;
  readonly graphQueries: number;
}

async function measure(emulator: ArmEmulator, inventory: InventoryPort, scope: InventoryScope, graphQueries: () => number): Promise<Measured> {
  emulator.throttle.reset();
  emulator.resourceGraph.configure({ quota: QUOTA });
  emulator.clearRequests();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 25);

  let started = performance.now();
  const pending: string[] = [];
  for await (const candidate of inventory.pendingConnections(scope, [APIM])) pending.push(candidate.connection.id.toLowerCase());
  const sweepMs = performance.now() - started;
  const sweepRequests = emulator.requests().length;

  started = performance.now();
  // The audit's inventory, streamed: per page of resources, their endpoints, then those endpoints' NICs.
  let batch: string[] = [];
  const flush = async () => {
    const nics: string[] = [];
    for await (const endpoint of inventory.privateEndpoints(batch)) nics.push(...endpoint.networkInterfaceIds);
    for await (const _nic of inventory.networkInterfaces(nics));
    batch = [];
  };
  for await (const item of inventory.resources(scope, [APIM])) {
    for (const c of item.connections) if (c.privateEndpointId) batch.push(c.privateEndpointId);
    if (batch.length >= 1000) await flush();
  }
  await flush();
  const auditMs = performance.now() - started;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const requests = emulator.requests();
  return {
    pending: pending.sort(),
    sweepRequests,
    sweepMs,
    auditRequests: requests.length - sweepRequests,
    auditMs,
    peakHeapMb: (peakHeap - baseHeap) / 1_048_576,
    throttled: requests.filter((r) => r.status === 429).length,
    graphQueries: graphQueries(),
  };
}

/** Resource Graph's quota bound: the queries beyond the first window's must wait for the windows after it. */
function quotaLowerBoundMs(queries: number): number {
  return Math.floor(Math.max(0, queries - 1) / QUOTA.limit) * QUOTA.windowMs;
}

export async function run(): Promise<BenchResult> {
  const size = sizeFromEnv();
  const emulator = await startArmEmulator({ topology: topology(size), lroDelayMs: 0, pageSize: 100 });
  try {
    emulator.faults.add({ method: "GET", latencyMs: size.latencyMs });
    emulator.throttle.configure({ enabled: true });
    const scope: InventoryScope = { subscriptions: Array.from({ length: size.subscriptions }, (_, s) => providerSubscription(s)) };
    const ports = createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem });
    const arm = await measure(emulator, createArmListingInventory({ apim: ports.apim, privateLink: ports.privateLink, network: ports.network }), scope, () => 0);
    const graphInventory = createResourceGraphInventory({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem });
    const graph = await measure(emulator, graphInventory, scope, () => graphInventory.stats().queries);
    const same = arm.pending.length === graph.pending.length && arm.pending.every((id, i) => id === graph.pending[i]);
    const graphBound = quotaLowerBoundMs(graph.sweepRequests + graph.auditRequests);
    const perInstance = (n: number) => n / size.instances;
    return {
      name: `inventory: ${size.instances} instances × ${size.connections} connections over ${size.subscriptions} subscriptions, ARM reads throttled 250 / 25 per s + ${size.latencyMs} ms, Resource Graph quota 15 / 5 s`,
      rows: [
        ["Pending candidates (ARM / Resource Graph)", `${arm.pending.length} / ${graph.pending.length}`],
        ["sweep question: requests (ARM / Resource Graph)", `${arm.sweepRequests} / ${graph.sweepRequests}`],
        ["sweep question: wall time (ARM / Resource Graph)", `${(arm.sweepMs / 1000).toFixed(2)} / ${(graph.sweepMs / 1000).toFixed(2)}`, "s"],
        ["audit inventory: requests per instance (ARM / Resource Graph)", `${perInstance(arm.auditRequests).toFixed(2)} / ${perInstance(graph.auditRequests).toFixed(2)}`],
        ["audit inventory: wall time (ARM / Resource Graph)", `${(arm.auditMs / 1000).toFixed(2)} / ${(graph.auditMs / 1000).toFixed(2)}`, "s"],
        ["Resource Graph: quota lower bound for its queries", graphBound / 1000, "s"],
        ["429 answers (ARM / Resource Graph)", `${arm.throttled} / ${graph.throttled}`],
        ["peak heap growth (ARM / Resource Graph)", `${arm.peakHeapMb.toFixed(1)} / ${graph.peakHeapMb.toFixed(1)}`, "MB"],
      ],
      targets: [
        { description: "both adapters return the same Pending candidates", met: same },
        { description: "Resource Graph answers the sweep's question in one request per 1,000 candidates", met: graph.sweepRequests <= Math.ceil(graph.pending.length / 1000) * Math.ceil(size.subscriptions / 1000) },
        { description: "audit inventory through Resource Graph: at most 2 requests per instance", met: perInstance(graph.auditRequests) <= 2 },
        { description: "Resource Graph total within 1.5x of its quota's lower bound (+1 s)", met: graph.sweepMs + graph.auditMs <= 1.5 * graphBound + 1000 },
      ],
    };
  } finally {
    await emulator.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printBenchResult(await run());
}
