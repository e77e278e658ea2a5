/**
 * The sweep (timer `reconcilePending`): the source of truth behind the event fast path. Finds the managed resources'
 * connections and runs decideConnection on each, from one of two inventories:
 *
 * - ARM listing (default): every listed resource, then each governed type's resources in each managed subscription,
 *   each resource's connections listed. Pending ones without a completed decision are decided; settled ones not yet in
 *   the log are recorded as out-of-band.
 * - Resource Graph (`deps.inventory`, PORTCULLIS_INVENTORY=resource-graph): the listed resources' connections still
 *   from ARM (named one by one, they are few), and the managed subscriptions' Pending connections from one paged query
 *   across all of them. Resource Graph lags ARM, so its rows are candidates only: each is re-read from ARM by
 *   decideConnection (claim -> re-read -> plan -> apply), and one that is gone or no longer Pending gets no write. A
 *   connection that is Pending in ARM but not yet in Resource Graph is found by a later run (or by its event). Settled
 *   connections are not offered, so an out-of-band decision that no event reported is not recorded by this sweep (the
 *   audit still sees it).
 *
 * At most PORTCULLIS_ARM_CONCURRENCY connections are in flight, and listings are walked page by page as workers
 * free up, so a large estate is neither held in memory nor sent to ARM at once; the SDK's retry policy honours
 * Retry-After on 429. One instance's or one connection's failure never stops the rest: it is reported. A connection
 * that failed transiently (ARM throttling that outlasted the SDK's retries, a storage blip) is tried once more after
 * the others, re-read from ARM; what still fails is reported and left to the next run.
 */
