/**
 * A report with one finding of every status and hostile text in the places other people control (names,
 * messages), so every renderer is tested against escaping, not just the happy path.
 */
import { findingId, type Finding } from "../../../src/domain/audit/findings.ts";
import type { AuditReport } from "../../../src/domain/reports/report.ts";

const SUB = "a0a0a0a0-0000-4000-8000-000000000001";
export const SAMPLE_INSTANCE_ID = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/contoso-apim`;
export const OTHER_INSTANCE_ID = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/fabrikam-apim`;
export const HOSTILE = `<script>alert("x")</script> | =HYPERLINK("http://evil.example") & 'quoted'`;

function finding(overrides: Partial<Finding> & Pick<Finding, "checkId" | "resourceId">): Finding {
  return {
    id: findingId(overrides.checkId, overrides.resourceId),
    severity: "high",
    instanceId: SAMPLE_INSTANCE_ID,
    message: "message",
    evidence: { expected: "expected", actual: "actual" },
    remediation: { portal: "Portal step", azCli: "az something --id x" },
    status: "open",
    firstSeenAt: "2025-05-30T06:00:00.000Z",
    lastSeenAt: "2025-06-01T06:00:00.000Z",
    ...overrides,
  };
}

export const SAMPLE_FINDINGS: readonly Finding[] = [
  finding({
    checkId: "rules-unusable",
    resourceId: "/portcullis/rules",
    severity: "critical",
    instanceId: undefined,
    message: "The stored rule set is unusable",
  }),
  finding({
    checkId: "public-network-access",
    resourceId: SAMPLE_INSTANCE_ID,
    message: "Instance contoso-apim has public network access Enabled",
    evidence: { expected: "Disabled", actual: "Enabled" },
  }),
  finding({
    checkId: "pending-too-long",
    resourceId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/${encodeURIComponent("pe name")}`,
    severity: "medium",
    message: `Connection ${HOSTILE} has been Pending for 30 h`,
  }),
  finding({
    checkId: "lingering-rejected",
    resourceId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/old`,
    severity: "low",
    status: "suppressed",
    suppression: { findingId: "x", reason: "decommissioning in June", owner: "alice@contoso.example", expiresAt: "2025-07-01T00:00:00.000Z", createdAt: "2025-05-01T00:00:00.000Z" },
  }),
  finding({
    checkId: "dns-record-missing",
    resourceId: `/subscriptions/${SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net/A/contoso-apim`,
    status: "resolved",
    resolvedAt: "2025-06-01T06:00:00.000Z",
  }),
  finding({
    checkId: "dns-record-wrong-ips",
    resourceId: `/subscriptions/${SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net/A/contoso-apim`,
    message: "The A record contoso-apim lacks 10.0.1.4",
    notEvaluated: { reason: "DNS zone privatelink.azure-api.net was not examined in this run" },
  }),
  finding({ checkId: "instance-unreadable", resourceId: OTHER_INSTANCE_ID, instanceId: OTHER_INSTANCE_ID, status: "resolved", resolvedAt: "2025-06-01T06:00:00.000Z" }),
];

export const SAMPLE_REPORT: AuditReport = {
  summary: {
    runId: "20250601T060000Z-abcd1234",
    startedAt: "2025-06-01T06:00:00.000Z",
    finishedAt: "2025-06-01T06:00:42.000Z",
    trigger: "manual",
    requestedBy: HOSTILE,
    mode: "dry-run",
    instances: 1,
    unreadableInstances: 0,
    connections: { total: 12, pending: 3, approved: 8, rejected: 1 },
    findings: { open: 3, suppressed: 1, resolved: 2, notEvaluated: 1 },
    openBySeverity: { critical: 1, high: 1, medium: 1, low: 0, info: 0 },
    openByCheck: { "rules-unusable": 1, "public-network-access": 1, "pending-too-long": 1 },
    opened: 1,
    resolvedInRun: 2,
    remediations: { applied: 0, "dry-run": 1, "skipped-concurrent-change": 0, refused: 0, failed: 0 },
    score: 25,
  },
  instances: [
    {
      instanceId: SAMPLE_INSTANCE_ID,
      name: "contoso-apim",
      readable: true,
      skuName: "Premium",
      platformVersion: "stv2",
      virtualNetworkType: "None",
      publicNetworkAccess: "Enabled",
      connections: { total: 12, pending: 3, approved: 8, rejected: 1 },
      openFindings: 2,
      score: 65,
    },
  ],
  findings: SAMPLE_FINDINGS,
  remediations: [
    {
      runId: "20250601T060000Z-abcd1234",
      sequence: 1,
      recordedAt: "2025-06-01T06:00:10.000Z",
      actor: "portcullis-audit",
      change: { kind: "disable-public-network-access", remediation: "public-network-access", instanceId: SAMPLE_INSTANCE_ID, findingIds: ["x"] },
      outcome: "dry-run",
      message: "PORTCULLIS_MODE is dry-run: not applied",
    },
  ],
  decisions: {
    from: "2025-05-31T06:00:00.000Z",
    to: "2025-06-01T06:00:00.000Z",
    truncated: false,
    decisions: [
      {
        recordId: "20250531T080000000Z-approve",
        recordedAt: "2025-05-31T08:00:01.000Z",
        kind: "approved",
        connectionId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/pe-app`,
        resourceId: SAMPLE_INSTANCE_ID,
        decidedBy: "rule approve-internal v3",
        actor: "rule:approve-internal",
        ticket: undefined,
        reason: "Internal application subscription",
        outcome: "applied",
      },
      {
        recordId: "20250531T090000000Z-reject",
        recordedAt: "2025-05-31T09:00:00.000Z",
        kind: "rejected",
        connectionId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/pe-partner`,
        resourceId: SAMPLE_INSTANCE_ID,
        decidedBy: `Dana ${HOSTILE} (principal:0b0b0b0b-0000-4000-8000-00000000000d)`,
        actor: "principal:0b0b0b0b-0000-4000-8000-00000000000d",
        ticket: "CHG0012345",
        reason: "Partner contract ended",
        outcome: "applied",
      },
      {
        recordId: "20250531T100000000Z-manual",
        recordedAt: "2025-05-31T10:00:00.000Z",
        kind: "left-for-human",
        connectionId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/pe-fabrikam`,
        resourceId: SAMPLE_INSTANCE_ID,
        decidedBy: "default action (no rule matched)",
        actor: "default",
        ticket: undefined,
        reason: "no rule matched",
        outcome: "applied",
      },
      {
        recordId: "20250531T110000000Z-revoke",
        recordedAt: "2025-05-31T11:00:00.000Z",
        kind: "revoked",
        connectionId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/pe-old`,
        resourceId: SAMPLE_INSTANCE_ID,
        decidedBy: "Sam (principal:0c0c0c0c-0000-4000-8000-00000000000e)",
        actor: "principal:0c0c0c0c-0000-4000-8000-00000000000e",
        ticket: "CHG0012399",
        reason: "Application decommissioned",
        outcome: "applied",
      },
    ],
  },
  history: Array.from({ length: 30 }, (_, i) => ({
    runId: `run-${i}`,
    startedAt: new Date(Date.UTC(2025, 4, 3 + i, 6)).toISOString(),
    score: Math.round(50 + 40 * Math.sin(i / 4)),
  })),
};
