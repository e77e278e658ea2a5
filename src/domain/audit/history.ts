/**
 * A connection's history as the audit needs it, from its decision-log records and the audit's own sighting.
 * An approval counts as Portcullis' only when the latest status change in the log is an approval that
 * Portcullis applied (a rule or a human through the API); an out-of-band record only notes someone else's.
 */
import { OUT_OF_BAND_ACTOR, type DecisionRecord } from "../decision.ts";
import type { ConnectionSighting } from "./sightings.ts";
import type { ConnectionHistory } from "./snapshot.ts";

function isAppliedStatusChange(record: DecisionRecord): boolean {
  return record.outcome === "applied" && (record.action === "approve" || record.action === "reject" || record.action === "revoke");
}

/** Summarizes one connection's records (any order) and its sighting into the facts the checks compare. */
export function connectionHistory(records: readonly DecisionRecord[], sighting: ConnectionSighting | undefined): ConnectionHistory {
  const ordered = [...records].sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime());
  const first = ordered[0];
  const changes = ordered.filter(isAppliedStatusChange);
  const latestChange = changes.at(-1);
  const latestRejection = changes.filter((r) => r.action !== "approve").at(-1);
  const approvedByPortcullis = latestChange?.action === "approve" && latestChange.actor !== OUT_OF_BAND_ACTOR;
  return {
    firstRecordedAt: first ? new Date(Math.min(first.startedAt.getTime(), first.recordedAt.getTime())).toISOString() : undefined,
    approvedAt: approvedByPortcullis ? latestChange.recordedAt.toISOString() : undefined,
    rejectedAt: latestRejection?.recordedAt.toISOString(),
    statusSeenSince: sighting?.firstSeenAt,
  };
}
