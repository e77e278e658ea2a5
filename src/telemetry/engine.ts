/**
 * Decision telemetry for the approval engine, without the workflows knowing: `instrumentEngineDeps` wraps the
 * ports the workflows already receive (EngineDeps) and reads the apply step's own writes, which carry everything a
 * decision span needs:
 *
 *   claims.create/replace with a new lease   -> span `portcullis.decision` starts (intent: rule, actor, events, correlation)
 *   privateLink.begin/resumeSetConnectionStatus -> child span `portcullis.arm.set_connection_status`, ends with the operation
 *   decisionLog.append(record)               -> outcome on the span; metric `portcullis.decisions` +1
 *   claims.replace without our lease, or with it expired, or a lost claim write -> the decision span ends
 *
 * The decision span's parent is the span active when the claim is taken: the trigger's (event, sweep or API
 * call), so one trace runs from the trigger to the ARM write. Each hook is idempotent (keyed by connection and
 * lease owner, records by ID), so the apply step may also call the hooks itself (`decisionHooks(deps)`) next to
 * the wrapper without double counting. With telemetry off the deps are returned untouched.
 */
import { providerOf } from "../domain/providers/registry.ts";
import { resourceTypeOf } from "../domain/resource-id.ts";
import type { LongRunningOperation, PrivateLinkPort } from "../ports/arm.ts";
import type { ClaimStore } from "../ports/claim-store.ts";
import type { DecisionLog } from "../ports/decision-log.ts";
import type { Telemetry, TelemetrySpan } from "../ports/telemetry.ts";
import type { EngineDeps } from "../workflows/engine-deps.ts";
import { actorKind, ATTR, METRIC, SPAN } from "./names.ts";

type ClaimState = Parameters<ClaimStore["create"]>[0];

/** The registry's spelling of a resource's type (as the ID spells it for anything else). */
function registeredTypeOf(resourceId: string): string {
  const type = resourceTypeOf(resourceId) ?? "";
  return providerOf(type)?.resourceType ?? type;
}
type DecisionRecord = Parameters<DecisionLog["append"]>[0];
type Lease = NonNullable<ClaimState["lease"]>;

/** The hooks a decision's apply step drives; each is safe to call twice. */
export interface DecisionHooks {
  /** A claim write carrying our lease succeeded (taken, or updated while we hold it). */
  claimWritten(state: ClaimState): void;
  /**
   * A claim write failed: for a new lease (another run holds the claim) no decision happens here; for our own lease
   * (settling, ending it early) the decision is over.
   */
  claimLost(state: ClaimState, reason: string): void;
  /**
   * The ARM write for a connection starts (connection and status unknown when a serialized operation is resumed);
   * the returned span ends when the operation finishes.
   */
  armWriteStarted(connectionId: string | undefined, targetStatus: string | undefined): TelemetrySpan;
  /** A decision record was appended. */
  recorded(record: DecisionRecord): void;
}

interface OpenDecision {
  readonly owner: string;
  readonly span: TelemetrySpan;
  failed: boolean;
}

const key = (connectionId: string) => connectionId.toLowerCase();
const RECENT_RECORDS = 2_000;

