/**
 * Findings and remediation across runs on the local stack: the lifecycle as stored in Azurite run after run,
 * and remediation through the real SDK against the emulator, including the idempotency test.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId } from "../../src/domain/audit/findings.ts";
import { OWNER_METADATA_KEY } from "../../src/domain/audit/plan.ts";
import { loadAuditReport } from "../../src/workflows/audit-report.ts";
import { HUB_ZONE_ID, INSTANCE_ID, RECORD_ID, startAuditStack } from "./audit-harness.ts";

const PUBLIC = findingId("public-network-access", INSTANCE_ID, "enabled");
const MISSING = findingId("dns-record-missing", RECORD_ID);

describe("audit runs on the local stack", () => {
  test("lifecycle: opened, still open with first-seen kept, suppressed, resolved, reopened when the suppression expires", async () => {
    const stack = await startAuditStack("audit-remediation");
    try {
      await stack.recordApprovals();
      const statusOf = async (runId: string) =>
        Object.fromEntries((await stack.store.listFindings(runId, INSTANCE_ID)).map((f) => [f.id, [f.status, f.firstSeenAt]]));

      const run1 = await stack.audit();
      assert.deepEqual(await statusOf(run1.runId), { [PUBLIC]: ["open", "2025-06-01T06:00:00.000Z"], [MISSING]: ["open", "2025-06-01T06:00:00.000Z"] });

      await stack.store.putSuppression({ findingId: PUBLIC, reason: "cut-over planned", owner: "dana@contoso.example", expiresAt: "2025-06-03T00:00:00.000Z", createdAt: "2025-06-01T07:00:00.000Z" });
      stack.clock.set("2025-06-02T06:00:00.000Z");
      const run2 = await stack.audit();
      assert.deepEqual(await statusOf(run2.runId), { [PUBLIC]: ["suppressed", "2025-06-01T06:00:00.000Z"], [MISSING]: ["open", "2025-06-01T06:00:00.000Z"] });
      assert.equal(run2.findings.suppressed, 1);

      await stack.arm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4"], { ttl: 10 });
      stack.clock.set("2025-06-04T06:00:00.000Z");
      const run3 = await stack.audit();
      assert.deepEqual(await statusOf(run3.runId), { [PUBLIC]: ["open", "2025-06-01T06:00:00.000Z"], [MISSING]: ["resolved", "2025-06-01T06:00:00.000Z"] });
      assert.equal(run3.opened, 1, "the expired suppression reopened the finding");
      assert.equal(run3.resolvedInRun, 1);

      const report = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, "latest");
      assert.equal(report?.summary.runId, run3.runId);
      assert.deepEqual(report?.history.map((p) => p.runId), [run1.runId, run2.runId, run3.runId]);
      const older = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, run2.runId);
      assert.deepEqual(older?.history.map((p) => p.runId), [run1.runId, run2.runId]);
      assert.equal(await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, "20990101T000000Z-none"), undefined);
    } finally {
      await stack.close();
    }
  });

  test("a run without DNS zones keeps the DNS findings open, marked not evaluated; the next run with the zone evaluates them again", async () => {
    const stack = await startAuditStack("audit-clashing-endpoints", "notevaluated");
    try {
      await stack.recordApprovals();
      const dnsFindings = async (runId: string) =>
        (await stack.store.listFindings(runId, INSTANCE_ID)).filter((f) => f.checkId.startsWith("dns-")).map((f) => ({ id: f.id, status: f.status, notEvaluated: f.notEvaluated?.reason }));

      const withZones = await stack.audit();
      const before = await dnsFindings(withZones.runId);
      assert.ok(before.length >= 2, `the clashing endpoints give several DNS findings: ${JSON.stringify(before)}`);
      assert.ok(before.every((f) => f.status === "open" && f.notEvaluated === undefined));

      stack.clock.set("2025-06-02T06:00:00.000Z");
      const withoutZones = await stack.audit({ dnsZoneIds: [] });
      assert.equal(withoutZones.resolvedInRun, 0, "nothing was fixed: the zone was simply not looked at");
      assert.equal(withoutZones.findings.notEvaluated, before.length);
      const carried = await dnsFindings(withoutZones.runId);
      assert.deepEqual(carried.map((f) => [f.id, f.status]), before.map((f) => [f.id, "open"]));
      for (const f of carried) assert.match(f.notEvaluated ?? "", /privatelink\.azure-api\.net .*was not examined in this run/);
      const report = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, "latest");
      assert.equal(report?.findings.filter((f) => f.notEvaluated !== undefined).length, before.length, "the stored report carries the mark");

      stack.clock.set("2025-06-03T06:00:00.000Z");
      const again = await stack.audit();
      const after = await dnsFindings(again.runId);
      assert.deepEqual(after.map((f) => [f.id, f.status, f.notEvaluated]), before.map((f) => [f.id, "open", undefined]));
      const firstSeen = (await stack.store.listFindings(again.runId, INSTANCE_ID)).filter((f) => f.checkId.startsWith("dns-")).map((f) => f.firstSeenAt);
      assert.ok(firstSeen.every((t) => t === "2025-06-01T06:00:00.000Z"), "the same occurrences went on");
    } finally {
      await stack.close();
    }
  });

  test("remediation in enforce mode repairs through ARM and records it; a second run plans nothing", async () => {
    const stack = await startAuditStack("audit-remediation");
    try {
      await stack.recordApprovals();
      const first = await stack.audit({ mode: "enforce", remediations: ["public-network-access", "dns-record"] });
      assert.equal(first.remediations.applied, 2, JSON.stringify(first.remediations));
      const service = await stack.arm.apim.getService(INSTANCE_ID);
      assert.equal(service?.publicNetworkAccess, "Disabled");
      const record = await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit");
      assert.deepEqual(record?.ipv4Addresses, ["10.10.1.4"]);
      assert.equal(record?.metadata[OWNER_METADATA_KEY], "portcullis");
      const writes = stack.emulator.requests().filter((r) => r.method !== "GET");
      assert.deepEqual(writes.map((r) => r.method).sort(), ["PATCH", "PUT"]);

      const report = await loadAuditReport({ auditStore: stack.store, decisionLog: stack.decisionLog }, first.runId);
      assert.deepEqual(report?.remediations.map((r) => [r.change.kind, r.outcome]), [
        ["disable-public-network-access", "applied"],
        ["put-a-record", "applied"],
      ]);

      stack.emulator.clearRequests();
      stack.clock.set("2025-06-02T06:00:00.000Z");
      const second = await stack.audit({ mode: "enforce", remediations: ["public-network-access", "dns-record"] });
      assert.equal(Object.values(second.remediations).reduce((a, b) => a + b, 0), 0, "the second plan is empty");
      assert.deepEqual(stack.emulator.requests().filter((r) => r.method !== "GET"), []);
      assert.equal(second.findings.open, 0);
      assert.equal(second.score, 100);
    } finally {
      await stack.close();
    }
  });

  test("dry-run mode records what it would change and sends no write to ARM", async () => {
    const stack = await startAuditStack("audit-remediation");
    try {
      await stack.recordApprovals();
      const summary = await stack.audit({ mode: "dry-run", remediations: ["public-network-access", "dns-record"] });
      assert.equal(summary.remediations["dry-run"], 2);
      assert.deepEqual(stack.emulator.requests().filter((r) => r.method !== "GET"), []);
    } finally {
      await stack.close();
    }
  });
});
