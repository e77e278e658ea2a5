/**
 * The `complianceAudit` timer through the production wiring (createComposition over parsed settings) on the local
 * stack: ARM emulator, Azurite, and the emulator's custom topic receiving the compliance CloudEvents.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import azf from "@azure/functions";
import { startArmEmulator } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables } from "../../dev/azurite.ts";
import { createComposition } from "../../src/composition.ts";
import { parseSettings } from "../../src/config.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import { complianceAudit, runComplianceAudit } from "../../src/functions/compliance-audit.ts";
import { loadAuditReport } from "../../src/workflows/audit-report.ts";
import { HUB_ZONE_ID, PROVIDER_SUB, topologyPath } from "./audit-harness.ts";

test("the complianceAudit timer audits the managed estate, stores the run and publishes compliance CloudEvents", async () => {
  // The table holds each trigger wrapped with telemetry (src/functions/telemetry.ts): the same name, kind and schedule.
  assert.ok(functionDefinitions.some((d) => d.name === complianceAudit.name && d.kind === "timer" && d.schedule === complianceAudit.schedule));
  assert.equal(complianceAudit.schedule, "%PORTCULLIS_AUDIT_SCHEDULE%");

  const emulator = await startArmEmulator({ topology: topologyPath("audit-remediation"), lroDelayMs: 5 });
  const storage = await startAzuriteTables();
  const dir = mkdtempSync(join(tmpdir(), "portcullis-audit-"));
  try {
    writeFileSync(join(dir, "ca.pem"), emulator.caPem);
    const settings = parseSettings({
      PORTCULLIS_MODE: "enforce",
      PORTCULLIS_MANAGED_SUBSCRIPTIONS: PROVIDER_SUB,
      PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString,
      PORTCULLIS_ARM_ENDPOINT: emulator.url,
      PORTCULLIS_ARM_CREDENTIAL: "local-emulator",
      PORTCULLIS_ARM_CA_FILE: join(dir, "ca.pem"),
      PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: `${emulator.url}/_eventgrid/topics/compliance/api/events`,
      PORTCULLIS_AUTH_ISSUER: "https://login.example/tenant/v2.0",
      PORTCULLIS_AUTH_AUDIENCE: "api://portcullis-test",
      PORTCULLIS_DNS_ZONE_IDS: HUB_ZONE_ID,
      PORTCULLIS_REMEDIATE: "dns-record",
    });
    const composition = createComposition(settings, { armPollIntervalInMs: 10 });
    const logs: string[] = [];
    const context = new azf.InvocationContext({ invocationId: "audit-1", functionName: "complianceAudit", logHandler: (_level, ...args) => logs.push(args.join(" ")) });

    const summary = await runComplianceAudit(context, composition.auditDeps, settings);
    assert.equal(summary.trigger, "timer");
    assert.equal(summary.mode, "enforce");
    assert.equal(summary.remediations.applied, 1, "only the enabled remediation (dns-record) is applied");
    assert.deepEqual(summary.openByCheck, { "dns-record-missing": 1, "public-network-access": 1, "unexplained-approval": 1 });
    assert.match(logs.join("\n"), new RegExp(`Audit ${summary.runId}: score ${summary.score}; 1 instance\\(s\\)`));

    const report = await loadAuditReport({ auditStore: composition.auditStore(), decisionLog: composition.decisionLog() }, "latest");
    assert.equal(report?.summary.runId, summary.runId);

    const events = emulator.topics.received("compliance") as { type: string; source: string; subject: string; data: { runId: string } }[];
    assert.deepEqual(events.map((e) => e.type).sort(), [
      "Portcullis.Compliance.FindingOpened",
      "Portcullis.Compliance.FindingOpened",
      "Portcullis.Compliance.FindingOpened",
      "Portcullis.Compliance.ReportReady",
    ]);
    assert.ok(events.every((e) => e.source === "/portcullis/compliance-audit" && e.data.runId === summary.runId));
    assert.equal(events.find((e) => e.type === "Portcullis.Compliance.ReportReady")?.subject, `/audits/${summary.runId}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([emulator.close(), storage.close()]);
  }
});
