/**
 * A compliance report: everything one stored run says, in the shape every renderer reads. Rendering is
 * pure (no clock, no I/O), so the same run always renders the same bytes.
 */
import { resourceTypeOfFinding, type Finding } from "../audit/findings.ts";
import { governedTypeOf } from "../audit/snapshot.ts";
import { providerOf } from "../providers/registry.ts";
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

/** Findings reported under instances this run did not audit: gone since the previous run (resolved), or outside its scope (carried). */
export function findingsOfOtherInstances(report: AuditReport): Finding[] {
  const known = new Set(report.instances.map((i) => i.instanceId.toLowerCase()));
  return report.findings.filter((f) => f.instanceId !== undefined && !known.has(f.instanceId.toLowerCase()));
}

/** The name of a resource ID's last segment, for compact tables (the full ID is shown alongside). */
export function shortName(resourceId: string): string {
  return resourceId.split("/").filter((s) => s.length > 0).at(-1) ?? resourceId;
}

/**
 * An ISO 8601 instant as people read it, always in UTC and saying so: "2025-06-01 06:00 UTC" (with seconds when
 * asked). Reports are rendered without a clock or a locale, so the same run renders the same bytes anywhere.
 * Text that is not a timestamp is returned as it is.
 */
export function formatTime(iso: string, options: { readonly seconds?: boolean } = {}): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const t = new Date(ms).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, options.seconds ? 19 : 16)} UTC`;
}

/** How a finding's status reads in a report: "open", or "open (not evaluated in this run)". */
export function statusText(finding: Finding): string {
  return finding.notEvaluated !== undefined ? `${finding.status} (not evaluated in this run)` : finding.status;
}

/** The command that suppresses a finding (its ID is what the command takes). */
export function suppressCommand(findingId: string): string {
  return `portcullis audit suppress ${findingId} --reason "..." --owner "..." --expires 30d`;
}

/** The ARM type of the resource a finding is reported under ("" for estate-wide findings). */
export function findingType(finding: Finding): string {
  return resourceTypeOfFinding(finding) ?? "";
}

/** The ARM type of an instance summary (summaries stored before types were recorded derive it from the ID). */
export function instanceType(instance: InstanceSummary): string {
  return instance.resourceType ?? governedTypeOf(instance.instanceId) ?? "";
}

/** A type as people read it: the registry's display name ("Storage account"), else the ARM type itself; "estate" for none. */
export function typeLabel(resourceType: string): string {
  if (resourceType === "") return "estate";
  return providerOf(resourceType)?.displayName ?? resourceType;
}

/** How many instances of each type the run audited, in first-seen order. */
export function instancesByType(instances: readonly InstanceSummary[]): { resourceType: string; count: number }[] {
  const counts = new Map<string, { resourceType: string; count: number }>();
  for (const i of instances) {
    const type = instanceType(i);
    const entry = counts.get(type.toLowerCase()) ?? { resourceType: type, count: 0 };
    entry.count += 1;
    counts.set(type.toLowerCase(), entry);
  }
  return [...counts.values()];
}

/** The instance's facts as one line: APIM's tier, platform and VNet mode; any type's SKU and public access. */
export function instanceFacts(instance: InstanceSummary): { label: string; value: string | undefined }[] {
  const apim = instance.platformVersion !== undefined || instance.virtualNetworkType !== undefined;
  return [
    { label: apim ? "tier" : "SKU", value: instance.skuName },
    ...(apim ? [{ label: "platform", value: instance.platformVersion }, { label: "VNet", value: instance.virtualNetworkType }] : []),
    { label: "public access", value: instance.publicNetworkAccess },
  ];
}
