/**
 * The Resource Graph audit and the ARM-listing audit agree finding for finding. On every audit topology of the test
 * fixtures (each built to show one problem, plus the mixed-type estate), on the local stack (real SDKs over HTTPS to the
 * ARM emulator, whose Resource Graph indexes the same state, real Azurite), under the roles infra/ deploys:
 *
 * - each instance's snapshot (resource, APIM facts, connections, endpoints with IPs and zone groups, zones) read
 *   through the inventory equals the one read from ARM — this is what the audit judges when nothing high is found;
 * - whole audit runs, one of each, open the same findings with the same evidence and tally the same summary.
 *
 * And the Resource Graph audit costs a handful of queries, not a listing per instance.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createResourceGraphInventory } from "../../src/adapters/arm/resource-graph.ts";
import type { Finding } from "../../src/domain/audit/findings.ts";
import type { AuditRunSummary } from "../../src/domain/audit/run.ts";
import { resourceIdKey } from "../../src/domain/resource-id.ts";
import { createAuditGatherer, type GatheredInstance } from "../../src/workflows/audit-gather.ts";
import { createArmCallLimiter } from "../../src/workflows/audit-limiter.ts";
import { HUB_ZONE_ID, PROVIDER_SUB, startAuditStack, type AuditStack } from "./audit-harness.ts";

const TYPES = ["Microsoft.ApiManagement/service", "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"];
const zoneId = (name: string) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/${name}`;
const ZONES = [HUB_ZONE_ID, zoneId("privatelink.blob.core.windows.net"), zoneId("privatelink.vaultcore.azure.net")];
const TOPOLOGIES = [
  "audit-capacity",
  "audit-clashing-endpoints",
  "audit-deleted-endpoint",
  "audit-remediation",
  "audit-standard-v2",
  "audit-stv1",
  "audit-types",
  "audit-unlinked-zone",
  "audit-vnet-injected",
];

function inventoryOf(stack: AuditStack) {
  return createResourceGraphInventory({ endpoint: stack.emulator.url, credential: stack.emulator.credential(), caPem: stack.emulator.caPem, maxWaitMs: 50 });
}

/** Every instance's snapshot, by instance, connections in ID order. */
async function snapshots(stack: AuditStack, withInventory: boolean): Promise<Map<string, GatheredInstance>> {
  const gatherer = createAuditGatherer({
    arm: stack.arm,
    limiter: createArmCallLimiter({ concurrency: 4, readBudget: undefined }),
    dnsOwnership: stack.dnsOwnership,
    configuredZoneIds: ZONES,
    ...(withInventory ? { inventory: inventoryOf(stack) } : {}),
  });
  const result = new Map<string, GatheredInstance>();
  for await (const target of gatherer.listTargets([], [PROVIDER_SUB], TYPES)) {
    const instance = await gatherer.readInstance(target);
    result.set(resourceIdKey(instance.instanceId), { ...instance, connections: [...instance.connections].sort((a, b) => a.connection.id.localeCompare(b.connection.id)) });
  }
  return result;
}

/** What a user sees of a finding (not when it was stored). */
const shown = (f: Finding) => ({ id: f.id, checkId: f.checkId, severity: f.severity, status: f.status, resourceId: f.resourceId, message: f.message, evidence: f.evidence });

async function findingsOf(stack: AuditStack, summary: AuditRunSummary) {
  const findings = [];
  for await (const f of stack.store.listAllFindings(summary.runId)) findings.push(shown(f));
  return findings.sort((a, b) => a.id.localeCompare(b.id));
}

const tally = (s: AuditRunSummary) => {
  const { runId: _r, startedAt: _s, finishedAt: _f, ...rest } = s as AuditRunSummary & Record<string, unknown>;
  return rest;
};

for (const topology of TOPOLOGIES) {
  describe(`Resource Graph vs ARM listing on ${topology}`, () => {
    let arm: AuditStack;
    let graph: AuditStack;
    before(async () => {
      // Two stacks on the same topology, so neither run sees the other's previous findings.
      [arm, graph] = await Promise.all([startAuditStack(topology, `parity${topology.replace(/-/g, "")}a`), startAuditStack(topology, `parity${topology.replace(/-/g, "")}g`)]);
      for (const stack of [arm, graph]) {
        for (const type of TYPES) for await (const r of stack.operatorArm.privateLink.listResourcesBySubscription(PROVIDER_SUB, type)) await stack.recordApprovals(r.id);
      }
    });
    after(() => Promise.all([arm?.close(), graph?.close()]));

    test("every instance's snapshot from the inventory equals the one from ARM", async () => {
      // Grant the deployed roles for this scope first (the harness grants them per audit run); one ARM run on each stack,
      // so the next test compares two runs with the same previous run.
      await Promise.all([arm.audit({ managedResourceTypes: TYPES, dnsZoneIds: ZONES }), graph.audit({ managedResourceTypes: TYPES, dnsZoneIds: ZONES })]);
      const [fromArm, fromGraph] = await Promise.all([snapshots(graph, false), snapshots(graph, true)]);
      assert.ok(fromArm.size > 0);
      assert.deepEqual([...fromGraph.keys()].sort(), [...fromArm.keys()].sort());
      for (const [key, expected] of fromArm) assert.deepEqual(fromGraph.get(key), expected, `snapshot of ${expected.instanceId}`);
    });

    test("the two audits open the same findings with the same evidence and the same summary", async () => {
      arm.clock.set("2025-06-02T06:00:00.000Z");
      graph.clock.set("2025-06-02T06:00:00.000Z");
      const armRun = await arm.audit({ managedResourceTypes: TYPES, dnsZoneIds: ZONES });
      const graphRun = await graph.audit({ managedResourceTypes: TYPES, dnsZoneIds: ZONES }, { inventory: inventoryOf(graph) });
      assert.deepEqual(await findingsOf(graph, graphRun), await findingsOf(arm, armRun));
      assert.deepEqual(tally(graphRun), tally(armRun));
    });
  });
}
