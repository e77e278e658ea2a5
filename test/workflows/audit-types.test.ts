/**
 * auditEstate over a mixed estate, on the multi-type fake ARM: an API Management instance, a storage account, a key
 * vault and a Private Link Service in one subscription, each read, judged and repaired through the generic
 * PrivateLinkPort (ApimPort only for APIM's own facts), each finding naming its resource's type.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createFakeArm, type FakeArm } from "../fakes/arm.ts";
import { auditEstate, type AuditEstateDependencies, type AuditEstateOptions } from "../../src/workflows/audit-estate.ts";
import { findingId } from "../../src/domain/audit/findings.ts";
import { listingScopeId } from "../../src/domain/audit/snapshot.ts";
import {
  approvalRecord,
  createMemoryAuditStore,
  createMemoryDecisionLog,
  createMemoryDnsOwnershipStore,
  createNotificationRecorder,
  createStaticRuleStore,
  type MemoryAuditStore,
} from "./audit-fakes.ts";

const PROVIDER = "a0a0a0a0-0000-4000-8000-000000000001";
const CONSUMER = "c1c1c1c1-0000-4000-8000-000000000002";
const APIM = "Microsoft.ApiManagement/service";
const STORAGE = "Microsoft.Storage/storageAccounts";
const VAULT = "Microsoft.KeyVault/vaults";
const PLS = "Microsoft.Network/privateLinkServices";
const TYPES = [APIM, STORAGE, VAULT, PLS];
const id = (type: string, name: string) => `/subscriptions/${PROVIDER}/resourceGroups/rg-app/providers/${type}/${name}`;
const zoneId = (name: string) => `/subscriptions/${PROVIDER}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/${name}`;
const APIM_ZONE = zoneId("privatelink.azure-api.net");
const BLOB_ZONE = zoneId("privatelink.blob.core.windows.net");
const VAULT_ZONE = zoneId("privatelink.vaultcore.azure.net");
const VNET = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
const pe = (name: string) => `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/${name}`;

interface World {
  readonly arm: FakeArm;
  readonly store: MemoryAuditStore;
  readonly ownership: ReturnType<typeof createMemoryDnsOwnershipStore>;
  readonly log: ReturnType<typeof createMemoryDecisionLog>;
  readonly clock: { now(): Date; set(iso: string): void };
}

/** Approves a connection to `resourceId` (by a rule, in the log) from an endpoint in vnet-app with `ip`. */
function approve(w: Pick<World, "arm" | "log">, resourceId: string, endpoint: string, ip: string, groupIds?: readonly string[]): string {
  const { connection, privateEndpoint } = w.arm.requestConnection({ resourceId, privateEndpointId: pe(endpoint), privateIpAddress: ip, manual: false, ...(groupIds ? { groupIds } : {}) });
  w.arm.addPrivateEndpoint({ ...privateEndpoint, subnetId: `${VNET}/subnets/snet-pe` });
  w.log.records.push(approvalRecord(connection.id, resourceId, new Date("2025-05-01T00:00:00.000Z")));
  return connection.id;
}

/**
 * APIM (healthy, record in place), a storage account with public access Enabled and its blob endpoint approved, a key
 * vault with its endpoint approved (no record yet), a Private Link Service that auto-approves a subscription; hub
 * zones for the three zone types, linked to the consumer VNet.
 */
