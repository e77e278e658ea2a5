/**
 * A connection's latest decisions: the few facts readers need from its decision history (the newest record, the
 * newest status change, when it was first recorded), kept by the decision log on every append so that listing
 * an instance's connections costs one read per connection rather than a walk through the whole history.
 *
 * Merging a record in (withDecision) is order-independent and idempotent: every field is the maximum or minimum
 * over the records, by record ID (which sorts by start time). So appends in any order, a record appended twice,
 * or two stores merging concurrently all end at the same value, and an out-of-order append never moves it back.
 * Pure; no I/O.
 */
import type { DecisionRecord } from "./decision.ts";
import { resourceIdKey } from "../resource-id.ts";

/** The part of an older record kept for the status-change facts (who changed the status, and when). */
export type DecisionMark = Pick<DecisionRecord, "id" | "action" | "actor" | "recordedAt">;

/** What the decision log knows about one connection without reading its history. */
export interface LatestDecisions {
  /** The newest record (highest ID). */
  readonly latest: DecisionRecord;
  /** The newest applied approve, reject or revoke: what last changed the connection's status in Azure. */
  readonly latestStatusChange: DecisionMark | undefined;
  /** The newest applied reject or revoke. */
  readonly latestRejection: DecisionMark | undefined;
  /** The earliest start (or record) time of any record: when Portcullis first saw the connection. */
  readonly firstRecordAt: Date;
}

/** True for a record of a status change Portcullis or someone else made in Azure (not a note or a plan). */
export function isAppliedStatusChange(record: DecisionRecord): boolean {
  return record.outcome === "applied" && (record.action === "approve" || record.action === "reject" || record.action === "revoke");
}

function markOf(record: DecisionRecord): DecisionMark {
  return { id: record.id, action: record.action, actor: record.actor, recordedAt: record.recordedAt };
}

/** The newer of a mark and a candidate record (by ID), or the mark when the record is not a candidate. */
function newerMark(current: DecisionMark | undefined, record: DecisionRecord, isCandidate: boolean): DecisionMark | undefined {
  if (!isCandidate || (current !== undefined && current.id >= record.id)) return current;
  return markOf(record);
}

/** `current` with `record` merged in (record of the same connection); `current` itself when nothing changes. */
export function withDecision(current: LatestDecisions | undefined, record: DecisionRecord): LatestDecisions {
  const recordAt = Math.min(record.startedAt.getTime(), record.recordedAt.getTime());
  const isChange = isAppliedStatusChange(record);
  if (current === undefined) {
    const mark = isChange ? markOf(record) : undefined;
    return { latest: record, latestStatusChange: mark, latestRejection: record.action !== "approve" ? mark : undefined, firstRecordAt: new Date(recordAt) };
  }
  const next: LatestDecisions = {
    latest: record.id > current.latest.id ? record : current.latest,
    latestStatusChange: newerMark(current.latestStatusChange, record, isChange),
    latestRejection: newerMark(current.latestRejection, record, isChange && record.action !== "approve"),
    firstRecordAt: recordAt < current.firstRecordAt.getTime() ? new Date(recordAt) : current.firstRecordAt,
  };
  return sameLatestDecisions(current, next) ? current : next;
}

/** True when both say the same (same records, same first time): merging changed nothing, so nothing is written. */
export function sameLatestDecisions(a: LatestDecisions, b: LatestDecisions): boolean {
  return (
    a.latest.id === b.latest.id &&
    a.latestStatusChange?.id === b.latestStatusChange?.id &&
    a.latestRejection?.id === b.latestRejection?.id &&
    a.firstRecordAt.getTime() === b.firstRecordAt.getTime()
  );
}

/** True when the newest record says the connection was deleted: it is no longer listed (and its summary may go). */
export function isConnectionGone(decisions: LatestDecisions): boolean {
  return decisions.latest.action === "delete";
}

/**
 * The latest decisions of each connection among `records` (any order), keyed by resourceIdKey(connectionId);
 * connections whose newest record says they were deleted are left out.
 */
export function latestDecisionsByConnection(records: Iterable<DecisionRecord>): Map<string, LatestDecisions> {
  const byConnection = new Map<string, LatestDecisions>();
  for (const record of records) {
    const key = resourceIdKey(record.connectionId);
    byConnection.set(key, withDecision(byConnection.get(key), record));
  }
  for (const [key, decisions] of byConnection) if (isConnectionGone(decisions)) byConnection.delete(key);
  return byConnection;
}
