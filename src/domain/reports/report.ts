/**
 * A compliance report: everything one stored run says, in the shape every renderer reads. Rendering is
 * pure (no clock, no I/O), so the same run always renders the same bytes.
 */
import type { Finding } from "../audit/findings.ts";
import type { AuditRunSummary, InstanceSummary, RemediationRecord, ScorePoint } from "../audit/run.ts";
import type { DecisionsSection } from "./decisions.ts";

export interface AuditReport {
  readonly summary: AuditRunSummary;
  /** Instances in the run, by name. */
  readonly instances: readonly InstanceSummary[];
  /** Every finding of the run (open, suppressed, and those the run resolved), most severe first. */
  readonly findings: readonly Finding[];
  readonly remediations: readonly RemediationRecord[];
  /** Scores of up to the last 30 runs, oldest first, ending with this run. */
  readonly history: readonly ScorePoint[];
  /** The decisions made between the previous run's start and this run's start. */
  readonly decisions: DecisionsSection;
}

export const REPORT_FORMATS = ["json", "md", "csv", "sarif", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  readonly contentType: string;
  readonly fileExtension: string;
  readonly body: string;
}

/** Findings grouped by the instance they are reported under, keyed by instance ID; estate-wide ones under "". */
export function findingsByInstance(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = finding.instanceId?.toLowerCase() ?? "";
    const group = groups.get(key);
    if (group) group.push(finding);
    else groups.set(key, [finding]);
  }
  return groups;
}

/** Findings reported under instances that are not part of the run (instances gone since the previous run). */
export function findingsOfOtherInstances(report: AuditReport): Finding[] {
  const known = new Set(report.instances.map((i) => i.instanceId.toLowerCase()));
  return report.findings.filter((f) => f.instanceId !== undefined && !known.has(f.instanceId.toLowerCase()));
}

/** The name of a resource ID's last segment, for compact tables (the full ID is shown alongside). */
export function shortName(resourceId: string): string {
  return resourceId.split("/").filter((s) => s.length > 0).at(-1) ?? resourceId;
}
