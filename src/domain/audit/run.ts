/**
 * An audit run as stored and reported: its summary (counts and the compliance score), one summary per
 * instance, its findings and what it remediated. The tally is built instance by instance while the run
 * streams, so no step needs the whole estate at once.
 *
 * Compliance score (0-100, higher is better): each instance starts at 100 and loses points per open finding
 * by severity (critical 50, high 25, medium 10, low 3, info 0), floored at 0; the estate score is the mean
 * over instances (100 with none) minus the penalties of estate-wide open findings, floored at 0. Suppressed
 * and resolved findings cost nothing.
 */
import type { PrivateEndpointConnection } from "../model.ts";
import { parseResourceId } from "../resource-id.ts";
import { AUDIT_CHECKS, type CheckId } from "./checks.ts";
import { SEVERITIES, type Finding, type Severity } from "./findings.ts";
import type { PlannedChange } from "./plan.ts";
import { governedTypeOf, type InstanceSnapshot } from "./snapshot.ts";

export const SEVERITY_PENALTY: Readonly<Record<Severity, number>> = { critical: 50, high: 25, medium: 10, low: 3, info: 0 };

/** How a planned change ended: applied; dry-run (not applied by mode); skipped because someone changed the
 *  resource since it was read (If-Match failed); refused by Azure; or failed. */
export type RemediationOutcome = "applied" | "dry-run" | "skipped-concurrent-change" | "refused" | "failed";

/** One remediation, recorded with the run like a decision: what, by whom, when, and how it ended. */
export interface RemediationRecord {
  readonly runId: string;
  readonly sequence: number;
  readonly recordedAt: string;
  readonly actor: string;
  readonly change: PlannedChange;
  readonly outcome: RemediationOutcome;
  readonly message?: string | undefined;
}

export interface ConnectionCounts {
  readonly total: number;
  readonly pending: number;
  readonly approved: number;
  readonly rejected: number;
}

export interface InstanceSummary {
  readonly instanceId: string;
  /** The ARM type (registry casing); absent on summaries stored before it was recorded (all APIM then). */
  readonly resourceType?: string | undefined;
  readonly name: string;
  readonly readable: boolean;
  readonly skuName?: string | undefined;
  /** APIM only. */
  readonly platformVersion?: string | undefined;
  /** APIM only. */
  readonly virtualNetworkType?: string | undefined;
  readonly publicNetworkAccess?: string | undefined;
  readonly connections: ConnectionCounts;
  readonly openFindings: number;
  readonly score: number;
}

export type AuditTrigger = "timer" | "manual";

/** Findings by status; `notEvaluated` counts the open or suppressed ones this run carried without evaluating them. */
export interface FindingCounts {
  readonly open: number;
  readonly suppressed: number;
  readonly resolved: number;
  readonly notEvaluated: number;
}

export interface AuditRunSummary {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly trigger: AuditTrigger;
  /** Who asked for a manual run (the authenticated identity), if any. */
  readonly requestedBy?: string | undefined;
  /** PORTCULLIS_MODE during the run: dry-run records remediations without applying them. */
  readonly mode: "enforce" | "dry-run";
  readonly instances: number;
  readonly unreadableInstances: number;
  readonly connections: ConnectionCounts;
  readonly findings: FindingCounts;
  readonly openBySeverity: Readonly<Record<Severity, number>>;
  readonly openByCheck: Readonly<Partial<Record<CheckId, number>>>;
  /** Findings that became open / were resolved in this run. */
  readonly opened: number;
  readonly resolvedInRun: number;
  readonly remediations: Readonly<Record<RemediationOutcome, number>>;
  readonly score: number;
}

/** One point of the score chart. */
export interface ScorePoint {
  readonly runId: string;
  readonly startedAt: string;
  readonly score: number;
}

/** A run's running totals while instances stream through it. */
export interface RunTally {
  readonly instances: number;
  readonly unreadableInstances: number;
  readonly instanceScoreTotal: number;
  readonly connections: ConnectionCounts;
  readonly findings: FindingCounts;
  readonly openBySeverity: Readonly<Record<Severity, number>>;
  readonly openByCheck: Readonly<Partial<Record<CheckId, number>>>;
  readonly estatePenalty: number;
  readonly opened: number;
  readonly resolvedInRun: number;
  readonly remediations: Readonly<Record<RemediationOutcome, number>>;
}

const NO_CONNECTIONS: ConnectionCounts = { total: 0, pending: 0, approved: 0, rejected: 0 };

export function emptyTally(): RunTally {
  return {
    instances: 0,
    unreadableInstances: 0,
    instanceScoreTotal: 0,
    connections: NO_CONNECTIONS,
    findings: { open: 0, suppressed: 0, resolved: 0, notEvaluated: 0 },
    openBySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    openByCheck: {},
    estatePenalty: 0,
    opened: 0,
    resolvedInRun: 0,
    remediations: { applied: 0, "dry-run": 0, "skipped-concurrent-change": 0, refused: 0, failed: 0 },
  };
}

/** The score of one instance from its findings (only open ones count). */
export function instanceScore(findings: readonly Finding[]): number {
  const penalty = findings.filter((f) => f.status === "open").reduce((sum, f) => sum + SEVERITY_PENALTY[f.severity], 0);
  return Math.max(0, 100 - penalty);
}

