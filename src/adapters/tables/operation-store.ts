/**
 * OperationStore on Azure Table Storage: table `{prefix}operations`, one row per operation.
 *
 *   PartitionKey   RowKey      Columns
 *   {operationId}  operation   action, resourceId, status, createdAt, updatedAt, createdBy, resumeState, result
 *
 * - GET /api/operations/{id} is one point read. create = insert (409 if the ID exists: conflict); replace =
 *   If-Match (412 or 404: precondition-failed), so two instances resuming one operation cannot both record it.
 * - Table Storage has no TTL: deleteExpired (the housekeeping timer) removes finished operations with a query on
 *   `status` and `updatedAt` (ISO-8601 UTC text, so it compares in time order) and one If-Match delete per row
 *   (every row is its own partition, so no batch transactions); a Running operation is never deleted.
 * - resumeState (a serialized ARM poller plus the claim it holds) and result are JSON of a few KiB, well within the
 *   64 KiB property limit.
 */
import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import { z } from "zod";
import { PortcullisError } from "../../domain/errors.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { OperationRecord, OperationState, OperationStore } from "../../ports/operation-store.ts";
import { createEntityWithEtag, deleteEntitiesWhere, ensureTable, getEntityOrUndefined, parseRow, replaceEntityIfMatch } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}operations`. */
export const OPERATIONS_TABLE_SUFFIX = "operations";

const ROW_KEY = "operation";
const OPERATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

const rowSchema = z.object({
  etag: z.string().min(1),
  partitionKey: z.string().regex(OPERATION_ID),
  action: z.string().min(1),
  resourceId: z.string().min(1),
  status: z.enum(["Running", "Succeeded", "Failed"]),
  createdAt: isoDate,
  updatedAt: isoDate,
  createdBy: z.string().min(1),
  resumeState: z.string().optional(),
  result: z.string().optional(),
});

function entityOf(state: OperationState): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  if (!OPERATION_ID.test(state.id)) throw new PortcullisError("invalid-input", "An operation ID is a lower-case GUID.");
  return {
    partitionKey: state.id,
    rowKey: ROW_KEY,
    action: state.action,
    resourceId: state.resourceId,
    status: state.status,
    createdAt: state.createdAt.toISOString(),
    updatedAt: state.updatedAt.toISOString(),
    createdBy: state.createdBy,
    ...(state.resumeState !== undefined ? { resumeState: state.resumeState } : {}),
    ...(state.result !== undefined ? { result: state.result } : {}),
  };
}

function recordOf(entity: TableEntityResult<Record<string, unknown>>): OperationRecord {
  const r = parseRow(rowSchema, entity, `operation row ${entity.partitionKey}`);
  return {
    id: r.partitionKey,
    action: r.action,
    resourceId: r.resourceId,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    createdBy: r.createdBy,
    resumeState: r.resumeState,
    result: r.result,
    etag: r.etag,
  };
}

/** Creates the operations table if missing. */
export async function ensureOperationTable(table: TableClient, options: OperationOptions = {}): Promise<void> {
  await ensureTable(table, options);
}

/** The Table Storage operation store (see the key layout above). */
export function createTableOperationStore(table: TableClient): OperationStore {
  return {
    async get(id, options = {}) {
      if (!OPERATION_ID.test(id)) return undefined;
      const entity = await getEntityOrUndefined(table, id, ROW_KEY, options);
      return entity === undefined ? undefined : recordOf(entity);
    },

    async create(state, options = {}) {
      return { ...state, etag: await createEntityWithEtag(table, entityOf(state), options) };
    },

    async replace(state, etag, options = {}) {
      return { ...state, etag: await replaceEntityIfMatch(table, entityOf(state), etag, `The operation ${state.id} no longer exists.`, options) };
    },

    async deleteExpired({ before, abortSignal }) {
      const finished = odata`RowKey eq ${ROW_KEY} and (status eq ${"Succeeded"} or status eq ${"Failed"}) and updatedAt lt ${before.toISOString()}`;
      return await deleteEntitiesWhere(table, { filter: finished, select: ["partitionKey", "rowKey"] }, () => true, { abortSignal });
    },
  };
}
