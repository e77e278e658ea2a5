/**
 * AuditStore on Azure Table Storage: three tables, keys chosen for the queries the audit and the reports make.
 *
 *   {prefix}auditruns
 *     PartitionKey     RowKey                          Columns                 Read by
 *     latest           pointer                         runId                   getLatestRunId (point read)
 *     history          {9999999999999-startMs}-{run}   runId, startedAt, score listScoreHistory (range, newest
 *                                                                              first, from the run asked about)
 *     run-{runId}      summary                         d0..dN (JSON chunks)    getRunSummary (point read)
 *     run-{runId}      instance-{sha(instance)}        d0..dN                  listInstanceSummaries (range)
 *     run-{runId}      remediation-{seq:6}             d0..dN                  listRemediations (range)
 *
 *   {prefix}auditfindings
 *     {runId}-{sha(scope)}  {findingId}[~part]         checkId, severity, status, instanceId, resourceId, d0..dN
 *       listFindings: one partition per instance (or the estate); listAllFindings: PartitionKey range
 *       [{runId}-, {runId}.) since "." follows "-".
 *
 *   {prefix}auditstate
 *     suppression             {findingId}              reason, owner, expiresAt, createdAt, ticket?,
 *                                                      createdByObjectId?, createdByAppId?, createdByName?
 *     sighting-{sha(instance)} {sha(connection)}       connectionId, status, firstSeenAt
 *
 * Size limits: a property holds at most 64 KiB (32 Ki UTF-16 characters) and an entity at most 1 MiB, so JSON
 * is split into properties of 30,000 characters, at most 12 per entity; a longer finding continues in rows
 * `{findingId}~1`, `~2`, ... Batches stay within 100 entities and about 3 MiB per transaction.
 */
import { createHash } from "node:crypto";
import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import type { z } from "zod";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { Finding, Suppression } from "../../domain/audit/findings.ts";
import { resourceIdKey } from "../../domain/resource-id.ts";
import type { AuditRunSummary, InstanceSummary, RemediationRecord, ScorePoint } from "../../domain/audit/run.ts";
import {
  findingSchema,
  instanceSummarySchema,
  remediationRecordSchema,
  runSummarySchema,
  sightingSchema,
  suppressionSchema,
} from "../../domain/audit/schemas.ts";
import type { ConnectionSighting } from "../../domain/audit/sightings.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import { ESTATE_SCOPE, type AuditStore } from "../../ports/audit-store.ts";
import { ensureTable, getEntityOrUndefined, parseJsonColumn, storageCall, storageListing } from "./tables.ts";

/** Table name suffixes: the tables are `{PORTCULLIS_TABLE_PREFIX}auditruns`, `…auditfindings`, `…auditstate`. */
export const AUDIT_TABLE_SUFFIXES = { runs: "auditruns", findings: "auditfindings", state: "auditstate" } as const;

/** Characters per JSON chunk property (64 KiB property limit / 2 bytes per UTF-16 character, with headroom). */
export const CHUNK_CHARS = 30_000;
/** Chunk properties per entity (1 MiB entity limit). */
export const CHUNKS_PER_ENTITY = 12;
const MAX_BATCH_ENTITIES = 100;
const MAX_BATCH_CHARS = 1_500_000;
const MAX_TIME_MS = 9_999_999_999_999;

export interface AuditTables {
  readonly runs: TableClient;
  readonly findings: TableClient;
  readonly state: TableClient;
}

type Entity = TableEntityResult<Record<string, unknown>>;

const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 32);
const runPartition = (runId: string) => `run-${runId}`;
const scopeKey = (scope: string) => (scope === ESTATE_SCOPE ? "estate" : sha(resourceIdKey(scope)));
const findingsPartition = (runId: string, scope: string) => `${runId}-${scopeKey(scope)}`;
const historyRowKey = (summary: AuditRunSummary) => `${String(MAX_TIME_MS - Date.parse(summary.startedAt)).padStart(13, "0")}-${summary.runId}`;
const sightingPartition = (instanceId: string) => `sighting-${sha(resourceIdKey(instanceId))}`;
const SUPPRESSION_PARTITION = "suppression";

