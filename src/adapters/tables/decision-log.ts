/**
 * DecisionLog on Azure Table Storage: table `{prefix}decisions`. Records are append-only (their rows are only
 * ever inserted); beside them each instance partition keeps one "latest decisions" row per connection.
 *
 * Each record is stored twice, once per query it must answer without a scan, and each connection's latest
 * decisions once, in its instance's partition:
 *
 *   PartitionKey               RowKey                        Columns                                 Answers
 *   conn~{key(connectionId)}   {record id}                   record (JSON), actor, serviceKey        get; listByConnection; query by connection
 *   inst~{key(resourceId)}      {record id}                   record (JSON), actor, connectionKey     query by instance (+ time range)
 *   inst~{key(resourceId)}      ~latest~{key(connectionId)}   record (the newest, JSON),              listLatestByResource
 *                                                            statusChange, rejection (JSON marks),
 *                                                            firstRecordAt (ISO time)
 *
 * - `{record id}` starts with the decision's start time in fixed-width UTC (decisionRecordId), so rows sort by
 *   time within a partition and `from` / `to` become RowKey ranges (they compare `startedAt`). Record IDs start
 *   with a digit, so `~latest~` rows sort after every record: record queries read `RowKey lt '~'`,
 *   listLatestByResource reads `RowKey gt '~'` (one partition, one row per connection, however long the history).
 * - `key(id)` is the lower-cased ARM ID with `/` written as `|` (and `%`, `|`, `\`, `#`, `?`, control characters
 *   %-escaped), because Table keys may not contain `/ \ # ?`; it is readable and collision-free.
 * - `actor` is a column so `query({ actor })` filters on the server; a query naming neither a connection nor an
 *   instance walks every `inst~` partition (ordered by instance, then time).
 * - append: insert the `conn~` row (tolerating "already exists") while point-reading the `~latest~` row, then
 *   ONE entity group transaction in the `inst~` partition: insert the record row, and create the `~latest~` row
 *   or replace it If-Match its ETag, with the record merged in (src/domain/decisions/latest-decisions.ts: newest by record
 *   ID; a record that changes nothing there, e.g. an older one appended late, is inserted alone). The record and
 *   the index change together or not at all, so the index never misses a record of its partition and needs no
 *   repair. A concurrent append that changed the row first fails the transaction (409/412): re-read, merge,
 *   retry; if the record row turns out to exist, an earlier attempt (the caller retrying) stored it together with
 *   the index, and the append is done. A crash between the two steps leaves the record in `conn~` only, as it
 *   always could; the caller's retry of the same record (same ID) completes it.
 * - A `~latest~` row whose newest record is a deletion is removed (If-Match its ETag; best effort, and readers
 *   skip such rows anyway), so the rows stay about as many as the instance's live connections (at most 100). A
 *   record older than the deletion appended after it brings a row back; harmless, as no reader lists a
 *   connection that no longer exists.
 * - A Table string property holds at most 32K characters: explanations longer than that are cut, with a line
 *   saying how many lines were dropped.
 */
