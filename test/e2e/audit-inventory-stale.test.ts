/**
 * A stale inventory never opens a wrong high-severity finding or makes a wrong repair. Resource Graph is frozen while
 * a human fixes the instance directly in ARM (public network access disabled, the missing A record created); the
 * inventory still shows the old problems, so the audit re-reads the instance from ARM before it opens the high finding
 * or repairs anything, and judges what ARM says. Local stack, real SDKs, Azurite, the deployed roles.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createResourceGraphInventory } from "../../src/adapters/arm/resource-graph.ts";
import { findingId } from "../../src/domain/audit/findings.ts";
import { HUB_ZONE_ID, INSTANCE_ID, RECORD_ID, startAuditStack } from "./audit-harness.ts";

const PUBLIC = findingId("public-network-access", INSTANCE_ID, "enabled");
const MISSING = findingId("dns-record-missing", RECORD_ID);

test("the frozen inventory still shows public access and a missing record a human has fixed: confirmed from ARM, nothing opened, nothing repaired", async () => {
  const stack = await startAuditStack("audit-remediation", "invstale");
  try {
    await stack.recordApprovals();
    const inventory = createResourceGraphInventory({ endpoint: stack.emulator.url, credential: stack.emulator.credential(), caPem: stack.emulator.caPem, maxWaitMs: 50 });
    const enforce = { mode: "enforce" as const, remediations: ["public-network-access", "dns-record"] as const };

    stack.emulator.resourceGraph.configure({ frozen: true });
    await stack.operatorArm.privateLink.setPublicNetworkAccess(INSTANCE_ID, "Disabled");
    const endpointIps = await (async () => {
      for await (const c of stack.operatorArm.privateLink.listConnections(INSTANCE_ID)) {
        if (c.status !== "Approved" || c.privateEndpointId === undefined) continue;
        const endpoint = await stack.operatorArm.network.getPrivateEndpoint(c.privateEndpointId);
        return endpoint?.customDnsConfigs.flatMap((d) => d.ipAddresses) ?? [];
      }
      return [];
    })();
    assert.ok(endpointIps.length > 0, "the topology's approved endpoint has an IP");
    await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", endpointIps, { ttl: 10 });
    let stale = false;
    for await (const item of inventory.resources({ subscriptions: [INSTANCE_ID.split("/")[2]!] }, ["Microsoft.ApiManagement/service"])) {
      stale ||= item.resource.publicNetworkAccess === "Enabled";
    }
    assert.ok(stale, "the frozen inventory still shows public access Enabled");
    stack.emulator.clearRequests();

    const summary = await stack.audit({ ...enforce, remediations: [...enforce.remediations] }, { inventory });

    const findings = await stack.store.listFindings(summary.runId, INSTANCE_ID);
    const open = findings.filter((f) => f.status === "open").map((f) => f.id);
    assert.ok(!open.includes(PUBLIC), `no public-access finding from the stale view: ${open.join(", ")}`);
    assert.ok(!open.includes(MISSING), "no missing-record finding: ARM has the record");
    const writes = stack.emulator.requests().filter((r) => r.method !== "GET" && r.method !== "POST");
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [], "nothing repaired");
    const reads = stack.emulator.requests().filter((r) => r.method === "GET" && r.path.toLowerCase().split("?")[0] === INSTANCE_ID.toLowerCase());
    assert.ok(reads.length >= 1, "the instance was re-read from ARM");
    assert.equal((await stack.operatorArm.privateLink.getResource(INSTANCE_ID))?.publicNetworkAccess, "Disabled");
  } finally {
    await stack.close();
  }
});

test("with an up-to-date inventory the same problems are confirmed from ARM and repaired", async () => {
  const stack = await startAuditStack("audit-remediation", "invfresh");
  try {
    await stack.recordApprovals();
    const inventory = createResourceGraphInventory({ endpoint: stack.emulator.url, credential: stack.emulator.credential(), caPem: stack.emulator.caPem, maxWaitMs: 50 });
    const summary = await stack.audit({ mode: "enforce", remediations: ["public-network-access", "dns-record"] }, { inventory });
    const outcomes = [];
    for await (const r of stack.store.listRemediations(summary.runId)) outcomes.push([r.change.kind, r.outcome]);
    assert.deepEqual(outcomes.sort(), [["disable-public-network-access", "applied"], ["put-a-record", "applied"]]);
    assert.equal((await stack.operatorArm.privateLink.getResource(INSTANCE_ID))?.publicNetworkAccess, "Disabled");
  } finally {
    await stack.close();
  }
});