/** A suppression's optional columns: who set it (flattened, so Storage Explorer shows it) and the ticket. */
function suppressionExtraColumns(s: Suppression): Record<string, string> {
  const columns: Record<string, string> = {};
  if (s.ticket !== undefined) columns["ticket"] = s.ticket;
  if (s.createdBy !== undefined) {
    columns["createdByObjectId"] = s.createdBy.objectId;
    if (s.createdBy.appId !== undefined) columns["createdByAppId"] = s.createdBy.appId;
    if (s.createdBy.name !== undefined) columns["createdByName"] = s.createdBy.name;
  }
  return columns;
}

/** The suppression fields of a stored row, before the schema checks them. */
function suppressionFieldsOf(entity: Entity): Record<string, unknown> {
  const { createdByObjectId, createdByAppId, createdByName, ...rest } = entity as Record<string, unknown>;
  const createdBy = { objectId: createdByObjectId, ...(createdByAppId !== undefined ? { appId: createdByAppId } : {}), ...(createdByName !== undefined ? { name: createdByName } : {}) };
  return { ...rest, findingId: entity.rowKey, ...(createdByObjectId !== undefined ? { createdBy } : {}) };
}

/** Splits JSON into chunk properties d0..dN, spread over as many entities as the size limits need. */
export function chunkJson(json: string): Record<string, string>[] {
  const chunks: string[] = [];
  for (let i = 0; i < json.length || chunks.length === 0; i += CHUNK_CHARS) chunks.push(json.slice(i, i + CHUNK_CHARS));
  const entities: Record<string, string>[] = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_ENTITY) {
    entities.push(Object.fromEntries(chunks.slice(i, i + CHUNKS_PER_ENTITY).map((c, j) => [`d${j}`, c])));
  }
  return entities;
}

/** Joins the chunk properties of one or more entities (in part order) back into the JSON text. */
export function joinChunks(entities: readonly Record<string, unknown>[]): string {
  let json = "";
  for (const entity of entities) {
    for (let j = 0; typeof entity[`d${j}`] === "string"; j++) json += entity[`d${j}`] as string;
  }
  return json;
}

function parseStored<T>(schema: z.ZodType<T, unknown>, json: string, where: string): T {
  return parseJsonColumn(schema, json, `audit data at ${where}`);
}

const wrap = storageCall;

function listPartitionRange(table: TableClient, filter: string, options: OperationOptions): AsyncIterable<Entity> {
  return storageListing(table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal }));
}

function entityChars(entity: TableEntity<Record<string, unknown>>): number {
  return Object.values(entity).reduce<number>((sum, v) => sum + (typeof v === "string" ? v.length : 16), 0);
}

/** Submits upserts/deletes of one partition in transactions that respect the entity-count and payload limits. */
async function submitInBatches(table: TableClient, actions: readonly TransactionAction[], options: OperationOptions): Promise<void> {
  let batch: TransactionAction[] = [];
  let chars = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    chars = 0;
    await wrap(() => table.submitTransaction(current, { abortSignal: options.abortSignal }));
  };
  for (const action of actions) {
    const size = entityChars(action[1] as TableEntity<Record<string, unknown>>);
    if (batch.length >= MAX_BATCH_ENTITIES || (batch.length > 0 && chars + size > MAX_BATCH_CHARS)) await flush();
    batch.push(action);
    chars += size;
  }
  await flush();
}

function documentEntities(partitionKey: string, rowKey: string, json: string, columns: Record<string, string | number | boolean> = {}): TableEntity<Record<string, unknown>>[] {
  return chunkJson(json).map((chunks, part) => ({
    partitionKey,
    rowKey: part === 0 ? rowKey : `${rowKey}~${part}`,
    ...(part === 0 ? columns : {}),
    ...chunks,
  }));
}

