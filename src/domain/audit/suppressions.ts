/**
 * The rules a suppression must follow, and how the stored suppressions read next to the findings they silence.
 *
 * A suppression accepts a risk for a while: it names a reason, an owner who answers for the risk, and an expiry at
 * most MAX_SUPPRESSION_DAYS ahead, because a suppression without an end is how a risk gets forgotten. When it
 * expires the finding reopens at the next audit run (lifecycle.ts); setting or removing one changes no stored run,
 * since a run's findings and score are the record of what that run saw.
 */
import { CHECK_IDS } from "./checks.ts";
import { type Finding, type FindingStatus, type Severity, type Suppression } from "./findings.ts";
import { isSuppressionActive } from "./lifecycle.ts";

/** The longest a suppression may last, counted from when it is set. */
export const MAX_SUPPRESSION_DAYS = 365;

const DAY_MS = 86_400_000;

/** Finding IDs as findingId() makes them: a check ID, a hyphen and 20 lower-case hex digits. */
export const FINDING_ID_PATTERN = new RegExp(`^(?:${CHECK_IDS.join("|")})-[0-9a-f]{20}$`);

/** Why `expiresAt` is not an acceptable expiry when set at `now` (past, unparsable, too far ahead); undefined if it is. */
export function suppressionExpiryProblem(expiresAt: string, now: Date): string | undefined {
  const expiresMs = Date.parse(expiresAt);
  if (Number.isNaN(expiresMs)) return "must be an ISO 8601 timestamp";
  if (expiresMs <= now.getTime()) return `must be in the future (now is ${now.toISOString()})`;
  const latest = new Date(now.getTime() + MAX_SUPPRESSION_DAYS * DAY_MS);
  if (expiresMs > latest.getTime()) return `must be at most ${MAX_SUPPRESSION_DAYS} days ahead (no later than ${latest.toISOString()})`;
  return undefined;
}

/** What a suppression silences, as a run recorded it: enough to recognise the finding without the report. */
export interface SuppressedFindingSummary {
  readonly checkId: string;
  readonly severity: Severity;
  readonly resourceId: string;
  readonly instanceId?: string | undefined;
  readonly message: string;
  /** The finding's status in `runId`. A change of suppression shows there only from the next run. */
  readonly status: FindingStatus;
  /** Set when that run could not evaluate the finding and carried it (lifecycle.ts). */
  readonly notEvaluated?: { readonly reason: string } | undefined;
  readonly runId: string;
}

/** A stored suppression with its state at a given time and, when a run recorded it, its finding. */
export interface SuppressionEntry {
  readonly suppression: Suppression;
  /** True once the expiry has passed: the finding is (or at the next run becomes) open again. */
  readonly expired: boolean;
  readonly finding?: SuppressedFindingSummary | undefined;
}

/** The summary of a finding as recorded in run `runId`. */
export function summarizeFinding(finding: Finding, runId: string): SuppressedFindingSummary {
  return {
    checkId: finding.checkId,
    severity: finding.severity,
    resourceId: finding.resourceId,
    ...(finding.instanceId !== undefined ? { instanceId: finding.instanceId } : {}),
    message: finding.message,
    status: finding.status,
    ...(finding.notEvaluated !== undefined ? { notEvaluated: finding.notEvaluated } : {}),
    runId,
  };
}

/** Each suppression with its state at `now` and its finding where the given run recorded it; soonest expiry first. */
export function describeSuppressions(
  suppressions: readonly Suppression[],
  recorded: { readonly runId: string; readonly findings: ReadonlyMap<string, Finding> } | undefined,
  now: Date,
): SuppressionEntry[] {
  return suppressions
    .map((suppression): SuppressionEntry => {
      const finding = recorded?.findings.get(suppression.findingId);
      return {
        suppression,
        expired: !isSuppressionActive(suppression, now),
        ...(finding !== undefined && recorded !== undefined ? { finding: summarizeFinding(finding, recorded.runId) } : {}),
      };
    })
    .sort((a, b) => Date.parse(a.suppression.expiresAt) - Date.parse(b.suppression.expiresAt) || a.suppression.findingId.localeCompare(b.suppression.findingId));
}