import type { RuleSetProblem } from "../domain/rules/rule-set.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpointConnection } from "../domain/model.ts";
import { forEachConcurrently } from "./concurrency.ts";
import { decideConnection, type ConnectionDecision, type ConnectionOutcome } from "./decide-connection.ts";
import type { EngineDeps } from "./engine-deps.ts";
import type { InventoryPort, UnreadableRow } from "../ports/inventory.ts";
import { listManagedResourceIds } from "./managed-resources.ts";
import { managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import { resourceIdKey } from "../domain/resource-id.ts";

export interface SweepFailure {
  /** The resource, subscription and type (`/subscriptions/{id}/providers/{type}`) or connection that failed. */
  readonly resourceId: string;
  readonly error: string;
}

/** Where a failed Resource Graph query is reported (the path Resource Graph answers at). */
export const RESOURCE_GRAPH_SCOPE_ID = "/providers/Microsoft.ResourceGraph/resources";

export interface ReconcileSummary {
  readonly correlationId: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Which inventory found the connections: every connection listed from ARM, or Pending candidates from Resource Graph. */
  readonly inventory: "arm-listing" | "resource-graph";
  /**
   * Managed resources whose connections were looked at (of every governed type; the name predates other types): with
   * Resource Graph, the listed resources and those with a Pending candidate.
   */
  readonly instances: number;
  /** Connections offered to the engine (listed, or Pending candidates). */
  readonly connections: number;
  readonly outcomes: Readonly<Partial<Record<ConnectionOutcome, number>>>;
  /** Connections this run changed or recorded something for (records appended, or ARM refused). */
  readonly decided: readonly ConnectionDecision[];
  /** Connections still Pending for a human after this run. */
  readonly awaitingManual: readonly string[];
  /**
   * Those of them an enforcing rule holds because a fact is unknown to the sweep (the requester's tenant, or the
   * request message of an endpoint it cannot read): the consumer-side event, which knows the tenant, decides them.
   */
  readonly heldForUnknownFacts: readonly { readonly connectionId: string; readonly ruleId: string; readonly missingFacts: readonly string[] }[];
  /** Set when the rule set is unusable: nothing was decided automatically (fail closed). */
  readonly ruleSetProblems: readonly RuleSetProblem[] | undefined;
  readonly instanceFailures: readonly SweepFailure[];
  readonly connectionFailures: readonly SweepFailure[];
}

/** A connection to decide, with the connection as just listed from ARM (undefined: decideConnection reads it). */
interface SweepItem {
  readonly connectionId: string;
  readonly listed: PrivateEndpointConnection | undefined;
}

/** Runs one sweep over every managed resource. */
export async function reconcilePending(correlationId: string, deps: EngineDeps): Promise<ReconcileSummary> {
  const startedAt = deps.clock.now();
  const instanceFailures: SweepFailure[] = [];
  const connectionFailures: SweepFailure[] = [];
  const decided: ConnectionDecision[] = [];
  const awaitingManual: string[] = [];
  const heldForUnknownFacts: { connectionId: string; ruleId: string; missingFacts: readonly string[] }[] = [];
  const outcomes: Partial<Record<ConnectionOutcome, number>> = {};
  let ruleSetProblems: readonly RuleSetProblem[] | undefined;
  let instances = 0;
  let connections = 0;

  const managedResources = (): AsyncGenerator<string> =>
    listManagedResourceIds(deps.scope, deps.privateLink, (subscriptionId, resourceType, error) => {
      instanceFailures.push({ resourceId: `/subscriptions/${subscriptionId}/providers/${resourceType}`, error: toPortcullisError(error).message });
    });

  /** One resource's connections from ARM; a failure is reported and ends only this resource. */
  async function* listedConnections(resourceId: string): AsyncGenerator<SweepItem> {
    instances += 1;
    try {
      for await (const connection of deps.privateLink.listConnections(resourceId)) yield { connectionId: connection.id, listed: connection };
    } catch (error) {
      instanceFailures.push({ resourceId, error: toPortcullisError(error).message });
    }
  }

  async function* armListing(): AsyncGenerator<SweepItem> {
    for await (const resourceId of managedResources()) yield* listedConnections(resourceId);
  }

  async function* resourceGraph(inventory: InventoryPort): AsyncGenerator<SweepItem> {
    const fromArm = new Set<string>();
    for (const resourceId of deps.scope.resourceIds) {
      for await (const item of listedConnections(resourceId)) {
        fromArm.add(resourceIdKey(item.connectionId));
        yield item;
      }
    }
    if (deps.scope.subscriptionIds.length === 0) return;
    const resources = new Set(deps.scope.resourceIds.map(resourceIdKey));
    try {
      const unreadable = (row: UnreadableRow) => instanceFailures.push({ resourceId: row.resourceId ?? RESOURCE_GRAPH_SCOPE_ID, error: row.error.message });
      for await (const candidate of inventory.pendingConnections({ subscriptions: deps.scope.subscriptionIds }, deps.scope.resourceTypes, { onUnreadableRow: unreadable })) {
        const id = candidate.connection.id;
        if (fromArm.has(resourceIdKey(id))) continue;
        const resourceId = managedResourceOfConnection(deps.scope, id);
        if (resourceId !== undefined && !resources.has(resourceIdKey(resourceId))) {
          resources.add(resourceIdKey(resourceId));
          instances += 1;
        }
        // Not the candidate itself: Resource Graph may lag ARM, so decideConnection reads the connection afresh.
        yield { connectionId: id, listed: undefined };
      }
    } catch (error) {
      instanceFailures.push({ resourceId: RESOURCE_GRAPH_SCOPE_ID, error: toPortcullisError(error).message });
    }
  }

  const retryLater: string[] = [];
  /** Decides one connection; a failure is kept for the retry pass (`retry`) or reported. */
  const decideOne = async (connectionId: string, listed: PrivateEndpointConnection | undefined, retry: boolean) => {
    try {
      const decision = await decideConnection({ connectionId, connection: listed, context: { triggeringEventIds: [], correlationId } }, deps);
      outcomes[decision.outcome] = (outcomes[decision.outcome] ?? 0) + 1;
      if (decision.records.length > 0 || decision.outcome === "failed") decided.push(decision);
      if (decision.outcome === "awaiting-manual") awaitingManual.push(connectionId);
      const by = decision.evaluation?.decidedBy;
      if (by?.kind === "fail-closed") ruleSetProblems = by.problems;
      if (decision.outcome === "awaiting-manual" && by?.kind === "unknown-fact") heldForUnknownFacts.push({ connectionId, ruleId: by.ruleId, missingFacts: by.missingFacts });
    } catch (error) {
      const failure = toPortcullisError(error);
      if (retry && failure.kind === "transient") retryLater.push(connectionId);
      else connectionFailures.push({ resourceId: connectionId, error: failure.message });
    }
  };

  const items = deps.inventory?.source === "resource-graph" ? resourceGraph(deps.inventory) : armListing();
  await forEachConcurrently(items, deps.armConcurrency, async (item) => {
    connections += 1;
    await decideOne(item.connectionId, item.listed, true);
  });
  await forEachConcurrently(retryLater, deps.armConcurrency, (connectionId) => decideOne(connectionId, undefined, false));

  return {
    correlationId,
    startedAt,
    finishedAt: deps.clock.now(),
    inventory: deps.inventory?.source === "resource-graph" ? "resource-graph" : "arm-listing",
    instances,
    connections,
    outcomes,
    decided,
    awaitingManual,
    heldForUnknownFacts,
    ruleSetProblems,
    instanceFailures,
    connectionFailures,
  };
}
