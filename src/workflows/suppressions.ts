/**
 * Managing finding suppressions (the HTTP API and the CLI): list them beside the findings they silence, set one
 * on a finding an audit run recorded, remove one. The next audit run applies the change (lifecycle.ts); stored
 * runs are left as they are, because a run's findings, counts and score are the record of what that run saw.
 *
 * Errors: PortcullisError `invalid-input` for an expiry outside the policy (callers check it first to name the
 * field), `transient` when storage is unreachable.
 */
import type { HumanActor } from "../domain/decisions/decision.ts";
import { PortcullisError, toPortcullisError } from "../domain/errors.ts";
import type { Finding, Suppression } from "../domain/audit/findings.ts";
import { describeSuppressions, summarizeFinding, suppressionExpiryProblem, type SuppressionEntry } from "../domain/audit/suppressions.ts";
import type { OperationOptions } from "../ports/arm.ts";
import type { AuditStore } from "../ports/audit-store.ts";
import { SCORE_HISTORY_RUNS } from "./audit-report.ts";

export interface SuppressionListing {
  /** The run whose findings the entries are described from; undefined before the first audit. */
  readonly latestRunId: string | undefined;
  readonly entries: readonly SuppressionEntry[];
}

export interface SuppressFindingRequest {
  readonly findingId: string;
  readonly reason: string;
  readonly owner: string;
  /** ISO 8601; checked against the policy (future, at most MAX_SUPPRESSION_DAYS ahead) at `now`. */
  readonly expiresAt: string;
  /** The authenticated caller, recorded as who set it. */
  readonly actor: HumanActor;
  readonly ticket?: string | undefined;
}

export type SuppressFindingResult =
  /** Stored; `created` is false when it replaced an earlier suppression of the same finding. */
  | { readonly kind: "suppressed"; readonly entry: SuppressionEntry; readonly created: boolean }
  /** No run among the latest SCORE_HISTORY_RUNS recorded a finding with this ID: nothing was stored. */
  | { readonly kind: "unknown-finding" };

/** Stored suppressions; none while the audit's tables do not exist yet (no audit has run). */
async function listStoredSuppressions(store: AuditStore, options: OperationOptions): Promise<Suppression[]> {
  try {
    return await store.listSuppressions(options);
  } catch (error) {
    if (toPortcullisError(error).kind === "not-found") return [];
    throw error;
  }
}

async function findInRun(store: AuditStore, runId: string, findingId: string, options: OperationOptions): Promise<Finding | undefined> {
  for await (const finding of store.listAllFindings(runId, options)) if (finding.id === findingId) return finding;
  return undefined;
}

/**
 * The finding with this ID as last recorded: the latest run first, then back through the runs before it (as many
 * as the report's score chart shows), so a finding resolved a while ago can still be suppressed before it recurs.
 */
export async function findRecordedFinding(store: AuditStore, findingId: string, options: OperationOptions = {}): Promise<{ finding: Finding; runId: string } | undefined> {
  const latestRunId = await store.getLatestRunId(options);
  if (latestRunId === undefined) return undefined;
  const inLatest = await findInRun(store, latestRunId, findingId, options);
  if (inLatest !== undefined) return { finding: inLatest, runId: latestRunId };
  const latest = await store.getRunSummary(latestRunId, options);
  if (latest === undefined) return undefined;
  const earlier = (await store.listScoreHistory(latest, SCORE_HISTORY_RUNS, options)).filter((p) => p.runId !== latestRunId).reverse();
  for (const { runId } of earlier) {
    const finding = await findInRun(store, runId, findingId, options);
    if (finding !== undefined) return { finding, runId };
  }
  return undefined;
}

/** Every stored suppression, with its state at `now` and its finding as the latest run recorded it. */
export async function listSuppressionEntries(store: AuditStore, now: Date, options: OperationOptions = {}): Promise<SuppressionListing> {
  const [suppressions, latestRunId] = await Promise.all([listStoredSuppressions(store, options), store.getLatestRunId(options)]);
  let recorded: { runId: string; findings: Map<string, Finding> } | undefined;
  if (latestRunId !== undefined && suppressions.length > 0) {
    const wanted = new Set(suppressions.map((s) => s.findingId));
    const findings = new Map<string, Finding>();
    for await (const finding of store.listAllFindings(latestRunId, options)) if (wanted.has(finding.id)) findings.set(finding.id, finding);
    recorded = { runId: latestRunId, findings };
  }
  return { latestRunId, entries: describeSuppressions(suppressions, recorded, now) };
}

/** Sets (or replaces) the suppression of a recorded finding, recording who set it, when, and the ticket. */
export async function suppressFinding(store: AuditStore, request: SuppressFindingRequest, now: Date, options: OperationOptions = {}): Promise<SuppressFindingResult> {
  const problem = suppressionExpiryProblem(request.expiresAt, now);
  if (problem !== undefined) throw new PortcullisError("invalid-input", `expiresAt ${problem}`);
  const recorded = await findRecordedFinding(store, request.findingId, options);
  if (recorded === undefined) return { kind: "unknown-finding" };
  const existing = await listStoredSuppressions(store, options);
  const suppression: Suppression = {
    findingId: request.findingId,
    reason: request.reason,
    owner: request.owner,
    expiresAt: new Date(request.expiresAt).toISOString(),
    createdAt: now.toISOString(),
    createdBy: request.actor,
    ...(request.ticket !== undefined ? { ticket: request.ticket } : {}),
  };
  await store.putSuppression(suppression, options);
  return {
    kind: "suppressed",
    entry: { suppression, expired: false, finding: summarizeFinding(recorded.finding, recorded.runId) },
    created: !existing.some((s) => s.findingId === request.findingId),
  };
}

/** Removes the suppression of a finding; returns what was removed, or undefined when there was none. */
export async function unsuppressFinding(store: AuditStore, findingId: string, options: OperationOptions = {}): Promise<Suppression | undefined> {
  const existing = (await listStoredSuppressions(store, options)).find((s) => s.findingId === findingId);
  if (existing === undefined) return undefined;
  await store.deleteSuppression(findingId, options);
  return existing;
}
