/**
 * ClaimStore on Azure Table Storage: table `{prefix}claims`, one row per connection and private endpoint, every
 * write conditional (the exactly-once guard, see src/domain/decisions/decision-claim.ts).
 *
 *   PartitionKey               RowKey                                 Columns
 *   {key(connectionId)}        {key(privateEndpointId)} or "-"        connectionId, privateEndpointId, endpointKey,
 *                                                                      resourceId, lease (JSON), recordedStatus,
 *                                                                      marks (JSON), retryNotBefore, updatedAt
 *
 * - create = insert (Table Storage answers 409 if the row exists: conflict); replace = update with If-Match
 *   (412 when the ETag changed, 404 when the row is gone: both precondition-failed).
 * - get: point read; listByConnection: one partition; listByPrivateEndpoint filters on `endpointKey`, a scan of
 *   the table (one row per connection ever seen: small), used only when an endpoint is deleted.
 * - `key(id)`: resourceTableKey (decision-log.ts): lower-cased ARM ID, `/` as `|`, forbidden characters escaped.
 */
import { odata, type TableClient, type TableEntityResult } from "@azure/data-tables";
import { z } from "zod";
import { claimIntentSchema, claimKeyString, type ClaimKey, type ClaimState, type ConnectionClaim } from "../../domain/decisions/decision-claim.ts";
import { withLegacyResourceId } from "../../domain/decisions/decision.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { ClaimStore } from "../../ports/claim-store.ts";
import { resourceTableKey } from "./decision-log.ts";
import { createEntityWithEtag, ensureTable, getEntityOrUndefined, parseJsonColumn, parseRow, replaceEntityIfMatch, storageListing } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}claims`. */
export const CLAIMS_TABLE_SUFFIX = "claims";

const NO_ENDPOINT = "-";

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const optionalText = z.string().optional();
const status = z.enum(["Pending", "Approved", "Rejected", "Deleted"]);

const leaseSchema = z.object({ owner: z.string().min(1), startedAt: isoDate, expiresAt: isoDate, intent: claimIntentSchema, operation: z.string().min(1).optional() });

// Rows written before the multi-provider change carry the owning resource as `serviceId`.
const rowSchema = z.preprocess(withLegacyResourceId, z.object({
  etag: z.string().min(1),
  connectionId: z.string().min(1),
  privateEndpointId: optionalText,
  resourceId: z.string().min(1),
  lease: z.string().optional(),
  recordedStatus: status.optional(),
  marks: z.string(),
  retryNotBefore: isoDate.optional(),
  updatedAt: isoDate,
}));

function partitionKeyOf(connectionId: string): string {
  return resourceTableKey(connectionId);
}

function rowKeyOf(privateEndpointId: string | undefined): string {
  return privateEndpointId === undefined ? NO_ENDPOINT : resourceTableKey(privateEndpointId);
}

function entityOf(state: ClaimState): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: partitionKeyOf(state.connectionId),
    rowKey: rowKeyOf(state.privateEndpointId),
    connectionId: state.connectionId,
    ...(state.privateEndpointId !== undefined ? { privateEndpointId: state.privateEndpointId, endpointKey: rowKeyOf(state.privateEndpointId) } : {}),
    resourceId: state.resourceId,
    // Explanations are not needed to recover a decision's record and can be long; keep the row small.
    ...(state.lease !== undefined ? { lease: JSON.stringify({ ...state.lease, intent: { ...state.lease.intent, explanation: state.lease.intent.explanation.slice(0, 20) } }) } : {}),
    ...(state.recordedStatus !== undefined ? { recordedStatus: state.recordedStatus } : {}),
    marks: JSON.stringify(state.marks),
    ...(state.retryNotBefore !== undefined ? { retryNotBefore: state.retryNotBefore.toISOString() } : {}),
    updatedAt: state.updatedAt.toISOString(),
  };
}

function claimOf(entity: TableEntityResult<Record<string, unknown>>): ConnectionClaim {
  const where = `claim ${entity.partitionKey}/${entity.rowKey}`;
  const row = parseRow(rowSchema, entity, where);
  return {
    etag: row.etag,
    connectionId: row.connectionId,
    privateEndpointId: row.privateEndpointId,
    resourceId: row.resourceId,
    lease: row.lease === undefined ? undefined : parseJsonColumn(leaseSchema, row.lease, `the lease of ${where}`),
    recordedStatus: row.recordedStatus,
    marks: parseJsonColumn(z.array(z.string()), row.marks, `the marks of ${where}`),
    retryNotBefore: row.retryNotBefore,
    updatedAt: row.updatedAt,
  };
}

/** Creates the claims table if missing (start-up / first use). */
export async function ensureClaimTable(table: TableClient, options: OperationOptions = {}): Promise<void> {
  await ensureTable(table, options);
}

/** The Table Storage claim store over the `{prefix}claims` table (see the key layout above). */
export function createTableClaimStore(table: TableClient): ClaimStore {
  async function getClaim(key: ClaimKey, options: OperationOptions): Promise<ConnectionClaim | undefined> {
    const entity = await getEntityOrUndefined(table, partitionKeyOf(key.connectionId), rowKeyOf(key.privateEndpointId), options);
    return entity === undefined ? undefined : claimOf(entity);
  }

  async function* list(filter: string, options: OperationOptions): AsyncIterable<ConnectionClaim> {
    for await (const entity of storageListing(table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal }))) {
      yield claimOf(entity);
    }
  }

  return {
    get: (key, options = {}) => getClaim(key, options),

    async create(state, options = {}) {
      return { ...state, etag: await createEntityWithEtag(table, entityOf(state), options) };
    },

    async replace(state, etag, options = {}) {
      return { ...state, etag: await replaceEntityIfMatch(table, entityOf(state), etag, `The claim ${claimKeyString(state)} no longer exists.`, options) };
    },

    listByConnection: (connectionId, options = {}) => list(odata`PartitionKey eq ${partitionKeyOf(connectionId)}`, options),

    listByPrivateEndpoint: (privateEndpointId, options = {}) => list(odata`endpointKey eq ${rowKeyOf(privateEndpointId)}`, options),
  };
}
