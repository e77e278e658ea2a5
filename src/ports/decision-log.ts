/**
 * The append-only decision log (records: src/domain/decisions/decision.ts). Implemented over Table Storage by
 * src/adapters/tables/decision-log.ts, which documents its keys next to the code.
 *
 * `append` is idempotent per record ID (appending the same record twice stores it once), so a caller may
 * retry an append that failed half-way. Storage failures throw a PortcullisError of kind `transient`.
 *
 * Besides the records, the log keeps each connection's latest decisions (src/domain/decisions/latest-decisions.ts) up to
 * date on every append, so `listLatestByResource` costs one read bounded by the instance's connections, however
 * long the history grows. The records stay the source of truth: an append that reports success has updated both.
 */
import type { DecisionRecord } from "../domain/decisions/decision.ts";
import type { LatestDecisions } from "../domain/decisions/latest-decisions.ts";
import type { OperationOptions } from "./arm.ts";

/**
 * Filters of a decision log query; all given ones must hold. `from` (inclusive) and `to` (exclusive) compare each
 * record's `startedAt`, the time its ID sorts by.
 */
export interface DecisionQuery {
  readonly connectionId?: string;
  readonly resourceId?: string;
  readonly actor?: string;
  readonly from?: Date;
  readonly to?: Date;
}

export interface DecisionPageOptions extends OperationOptions {
  /** Opaque token from the previous page. */
  readonly continuationToken?: string;
  /** At most this many items per page (default 100, at most 1,000). */
  readonly pageSize?: number;
}

export interface DecisionPage {
  readonly items: readonly DecisionRecord[];
  /** Present when more items may follow. */
  readonly continuationToken?: string;
}

export interface DecisionLog {
  append(record: DecisionRecord, options?: OperationOptions): Promise<void>;
  /** One record of a connection by its ID (a point read), or undefined when the connection has no such record. */
  get(connectionId: string, recordId: string, options?: OperationOptions): Promise<DecisionRecord | undefined>;
  /** Every record of one connection, oldest first. */
  listByConnection(connectionId: string, options?: OperationOptions): AsyncIterable<DecisionRecord>;
  /**
   * One page of records matching the query: oldest first within a connection or an instance; a query
   * naming neither is ordered by instance, then time.
   */
  query(query: DecisionQuery, options?: DecisionPageOptions): Promise<DecisionPage>;
  /**
   * The latest decisions of every connection of one instance that has records, keyed by
   * resourceIdKey(connectionId), without reading the history; a connection whose newest record says it was
   * deleted is left out.
   */
  listLatestByResource(resourceId: string, options?: OperationOptions): Promise<ReadonlyMap<string, LatestDecisions>>;
}
