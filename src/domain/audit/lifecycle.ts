/**
 * The life of a finding across runs, computed purely: previous findings + this run's observations +
 * suppressions + now -> this run's findings and the transitions to announce.
 *
 * ```
 *                 seen, no active suppression                seen, suppression active
 *   (new) ─────────────────────────────────▶ open ◀──────────────────────────────▶ suppressed
 *                                              │   suppression expires (reopens)        │
 *                                not seen      │                                         │ not seen
 *                              (and checked)   ▼                                         ▼
 *                                          resolved ◀────────────────────────────────────┘
 *   A resolved finding is shown in the run that resolved it and dropped after; if the problem comes back it
 *   is a new occurrence (same ID, new first-seen). A finding whose check could not reach a verdict this run
 *   (coverage.ts: a zone not examined, an instance out of scope or unreadable) is carried with its status and
 *   last-seen time, marked `notEvaluated` with the reason: absence of evidence is not a fix.
 * ```
 */
import { whyNotEvaluated, type EvaluationCoverage } from "./coverage.ts";
import { compareFindings, type Finding, type Observation, type Suppression } from "./findings.ts";

export interface LifecycleInput {
  /** The previous run's findings in the same scope (one instance, or the estate). */
  readonly previous: readonly Finding[];
  readonly observations: readonly Observation[];
  /** What this run could evaluate in this scope; a previous finding outside it is carried, not resolved. */
  readonly coverage: EvaluationCoverage;
  /** Suppressions by finding ID. */
  readonly suppressions: ReadonlyMap<string, Suppression>;
  readonly now: Date;
}

export interface LifecycleResult {
  /** This run's findings, most severe first: open, suppressed, and those resolved by this run. */
  readonly findings: readonly Finding[];
  /** Findings that became open in this run: new, back after being resolved, or reopened by an expired suppression. */
  readonly opened: readonly Finding[];
  /** Findings resolved by this run. */
  readonly resolved: readonly Finding[];
  /** Open or suppressed findings this run could not evaluate (carried, marked notEvaluated). */
  readonly notEvaluated: readonly Finding[];
}

/** A suppression applies until its expiry instant. */
export function isSuppressionActive(suppression: Suppression | undefined, now: Date): suppression is Suppression {
  return suppression !== undefined && Date.parse(suppression.expiresAt) > now.getTime();
}

function withStatus(suppression: Suppression | undefined, now: Date): Pick<Finding, "status" | "suppression"> {
  return isSuppressionActive(suppression, now) ? { status: "suppressed", suppression } : { status: "open" };
}

function stripLifecycle(finding: Finding): Observation {
  const { status: _status, firstSeenAt: _first, lastSeenAt: _last, resolvedAt: _resolved, suppression: _suppression, notEvaluated: _notEvaluated, ...observation } =
    finding;
  return observation;
}

/** Computes this run's findings for one scope from the previous run's and this run's observations. */
export function nextFindings(input: LifecycleInput): LifecycleResult {
  const nowIso = input.now.toISOString();
  const previousById = new Map(input.previous.map((f) => [f.id, f]));
  const seen = new Set<string>();
  const findings: Finding[] = [];
  const opened: Finding[] = [];
  const resolved: Finding[] = [];
  const notEvaluated: Finding[] = [];

  for (const observation of input.observations) {
    if (seen.has(observation.id)) continue;
    seen.add(observation.id);
    const previous = previousById.get(observation.id);
    const continuing = previous !== undefined && previous.status !== "resolved";
    const finding: Finding = {
      ...observation,
      ...withStatus(input.suppressions.get(observation.id), input.now),
      firstSeenAt: continuing ? previous.firstSeenAt : nowIso,
      lastSeenAt: nowIso,
    };
    findings.push(finding);
    if (finding.status === "open" && previous?.status !== "open") opened.push(finding);
  }

  for (const previous of input.previous) {
    if (seen.has(previous.id) || previous.status === "resolved") continue;
    const reason = whyNotEvaluated(previous, input.coverage);
    if (reason !== undefined) {
      const carried: Finding = {
        ...stripLifecycle(previous),
        ...withStatus(input.suppressions.get(previous.id), input.now),
        firstSeenAt: previous.firstSeenAt,
        lastSeenAt: previous.lastSeenAt,
        notEvaluated: { reason },
      };
      findings.push(carried);
      notEvaluated.push(carried);
      if (carried.status === "open" && previous.status !== "open") opened.push(carried);
      continue;
    }
    const done: Finding = { ...stripLifecycle(previous), status: "resolved", firstSeenAt: previous.firstSeenAt, lastSeenAt: previous.lastSeenAt, resolvedAt: nowIso };
    findings.push(done);
    resolved.push(done);
  }

  return {
    findings: findings.sort(compareFindings),
    opened: opened.sort(compareFindings),
    resolved: resolved.sort(compareFindings),
    notEvaluated: notEvaluated.sort(compareFindings),
  };
}
