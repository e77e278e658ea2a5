/**
 * SARIF 2.1.0 rendering, for code-scanning tools and SIEMs: one rule per check, one result per open or
 * suppressed finding (resolved ones are not results). A result's location is the Azure resource: a logical
 * location whose fully qualified name is the resource ID, and a physical location relative to the ARM
 * endpoint. The finding ID is the result's fingerprint, so tools track it across runs as we do.
 */
import { AUDIT_CHECKS, CHECK_IDS, type CheckId } from "../audit/checks.ts";
import type { Finding, Severity } from "../audit/findings.ts";
import { findingType, type AuditReport, type RenderedReport } from "./report.ts";

export const SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const ARM_BASE_ID = "ARM";

const LEVEL: Readonly<Record<Severity, "error" | "warning" | "note">> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};

/** GitHub code scanning reads this property (0.0-10.0) to rank security results. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0", info: "0.0" };

function ruleName(id: CheckId): string {
  return id.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/** A resource ID as a URI reference relative to the ARM endpoint, each segment percent-encoded. */
function resourceUri(resourceId: string): string {
  return resourceId.split("/").filter((s) => s.length > 0).map(encodeURIComponent).join("/");
}

function result(finding: Finding): Record<string, unknown> {
  return {
    ruleId: finding.checkId,
    ruleIndex: CHECK_IDS.indexOf(finding.checkId),
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: resourceUri(finding.resourceId), uriBaseId: ARM_BASE_ID } },
        logicalLocations: [{ fullyQualifiedName: finding.resourceId, kind: "resource" }],
      },
    ],
    partialFingerprints: { "portcullisFindingId/v1": finding.id },
    ...(finding.status === "suppressed" && finding.suppression
      ? {
          suppressions: [
            {
              kind: "external",
              status: "accepted",
              justification: `${finding.suppression.reason} (owner ${finding.suppression.owner}, until ${finding.suppression.expiresAt})`,
            },
          ],
        }
      : {}),
    properties: {
      severity: finding.severity,
      "security-severity": SECURITY_SEVERITY[finding.severity],
      status: finding.status,
      ...(finding.notEvaluated !== undefined ? { notEvaluatedInThisRun: true, notEvaluatedReason: finding.notEvaluated.reason } : {}),
      instanceId: finding.instanceId ?? null,
      resourceType: findingType(finding) || null,
      firstSeenAt: finding.firstSeenAt,
      lastSeenAt: finding.lastSeenAt,
      expected: finding.evidence.expected,
      actual: finding.evidence.actual,
      remediationPortal: finding.remediation.portal,
      remediationAzCli: finding.remediation.azCli,
    },
  };
}

export function renderSarifReport(report: AuditReport): RenderedReport {
  const { summary } = report;
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "Portcullis",
            informationUri: "https://learn.microsoft.com/azure/private-link/private-endpoint-overview",
            rules: CHECK_IDS.map((id) => ({
              id,
              name: ruleName(id),
              shortDescription: { text: AUDIT_CHECKS[id].title },
              fullDescription: { text: AUDIT_CHECKS[id].description },
              help: { text: AUDIT_CHECKS[id].description },
              properties: { tags: ["security", "azure", "private-link"] },
            })),
          },
        },
        automationDetails: { id: `portcullis-compliance/${summary.runId}` },
        originalUriBaseIds: { [ARM_BASE_ID]: { uri: "https://management.azure.com/" } },
        invocations: [{ executionSuccessful: true, startTimeUtc: summary.startedAt, endTimeUtc: summary.finishedAt }],
        results: report.findings.filter((f) => f.status !== "resolved").map(result),
        properties: { complianceScore: summary.score, mode: summary.mode, trigger: summary.trigger },
      },
    ],
  };
  return { contentType: "application/sarif+json; charset=utf-8", fileExtension: "sarif", body: `${JSON.stringify(log, null, 2)}\n` };
}
