/**
 * Reading connections for the manual approval API: every managed instance's connections (explicit instance IDs,
 * then every instance of each managed subscription, each once), each with its latest decision-log record.
 *
 * Only managed instances are reachable: asking for anything else is `not-found`, exactly as for an instance or
 * connection that does not exist, so the API reveals nothing about resources Portcullis does not govern. A
 * dependency that cannot be reached throws (transient): a partial list could be mistaken for the whole.
 */
import type { DecisionRecord } from "../domain/decisions/decision.ts";
import { isManagedResource, managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import { PortcullisError, toPortcullisError } from "../domain/errors.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../domain/model.ts";
import { resourceIdKey } from "../domain/resource-id.ts";
import { mapConcurrently } from "./concurrency.ts";
import type { EngineDeps } from "./engine-deps.ts";
import { listManagedResourceIds } from "./managed-resources.ts";

export type ConnectionReadDeps = Pick<EngineDeps, "privateLink" | "decisionLog" | "scope" | "armConcurrency">;

export interface ManagedConnection {
  readonly connection: PrivateEndpointConnection;
  /** The newest decision-log record for the connection, if any. */
  readonly latestDecision: DecisionRecord | undefined;
}

export interface ConnectionListFilter {
  readonly status?: ConnectionStatus | undefined;
  /** One managed resource's ID (of any governed type). */
  readonly resourceId?: string | undefined;
}

/** A resource that is part of the scope but could not be read for a reason a retry will not fix (e.g. no access). */
export interface UnreadableResource {
  readonly resourceId: string;
  readonly reason: string;
}

export interface ConnectionListing {
  readonly items: readonly ManagedConnection[];
  readonly unreadable: readonly UnreadableResource[];
}

/** The error every unreachable resource gets: the same whether it is unmanaged or does not exist. */
function notFound(what: string): PortcullisError {
  return new PortcullisError("not-found", `No managed ${what} has that name.`);
}

/** Managed resource IDs, each once; a subscription that cannot be listed for a non-transient reason is reported. */
async function managedResourceIds(deps: Pick<EngineDeps, "privateLink" | "scope">, unreadable: UnreadableResource[]): Promise<string[]> {
  const ids: string[] = [];
  const listing = listManagedResourceIds(deps.scope, deps.privateLink, (subscriptionId, resourceType, error) => {
    const failure = toPortcullisError(error);
    if (failure.kind === "transient") throw failure;
    unreadable.push({ resourceId: `/subscriptions/${subscriptionId}/providers/${resourceType}`, reason: failure.kind });
  });
  for await (const id of listing) ids.push(id);
  return ids;
}

/**
 * The newest record of each connection of an instance, from the log's per-connection index: one read bounded by
 * the instance's connections, however long its history.
 */
async function latestDecisionsOf(deps: ConnectionReadDeps, resourceId: string): Promise<Map<string, DecisionRecord>> {
  const byConnection = await deps.decisionLog.listLatestByResource(resourceId);
  return new Map([...byConnection].map(([key, decisions]) => [key, decisions.latest]));
}

/** Every connection of the managed instances that passes the filter (no decisions read). */
export async function listConnectionsInScope(
  filter: ConnectionListFilter,
  deps: Pick<EngineDeps, "privateLink" | "scope">,
): Promise<{ readonly connections: readonly PrivateEndpointConnection[]; readonly unreadable: readonly UnreadableResource[] }> {
  const unreadable: UnreadableResource[] = [];
  let resourceIds: string[];
  if (filter.resourceId !== undefined) {
    if (!isManagedResource(deps.scope, filter.resourceId)) throw notFound("resource");
    resourceIds = [filter.resourceId];
  } else {
    resourceIds = await managedResourceIds(deps, unreadable);
  }
  const connections: PrivateEndpointConnection[] = [];
  for (const resourceId of resourceIds) {
    try {
      for await (const connection of deps.privateLink.listConnections(resourceId)) {
        if (filter.status === undefined || connection.status === filter.status) connections.push(connection);
      }
    } catch (error) {
      const failure = toPortcullisError(error);
      if (failure.kind === "transient") throw failure;
      if (failure.kind === "not-found" && filter.resourceId !== undefined) throw notFound("resource");
      if (failure.kind !== "not-found") unreadable.push({ resourceId: resourceId, reason: failure.kind });
    }
  }
  return { connections, unreadable };
}

/** Every connection of the managed instances that passes the filter, each with its latest decision. */
export async function listManagedConnections(filter: ConnectionListFilter, deps: ConnectionReadDeps): Promise<ConnectionListing> {
  const { connections, unreadable } = await listConnectionsInScope(filter, deps);
  const instances = [...new Map(connections.map((c) => [resourceIdKey(c.resourceId), c.resourceId])).values()];
  const decisions = await mapConcurrently(instances, deps.armConcurrency, (resourceId) => latestDecisionsOf(deps, resourceId));
  const latest = new Map(decisions.flatMap((perInstance) => [...perInstance]));
  return { items: connections.map((connection) => ({ connection, latestDecision: latest.get(resourceIdKey(connection.id)) })), unreadable };
}

/** One connection of a managed instance with its whole decision history (oldest first); not-found otherwise. */
export async function getManagedConnection(
  connectionId: string,
  deps: ConnectionReadDeps,
): Promise<{ readonly connection: PrivateEndpointConnection; readonly decisions: readonly DecisionRecord[] }> {
  if (managedResourceOfConnection(deps.scope, connectionId) === undefined) throw notFound("connection");
  const connection = await deps.privateLink.getConnection(connectionId);
  if (connection === undefined) throw notFound("connection");
  const decisions: DecisionRecord[] = [];
  for await (const record of deps.decisionLog.listByConnection(connection.id)) decisions.push(record);
  return { connection, decisions };
}