/** Creates every audit table if missing (start-up / first use). */
export async function ensureAuditTables(tables: AuditTables, options: OperationOptions = {}): Promise<void> {
  await Promise.all([ensureTable(tables.runs, options), ensureTable(tables.findings, options), ensureTable(tables.state, options)]);
}

/** The Table Storage audit store over the three audit tables (see the key layout above). */
export function createTableAuditStore(tables: AuditTables): AuditStore {
  const { runs, findings, state } = tables;

  async function* readDocuments<T>(table: TableClient, filter: string, schema: z.ZodType<T, unknown>, options: OperationOptions): AsyncIterable<T> {
    // The rows of one document (`key`, `key~1`, ...) are adjacent in key order: emit each when the next begins.
    let group: { partitionKey: string; base: string; parts: Entity[] } | undefined;
    const parse = (g: NonNullable<typeof group>) => parseStored(schema, joinChunks(g.parts), `${g.partitionKey}/${g.base}`);
    for await (const entity of listPartitionRange(table, filter, options)) {
      const partitionKey = entity.partitionKey ?? "";
      const [base, part] = (entity.rowKey ?? "").split("~") as [string, string | undefined];
      if (group && (group.partitionKey !== partitionKey || group.base !== base)) {
        yield parse(group);
        group = undefined;
      }
      const current = group ?? { partitionKey, base, parts: [] };
      current.parts[part === undefined ? 0 : Number(part)] = entity;
      group = current;
    }
    if (group) yield parse(group);
  }

  async function readDocument<T>(table: TableClient, partitionKey: string, rowKey: string, schema: z.ZodType<T, unknown>, options: OperationOptions): Promise<T | undefined> {
    const filter = odata`PartitionKey eq ${partitionKey} and (RowKey eq ${rowKey} or (RowKey gt ${`${rowKey}~`} and RowKey lt ${`${rowKey}~~`}))`;
    for await (const document of readDocuments(table, filter, schema, options)) return document;
    return undefined;
  }

  return {
    async getLatestRunId(options = {}) {
      const pointer = await getEntityOrUndefined(runs, "latest", "pointer", options);
      return typeof pointer?.["runId"] === "string" ? pointer["runId"] : undefined;
    },

    getRunSummary(runId, options = {}) {
      return readDocument(runs, runPartition(runId), "summary", runSummarySchema, options);
    },

    async listScoreHistory(until, limit, options = {}) {
      const points: ScorePoint[] = [];
      const filter = odata`PartitionKey eq ${"history"} and RowKey ge ${historyRowKey(until)}`;
      for await (const entity of listPartitionRange(runs, filter, options)) {
        const { runId, startedAt, score } = entity as Record<string, unknown>;
        if (typeof runId === "string" && typeof startedAt === "string" && typeof score === "number") points.push({ runId, startedAt, score });
        if (points.length >= limit) break;
      }
      return points.reverse();
    },

    listInstanceSummaries(runId, options = {}) {
      const partition = runPartition(runId);
      return readDocuments(runs, odata`PartitionKey eq ${partition} and RowKey ge ${"instance-"} and RowKey lt ${"instance."}`, instanceSummarySchema, options);
    },

    async listFindings(runId, scope, options = {}) {
      const result: Finding[] = [];
      const filter = odata`PartitionKey eq ${findingsPartition(runId, scope)}`;
      for await (const finding of readDocuments(findings, filter, findingSchema, options)) result.push(finding);
      return result;
    },

    listAllFindings(runId, options = {}) {
      return readDocuments(findings, odata`PartitionKey ge ${`${runId}-`} and PartitionKey lt ${`${runId}.`}`, findingSchema, options);
    },

    listRemediations(runId, options = {}) {
      const partition = runPartition(runId);
      return readDocuments(runs, odata`PartitionKey eq ${partition} and RowKey ge ${"remediation-"} and RowKey lt ${"remediation."}`, remediationRecordSchema, options);
    },

    async putFindings(runId, scope, list, options = {}) {
      const partitionKey = findingsPartition(runId, scope);
      const actions: TransactionAction[] = list.flatMap((f) =>
        documentEntities(partitionKey, f.id, JSON.stringify(f), {
          checkId: f.checkId,
          severity: f.severity,
          status: f.status,
          instanceId: f.instanceId ?? "",
          resourceId: f.resourceId,
        }).map((entity): TransactionAction => ["upsert", entity, "Replace"]),
      );
      await submitInBatches(findings, actions, options);
    },

    async putInstanceSummary(runId, summary, options = {}) {
      const entities = documentEntities(runPartition(runId), `instance-${sha(resourceIdKey(summary.instanceId))}`, JSON.stringify(summary));
      await submitInBatches(runs, entities.map((e): TransactionAction => ["upsert", e, "Replace"]), options);
    },

    async putRemediation(record, options = {}) {
      const entities = documentEntities(runPartition(record.runId), `remediation-${String(record.sequence).padStart(6, "0")}`, JSON.stringify(record));
      await submitInBatches(runs, entities.map((e): TransactionAction => ["upsert", e, "Replace"]), options);
    },

    async completeRun(summary, options = {}) {
      const entities = documentEntities(runPartition(summary.runId), "summary", JSON.stringify(summary));
      await submitInBatches(runs, entities.map((e): TransactionAction => ["upsert", e, "Replace"]), options);
      await wrap(() =>
        runs.upsertEntity(
          { partitionKey: "history", rowKey: historyRowKey(summary), runId: summary.runId, startedAt: summary.startedAt, score: summary.score },
          "Replace",
          { abortSignal: options.abortSignal },
        ),
      );
      await wrap(() => runs.upsertEntity({ partitionKey: "latest", rowKey: "pointer", runId: summary.runId }, "Replace", { abortSignal: options.abortSignal }));
    },

    async listSuppressions(options = {}) {
      const result: Suppression[] = [];
      for await (const entity of listPartitionRange(state, odata`PartitionKey eq ${SUPPRESSION_PARTITION}`, options)) {
        const parsed = suppressionSchema.safeParse(suppressionFieldsOf(entity));
        // A hand-edited row that does not parse suppresses nothing: the finding stays visible (fail closed).
        if (parsed.success) result.push(parsed.data);
      }
      return result;
    },

    async putSuppression(suppression, options = {}) {
      const parsed = suppressionSchema.parse(suppression);
      await wrap(() =>
        state.upsertEntity(
          {
            partitionKey: SUPPRESSION_PARTITION,
            rowKey: parsed.findingId,
            reason: parsed.reason,
            owner: parsed.owner,
            expiresAt: parsed.expiresAt,
            createdAt: parsed.createdAt,
            ...suppressionExtraColumns(parsed),
          },
          "Replace",
          { abortSignal: options.abortSignal },
        ),
      );
    },

    async deleteSuppression(findingId, options = {}) {
      try {
        await state.deleteEntity(SUPPRESSION_PARTITION, findingId, { abortSignal: options.abortSignal });
      } catch (error) {
        const e = toPortcullisError(error);
        if (e.kind !== "not-found") throw e;
      }
    },

    async listSightings(instanceId, options = {}) {
      const result: ConnectionSighting[] = [];
      for await (const entity of listPartitionRange(state, odata`PartitionKey eq ${sightingPartition(instanceId)}`, options)) {
        const parsed = sightingSchema.safeParse(entity);
        if (parsed.success) result.push(parsed.data);
      }
      return result;
    },

    async updateSightings(instanceId, changes, options = {}) {
      const partitionKey = sightingPartition(instanceId);
      const actions: TransactionAction[] = [
        ...changes.upserts.map((s): TransactionAction => [
          "upsert",
          { partitionKey, rowKey: sha(resourceIdKey(s.connectionId)), connectionId: s.connectionId, status: s.status, firstSeenAt: s.firstSeenAt },
          "Replace",
        ]),
        ...changes.deletes.map((s): TransactionAction => ["delete", { partitionKey, rowKey: sha(resourceIdKey(s.connectionId)) }]),
      ];
      await submitInBatches(state, actions, options);
    },
  };
}
