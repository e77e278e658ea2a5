/**
 * ClaimStore on Azure Table Storage: table `{prefix}claims`, one row per connection and private endpoint, every
 * write conditional (the exactly-once guard, see src/domain/decisions/decision-claim.ts).
 *
 *   PartitionKey               RowKey                                 Columns
 *   {key(connectionId)}        {key(privateEndpointId)} or "-"        connectionId, privateEndpointId, endpointKey,
 *                                                                      serviceId, lease (JSON), recordedStatus,
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
import { claimKeyString, type ClaimKey, type ClaimState, type ConnectionClaim } from "../../domain/decisions/decision-claim.ts";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { ClaimStore } from "../../ports/claim-store.ts";
import { resourceTableKey } from "./decision-log.ts";
import { createEntityWithEtag, ensureTable, getEntityOrUndefined, replaceEntityIfMatch } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}claims`. */
export const CLAIMS_TABLE_SUFFIX = "claims";

const NO_ENDPOINT = "-";

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const optionalText = z.string().optional();
const status = z.enum(["Pending", "Approved", "Rejected", "Deleted"]);

const intentSchema = z.object({
  action: z.enum(["approve", "reject", "manual", "revoke", "delete"]),
  mode: z.enum(["enforce", "audit", "dry-run"]),
  actor: z.string(),
  actorName: optionalText,
  actorAppId: optionalText,
  ruleId: optionalText,
  ruleVersion: z.number().int().optional(),
  ticket: optionalText,
  requestedBy: optionalText,
  reason: z.string(),
  explanation: z.array(z.string()),
  targetStatus: z.enum(["Approved", "Rejected"]).optional(),
  description: optionalText,
  statusBefore: status.optional(),
  requesterSubscriptionId: optionalText,
  requesterTenantId: optionalText,
  triggeringEventIds: z.array(z.string()),
  correlationId: z.string(),
});

const leaseSchema = z.object({ owner: z.string().min(1), startedAt: isoDate, expiresAt: isoDate, intent: intentSchema, operation: z.string().min(1).optional() });

const rowSchema = z.object({
  etag: z.string().min(1),
  connectionId: z.string().min(1),
  privateEndpointId: optionalText,
  serviceId: z.string().min(1),
  lease: z.string().optional(),
  recordedStatus: status.optional(),
  marks: z.string(),
  retryNotBefore: isoDate.optional(),
  updatedAt: isoDate,
});

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
    serviceId: state.serviceId,
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
  const row = rowSchema.safeParse(entity);
  if (!row.success) throw new PortcullisError("internal", `The ${where} does not parse: ${row.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const r = row.data;
  const lease = r.lease === undefined ? undefined : leaseSchema.safeParse(parseJson(r.lease));
  if (lease !== undefined && !lease.success) throw new PortcullisError("internal", `The lease of ${where} does not parse.`);
  const marks = z.array(z.string()).safeParse(parseJson(r.marks));
  if (!marks.success) throw new PortcullisError("internal", `The marks of ${where} do not parse.`);
  return {
    etag: r.etag,
    connectionId: r.connectionId,
    privateEndpointId: r.privateEndpointId,
    serviceId: r.serviceId,
    lease:
      lease === undefined
        ? undefined
        : {
            ...lease.data,
            intent: {
              ...lease.data.intent,
              actorName: lease.data.intent.actorName,
              actorAppId: lease.data.intent.actorAppId,
              ruleId: lease.data.intent.ruleId,
              ruleVersion: lease.data.intent.ruleVersion,
              ticket: lease.data.intent.ticket,
              requestedBy: lease.data.intent.requestedBy,
              targetStatus: lease.data.intent.targetStatus,
              description: lease.data.intent.description,
              statusBefore: lease.data.intent.statusBefore,
              requesterSubscriptionId: lease.data.intent.requesterSubscriptionId,
              requesterTenantId: lease.data.intent.requesterTenantId,
            },
          },
    recordedStatus: r.recordedStatus,
    marks: marks.data,
    retryNotBefore: r.retryNotBefore,
    updatedAt: r.updatedAt,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
    try {
      for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal })) {
        yield claimOf(entity);
      }
    } catch (error) {
      throw toPortcullisError(error);
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
