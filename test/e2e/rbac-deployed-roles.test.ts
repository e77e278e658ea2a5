/**
 * The roles infra/ deploys, read from the templates the real Bicep CLI compiles, and what the app does when one of
 * them lacks an action it needs: one negative test per custom role (drop an action, make the call that needs it,
 * see ARM's 403 and the app report it — never an approval out of a refused read).
 *   - "Portcullis APIM connection approver": without service/operationresults/read the approval's 202 poll is refused;
 *   - "Portcullis private endpoint reader": without privateEndpoints/read a rule that needs the endpoint's facts
 *     cannot decide, and without privateEndpoints/privateDnsZoneGroups/read the audit reports the endpoint unreadable;
 *   - "Portcullis private DNS auditor": without privateDnsZones/A/write the DNS repair is refused and recorded so.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { customActions, deployedRoles, wiringRoles, withoutAction, type DeployedRoles } from "../support/deployed-roles.ts";
import { APP_PRINCIPAL_ID } from "../support/local-arm.ts";
import { startAuditStack } from "./audit-harness.ts";
import { collectingLog, CONSUMER_SUB, engineTopology, putRules, startEngineStack, type EngineStack } from "./engine-stack.ts";

const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const INSTANCE = `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-a`;
const ZONE = `/subscriptions/b0b0b0b0-0000-4000-8000-000000000004/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;

const roleNamed = (roles: DeployedRoles, prefix: string) => {
  const found = roles.roleDefinitions.filter((d) => d.roleName.startsWith(prefix));
  assert.ok(found.length > 0, `a role named ${prefix}…`);
  return found;
};
const actionsOf = (roles: DeployedRoles, prefix: string) => [...new Set(roleNamed(roles, prefix).flatMap((d) => d.permissions.flatMap((p) => p.actions)))].sort();

describe("the roles infra/ deploys, from the compiled templates", () => {
  const parameters = {
    principalId: APP_PRINCIPAL_ID,
    deploymentSubscriptionId: PROVIDER,
    managedInstanceIds: [INSTANCE],
    managedSubscriptionIds: ["b1b1b1b1-0000-4000-8000-000000000009"],
    consumerSubscriptionIds: [CONSUMER_SUB],
    dnsZoneIds: [ZONE],
  };

  test("with the remediation switches off: reads, approve/reject and the LRO poll — no service/write, no A/write or A/delete", () => {
    const roles = deployedRoles(parameters);
    assert.deepEqual(actionsOf(roles, "Portcullis APIM connection approver"), [
      "Microsoft.ApiManagement/service/operationresults/read",
      "Microsoft.ApiManagement/service/privateEndpointConnections/read",
      "Microsoft.ApiManagement/service/privateEndpointConnections/write",
      "Microsoft.ApiManagement/service/read",
    ]);
    assert.deepEqual(actionsOf(roles, "Portcullis private endpoint reader"), [
      "Microsoft.Network/networkInterfaces/read",
      "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read",
      "Microsoft.Network/privateEndpoints/read",
    ]);
    assert.deepEqual(actionsOf(roles, "Portcullis private DNS auditor"), [
      "Microsoft.Network/privateDnsZones/A/read",
      "Microsoft.Network/privateDnsZones/read",
      "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
    ]);
    assert.ok(!customActions(roles).some((a) => a.includes("*")), "no wildcard in a custom role");
  });

  test("with the remediation switches on: service/write, and A/write with A/delete, are added and nothing else", () => {
    const off = deployedRoles(parameters);
    const on = deployedRoles({ ...parameters, remediatePublicNetworkAccess: true, remediateDnsRecords: true });
    const added = customActions(on).filter((a) => !customActions(off).includes(a));
    assert.deepEqual([...new Set(added)].sort(), [
      "Microsoft.ApiManagement/service/write",
      "Microsoft.Network/privateDnsZones/A/delete",
      "Microsoft.Network/privateDnsZones/A/write",
    ]);
  });

  test("each role is assigned where the settings point: the instance, the managed subscription, the zone, every watched subscription", () => {
    const roles = deployedRoles(parameters);
    const scopesOf = (prefix: string) =>
      roles.roleAssignments.filter((a) => roleNamed(roles, prefix).some((d) => d.id === a.roleDefinitionId)).map((a) => a.scope).sort();
    assert.deepEqual(scopesOf("Portcullis APIM connection approver"), [INSTANCE, "/subscriptions/b1b1b1b1-0000-4000-8000-000000000009"].sort());
    assert.deepEqual(scopesOf("Portcullis private DNS auditor"), [ZONE]);
    assert.deepEqual(scopesOf("Portcullis private endpoint reader"), [`/subscriptions/${PROVIDER}`, "/subscriptions/b1b1b1b1-0000-4000-8000-000000000009", `/subscriptions/${CONSUMER_SUB}`].sort());
    assert.ok(roles.roleAssignments.every((a) => a.principalId === APP_PRINCIPAL_ID));
  });

  test("subscription-wiring.bicep deployed on its own grants what main.bicep's wiring module grants", () => {
    const alone = wiringRoles(APP_PRINCIPAL_ID, CONSUMER_SUB);
    assert.deepEqual(actionsOf(alone, "Portcullis private endpoint reader"), actionsOf(deployedRoles(parameters), "Portcullis private endpoint reader"));
    assert.deepEqual(alone.roleAssignments.map((a) => a.scope), [`/subscriptions/${CONSUMER_SUB}`]);
  });
});

describe("a missing action is caught: 403 from ARM, reported by the app, never an approval", () => {
  async function sweepWith(change: (roles: DeployedRoles) => DeployedRoles, rule: Record<string, unknown>): Promise<{ stack: EngineStack; summary: Awaited<ReturnType<typeof reconcilePending>> }> {
    const stack = await startEngineStack({
      topology: engineTopology(["apim-a"], [{ name: "pe-1", instance: "apim-a", requestMessage: "Orders CHG0012345" }]),
      emulator: { lroDelayMs: 30 },
      settings: { PORTCULLIS_MANAGED_SUBSCRIPTIONS: "", PORTCULLIS_MANAGED_INSTANCES: INSTANCE },
      roles: { change },
      composition: { armPollIntervalInMs: 10 },
    });
    await putRules(stack.composition, [rule as never]);
    const summary = await reconcilePending("rbac-negative", await stack.composition.engineDeps(collectingLog()));
    return { stack, summary };
  }

  test("APIM connection approver without service/operationresults/read: the approval's poll is refused; the engine re-reads the connection and records what ARM holds", async () => {
    const { stack, summary } = await sweepWith((r) => withoutAction(r, "Microsoft.ApiManagement/service/operationresults/read"), {
      id: "allow-consumer",
      priority: 10,
      action: "approve",
      reason: "consumer allowed",
      conditions: { "requester-subscriptions": [CONSUMER_SUB] },
    });
    try {
      const refused = stack.emulator.requests().filter((r) => r.status === 403);
      assert.deepEqual(refused.map((r) => r.action), ["Microsoft.ApiManagement/service/operationresults/read"]);
      // ARM applied the approval before the poll was refused (issue 10 item 3): the re-read shows Approved, so the
      // decision is recorded once as applied by its rule, never as failed and later again as out-of-band.
      assert.deepEqual(summary.outcomes, { approved: 1 }, JSON.stringify(summary.decided));
      const [decision] = summary.decided;
      assert.equal(decision?.records.length, 1);
      assert.equal(decision?.records[0]?.actor, "rule:allow-consumer");
      assert.equal(decision?.records[0]?.statusAfter, "Approved");
    } finally {
      await stack.close();
    }
  });

  test("private endpoint reader without privateEndpoints/read: a rule needing the endpoint's request message cannot decide, nothing is written", async () => {
    const { stack, summary } = await sweepWith((r) => withoutAction(r, "Microsoft.Network/privateEndpoints/read"), {
      id: "allow-with-change",
      priority: 10,
      action: "approve",
      reason: "change ticket",
      conditions: { "requester-subscriptions": [CONSUMER_SUB], "request-message": ["*CHG*"] },
    });
    try {
      assert.ok(stack.emulator.requests().some((r) => r.status === 403 && r.action === "Microsoft.Network/privateEndpoints/read"));
      assert.equal(stack.emulator.requests().filter((r) => r.method !== "GET").length, 0, "no approval was sent to ARM");
      assert.equal(summary.outcomes.approved ?? 0, 0);
      assert.equal(summary.awaitingManual.length, 1, "left for a human");
      const snapshot = stack.emulator.snapshot() as { apimServices: { connections: { status: string }[] }[] };
      assert.deepEqual(snapshot.apimServices.flatMap((s) => s.connections.map((c) => c.status)), ["Pending"]);
    } finally {
      await stack.close();
    }
  });

  test("private endpoint reader without privateEndpoints/privateDnsZoneGroups/read: the audit reports the endpoint unreadable", async () => {
    const stack = await startAuditStack("audit-remediation", "rbaczg", (r) => withoutAction(r, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"));
    try {
      const summary = await stack.audit();
      assert.ok(stack.emulator.requests().some((r) => r.status === 403 && r.action === "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"));
      assert.equal(summary.openByCheck["endpoint-unreadable"], 1, JSON.stringify(summary.openByCheck));
    } finally {
      await stack.close();
    }
  });

  test("private DNS auditor without privateDnsZones/A/write: the DNS repair is refused by ARM and counted refused; the record stays missing", async () => {
    const stack = await startAuditStack("audit-remediation", "rbacdns", (r) => withoutAction(r, "Microsoft.Network/privateDnsZones/A/write"));
    try {
      const summary = await stack.audit({ mode: "enforce", remediations: ["public-network-access", "dns-record"] });
      assert.ok(stack.emulator.requests().some((r) => r.status === 403 && r.action === "Microsoft.Network/privateDnsZones/A/write"));
      assert.equal(summary.remediations.refused, 1, JSON.stringify(summary.remediations));
      assert.equal(summary.remediations.applied, 1, "the public-access repair, which the APIM role allows, still lands");
      assert.equal(summary.openByCheck["dns-record-missing"], 1);
    } finally {
      await stack.close();
    }
  });
});
