/**
 * What the approval engine's workflows need, passed in explicitly (no container): ports, the clock, the
 * settings that shape decisions, and timings that tests shorten. src/composition.ts builds the real one.
 */
import type { InventoryPort } from "../ports/inventory.ts";
import type { ManagedScope } from "../domain/decisions/decision-scope.ts";
import type { DefaultAction } from "../domain/rules/evaluate.ts";
import type { NetworkPort, PrivateLinkPort } from "../ports/arm.ts";
import type { ClaimStore } from "../ports/claim-store.ts";
import type { Clock } from "../ports/clock.ts";
import type { DecisionLog } from "../ports/decision-log.ts";
import type { NotificationPublisher } from "../ports/notifications.ts";
import type { RuleStore } from "../ports/rule-store.ts";
import type { TenantLookup } from "./tenant-lookup.ts";

/** Where workflows report what callers cannot see in a result (a notification that failed, a lost settle). */
export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineTimings {
  /** How long a claim's lease lasts: longer than an ARM approval takes, short enough that a crash is soon retried. */
  readonly claimLeaseInMs: number;
  /** After ARM refuses an automatic approval or rejection, how long before the sweep tries again. */
  readonly failedRetryDelayInMs: number;
  /**
   * Consumer-side event raced ahead of the provider-side connection: wait this long before each re-check,
   * then leave it to the sweep. Bounded and short.
   */
  readonly connectionRecheckDelaysInMs: readonly number[];
  /**
   * After ARM accepts a write that is still running, wait this long before polling it (then follow ARM's
   * Retry-After): a poll sent at once almost always finds it running and spends a read from the subscription's
   * throttling budget that the sweep needs.
   */
  readonly firstPollDelayInMs: number;
}

export const DEFAULT_ENGINE_TIMINGS: EngineTimings = {
  claimLeaseInMs: 10 * 60_000,
  failedRetryDelayInMs: 60 * 60_000,
  connectionRecheckDelaysInMs: [250, 500, 1000],
  firstPollDelayInMs: 2_000,
};

export interface EngineDeps {
  readonly privateLink: PrivateLinkPort;
  readonly network: NetworkPort;
  readonly ruleStore: RuleStore;
  readonly claims: ClaimStore;
  readonly decisionLog: DecisionLog;
  readonly notifications: NotificationPublisher;
  readonly clock: Clock;
  /** PORTCULLIS_MODE: `dry-run` evaluates and records, never writes to ARM. */
  readonly mode: "enforce" | "dry-run";
  /** PORTCULLIS_DEFAULT_ACTION. */
  readonly defaultAction: DefaultAction;
  /** PORTCULLIS_MANAGED_INSTANCES / PORTCULLIS_MANAGED_SUBSCRIPTIONS. */
  readonly scope: ManagedScope;
  /**
   * PORTCULLIS_INVENTORY=resource-graph: where the sweep finds Pending connections in the managed subscriptions (one
   * paged query instead of a listing per resource). Candidates only: each is re-read from ARM before it is decided.
   * Absent: the sweep lists every managed resource's connections from ARM.
   */
  readonly inventory?: InventoryPort | undefined;
  /** PORTCULLIS_ARM_CONCURRENCY: at most this many connections are decided at once. */
  readonly armConcurrency: number;
  readonly timings: EngineTimings;
  /**
   * The requester subscription's tenant from ARM's 401 challenge, cached (tenant-lookup.ts), for paths without an
   * event's tenant. Absent: such paths leave the tenant unknown.
   */
  readonly tenantLookup?: TenantLookup | undefined;
  /** A fresh unique ID (lease owners, record IDs): letters and digits only. */
  newId(): string;
  readonly log: EngineLogger;
}
