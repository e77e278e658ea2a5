import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createFakeArm, type FakeArm } from "../fakes/arm.ts";
import { auditEstate, type AuditEstateDependencies, type AuditEstateOptions } from "../../src/workflows/audit-estate.ts";
import { findingId } from "../../src/domain/audit/findings.ts";
import { OWNER_METADATA_KEY } from "../../src/domain/audit/plan.ts";
import { ESTATE_SCOPE } from "../../src/ports/audit-store.ts";
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
const apim = (name: string) => `/subscriptions/${PROVIDER}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/${name}`;
const ZONE = `/subscriptions/${PROVIDER}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;
const VNET = `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet-app`;
const pe = (name: string) => `/subscriptions/${CONSUMER}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/${name}`;

interface World {
  readonly arm: FakeArm;
  readonly store: MemoryAuditStore;
  readonly ownership: ReturnType<typeof createMemoryDnsOwnershipStore>;
  readonly log: ReturnType<typeof createMemoryDecisionLog>;
  readonly rules: ReturnType<typeof createStaticRuleStore>;
  readonly notifications: ReturnType<typeof createNotificationRecorder>;
  readonly clock: { now(): Date; set(iso: string): void };
}

/** One instance with one approved connection (IP 10.0.1.4 in vnet-app) approved by a rule; a linked hub zone. */
function world(): World {
  const arm = createFakeArm();
  arm.addService({ id: apim("contoso-apim"), name: "contoso-apim", skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Disabled" });
  arm.addZone({ id: ZONE, name: "privatelink.azure-api.net" });
  arm.addVirtualNetworkLink(ZONE, { name: "link-app", virtualNetworkId: VNET });
  const log = createMemoryDecisionLog();
  approve(arm, log, "contoso-apim", "pe-app", "10.0.1.4");
  let now = new Date("2025-06-01T06:00:00.000Z");
  return {
    arm,
    store: createMemoryAuditStore(),
    ownership: createMemoryDnsOwnershipStore(),
    log,
    rules: createStaticRuleStore(),
    notifications: createNotificationRecorder(),
    clock: { now: () => now, set: (iso) => (now = new Date(iso)) },
  };
}

function approve(arm: FakeArm, log: World["log"], service: string, endpoint: string, ip: string): string {
  const { connection, privateEndpoint } = arm.requestConnection({ resourceId: apim(service), privateEndpointId: pe(endpoint), privateIpAddress: ip, manual: false });
  arm.addPrivateEndpoint({ ...privateEndpoint, subnetId: `${VNET}/subnets/snet-pe` });
  log.records.push(approvalRecord(connection.id, apim(service), new Date("2025-05-01T00:00:00.000Z")));
  return connection.id;
}

function deps(w: World): AuditEstateDependencies {
  return { arm: w.arm.ports, auditStore: w.store, decisionLog: w.log, dnsOwnership: w.ownership, ruleStore: w.rules, notifications: w.notifications, clock: w.clock };
}

function options(overrides: Partial<AuditEstateOptions> = {}): AuditEstateOptions {
  return {
    managedInstanceIds: [apim("contoso-apim")],
    managedSubscriptionIds: [],
    managedResourceTypes: ["Microsoft.ApiManagement/service"],
    dnsZoneIds: [ZONE],
    policy: { publicAccessExemptIds: [], publicAccessDisabledRequired: "when-approved", pendingMaxAgeHours: 24, rejectedMaxAgeDays: 30, capacityWarning: 80 },
    remediations: [],
    mode: "dry-run",
    concurrency: 4,
    readBudget: null,
    trigger: "timer",
    ...overrides,
  };
}

const recordFinding = (name: string) => findingId("dns-record-missing", `${ZONE}/A/${name}`);

describe("auditEstate", () => {
  test("reports a missing record, stores the run and announces it; a later fix resolves the finding", async () => {
    const w = world();
    const first = await auditEstate(deps(w), options());
    assert.equal(first.instances, 1);
    assert.equal(first.connections.approved, 1);
    assert.deepEqual(first.openByCheck, { "dns-record-missing": 1 });
    assert.equal(first.score, 75);
    assert.equal(await w.store.getLatestRunId(), first.runId);
    const stored = w.store.findingsOf(first.runId);
    assert.deepEqual(stored.map((f) => f.id), [recordFinding("contoso-apim")]);
    assert.deepEqual(w.notifications.sent.map((n) => n.type), ["Portcullis.Compliance.FindingOpened", "Portcullis.Compliance.ReportReady"]);

    w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.4"]);
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options());
    assert.equal(second.findings.open, 0);
    assert.equal(second.resolvedInRun, 1);
    assert.equal(second.score, 100);
    assert.equal(w.store.findingsOf(second.runId)[0]!.status, "resolved");
    assert.equal(w.notifications.sent.at(-2)!.type, "Portcullis.Compliance.FindingResolved");
  });

  test("reads each zone once per run however many instances use it, and each instance once", async () => {
    const w = world();
    for (const name of ["b-apim", "c-apim"]) {
      w.arm.addService({ id: apim(name), name, skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Disabled" });
      approve(w.arm, w.log, name, `pe-${name}`, "10.0.1.9");
    }
    const summary = await auditEstate(deps(w), options({ managedInstanceIds: [apim("contoso-apim"), apim("contoso-apim").toUpperCase()], managedSubscriptionIds: [PROVIDER] }));
    assert.equal(summary.instances, 3);
    assert.equal(w.arm.calls.listARecords, 1);
    assert.equal(w.arm.calls.listVirtualNetworkLinks, 1);
    assert.equal(w.arm.calls.getService, 1, "instances from the subscription listing are not fetched again");
  });

  test("an instance whose read fails is a finding and the run carries on; its earlier findings stay open", async () => {
    const w = world();
    w.arm.addService({ id: apim("broken-apim"), name: "broken-apim", skuName: "Premium", platformVersion: "stv1", virtualNetworkType: "None" });
    const managed = { managedInstanceIds: [apim("broken-apim"), apim("contoso-apim")] };
    const first = await auditEstate(deps(w), options(managed));
    assert.equal(first.openByCheck["prerequisite-platform"], 1);

    w.arm.failNext("listConnections", "transient", { times: 1, code: "ServerBusy" });
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ ...managed, concurrency: 1 }));
    assert.equal(second.instances, 2);
    assert.equal(second.unreadableInstances, 1);
    const broken = await w.store.listFindings(second.runId, apim("broken-apim"));
    assert.deepEqual(broken.map((f) => [f.checkId, f.status]).sort(), [["instance-unreadable", "open"], ["prerequisite-platform", "open"]]);
    assert.equal(second.openByCheck["dns-record-missing"], 1, "the healthy instance was still audited");
  });

  test("dry-run records what remediation would change and changes nothing", async () => {
    const w = world();
    w.arm.addService({ id: apim("contoso-apim"), name: "contoso-apim", skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Enabled" });
    const summary = await auditEstate(deps(w), options({ remediations: ["public-network-access", "dns-record"], mode: "dry-run" }));
    assert.equal(summary.remediations["dry-run"], 2);
    assert.equal(w.arm.calls.putARecord, 0);
    assert.equal(w.arm.calls.setPublicNetworkAccess, 0);
    const records = w.store.runs.get(summary.runId)!.remediations;
    assert.deepEqual(records.map((r) => [r.change.kind, r.outcome, r.actor]), [
      ["disable-public-network-access", "dry-run", "portcullis-audit"],
      ["put-a-record", "dry-run", "portcullis-audit"],
    ]);
  });

  test("enforce applies the enabled remediations; a second run over the result plans nothing (idempotency)", async () => {
    const w = world();
    w.arm.addService({ id: apim("contoso-apim"), name: "contoso-apim", skuName: "Premium", platformVersion: "stv2", virtualNetworkType: "None", publicNetworkAccess: "Enabled" });
    const first = await auditEstate(deps(w), options({ remediations: ["public-network-access", "dns-record"], mode: "enforce" }));
    assert.equal(first.remediations.applied, 2);
    assert.equal(w.arm.state.services.get(apim("contoso-apim").toLowerCase())!.publicNetworkAccess, "Disabled");
    const written = await w.arm.ports.privateDns.getARecord(ZONE, "contoso-apim");
    assert.deepEqual(written?.ipv4Addresses, ["10.0.1.4"]);
    assert.equal(written?.metadata[OWNER_METADATA_KEY], "portcullis");
    assert.deepEqual(
      (await w.ownership.listWrittenRecords(ZONE)).map((r) => [r.recordName, r.ipv4Addresses, r.etag, r.runId]),
      [["contoso-apim", ["10.0.1.4"], written?.etag, first.runId]],
      "the ownership store remembers the IPs and the ETag ARM answered the write with",
    );

    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ remediations: ["public-network-access", "dns-record"], mode: "enforce" }));
    assert.equal(Object.values(second.remediations).reduce((a, b) => a + b, 0), 0);
    assert.equal(second.findings.open, 0);
    assert.equal(second.resolvedInRun, 2);
  });

  test("a record changed by someone else between read and write is left alone (If-Match)", async () => {
    const w = world();
    const ours = w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.77"], { metadata: { [OWNER_METADATA_KEY]: "portcullis" } });
    await w.ownership.putWrittenRecord({ recordId: ours.id, zoneId: ZONE, recordName: "contoso-apim", ipv4Addresses: ["10.0.1.77"], etag: ours.etag!, writtenAt: "2025-05-01T00:00:00.000Z", runId: "r0" });
    const realPut = w.arm.ports.privateDns.putARecord.bind(w.arm.ports.privateDns);
    const ports = {
      ...w.arm.ports,
      privateDns: {
        ...w.arm.ports.privateDns,
        listARecords: w.arm.ports.privateDns.listARecords.bind(w.arm.ports.privateDns),
        listVirtualNetworkLinks: w.arm.ports.privateDns.listVirtualNetworkLinks.bind(w.arm.ports.privateDns),
        async putARecord(...args: Parameters<typeof realPut>) {
          w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.88"], { metadata: { [OWNER_METADATA_KEY]: "portcullis" } });
          return realPut(...args);
        },
      },
    };
    const summary = await auditEstate({ ...deps(w), arm: ports }, options({ remediations: ["dns-record"], mode: "enforce" }));
    assert.equal(summary.remediations["skipped-concurrent-change"], 1);
    assert.deepEqual((await w.arm.ports.privateDns.getARecord(ZONE, "contoso-apim"))?.ipv4Addresses, ["10.0.1.88"]);
  });

  test("deleting a record Portcullis wrote also forgets it in the ownership store", async () => {
    const w = world();
    w.arm.state.connections.clear();
    const ours = w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.4"]);
    await w.ownership.putWrittenRecord({ recordId: ours.id, zoneId: ZONE, recordName: "contoso-apim", ipv4Addresses: ["10.0.1.4"], etag: ours.etag!, writtenAt: "2025-05-01T00:00:00.000Z", runId: "r0" });
    const summary = await auditEstate(deps(w), options({ remediations: ["dns-record"], mode: "enforce" }));
    assert.equal(summary.remediations.applied, 1);
    assert.equal(await w.arm.ports.privateDns.getARecord(ZONE, "contoso-apim"), undefined);
    assert.deepEqual(await w.ownership.listWrittenRecords(ZONE), []);
  });

  test("a Pending connection's age counts from the first audit that saw it when the log has nothing", async () => {
    const w = world();
    w.arm.requestConnection({ resourceId: apim("contoso-apim"), privateEndpointId: pe("pe-waiting"), manual: true });
    w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.4"]);
    const first = await auditEstate(deps(w), options());
    assert.equal(first.openByCheck["pending-too-long"], undefined);
    w.clock.set("2025-06-02T07:00:00.000Z");
    const second = await auditEstate(deps(w), options());
    assert.equal(second.openByCheck["pending-too-long"], 1);
  });

  test("an Approved connection with no decision in the log is an unexplained approval", async () => {
    const w = world();
    w.log.records.length = 0;
    w.arm.addARecord(ZONE, "contoso-apim", ["10.0.1.4"]);
    const summary = await auditEstate(deps(w), options());
    assert.deepEqual(summary.openByCheck, { "unexplained-approval": 1 });
  });

  test("an unusable rule set is an estate-wide critical finding", async () => {
    const w = world();
    w.rules.snapshot = { status: "unusable", problems: [{ rowKey: "rule:r1", message: "not JSON" }], version: "v1" };
    const summary = await auditEstate(deps(w), options());
    assert.equal(summary.openBySeverity.critical, 1);
    const estate = await w.store.listFindings(summary.runId, ESTATE_SCOPE);
    assert.deepEqual(estate.map((f) => f.checkId), ["rules-unusable"]);
    assert.match(estate[0]!.evidence.actual, /rule:r1: not JSON/);
  });

  test("an instance outside a narrower run's scope keeps its findings open, marked not evaluated, run after run", async () => {
    const w = world();
    const first = await auditEstate(deps(w), options());
    assert.equal(first.findings.open, 1);
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ managedInstanceIds: [], managedSubscriptionIds: [] }));
    assert.equal(second.instances, 0);
    assert.equal(second.resolvedInRun, 0);
    assert.deepEqual(second.findings, { open: 1, suppressed: 0, resolved: 0, notEvaluated: 1 });
    const [carried] = w.store.findingsOf(second.runId);
    assert.equal(carried!.status, "open");
    assert.match(carried!.notEvaluated?.reason ?? "", /not in this run's scope/);
    w.clock.set("2025-06-03T06:00:00.000Z");
    const third = await auditEstate(deps(w), options({ managedInstanceIds: [], managedSubscriptionIds: [] }));
    assert.deepEqual(w.store.findingsOf(third.runId).map((f) => [f.status, f.firstSeenAt]), [["open", "2025-06-01T06:00:00.000Z"]], "still carried by the run after");
  });

  test("findings of an instance deleted from a managed subscription that was listed are resolved", async () => {
    const w = world();
    const first = await auditEstate(deps(w), options({ managedInstanceIds: [], managedSubscriptionIds: [PROVIDER] }));
    assert.equal(first.findings.open, 1);
    w.arm.state.services.clear();
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ managedInstanceIds: [], managedSubscriptionIds: [PROVIDER] }));
    assert.equal(second.resolvedInRun, 1);
    assert.deepEqual(w.store.findingsOf(second.runId).map((f) => [f.status, f.notEvaluated]), [["resolved", undefined]]);
  });

  test("a run without DNS zones keeps the DNS findings of the zone it did not examine open", async () => {
    const w = world();
    const first = await auditEstate(deps(w), options());
    assert.deepEqual(w.store.findingsOf(first.runId).map((f) => f.id), [recordFinding("contoso-apim")]);
    w.clock.set("2025-06-02T06:00:00.000Z");
    const second = await auditEstate(deps(w), options({ dnsZoneIds: [] }));
    assert.equal(second.resolvedInRun, 0);
    assert.deepEqual(w.store.findingsOf(second.runId).map((f) => [f.id, f.status, Boolean(f.notEvaluated)]), [[recordFinding("contoso-apim"), "open", true]]);
  });

  test("a suppressed finding does not count against the score", async () => {
    const w = world();
    await w.store.putSuppression({
      findingId: recordFinding("contoso-apim"),
      reason: "DNS moves to the hub next week",
      owner: "bob@contoso.example",
      expiresAt: "2025-07-01T00:00:00.000Z",
      createdAt: "2025-05-30T00:00:00.000Z",
    });
    const summary = await auditEstate(deps(w), options());
    assert.equal(summary.findings.suppressed, 1);
    assert.equal(summary.score, 100);
  });
});
