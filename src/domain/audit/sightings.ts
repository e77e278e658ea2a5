/**
 * When an audit first saw each connection in its current status. The ages of Pending and Rejected
 * connections fall back on this when the decision log has nothing, so "pending for 30 h" means 30 h of
 * Portcullis watching, not a guess.
 */
import type { ConnectionStatus, PrivateEndpointConnection } from "../model.ts";
import { resourceIdKey } from "../resource-id.ts";

export interface ConnectionSighting {
  readonly connectionId: string;
  readonly status: ConnectionStatus;
  /** ISO 8601: the first audit that saw the connection in this status. */
  readonly firstSeenAt: string;
}

export interface SightingChanges {
  /** The sightings that hold after this run, by connection ID key. */
  readonly current: ReadonlyMap<string, ConnectionSighting>;
  /** New sightings (a connection seen for the first time, or in a new status). */
  readonly upserts: readonly ConnectionSighting[];
  /** Sightings of connections that no longer exist. */
  readonly deletes: readonly ConnectionSighting[];
}

/** Keeps the first-seen time while a connection's status holds, and starts it afresh when the status changes. */
export function reconcileSightings(
  previous: readonly ConnectionSighting[],
  connections: readonly PrivateEndpointConnection[],
  now: Date,
): SightingChanges {
  const previousByKey = new Map(previous.map((s) => [resourceIdKey(s.connectionId), s]));
  const current = new Map<string, ConnectionSighting>();
  const upserts: ConnectionSighting[] = [];
  for (const connection of connections) {
    const key = resourceIdKey(connection.id);
    const before = previousByKey.get(key);
    if (before && before.status === connection.status) {
      current.set(key, before);
      continue;
    }
    const sighting: ConnectionSighting = { connectionId: connection.id, status: connection.status, firstSeenAt: now.toISOString() };
    current.set(key, sighting);
    upserts.push(sighting);
  }
  const deletes = previous.filter((s) => !current.has(resourceIdKey(s.connectionId)));
  return { current, upserts, deletes };
}
