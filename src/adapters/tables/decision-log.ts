/**
 * DecisionLog on Azure Table Storage: table `{prefix}decisions`, append-only (rows are only ever inserted).
 *
 * Each record is stored twice, once per query it must answer without a scan:
 *
 *   PartitionKey               RowKey        Columns                                 Answers
 *   conn~{key(connectionId)}   {record id}   record (JSON), actor, serviceKey        listByConnection; query by connection
 *   inst~{key(serviceId)}      {record id}   record (JSON), actor, connectionKey     query by instance (+ time range)
 *
 * - `{record id}` starts with the decision's start time in fixed-width UTC (decisionRecordId), so rows sort by
 *   time within a partition and `from` / `to` become RowKey ranges (they compare `startedAt`).
 * - `key(id)` is the lower-cased ARM ID with `/` written as `|` (and `%`, `|`, `\`, `#`, `?`, control characters
 *   %-escaped), because Table keys may not contain `/ \ # ?`; it is readable and collision-free.
 * - `actor` is a column so `query({ actor })` filters on the server; a query naming neither a connection nor an
 *   instance walks every `inst~` partition (ordered by instance, then time).
 * - Both inserts tolerate "already exists", so appending the same record again (a retry) stores it once.
 * - A Table string property holds at most 32K characters: explanations longer than that are cut, with a line
 *   saying how many lines were dropped.
 */
import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import { z } from "zod";
import type { DecisionRecord } from "../../domain/decision.ts";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { resourceIdKey } from "../../domain/resource-id.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { DecisionLog, DecisionPage, DecisionPageOptions, DecisionQuery } from "../../ports/decision-log.ts";
import { ensureTable } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}decisions`. */
export const DECISIONS_TABLE_SUFFIX = "decisions";

const BY_CONNECTION = "conn~";
const BY_INSTANCE = "inst~";
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;
/** Characters kept for the stored record JSON (a Table string property holds 32K UTF-16 characters). */
const MAX_RECORD_CHARS = 30_000;

/**
 * A Table key for an ARM resource ID: lower-cased, `/` as `|`, and every character Table keys refuse (plus the
 * escape characters themselves) %-escaped, so distinct IDs always get distinct keys.
 */
export function resourceTableKey(id: string): string {
  return resourceIdKey(id)
    .replace(/[%|\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`)
    .replace(/\//g, "|");
}

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const status = z.enum(["Pending", "Approved", "Rejected", "Deleted"]);
const optionalText = z.string().optional();

/** The stored record, parsed on every read: a row that does not parse is reported, never guessed at. */
const storedRecordSchema = z.object({
  id: z.string().min(1),
  connectionId: z.string().min(1),
  serviceId: z.string().min(1),
  privateEndpointId: optionalText,
  requesterSubscriptionId: optionalText,
  requesterTenantId: optionalText,
  ruleId: optionalText,
  ruleVersion: z.number().int().optional(),
  action: z.enum(["approve", "reject", "manual", "revoke", "delete"]),
  mode: z.enum(["enforce", "audit", "dry-run"]),
  actor: z.string().min(1),
  actorName: optionalText,
  actorAppId: optionalText,
  ticket: optionalText,
  requestedBy: optionalText,
  reason: z.string(),
  explanation: z.array(z.string()),
  triggeringEventIds: z.array(z.string()),
  correlationId: z.string(),
  statusBefore: status.optional(),
  statusAfter: status.optional(),
  outcome: z.enum(["applied", "would-apply", "skipped", "failed"]),
  error: optionalText,
  startedAt: isoDate,
  recordedAt: isoDate,
});

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

function recordOf(entity: TableEntityResult<Record<string, unknown>>): DecisionRecord {
  let json: unknown;
  try {
    json = JSON.parse(String(entity["record"]));
  } catch {
    json = undefined;
  }
  const parsed = storedRecordSchema.safeParse(json);
  if (!parsed.success) {
    throw new PortcullisError("internal", `Decision log row ${entity.partitionKey}/${entity.rowKey} does not parse: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const r = parsed.data;
  return {
    ...r,
    privateEndpointId: r.privateEndpointId,
    requesterSubscriptionId: r.requesterSubscriptionId,
    requesterTenantId: r.requesterTenantId,
    ruleId: r.ruleId,
    ruleVersion: r.ruleVersion,
    actorName: r.actorName,
    actorAppId: r.actorAppId,
    ticket: r.ticket,
    requestedBy: r.requestedBy,
    statusBefore: r.statusBefore,
    statusAfter: r.statusAfter,
    error: r.error,
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
    if (query.serviceId !== undefined) parts.push(odata`serviceKey eq ${resourceTableKey(query.serviceId)}`);
  } else if (query.serviceId !== undefined) {
    parts.push(odata`PartitionKey eq ${BY_INSTANCE + resourceTableKey(query.serviceId)}`);
  } else {
    parts.push(odata`PartitionKey gt ${BY_INSTANCE} and PartitionKey lt ${`${BY_INSTANCE}~`}`);
  }
  if (query.from !== undefined) parts.push(odata`RowKey ge ${timeKey(query.from)}`);
  if (query.to !== undefined) parts.push(odata`RowKey lt ${timeKey(query.to)}`);
  if (query.actor !== undefined) parts.push(odata`actor eq ${query.actor}`);
  return parts.join(" and ");
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

  return {
    async append(record, options = {}) {
      const columns = { record: recordJson(record), actor: record.actor };
      await insertIfAbsent(
        { partitionKey: BY_CONNECTION + resourceTableKey(record.connectionId), rowKey: record.id, ...columns, serviceKey: resourceTableKey(record.serviceId) },
        options,
      );
      await insertIfAbsent(
        { partitionKey: BY_INSTANCE + resourceTableKey(record.serviceId), rowKey: record.id, ...columns, connectionKey: resourceTableKey(record.connectionId) },
        options,
      );
    },

    async *listByConnection(connectionId, options = {}) {
      const filter = odata`PartitionKey eq ${BY_CONNECTION + resourceTableKey(connectionId)}`;
      try {
        for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal })) {
          yield recordOf(entity);
        }
      } catch (error) {
        throw toPortcullisError(error);
      }
    },

    async query(query, options: DecisionPageOptions = {}): Promise<DecisionPage> {
      const pageSize = Math.min(Math.max(1, Math.trunc(options.pageSize ?? DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE);
      try {
        const pages = table
          .listEntities<Record<string, unknown>>({ queryOptions: { filter: filterOf(query) }, abortSignal: options.abortSignal })
          .byPage({ maxPageSize: pageSize, ...(options.continuationToken !== undefined ? { continuationToken: options.continuationToken } : {}) });
        const step = await pages.next();
        if (step.done) return { items: [] };
        const items = step.value.map(recordOf);
        return step.value.continuationToken !== undefined ? { items, continuationToken: step.value.continuationToken } : { items };
      } catch (error) {
        throw toPortcullisError(error);
      }
    },
  };
}