function world(): World {
  const arm = createFakeArm();
  const log = createMemoryDecisionLog();
  arm.addService({ id: id(APIM, "apim1"), name: "apim1", skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Disabled" });
  arm.addResource({ id: id(STORAGE, "stapp1"), publicNetworkAccess: "Enabled" });
  arm.addResource({ id: id(VAULT, "kv-app1"), publicNetworkAccess: "Disabled" });
  arm.addResource({ id: id(PLS, "pls1"), privateLinkService: { visibilitySubscriptions: [CONSUMER], autoApprovalSubscriptions: [CONSUMER] } });
  for (const zone of [APIM_ZONE, BLOB_ZONE, VAULT_ZONE]) {
    arm.addZone({ id: zone, name: zone.split("/").at(-1)! });
    arm.addVirtualNetworkLink(zone, { name: "link-app", virtualNetworkId: VNET });
  }
  const w = { arm, log };
  approve(w, id(APIM, "apim1"), "pe-apim", "10.0.1.4");
  arm.addARecord(APIM_ZONE, "apim1", ["10.0.1.4"]);
  approve(w, id(STORAGE, "stapp1"), "pe-blob", "10.0.2.4", ["blob"]);
  arm.addARecord(BLOB_ZONE, "stapp1", ["10.0.2.4"]);
  approve(w, id(VAULT, "kv-app1"), "pe-vault", "10.0.3.4");
  let now = new Date("2025-06-01T06:00:00.000Z");
  return { arm, log, store: createMemoryAuditStore(), ownership: createMemoryDnsOwnershipStore(), clock: { now: () => now, set: (iso) => (now = new Date(iso)) } };
}

function deps(w: World): AuditEstateDependencies {
  return {
    arm: w.arm.ports,
    auditStore: w.store,
    decisionLog: w.log,
    dnsOwnership: w.ownership,
    ruleStore: createStaticRuleStore(),
    notifications: createNotificationRecorder(),
    clock: w.clock,
  };
}

function options(overrides: Partial<AuditEstateOptions> = {}): AuditEstateOptions {
  return {
    managedInstanceIds: [],
    managedSubscriptionIds: [PROVIDER],
    managedResourceTypes: TYPES,
    dnsZoneIds: [APIM_ZONE, BLOB_ZONE, VAULT_ZONE],
    policy: { publicAccessExemptIds: [], publicAccessDisabledRequired: "when-approved", pendingMaxAgeHours: 24, rejectedMaxAgeDays: 30, capacityWarning: 80 },
    remediations: [],
    mode: "dry-run",
    concurrency: 4,
    readBudget: null,
    trigger: "timer",
    ...overrides,
  };
}

describe("auditEstate over several Private Link types", () => {
  test("audits every managed type of the subscription; each finding names its type; APIM's own facts come from ApimPort only", async () => {
    const w = world();
    const summary = await auditEstate(deps(w), options());
    assert.equal(summary.instances, 4);
    const findings = w.store.findingsOf(summary.runId).filter((f) => f.status === "open");
    assert.deepEqual(
      findings.map((f) => [f.checkId, f.resourceType, f.resourceId]).sort(),
      [
        ["dns-record-missing", VAULT, `${VAULT_ZONE}/A/kv-app1`],
        ["private-link-service-auto-approval", PLS, id(PLS, "pls1")],
        ["public-network-access", STORAGE, id(STORAGE, "stapp1")],
      ].sort(),
    );
    const summaries = [...w.store.runs.get(summary.runId)!.instances.values()];
    assert.deepEqual(summaries.map((s) => s.resourceType).sort(), [...TYPES].sort());
    assert.equal(w.arm.calls.getService, 0, "the APIM listing carries its properties");
    assert.equal(w.arm.calls.getResource, 3, "every other type is read once with its properties (the generic list has none)");
    assert.equal(w.arm.calls.listARecords, 3, "each type's zone is read once");
  });

  test("enforce with both remediations: the vault's record is created and the account's public access closed through the generic port; a second run is clean and plans nothing", async () => {
    const w = world();
    const enforce = options({ mode: "enforce", remediations: ["public-network-access", "dns-record"] });
    const first = await auditEstate(deps(w), enforce);
    const changes = w.store.runs.get(first.runId)!.remediations.map((r) => [r.change.kind, r.outcome]);
    assert.deepEqual(changes.sort(), [["disable-public-network-access", "applied"], ["put-a-record", "applied"]]);
    assert.equal(w.arm.state.resources.get(id(STORAGE, "stapp1").toLowerCase())!.publicNetworkAccess, "Disabled");
    assert.deepEqual(w.arm.state.aRecords.get(`${VAULT_ZONE}/A/kv-app1`.toLowerCase())?.ipv4Addresses, ["10.0.3.4"]);
    assert.equal(w.ownership.entries.size, 1, "Portcullis remembers the record it wrote");

    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), enforce);
    assert.deepEqual(second.openByCheck, { "private-link-service-auto-approval": 1 });
    assert.equal(second.resolvedInRun, 2);
    assert.deepEqual(w.store.runs.get(second.runId)!.remediations, []);
  });

  test("a failed listing of one type is one finding under that listing; the other types are still audited; next run it is carried, not resolved", async () => {
    const w = world();
    const first = await auditEstate(deps(w), options());
    w.arm.failNext("listResourcesBySubscription", "forbidden", { code: "AuthorizationFailed" });
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ managedResourceTypes: [STORAGE, VAULT, APIM] }));
    const open = w.store.findingsOf(second.runId).filter((f) => f.status === "open");
    const unreadable = open.filter((f) => f.checkId === "instance-unreadable");
    assert.deepEqual(unreadable.map((f) => [f.instanceId, f.resourceType]), [[listingScopeId(PROVIDER, STORAGE), STORAGE]]);
    assert.match(unreadable[0]!.message, /Storage account resources .* could not be listed/);
    assert.ok(second.instances >= 2, "the vault and APIM were audited");
    const carried = open.find((f) => f.id === findingId("public-network-access", id(STORAGE, "stapp1"), "enabled"));
    assert.ok(carried?.notEvaluated, "the account's finding is carried (its listing failed), not resolved");
    const plsFinding = w.store.findingsOf(second.runId).find((f) => f.checkId === "private-link-service-auto-approval");
    assert.equal(plsFinding?.status, "open", "the Private Link Service, no longer a managed type, is carried as out of scope");
    assert.match(plsFinding?.notEvaluated?.reason ?? "", /not in this run's scope/);
    assert.ok(first.instances === 4);
  });

  test("an explicitly named resource of any registered type is audited without listing its subscription; an unregistered type is a finding", async () => {
    const w = world();
    const unregistered = `/subscriptions/${PROVIDER}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm1`;
    const summary = await auditEstate(deps(w), options({ managedSubscriptionIds: [], managedInstanceIds: [id(VAULT, "kv-app1"), unregistered] }));
    assert.equal(summary.instances, 2);
    assert.equal(w.arm.calls.listResourcesBySubscription, 0);
    const open = w.store.findingsOf(summary.runId).filter((f) => f.status === "open");
    assert.deepEqual(open.map((f) => f.checkId).sort(), ["dns-record-missing", "instance-unreadable"]);
    assert.match(open.find((f) => f.checkId === "instance-unreadable")!.evidence.actual, /invalid-input/);
  });
});