/** The hooks over one telemetry port (one per engine deps: per invocation). */
export function createDecisionHooks(telemetry: Telemetry): DecisionHooks & { readonly open: ReadonlyMap<string, OpenDecision> } {
  const open = new Map<string, OpenDecision>();
  const counted = new Set<string>();

  const end = (connectionId: string, owner?: string): void => {
    const decision = open.get(key(connectionId));
    if (decision === undefined || (owner !== undefined && decision.owner !== owner)) return;
    decision.span.end();
    open.delete(key(connectionId));
  };

  const start = (state: ClaimState, lease: Lease): OpenDecision => {
    end(state.connectionId);
    const intent = lease.intent;
    const span = telemetry.startSpan(SPAN.decision, {
      [ATTR.connectionId]: state.connectionId,
      [ATTR.resourceId]: state.resourceId,
      [ATTR.resourceType]: registeredTypeOf(state.resourceId),
      [ATTR.privateEndpointId]: state.privateEndpointId,
      [ATTR.action]: intent.action,
      [ATTR.mode]: intent.mode,
      [ATTR.actor]: intent.actor,
      [ATTR.actorKind]: actorKind(intent.actor),
      [ATTR.ruleId]: intent.ruleId,
      [ATTR.ruleVersion]: intent.ruleVersion,
      [ATTR.eventIds]: intent.triggeringEventIds,
      [ATTR.correlationId]: intent.correlationId,
      [ATTR.statusBefore]: intent.statusBefore,
    });
    const decision = { owner: lease.owner, span, failed: false };
    open.set(key(state.connectionId), decision);
    return decision;
  };

  return {
    open,
    claimWritten(state) {
      const lease = state.lease;
      const current = open.get(key(state.connectionId));
      if (lease === undefined || lease.expiresAt.getTime() <= state.updatedAt.getTime()) {
        // Settled (lease dropped) or ended early (lease expired now): the decision is over.
        if (current !== undefined && (lease === undefined || lease.owner === current.owner)) end(state.connectionId);
        return;
      }
      if (current?.owner !== lease.owner) start(state, lease);
    },
    claimLost(state, reason) {
      const lease = state.lease;
      const current = open.get(key(state.connectionId));
      if (lease === undefined || current?.owner === lease.owner) {
        // Settling or ending our own lease failed (taken over, storage down): the decision is over either way.
        if (current !== undefined && (lease === undefined || current.owner === lease.owner)) end(state.connectionId);
        return;
      }
      const decision = start(state, lease);
      decision.span.setAttributes({ [ATTR.claimLost]: reason });
      end(state.connectionId);
    },
    armWriteStarted(connectionId, targetStatus) {
      const parent = connectionId === undefined ? undefined : open.get(key(connectionId))?.span;
      return telemetry.startSpan(
        SPAN.armWrite,
        { [ATTR.connectionId]: connectionId, [ATTR.targetStatus]: targetStatus },
        { kind: "client", ...(parent !== undefined ? { parent } : {}) },
      );
    },
    recorded(record) {
      if (counted.has(record.id)) return;
      counted.add(record.id);
      if (counted.size > RECENT_RECORDS) counted.delete(counted.values().next().value!);
      const attributes = {
        [ATTR.outcome]: record.outcome,
        [ATTR.action]: record.action,
        [ATTR.mode]: record.mode,
        [ATTR.actorKind]: actorKind(record.actor),
        [ATTR.ruleId]: record.ruleId,
      };
      telemetry.record(METRIC.decisions, 1, attributes);
      const details = {
        ...attributes,
        [ATTR.actor]: record.actor,
        [ATTR.decisionId]: record.id,
        [ATTR.statusAfter]: record.statusAfter,
        [ATTR.error]: record.error,
      };
      const decision = open.get(key(record.connectionId));
      if (decision !== undefined) {
        decision.span.setAttributes(details);
        if (record.outcome === "failed" && !decision.failed) {
          decision.failed = true;
          decision.span.fail(record.error ?? "the decision failed");
        }
        return;
      }
      // A record with no claim of ours open (an observation, a note after the claim settled): a span of its own.
      const span = telemetry.startSpan(SPAN.decision, {
        ...details,
        [ATTR.connectionId]: record.connectionId,
        [ATTR.resourceId]: record.resourceId,
        [ATTR.resourceType]: registeredTypeOf(record.resourceId),
        [ATTR.privateEndpointId]: record.privateEndpointId,
        [ATTR.ruleVersion]: record.ruleVersion,
        [ATTR.eventIds]: record.triggeringEventIds,
        [ATTR.correlationId]: record.correlationId,
        [ATTR.statusBefore]: record.statusBefore,
      });
      if (record.outcome === "failed") span.fail(record.error ?? "the decision failed");
      span.end();
    },
  };
}

const hooksOf = new WeakMap<EngineDeps, DecisionHooks>();

/** The hooks of instrumented deps, or hooks that do nothing (telemetry off, or deps not built by instrumentEngineDeps). */
export function decisionHooks(deps: EngineDeps): DecisionHooks {
  return hooksOf.get(deps) ?? NO_HOOKS;
}

const NO_SPAN: TelemetrySpan = { setAttributes: () => {}, fail: () => {}, end: () => {}, run: (fn) => fn() };
const NO_HOOKS: DecisionHooks = { claimWritten: () => {}, claimLost: () => {}, armWriteStarted: () => NO_SPAN, recorded: () => {} };

