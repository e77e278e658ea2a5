/**
 * The decisions a report shows: what Portcullis approved, rejected, left for a human and revoked between the
 * previous run and this one, by which rule or person, with the ticket. For an approval tool that is the audit
 * evidence. Pure: the report loader (src/workflows/audit-report.ts) reads the decision log for the window and
 * passes the records in.
 */
import { DEFAULT_ACTOR, FAIL_CLOSED_ACTOR, OUT_OF_BAND_ACTOR, type DecisionRecord } from "../decisions/decision.ts";

/** At most this many decisions are listed in one report; the section says when there were more. */
export const REPORTED_DECISIONS_LIMIT = 500;

export const REPORTED_DECISION_KINDS = ["approved", "rejected", "left-for-human", "revoked"] as const;
export type ReportedDecisionKind = (typeof REPORTED_DECISION_KINDS)[number];

/** How the kinds read in a report. */
export const DECISION_KIND_LABEL: Readonly<Record<ReportedDecisionKind, string>> = {
  approved: "approved",
  rejected: "rejected",
  "left-for-human": "left for a human",
  revoked: "revoked",
};

/** One decision as a report lists it. Times are ISO 8601. */
export interface ReportedDecision {
  readonly recordId: string;
  readonly recordedAt: string;
  readonly kind: ReportedDecisionKind;
  readonly connectionId: string;
  readonly resourceId: string;
  /** Who decided, in words: "rule approve-internal v3", "Dana Smith (principal:…)", "default action", … */
  readonly decidedBy: string;
  /** The actor string as the decision log holds it (rule:ID, principal:OID, default, fail-closed, out-of-band). */
  readonly actor: string;
  readonly ticket: string | undefined;
  readonly reason: string;
  /** applied, would-apply (dry-run or an audit-mode rule) or failed. */
  readonly outcome: DecisionRecord["outcome"];
}

export interface DecisionsSection {
  /** Start of the window (inclusive): the previous run's start; undefined for the first run (everything before it). */
  readonly from: string | undefined;
  /** End of the window (exclusive): this run's start. */
  readonly to: string;
  /** Oldest first, at most REPORTED_DECISIONS_LIMIT. */
  readonly decisions: readonly ReportedDecision[];
  /** true when the window held more decisions than are listed. */
  readonly truncated: boolean;
}

function kindOf(record: DecisionRecord): ReportedDecisionKind | undefined {
  switch (record.action) {
    case "approve":
      return "approved";
    case "reject":
      return "rejected";
    case "manual":
      return "left-for-human";
    case "revoke":
      return "revoked";
    case "delete":
      return undefined;
  }
}

/** Who decided, as a reader of the report needs it. */
export function describeDecider(record: DecisionRecord): string {
  if (record.actor.startsWith("rule:")) return `rule ${record.ruleId ?? record.actor.slice("rule:".length)}${record.ruleVersion !== undefined ? ` v${record.ruleVersion}` : ""}`;
  if (record.actor === DEFAULT_ACTOR) return "default action (no rule matched)";
  if (record.actor === FAIL_CLOSED_ACTOR) return "fail-closed (state unknown)";
  if (record.actor === OUT_OF_BAND_ACTOR) return "outside Portcullis (seen, not decided by Portcullis)";
  return record.actorName !== undefined ? `${record.actorName} (${record.actor})` : record.actor;
}

/** The decisions of the window that a report lists: every approval, rejection, manual hand-off and revocation that was not skipped. */
export function reportedDecisions(records: readonly DecisionRecord[], window: { readonly from: string | undefined; readonly to: string }, truncated = false): DecisionsSection {
  const decisions = records
    .flatMap((record): ReportedDecision[] => {
      const kind = kindOf(record);
      if (kind === undefined || record.outcome === "skipped") return [];
      return [{
        recordId: record.id,
        recordedAt: record.recordedAt.toISOString(),
        kind,
        connectionId: record.connectionId,
        resourceId: record.resourceId,
        decidedBy: describeDecider(record),
        actor: record.actor,
        ticket: record.ticket,
        reason: record.reason,
        outcome: record.outcome,
      }];
    })
    .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt) || a.recordId.localeCompare(b.recordId));
  return {
    from: window.from,
    to: window.to,
    decisions: decisions.slice(0, REPORTED_DECISIONS_LIMIT),
    truncated: truncated || decisions.length > REPORTED_DECISIONS_LIMIT,
  };
}

/** Counts of the listed decisions by kind. */
export function countDecisions(section: DecisionsSection): Readonly<Record<ReportedDecisionKind, number>> {
  const counts = { approved: 0, rejected: 0, "left-for-human": 0, revoked: 0 };
  for (const d of section.decisions) counts[d.kind] += 1;
  return counts;
}
