/**
 * Findings: what the audit reports, and the stable identity that lets one problem be tracked across runs.
 *
 * A check produces Observations (this run's facts); the lifecycle (lifecycle.ts) turns them, together with
 * the previous run's Findings and the suppressions, into this run's Findings.
 */
import { createHash } from "node:crypto";
import type { HumanActor } from "../decisions/decision.ts";
import { resourceIdKey } from "../resource-id.ts";
import type { CheckId } from "./checks.ts";
import { governedTypeOf } from "./snapshot.ts";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_STATUSES = ["open", "resolved", "suppressed"] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** What the check expected against what it found, in words a reader of the report can compare. */
export interface Evidence {
  readonly expected: string;
  readonly actual: string;
  /** Extra facts (IP lists, VNet IDs, error codes) as plain JSON. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** How to fix a finding by hand: the portal step and the Azure CLI command. */
export interface Remediation {
  readonly portal: string;
  readonly azCli: string;
}

/** One problem a check saw in this run, before lifecycle (first seen, status) is applied. */
export interface Observation {
  readonly id: string;
  readonly checkId: CheckId;
  readonly severity: Severity;
  /** The governed resource (APIM instance, storage account, ...) the finding is reported under; undefined for estate-wide findings. */
  readonly instanceId?: string | undefined;
  /**
   * The ARM type of that resource, e.g. "Microsoft.Storage/storageAccounts" (registry casing); undefined for estate-wide
   * findings. Findings stored before it was recorded lack it: read it with resourceTypeOfFinding.
   */
  readonly resourceType?: string | undefined;
  readonly resourceId: string;
  readonly message: string;
  readonly evidence: Evidence;
  readonly remediation: Remediation;
}

export interface Suppression {
  readonly findingId: string;
  readonly reason: string;
  readonly owner: string;
  /** ISO 8601; the suppression stops applying at this instant and the finding reopens. */
  readonly expiresAt: string;
  readonly createdAt: string;
  /** Who set it (from the API caller's token or the CLI's sign-in); absent on rows added by hand. */
  readonly createdBy?: HumanActor | undefined;
  /** The change ticket it was set under, when one was given. */
  readonly ticket?: string | undefined;
}

/** A tracked finding as stored with a run and rendered in reports. Times are ISO 8601 strings. */
export interface Finding extends Observation {
  readonly status: FindingStatus;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  /** Set when status is resolved: the run time at which the problem was no longer seen. */
  readonly resolvedAt?: string;
  /** Set when status is suppressed. */
  readonly suppression?: Suppression;
  /**
   * Set when this run could not evaluate the finding's check for its resource (coverage.ts): the finding is
   * carried from the previous run as it was, neither confirmed nor resolved; `lastSeenAt` is when a run last saw it.
   */
  readonly notEvaluated?: { readonly reason: string };
}

/**
 * The stable finding ID: the same check, resource and discriminator give the same ID in every run, so a
 * problem keeps its identity (and its suppressions) while it lasts.
 */
export function findingId(checkId: CheckId, resourceId: string, discriminator = ""): string {
  const digest = createHash("sha256").update(`${checkId}\n${resourceIdKey(resourceId)}\n${discriminator.toLowerCase()}`).digest("hex");
  return `${checkId}-${digest.slice(0, 20)}`;
}

/** Orders severities from most to least severe (critical first), for sorting findings. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Sorts findings for display: most severe first, then by check, resource and ID (deterministic). */
export function compareFindings(a: Observation, b: Observation): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    a.checkId.localeCompare(b.checkId) ||
    a.resourceId.toLowerCase().localeCompare(b.resourceId.toLowerCase()) ||
    a.id.localeCompare(b.id)
  );
}

/** The ARM type of the resource a finding is reported under (recorded, or derived from its instance ID for older rows). */
export function resourceTypeOfFinding(finding: Pick<Observation, "resourceType" | "instanceId">): string | undefined {
  return finding.resourceType ?? governedTypeOf(finding.instanceId);
}