/** The deps with their claim store, Private Link port and decision log reporting to `telemetry`; the deps as they are when it is off. */
export function instrumentEngineDeps(deps: EngineDeps, telemetry: Telemetry): EngineDeps {
  if (!telemetry.enabled) return deps;
  const hooks = createDecisionHooks(telemetry);
  const instrumented: EngineDeps = {
    ...deps,
    claims: instrumentClaims(deps.claims, hooks),
    privateLink: instrumentPrivateLink(deps.privateLink, hooks),
    decisionLog: instrumentDecisionLog(deps.decisionLog, hooks),
  };
  hooksOf.set(instrumented, hooks);
  return instrumented;
}

function instrumentClaims(claims: ClaimStore, hooks: DecisionHooks): ClaimStore {
  const written = async (state: ClaimState, write: () => ReturnType<ClaimStore["create"]>) => {
    try {
      const result = await write();
      hooks.claimWritten(state);
      return result;
    } catch (error) {
      hooks.claimLost(state, error instanceof Error ? error.message : String(error));
      throw error;
    }
  };
  return {
    get: (k, options) => claims.get(k, options),
    create: (state, options) => written(state, () => claims.create(state, options)),
    replace: (state, etag, options) => written(state, () => claims.replace(state, etag, options)),
    listByConnection: (connectionId, options) => claims.listByConnection(connectionId, options),
    listByPrivateEndpoint: (privateEndpointId, options) => claims.listByPrivateEndpoint(privateEndpointId, options),
  };
}

/** The operation with its span ended when it finishes (or when it is handed on, serialized, to finish elsewhere). */
function tracedOperation<T>(operation: LongRunningOperation<T>, span: TelemetrySpan): LongRunningOperation<T> {
  const finish = (error?: unknown) => {
    if (error !== undefined) span.fail(error instanceof Error ? error.message : String(error));
    span.end();
  };
  return {
    poll: async (options) => {
      try {
        await operation.poll(options);
      } catch (error) {
        finish(error);
        throw error;
      }
      if (operation.isDone()) finish();
    },
    isDone: () => operation.isDone(),
    result: () => operation.result(),
    pollUntilDone: async (options) => {
      try {
        const result = await operation.pollUntilDone(options);
        finish();
        return result;
      } catch (error) {
        finish(error);
        throw error;
      }
    },
    serialize: () => operation.serialize(),
  };
}

function instrumentPrivateLink(port: PrivateLinkPort, hooks: DecisionHooks): PrivateLinkPort {
  const begin = async <T>(connectionId: string | undefined, targetStatus: string | undefined, start: () => Promise<LongRunningOperation<T>>) => {
    const span = hooks.armWriteStarted(connectionId, targetStatus);
    try {
      return tracedOperation(await start(), span);
    } catch (error) {
      span.fail(error instanceof Error ? error.message : String(error));
      span.end();
      throw error;
    }
  };
  return {
    getResource: (resourceId, options) => port.getResource(resourceId, options),
    listResourcesBySubscription: (subscriptionId, resourceType, options) => port.listResourcesBySubscription(subscriptionId, resourceType, options),
    listConnections: (resourceId, options) => port.listConnections(resourceId, options),
    getConnection: (connectionId, options) => port.getConnection(connectionId, options),
    deleteConnection: (connectionId, options) => port.deleteConnection(connectionId, options),
    setPublicNetworkAccess: (resourceId, value, options) => port.setPublicNetworkAccess(resourceId, value, options),
    beginSetConnectionStatus: (connectionId, status, description, options) =>
      begin(connectionId, status, () => port.beginSetConnectionStatus(connectionId, status, description, options)),
    resumeSetConnectionStatus: (serializedState, options) => begin(undefined, undefined, () => port.resumeSetConnectionStatus(serializedState, options)),
  };
}

function instrumentDecisionLog(log: DecisionLog, hooks: DecisionHooks): DecisionLog {
  return {
    get: (connectionId, recordId, options) => log.get(connectionId, recordId, options),
    listByConnection: (connectionId, options) => log.listByConnection(connectionId, options),
    query: (query, options) => log.query(query, options),
    listLatestByResource: (resourceId, options) => log.listLatestByResource(resourceId, options),
    append: async (record, options) => {
      await log.append(record, options);
      hooks.recorded(record);
    },
  };
}

