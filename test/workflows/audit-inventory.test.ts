/**
 * The audit over an inventory (PORTCULLIS_INVENTORY=resource-graph), with the inventory as a test double and ARM as the
 * fake: a row the inventory cannot parse makes that instance unreadable (a finding), never absent (which would resolve
 * its findings as if it were gone), and the rest of the estate is still audited from the inventory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PortcullisError } from "../../src/domain/errors.ts";
import type { InventoryPort, InventoryResource } from "../../src/ports/inventory.ts";
import { auditEstate, type AuditEstateOptions } from "../../src/workflows/audit-estate.ts";
import { createFakeArm } from "../fakes/arm.ts";
import { approvalRecord, createMemoryAuditStore, createMemoryDecisionLog, createMemoryDnsOwnershipStore, createNotificationRecorder, createStaticRuleStore } from "./audit-fakes.ts";

const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const CONSUMER = "c1c1c1c1-0000-4000-8000-000000000002";
const apim = (name: string) => `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/${name}`;
const pe = (name: string) => `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/${name}`;
const VNET = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;

/** A dry-run audit of every API Management instance in PROVIDER, unpaced. */
const SUBSCRIPTION_AUDIT: AuditEstateOptions = {
  managedInstanceIds: [],
  managedSubscriptionIds: [PROVIDER],
  managedResourceTypes: ["Microsoft.ApiManagement/service"],
  dnsZoneIds: [],
  policy: { publicAccessExemptIds: [], publicAccessDisabledRequired: "when-approved", pendingMaxAgeHours: 24, rejectedMaxAgeDays: 30, capacityWarning: 80 },
  remediations: [],
  mode: "dry-run",
  concurrency: 2,
  readBudget: null,
  trigger: "timer",
};

test("a row the inventory cannot parse is an unreadable instance, not a missing one; the others are audited from the inventory", async () => {
  const arm = createFakeArm();
  const log = createMemoryDecisionLog();
  for (const name of ["contoso-apim", "odd-apim"]) {
    arm.addService({ id: apim(name), name, skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Disabled" });
    const { connection, privateEndpoint } = arm.requestConnection({ resourceId: apim(name), privateEndpointId: pe(`pe-${name}`), privateIpAddress: "10.0.1.4", manual: false });
    arm.addPrivateEndpoint({ ...privateEndpoint, subnetId: `${VNET}/subnets/snet-pe` });
    log.records.push(approvalRecord(connection.id, apim(name), new Date("2025-05-01T00:00:00.000Z")));
  }
  const service = (await arm.ports.apim.getService(apim("contoso-apim")))!;
  const connections = [];
  for await (const c of arm.ports.privateLink.listConnections(apim("contoso-apim"))) connections.push(c);
  const contoso: InventoryResource = {
    resource: { id: service.id, name: service.name, type: "Microsoft.ApiManagement/service", location: service.location, publicNetworkAccess: "Disabled", skuName: "Premium", provisioningState: service.provisioningState },
    subscriptionId: PROVIDER,
    connections,
    apim: { platformVersion: "stv2", virtualNetworkType: "None" },
  };
  const inventory: InventoryPort = {
    source: "resource-graph",
    async *pendingConnections() {},
    async *resources(_scope, _types, options) {
      options?.onUnreadableRow?.({ resourceId: apim("odd-apim"), error: new PortcullisError("internal", "Resource Graph row odd-apim: properties.privateEndpointConnections.0.name: expected string", { code: "InvalidArmResponse" }) });
      yield contoso;
    },
    async *privateEndpoints(ids) {
      for (const id of ids) {
        const endpoint = await arm.ports.network.getPrivateEndpoint(id);
        if (endpoint) yield endpoint;
      }
    },
    async *networkInterfaces() {},
  };
  const store = createMemoryAuditStore();
  const deps = { arm: arm.ports, auditStore: store, decisionLog: log, dnsOwnership: createMemoryDnsOwnershipStore(), ruleStore: createStaticRuleStore(), notifications: createNotificationRecorder(), clock: { now: () => new Date("2025-06-01T06:00:00.000Z") } };
  const listedBefore = arm.calls.listConnections + arm.calls.listServicesBySubscription;

  const summary = await auditEstate({ ...deps, inventory }, SUBSCRIPTION_AUDIT);

  assert.equal(summary.instances, 2);
  assert.equal(summary.unreadableInstances, 1);
  const odd = await store.listFindings(summary.runId, apim("odd-apim"));
  assert.deepEqual(odd.map((f) => [f.checkId, f.status]), [["instance-unreadable", "open"]]);
  assert.match(odd[0]!.message, /InvalidArmResponse|could not be read/);
  const contosoFindings = await store.listFindings(summary.runId, apim("contoso-apim"));
  assert.ok(!contosoFindings.some((f) => f.checkId === "instance-unreadable"), JSON.stringify(contosoFindings));
  assert.equal(arm.calls.listConnections + arm.calls.listServicesBySubscription, listedBefore, "instances and connections came from the inventory, not ARM listings");
});

test("an instance deleted in ARM that Resource Graph still shows with a high-severity problem: confirmed from ARM as gone, no finding opens", async () => {
  const arm = createFakeArm();
  const gone: InventoryResource = {
    resource: { id: apim("deleted-apim"), name: "deleted-apim", type: "Microsoft.ApiManagement/service", location: "westeurope", publicNetworkAccess: "Disabled", skuName: "Premium", provisioningState: "Succeeded" },
    subscriptionId: PROVIDER,
    connections: [],
    // stv1: a high-severity prerequisite finding, if this view were believed.
    apim: { platformVersion: "stv1", virtualNetworkType: "None" },
  };
  const inventory: InventoryPort = {
    source: "resource-graph",
    async *pendingConnections() {},
    async *resources() {
      yield gone;
    },
    async *privateEndpoints() {},
    async *networkInterfaces() {},
  };
  const store = createMemoryAuditStore();
  const summary = await auditEstate(
    { arm: arm.ports, auditStore: store, decisionLog: createMemoryDecisionLog(), dnsOwnership: createMemoryDnsOwnershipStore(), ruleStore: createStaticRuleStore(), notifications: createNotificationRecorder(), clock: { now: () => new Date("2025-06-01T06:00:00.000Z") }, inventory },
    SUBSCRIPTION_AUDIT,
  );
  assert.equal(arm.calls.getService, 1, "re-read from ARM before the high finding");
  assert.equal(summary.instances, 0, "gone, as an ARM listing would have said");
  assert.deepEqual(await store.listFindings(summary.runId, apim("deleted-apim")), []);
});
