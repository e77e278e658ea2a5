/**
 * A connection's history as the audit needs it, from its latest decisions (kept by the decision log, so the audit
 * never walks the whole history) and the audit's own sighting. An approval counts as Portcullis' only when the
 * latest status change in the log is an approval that Portcullis applied (a rule or a human through the API);
 * an out-of-band record only notes someone else's.
 */
import { OUT_OF_BAND_ACTOR } from "../decisions/decision.ts";
import type { LatestDecisions } from "../decisions/latest-decisions.ts";
import type { ConnectionSighting } from "./sightings.ts";
import type { ConnectionHistory } from "./snapshot.ts";

/** Summarizes one connection's latest decisions (undefined: no record) and its sighting into the facts the checks compare. */
export function connectionHistory(decisions: LatestDecisions | undefined, sighting: ConnectionSighting | undefined): ConnectionHistory {
  const change = decisions?.latestStatusChange;
  const approvedByPortcullis = change?.action === "approve" && change.actor !== OUT_OF_BAND_ACTOR;
  return {
    firstRecordedAt: decisions?.firstRecordAt.toISOString(),
    approvedAt: approvedByPortcullis ? change.recordedAt.toISOString() : undefined,
    rejectedAt: decisions?.latestRejection?.recordedAt.toISOString(),
    statusSeenSince: sighting?.firstSeenAt,
  };
}