/** Counts connections by status. */
export function countConnections(connections: readonly PrivateEndpointConnection[]): ConnectionCounts {
  return {
    total: connections.length,
    pending: connections.filter((c) => c.status === "Pending").length,
    approved: connections.filter((c) => c.status === "Approved").length,
    rejected: connections.filter((c) => c.status === "Rejected").length,
  };
}

/** The per-instance line of the report. */
export function summarizeInstance(snapshot: InstanceSnapshot, findings: readonly Finding[]): InstanceSummary {
  const { service, resource } = snapshot;
  const parsed = parseResourceId(snapshot.instanceId);
  return {
    instanceId: snapshot.instanceId,
    resourceType: snapshot.provider?.resourceType ?? governedTypeOf(snapshot.instanceId),
    name: resource?.name ?? (parsed?.resourceGroup !== undefined ? parsed.segments.at(-1)?.[1] : undefined) ?? snapshot.instanceId,
    readable: snapshot.failure === undefined && resource !== undefined,
    skuName: resource?.skuName,
    platformVersion: service?.platformVersion,
    virtualNetworkType: service?.virtualNetworkType,
    publicNetworkAccess: resource?.publicNetworkAccess,
    connections: countConnections(snapshot.connections.map((c) => c.connection)),
    openFindings: findings.filter((f) => f.status === "open").length,
    score: instanceScore(findings),
  };
}

function addCounts(a: ConnectionCounts, b: ConnectionCounts): ConnectionCounts {
  return { total: a.total + b.total, pending: a.pending + b.pending, approved: a.approved + b.approved, rejected: a.rejected + b.rejected };
}

function addFindings(tally: RunTally, findings: readonly Finding[]): Pick<RunTally, "findings" | "openBySeverity" | "openByCheck"> {
  const openBySeverity = { ...tally.openBySeverity };
  const openByCheck: Partial<Record<CheckId, number>> = { ...tally.openByCheck };
  const counts = { ...tally.findings };
  for (const f of findings) {
    counts[f.status] += 1;
    if (f.notEvaluated !== undefined) counts.notEvaluated += 1;
    if (f.status !== "open") continue;
    openBySeverity[f.severity] += 1;
    openByCheck[f.checkId] = (openByCheck[f.checkId] ?? 0) + 1;
  }
  return { findings: counts, openBySeverity, openByCheck };
}

export interface ScopeOutcome {
  readonly findings: readonly Finding[];
  readonly opened: number;
  readonly resolved: number;
}

/** Adds one instance (its summary and findings) to the tally. */
export function tallyInstance(tally: RunTally, instance: InstanceSummary, outcome: ScopeOutcome): RunTally {
  return {
    ...tally,
    ...addFindings(tally, outcome.findings),
    instances: tally.instances + 1,
    unreadableInstances: tally.unreadableInstances + (instance.readable ? 0 : 1),
    instanceScoreTotal: tally.instanceScoreTotal + instance.score,
    connections: addCounts(tally.connections, instance.connections),
    opened: tally.opened + outcome.opened,
    resolvedInRun: tally.resolvedInRun + outcome.resolved,
  };
}

/** Adds findings that belong to no current instance: estate-wide ones, and those of instances that are gone. */
export function tallyOtherFindings(tally: RunTally, outcome: ScopeOutcome): RunTally {
  const estatePenalty = outcome.findings
    .filter((f) => f.status === "open" && f.instanceId === undefined)
    .reduce((sum, f) => sum + SEVERITY_PENALTY[f.severity], 0);
  return {
    ...tally,
    ...addFindings(tally, outcome.findings),
    estatePenalty: tally.estatePenalty + estatePenalty,
    opened: tally.opened + outcome.opened,
    resolvedInRun: tally.resolvedInRun + outcome.resolved,
  };
}

/** Adds remediation outcomes to the tally. */
export function tallyRemediations(tally: RunTally, records: readonly RemediationRecord[]): RunTally {
  const remediations = { ...tally.remediations };
  for (const r of records) remediations[r.outcome] += 1;
  return { ...tally, remediations };
}

/** The estate's compliance score from the tally (see the module comment), to one decimal. */
export function estateScore(tally: RunTally): number {
  const mean = tally.instances === 0 ? 100 : tally.instanceScoreTotal / tally.instances;
  return Math.round(Math.max(0, mean - tally.estatePenalty) * 10) / 10;
}

export interface RunIdentity {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly trigger: AuditTrigger;
  readonly requestedBy: string | undefined;
  readonly mode: "enforce" | "dry-run";
}

/** The stored summary of a finished run. */
export function summarizeRun(identity: RunIdentity, tally: RunTally): AuditRunSummary {
  return {
    ...identity,
    instances: tally.instances,
    unreadableInstances: tally.unreadableInstances,
    connections: tally.connections,
    findings: tally.findings,
    openBySeverity: tally.openBySeverity,
    openByCheck: Object.fromEntries(Object.keys(AUDIT_CHECKS).filter((id) => tally.openByCheck[id as CheckId]).map((id) => [id, tally.openByCheck[id as CheckId]])),
    opened: tally.opened,
    resolvedInRun: tally.resolvedInRun,
    remediations: tally.remediations,
    score: estateScore(tally),
  };
}

/** A sortable, unique run ID: the start time (UTC, compact) and a random suffix supplied by the caller. */
export function runIdFor(startedAt: Date, suffix: string): string {
  return `${startedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z")}-${suffix}`;
}
