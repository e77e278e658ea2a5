/**
 * IdempotencyStore on Azure Table Storage: table `{prefix}idempotency`, one row per caller and key.
 *
 *   PartitionKey                         RowKey    Columns
 *   {sha256(scope \0 key), base64url}    request   scope, key, fingerprint, createdAt, expiresAt, lockedUntil,
 *                                                  status, headers (JSON), bodyParts, body0..bodyN (gzip, binary)
 *
 * - The key is hashed: callers choose it, and Table Storage keys refuse `/ \ # ?` and control characters.
 * - create = insert (409 if present: conflict); replace / delete = If-Match (412 or 404: precondition-failed).
 * - A response body is gzip-compressed and split into binary properties of 60 KiB (property limit 64 KiB), at most
 *   14 (entity limit 1 MiB); a larger body is refused with kind invalid-input and is then simply not replayable.
 * - Table Storage has no TTL: an expired row is overwritten by the next request with its key, and deleteExpired
 *   (the housekeeping timer) removes the rest with a query on `expiresAt` (ISO-8601 UTC text, so it compares in
 *   time order) and one If-Match delete per row (every row is its own partition, so no batch transactions).
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import { z } from "zod";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { IdempotencyKeyRef, IdempotencyRecord, IdempotencyState, IdempotencyStore, StoredResponse } from "../../ports/idempotency-store.ts";
import { createEntityWithEtag, deleteEntitiesWhere, ensureTable, getEntityOrUndefined, parseJsonColumn, parseRow, replaceEntityIfMatch, type EntityRow } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}idempotency`. */
export const IDEMPOTENCY_TABLE_SUFFIX = "idempotency";

const ROW_KEY = "request";
const BODY_PART_BYTES = 60 * 1024;
const MAX_BODY_PARTS = 14;

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

const rowSchema = z.object({
  etag: z.string().min(1),
  scope: z.string(),
  key: z.string(),
  fingerprint: z.string().min(1),
  createdAt: isoDate,
  expiresAt: isoDate,
  lockedUntil: isoDate.optional(),
  status: z.number().int().optional(),
  headers: z.string().optional(),
  bodyParts: z.number().int().min(0).max(MAX_BODY_PARTS).optional(),
});

function partitionKeyOf(ref: IdempotencyKeyRef): string {
  return createHash("sha256").update(`${ref.scope}\u0000${ref.key}`).digest("base64url");
}

function bodyColumns(body: string | undefined): Record<string, unknown> {
  if (body === undefined) return { bodyParts: 0 };
  const compressed = gzipSync(Buffer.from(body, "utf8"));
  const parts = Math.ceil(compressed.length / BODY_PART_BYTES);
  if (parts > MAX_BODY_PARTS) {
    throw new PortcullisError("invalid-input", `The response is too large to keep for replays (${compressed.length} bytes compressed).`);
  }
  const columns: Record<string, unknown> = { bodyParts: parts };
  for (let i = 0; i < parts; i++) columns[`body${i}`] = new Uint8Array(compressed.subarray(i * BODY_PART_BYTES, (i + 1) * BODY_PART_BYTES));
  return columns;
}

function entityOf(state: IdempotencyState): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: partitionKeyOf(state),
    rowKey: ROW_KEY,
    scope: state.scope,
    key: state.key,
    fingerprint: state.fingerprint,
    createdAt: state.createdAt.toISOString(),
    expiresAt: state.expiresAt.toISOString(),
    ...(state.lockedUntil !== undefined ? { lockedUntil: state.lockedUntil.toISOString() } : {}),
    ...(state.response !== undefined
      ? { status: state.response.status, headers: JSON.stringify(state.response.headers), ...bodyColumns(state.response.body) }
      : {}),
  };
}

function responseOf(entity: TableEntityResult<Record<string, unknown>>, row: z.output<typeof rowSchema>): StoredResponse | undefined {
  if (row.status === undefined) return undefined;
  const headers = parseJsonColumn(z.record(z.string(), z.string()), row.headers ?? "{}", "idempotent response's headers");
  const parts: Uint8Array[] = [];
  for (let i = 0; i < (row.bodyParts ?? 0); i++) {
    const part = entity[`body${i}`];
    if (!(part instanceof Uint8Array)) throw new PortcullisError("internal", "A stored idempotent response is missing a body part.");
    parts.push(part);
  }
  const body = parts.length === 0 ? undefined : gunzipSync(Buffer.concat(parts)).toString("utf8");
  return { status: row.status, headers, body };
}

function recordOf(entity: TableEntityResult<Record<string, unknown>>): IdempotencyRecord {
  const r = parseRow(rowSchema, entity, `idempotency row ${entity.partitionKey}/${entity.rowKey}`);
  return {
    scope: r.scope,
    key: r.key,
    fingerprint: r.fingerprint,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    lockedUntil: r.lockedUntil,
    response: responseOf(entity, r),
    etag: r.etag,
  };
}

/** An expired row may still be held by a request that claimed it just before it expired (its lock outlasts expiry). */
function isUnlockedAt(instant: Date): (row: EntityRow) => boolean {
  return (row) => {
    const lockedUntil = isoDate.optional().safeParse(row["lockedUntil"]);
    return lockedUntil.success && (lockedUntil.data === undefined || lockedUntil.data.getTime() <= instant.getTime());
  };
}

/** Creates the idempotency table if missing. */
export async function ensureIdempotencyTable(table: TableClient, options: OperationOptions = {}): Promise<void> {
  await ensureTable(table, options);
}

/** The Table Storage idempotency store (see the key layout above). */
export function createTableIdempotencyStore(table: TableClient): IdempotencyStore {
  return {
    async get(ref, options = {}) {
      const entity = await getEntityOrUndefined(table, partitionKeyOf(ref), ROW_KEY, options);
      return entity === undefined ? undefined : recordOf(entity);
    },

    async create(state, options = {}) {
      return { ...state, etag: await createEntityWithEtag(table, entityOf(state), options) };
    },

    async replace(state, etag, options = {}) {
      return { ...state, etag: await replaceEntityIfMatch(table, entityOf(state), etag, "The idempotency record changed meanwhile.", options) };
    },

    async delete(ref, etag, options = {}) {
      try {
        await table.deleteEntity(partitionKeyOf(ref), ROW_KEY, { etag, abortSignal: options.abortSignal });
      } catch (error) {
        const failure = toPortcullisError(error);
        if (failure.kind === "not-found") return;
        throw failure;
      }
    },

    async deleteExpired({ before, abortSignal }) {
      return await deleteEntitiesWhere(
        table,
        { filter: odata`RowKey eq ${ROW_KEY} and expiresAt lt ${before.toISOString()}`, select: ["partitionKey", "rowKey", "lockedUntil"] },
        isUnlockedAt(before),
        { abortSignal },
      );
    },
  };
}
