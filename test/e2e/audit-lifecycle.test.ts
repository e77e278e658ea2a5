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

      await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.4"], { ttl: 10 });
      stack.clock.set("2025-06-04T06:00:00.000Z");
      const run3 = await stack.audit();
      assert.deepEqual(await statusOf(run3.runId), { [PUBLIC]: ["open", "2025-06-01T06:00:00.000Z"], [MISSING]: ["resolved", "2025-06-01T06:00:00.000Z"] });
      assert.equal(run3.opened, 1, "the expired suppression reopened the finding");
      assert.equal(run3.resolvedInRun, 1);

      const report = await loadAuditReport(stack.store, "latest");
      assert.equal(report?.summary.runId, run3.runId);
      assert.deepEqual(report?.history.map((p) => p.runId), [run1.runId, run2.runId, run3.runId]);
      const older = await loadAuditReport(stack.store, run2.runId);
      assert.deepEqual(older?.history.map((p) => p.runId), [run1.runId, run2.runId]);
      assert.equal(await loadAuditReport(stack.store, "20990101T000000Z-none"), undefined);
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

      const report = await loadAuditReport(stack.store, first.runId);
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