import { odata, type TableClient, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { z } from "zod";
import { decisionRecordFields, decisionRecordSchema, type DecisionRecord } from "../../domain/decisions/decision.ts";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { isConnectionGone, withDecision, type DecisionMark, type LatestDecisions } from "../../domain/decisions/latest-decisions.ts";
import { resourceIdKey } from "../../domain/resource-id.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { DecisionLog, DecisionPage, DecisionPageOptions, DecisionQuery } from "../../ports/decision-log.ts";
import { ensureTable, getEntityOrUndefined, parseJsonColumn, storageCall, storageListing } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}decisions`. */
export const DECISIONS_TABLE_SUFFIX = "decisions";

const BY_CONNECTION = "conn~";
const BY_INSTANCE = "inst~";
/** RowKey prefix of a connection's latest decisions in its instance's partition (sorts after every record ID). */
const LATEST_ROW = "~latest~";
/** Record IDs start with a digit: every row key below this is a record, every one above it an index row. */
const INDEX_ROWS_FROM = "~";
/**
 * Attempts at the append transaction. Lock-free: an attempt loses only to another append's successful change of
 * the same row, so up to this many appends to one connection at once (claims make it one or two) all succeed.
 */
const MAX_APPEND_ATTEMPTS = 16;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;
/** Characters kept for the stored record JSON (a Table string property holds 32K UTF-16 characters). */
const MAX_RECORD_CHARS = 30_000;
/** Table keys refuse `/ \ # ?` and control characters, and may not be empty. */
const STORABLE_ROW_KEY = /^[^/\\#?\u0000-\u001f\u007f-\u009f]{1,1024}$/;

/**
 * A Table key for an ARM resource ID: lower-cased, `/` as `|`, and every character Table keys refuse (plus the
 * escape characters themselves) %-escaped, so distinct IDs always get distinct keys.
 */
export function resourceTableKey(id: string): string {
  return resourceIdKey(id)
    .replace(/[%|\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`)
    .replace(/\//g, "|");
}

/** The JSON stored for a record, with the explanation cut to fit a Table property. */
function recordJson(record: DecisionRecord): string {
  const full = JSON.stringify(record);
  if (full.length <= MAX_RECORD_CHARS) return full;
  const lines = [...record.explanation];
  const kept: string[] = [];
  let budget = MAX_RECORD_CHARS - (full.length - JSON.stringify(record.explanation).length) - 200;
  for (const line of lines) {
    const cost = JSON.stringify(line).length + 1;
    if (cost > budget) break;
    kept.push(line);
    budget -= cost;
  }
  kept.push(`… ${lines.length - kept.length} more explanation line(s) were not stored (Table Storage property limit).`);
  return JSON.stringify({ ...record, explanation: kept });
}

const storedMarkSchema = decisionRecordFields.pick({ id: true, action: true, actor: true, recordedAt: true });

/** A JSON column of a row, parsed by `schema` (tables.ts: a row that does not parse is reported, never guessed at). */
function parseColumn<S extends z.ZodType>(entity: TableEntityResult<Record<string, unknown>>, column: string, schema: S): z.output<S> {
  return parseJsonColumn(schema, entity[column], `decision log row ${entity.partitionKey}/${entity.rowKey} (${column})`);
}

function recordOf(entity: TableEntityResult<Record<string, unknown>>): DecisionRecord {
  return parseColumn(entity, "record", decisionRecordSchema);
}

/** A stored mark column (absent when the connection has no such record). */
function markOf(entity: TableEntityResult<Record<string, unknown>>, column: string): DecisionMark | undefined {
  return entity[column] === undefined ? undefined : parseColumn(entity, column, storedMarkSchema);
}

function latestDecisionsOf(entity: TableEntityResult<Record<string, unknown>>): LatestDecisions {
  const firstRecordAt = new Date(String(entity["firstRecordAt"]));
  if (Number.isNaN(firstRecordAt.getTime())) throw new PortcullisError("internal", `Decision log row ${entity.partitionKey}/${entity.rowKey} has no valid firstRecordAt.`);
  return { latest: recordOf(entity), latestStatusChange: markOf(entity, "statusChange"), latestRejection: markOf(entity, "rejection"), firstRecordAt };
}

/** The columns of a `~latest~` row (marks are small: no explanation, so they never need cutting). */
function latestColumns(decisions: LatestDecisions): Record<string, string> {
  return {
    record: recordJson(decisions.latest),
    ...(decisions.latestStatusChange !== undefined ? { statusChange: JSON.stringify(decisions.latestStatusChange) } : {}),
    ...(decisions.latestRejection !== undefined ? { rejection: JSON.stringify(decisions.latestRejection) } : {}),
    firstRecordAt: decisions.firstRecordAt.toISOString(),
  };
}

/** The fixed-width time prefix of record IDs at `time` (see decisionRecordId). */
function timeKey(time: Date): string {
  return time.toISOString().replace(/[-:.]/g, "");
}

/** The OData filter of a query: one partition (or the instance partitions), a RowKey time range, the actor. */
function filterOf(query: DecisionQuery): string {
  const parts: string[] = [];
  if (query.connectionId !== undefined) {
    parts.push(odata`PartitionKey eq ${BY_CONNECTION + resourceTableKey(query.connectionId)}`);
    if (query.resourceId !== undefined) parts.push(odata`serviceKey eq ${resourceTableKey(query.resourceId)}`);
  } else if (query.resourceId !== undefined) {
    parts.push(odata`PartitionKey eq ${BY_INSTANCE + resourceTableKey(query.resourceId)} and RowKey lt ${INDEX_ROWS_FROM}`);
  } else {
    parts.push(odata`PartitionKey gt ${BY_INSTANCE} and PartitionKey lt ${`${BY_INSTANCE}~`} and RowKey lt ${INDEX_ROWS_FROM}`);
  }
  if (query.from !== undefined) parts.push(odata`RowKey ge ${timeKey(query.from)}`);
  if (query.to !== undefined) parts.push(odata`RowKey lt ${timeKey(query.to)}`);
  if (query.actor !== undefined) parts.push(odata`actor eq ${query.actor}`);
  return parts.join(" and ");
}

/** Where a record's connection keeps its latest decisions: its instance's partition, row `~latest~{key}`. */
function latestKeyOf(record: DecisionRecord): { partitionKey: string; rowKey: string } {
  return { partitionKey: BY_INSTANCE + resourceTableKey(record.resourceId), rowKey: LATEST_ROW + resourceTableKey(record.connectionId) };
}

/** Creates the decisions table if missing (start-up / first use). */
export async function ensureDecisionLogTable(table: TableClient, options: OperationOptions = {}): Promise<void> {
  await ensureTable(table, options);
}

/** The Table Storage decision log over the `{prefix}decisions` table (see the key layout above). */
export function createTableDecisionLog(table: TableClient): DecisionLog {
  async function insertIfAbsent(entity: Record<string, unknown> & { partitionKey: string; rowKey: string }, options: OperationOptions): Promise<void> {
    try {
      await table.createEntity(entity, { abortSignal: options.abortSignal });
    } catch (error) {
      const failure = toPortcullisError(error);
      if (failure.kind !== "conflict") throw failure;
    }
  }

  /**
   * Inserts the instance row of `record` and merges it into the connection's `~latest~` row (`firstRead`: as read
   * before) in one transaction, conditional on the row's ETag; retried while concurrent appends to the same
   * connection win (see the layout).
   */
  async function appendToInstance(
    record: DecisionRecord,
    columns: Record<string, string>,
    firstRead: TableEntityResult<Record<string, unknown>> | undefined,
    options: OperationOptions,
  ): Promise<void> {
    const { partitionKey, rowKey: latestRowKey } = latestKeyOf(record);
    const recordRow = { partitionKey, rowKey: record.id, ...columns, connectionKey: resourceTableKey(record.connectionId) };
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const row = attempt === 1 ? firstRead : await getEntityOrUndefined(table, partitionKey, latestRowKey, options);
      const current = row === undefined ? undefined : latestDecisionsOf(row);
      const next = withDecision(current, record);
      const latestRow = { partitionKey, rowKey: latestRowKey, ...latestColumns(next) };
      const actions: TransactionAction[] = [["create", recordRow]];
      if (row === undefined) actions.push(["create", latestRow]);
      else if (next !== current) actions.push(["update", latestRow, "Replace", { etag: row.etag }]);
      try {
        await table.submitTransaction(actions, { abortSignal: options.abortSignal });
      } catch (error) {
        const failure = toPortcullisError(error);
        if (failure.kind !== "conflict" && failure.kind !== "precondition-failed") throw failure;
        if ((await getEntityOrUndefined(table, partitionKey, record.id, options)) !== undefined) return;
        continue;
      }
      if (actions.length > 1 && isConnectionGone(next)) await removeIfGone(partitionKey, latestRowKey, options);
      return;
    }
    throw new PortcullisError("transient", `Concurrent appends kept changing the latest decisions of ${record.connectionId}; the record ${record.id} was not stored, retry.`);
  }

  /** Deletes a `~latest~` row whose newest record is a deletion, unless it changed meanwhile (best effort). */
  async function removeIfGone(partitionKey: string, rowKey: string, options: OperationOptions): Promise<void> {
    try {
      const row = await getEntityOrUndefined(table, partitionKey, rowKey, options);
      if (row === undefined || !isConnectionGone(latestDecisionsOf(row))) return;
      await table.deleteEntity(partitionKey, rowKey, { abortSignal: options.abortSignal, etag: row.etag });
    } catch {
      // Left in place: readers skip rows of deleted connections, and the next deletion record tries again.
    }
  }

  return {
    async append(record, options = {}) {
      const columns = { record: recordJson(record), actor: record.actor };
      const latest = latestKeyOf(record);
      const [, latestRow] = await Promise.all([
        insertIfAbsent({ partitionKey: BY_CONNECTION + resourceTableKey(record.connectionId), rowKey: record.id, ...columns, serviceKey: resourceTableKey(record.resourceId) }, options),
        getEntityOrUndefined(table, latest.partitionKey, latest.rowKey, options),
      ]);
      await appendToInstance(record, columns, latestRow, options);
    },

    async get(connectionId, recordId, options = {}) {
      // An ID Table Storage refuses as a RowKey was never stored.
      if (!STORABLE_ROW_KEY.test(recordId)) return undefined;
      const entity = await getEntityOrUndefined(table, BY_CONNECTION + resourceTableKey(connectionId), recordId, options);
      return entity === undefined ? undefined : recordOf(entity);
    },

    async *listByConnection(connectionId, options = {}) {
      const filter = odata`PartitionKey eq ${BY_CONNECTION + resourceTableKey(connectionId)}`;
      for await (const entity of storageListing(table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal }))) {
        yield recordOf(entity);
      }
    },

    async query(query, options: DecisionPageOptions = {}): Promise<DecisionPage> {
      const pageSize = Math.min(Math.max(1, Math.trunc(options.pageSize ?? DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE);
      return storageCall(async () => {
        const pages = table
          .listEntities<Record<string, unknown>>({ queryOptions: { filter: filterOf(query) }, abortSignal: options.abortSignal })
          .byPage({ maxPageSize: pageSize, ...(options.continuationToken !== undefined ? { continuationToken: options.continuationToken } : {}) });
        const step = await pages.next();
        if (step.done) return { items: [] };
        const items = step.value.map(recordOf);
        return step.value.continuationToken !== undefined ? { items, continuationToken: step.value.continuationToken } : { items };
      });
    },

    async listLatestByResource(resourceId, options = {}) {
      const filter = odata`PartitionKey eq ${BY_INSTANCE + resourceTableKey(resourceId)} and RowKey gt ${INDEX_ROWS_FROM}`;
      const byConnection = new Map<string, LatestDecisions>();
      for await (const entity of storageListing(table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal }))) {
        const decisions = latestDecisionsOf(entity);
        if (!isConnectionGone(decisions)) byConnection.set(resourceIdKey(decisions.latest.connectionId), decisions);
      }
      return byConnection;
    },
  };
}
