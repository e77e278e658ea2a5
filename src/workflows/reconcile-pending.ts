/**
 * The sweep (timer `reconcilePending`): the source of truth behind the event fast path. Lists every managed
 * resource's connections (listed resources, then each governed type's resources in each managed subscription) and runs decideConnection on each: Pending ones without a completed decision are
 * decided, settled ones not yet in the log are recorded as out-of-band.
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
import { listManagedResourceIds } from "./managed-resources.ts";

export interface SweepFailure {
  /** The resource, subscription and type (`/subscriptions/{id}/providers/{type}`) or connection that failed. */
  readonly resourceId: string;
  readonly error: string;
}

export interface ReconcileSummary {
  readonly correlationId: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Managed resources whose connections were listed (of every governed type; the name predates other types). */
  readonly instances: number;
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

  async function* managedConnections(): AsyncGenerator<PrivateEndpointConnection> {
    for await (const resourceId of managedResources()) {
      instances += 1;
      try {
        yield* deps.privateLink.listConnections(resourceId);
      } catch (error) {
        instanceFailures.push({ resourceId: resourceId, error: toPortcullisError(error).message });
      }
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

  await forEachConcurrently(managedConnections(), deps.armConcurrency, async (connection) => {
    connections += 1;
    await decideOne(connection.id, connection, true);
  });
  await forEachConcurrently(retryLater, deps.armConcurrency, (connectionId) => decideOne(connectionId, undefined, false));

  return {
    correlationId,
    startedAt,
    finishedAt: deps.clock.now(),
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
