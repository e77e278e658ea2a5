/**
 * The CloudEvents Portcullis publishes match the JSON schemas it documents (docs/schemas/, docs/operations.md): the
 * events the ARM emulator's custom topic received from the production wiring (real Event Grid SDK over HTTPS),
 * validated with ajv. A sweep produces every connection type; two audit runs produce the compliance types.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import azf from "@azure/functions";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { startArmEmulator } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables } from "../../dev/azurite.ts";
import { createComposition } from "../../src/composition.ts";
import { parseSettings } from "../../src/config.ts";
import { runComplianceAudit } from "../../src/functions/compliance-audit.ts";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { grantDeployedRoles, localArmSettings } from "../support/local-arm.ts";
import { HUB_ZONE_ID, PROVIDER_SUB as AUDIT_PROVIDER_SUB, topologyPath } from "./audit-harness.ts";
import { CONSUMER_SUB, engineTopology, PARTNER_SUB, putRules, quietLog, startEngineStack, TOPIC } from "./engine-stack.ts";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schema = (name: string) => JSON.parse(readFileSync(new URL(`../../docs/schemas/${name}`, import.meta.url), "utf8")) as { properties: { type: { enum: string[] } } };
/** The event types a schema documents. */
const typesOf = (name: string) => [...schema(name).properties.type.enum].sort();

function validator(name: string) {
  const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true, strictTypes: false, strictRequired: false }));
  return ajv.compile(schema(name));
}

function assertAllValid(events: readonly unknown[], name: string): void {
  const validate = validator(name);
  for (const event of events) {
    assert.ok(validate(event), `${JSON.stringify(event)}\ndoes not match ${name}: ${JSON.stringify(validate.errors, null, 2)}`);
  }
}

test("every Portcullis.Connection.* event the sweep publishes matches docs/schemas/connection-event.schema.json", async () => {
  const stack = await startEngineStack({
    topology: engineTopology(["apim-events"], [
      { name: "pe-approve", instance: "apim-events" },
      { name: "pe-reject", instance: "apim-events", subscriptionId: PARTNER_SUB, requestMessage: "sandbox" },
      { name: "pe-manual", instance: "apim-events", subscriptionId: PARTNER_SUB },
      { name: "pe-refused", instance: "apim-events" },
    ]),
    settings: { PORTCULLIS_MODE: "enforce" },
  });
  try {
    await putRules(stack.composition, [
      { id: "allow-consumer", priority: 100, action: "approve", reason: "Internal consumer", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
      { id: "reject-sandbox", priority: 50, action: "reject", reason: "Sandbox requests are refused", conditions: { "request-message": ["sandbox"] } },
    ]);
    // ARM refuses the approval of one connection outright (403): a DecisionFailed event.
    stack.emulator.faults.add({ method: "PUT", pathPattern: "/privateEndpointConnections/pe-refused", status: 403, errorCode: "AuthorizationFailed" });

    const summary = await reconcilePending("sweep-events", await stack.composition.engineDeps(quietLog));
    assert.equal(summary.connections, 4);

    const events = stack.emulator.topics.received(TOPIC) as { type: string }[];
    assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), typesOf("connection-event.schema.json"), "the sweep published every documented type");
    assertAllValid(events, "connection-event.schema.json");
  } finally {
    await stack.close();
  }
});

test("every Portcullis.Compliance.* event two audit runs publish matches docs/schemas/compliance-event.schema.json", async () => {
  const emulator = await startArmEmulator({ topology: topologyPath("audit-remediation"), lroDelayMs: 5 });
  const storage = await startAzuriteTables();
  const dir = mkdtempSync(join(tmpdir(), "portcullis-events-"));
  try {
    // The app runs under exactly the roles infra/ deploys for these settings (DNS remediation on).
    const env: Record<string, string> = {
      PORTCULLIS_MODE: "enforce",
      PORTCULLIS_MANAGED_SUBSCRIPTIONS: AUDIT_PROVIDER_SUB,
      PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString,
      PORTCULLIS_TABLE_PREFIX: "events",
      ...localArmSettings(emulator, dir),
      PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: `${emulator.url}/_eventgrid/topics/compliance/api/events`,
      PORTCULLIS_AUTH_ISSUER: "https://login.example/tenant/v2.0",
      PORTCULLIS_AUTH_AUDIENCE: "api://portcullis-test",
      PORTCULLIS_DNS_ZONE_IDS: HUB_ZONE_ID,
      PORTCULLIS_REMEDIATE: "dns-record",
    };
    grantDeployedRoles(emulator, env, topologyPath("audit-remediation"));
    const settings = parseSettings(env);
    const composition = createComposition(settings, { armPollIntervalInMs: 10 });
    const context = (id: string) => new azf.InvocationContext({ invocationId: id, functionName: "complianceAudit", logHandler: () => {} });

    // The first run opens findings and repairs the missing DNS record; the second sees it repaired.
    await runComplianceAudit(context("audit-1"), composition.auditDeps, settings);
    await runComplianceAudit(context("audit-2"), composition.auditDeps, settings);

    const events = emulator.topics.received("compliance") as { type: string }[];
    assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), typesOf("compliance-event.schema.json"), "two runs published every documented type");
    assertAllValid(events, "compliance-event.schema.json");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([emulator.close(), storage.close()]);
  }
});

test("the schemas refuse what Portcullis never sends: an unknown type, a missing decision ID, remediation text", () => {
  const connection = validator("connection-event.schema.json");
  const good = {
    specversion: "1.0",
    type: "Portcullis.Connection.Approved",
    source: "/portcullis/approval-engine",
    id: "20250601T120000000Z-abc123",
    subject: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe.1",
    time: "2025-06-01T12:00:00.000Z",
    datacontenttype: "application/json",
    data: {
      connectionId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe.1",
      resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim",
      resourceType: "Microsoft.ApiManagement/service",
      actor: "rule:allow",
      reason: "ok",
      decisionId: "20250601T120000000Z-abc123",
      correlationId: "inv-1",
    },
  };
  assert.ok(connection(good), JSON.stringify(connection.errors));
  assert.ok(!connection({ ...good, type: "Portcullis.Connection.Revoked" }));
  const { decisionId: _decisionId, ...withoutDecision } = good.data;
  assert.ok(!connection({ ...good, data: withoutDecision }));
  const { resourceType: _resourceType, ...withoutType } = good.data;
  assert.ok(!connection({ ...good, data: withoutType }), "a connection event names its resource's type");
  assert.ok(!connection({ ...good, type: "Portcullis.Connection.DecisionFailed" }), "a failure names its error");
  const compliance = validator("compliance-event.schema.json");
  const finding = {
    id: "public-network-access-0123456789abcdef0123",
    checkId: "public-network-access",
    severity: "high",
    resourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim",
    message: "m",
    evidence: { expected: "Disabled", actual: "Enabled" },
    status: "open",
    firstSeenAt: "2025-06-01T12:00:00.000Z",
    lastSeenAt: "2025-06-01T12:00:00.000Z",
  };
  const opened = { ...good, type: "Portcullis.Compliance.FindingOpened", source: "/portcullis/compliance-audit", id: "0123456789abcdef0123456789abcdef", data: { runId: "r", finding } };
  assert.ok(compliance(opened), JSON.stringify(compliance.errors));
  assert.ok(!compliance({ ...opened, data: { runId: "r", finding: { ...finding, remediation: { portal: "x", azCli: "y" } } } }));
});
