/**
 * Table Storage clients for every Portcullis table, built the same way: a connection string on the local stack
 * (Azurite over plain http), or the table endpoint plus a TokenCredential (managed identity) in Azure.
 */
import { z } from "zod";
import { TableClient, type TableEntity, type TableEntityResult, type TableServiceClientOptions } from "@azure/data-tables";
import type { TokenCredential } from "@azure/core-auth";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { Settings } from "../../config.ts";

export type TableSettings = Pick<Settings, "PORTCULLIS_TABLES_ENDPOINT" | "PORTCULLIS_TABLES_CONNECTION_STRING" | "PORTCULLIS_TABLE_PREFIX">;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

/** `{prefix}{suffix}`, e.g. "portcullisrules"; Table Storage allows letters and digits, 3 to 63 long. */
export function tableNameFor(prefix: string, tableSuffix: string): string {
  const name = `${prefix}${tableSuffix}`;
  if (!TABLE_NAME.test(name)) throw new RangeError(`"${name}" is not a valid table name (letters and digits, starting with a letter, 3-63 long)`);
  return name;
}

export interface TableClientForOptions {
  /** Required when the settings give an endpoint rather than a connection string. */
  readonly credential?: TokenCredential;
  readonly clientOptions?: TableServiceClientOptions;
}

/** A client for one Portcullis table. The connection string wins when both are set (local stack). */
export function tableClientFor(settings: TableSettings, tableSuffix: string, options: TableClientForOptions = {}): TableClient {
  const tableName = tableNameFor(settings.PORTCULLIS_TABLE_PREFIX, tableSuffix);
  const connectionString = settings.PORTCULLIS_TABLES_CONNECTION_STRING;
  if (connectionString) {
    const insecure = /(?:^|;)\s*(?:DefaultEndpointsProtocol\s*=\s*http|TableEndpoint\s*=\s*http:)/i.test(connectionString);
    return TableClient.fromConnectionString(connectionString, tableName, { ...options.clientOptions, allowInsecureConnection: insecure });
  }
  const endpoint = settings.PORTCULLIS_TABLES_ENDPOINT;
  if (!endpoint) throw new Error("set PORTCULLIS_TABLES_ENDPOINT or PORTCULLIS_TABLES_CONNECTION_STRING");
  if (!options.credential) throw new Error("a TokenCredential is needed to reach PORTCULLIS_TABLES_ENDPOINT");
  return new TableClient(endpoint, tableName, options.credential, options.clientOptions);
}

/**
 * Runs one storage call: the one place a Table Storage failure becomes a PortcullisError, at the port boundary
 * (the ports promise PortcullisError; callers branch on its kind).
 */
export async function storageCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toPortcullisError(error);
  }
}

/** Walks a listing; a failure on any page becomes a PortcullisError (as storageCall). */
export async function* storageListing<T>(listing: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* listing;
  } catch (error) {
    throw toPortcullisError(error);
  }
}

/** Parses a row (or any stored value) with its schema; one that does not parse is reported with `where`, never guessed at. */
export function parseRow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PortcullisError("internal", `The stored ${where} does not parse: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(value)"}: ${i.message}`).join("; ")}`);
}

/** Parses a JSON column (a string property holding JSON) with its schema; text that is not JSON fails the same way. */
export function parseJsonColumn<S extends z.ZodType>(schema: S, text: unknown, where: string): z.output<S> {
  let json: unknown;
  try {
    json = typeof text === "string" ? JSON.parse(text) : undefined;
  } catch {
    throw new PortcullisError("internal", `The stored ${where} is not valid JSON.`);
  }
  return parseRow(schema, json, where);
}

/** Creates the table if it does not exist (an existing table is fine). Storage errors become PortcullisError. */
export async function ensureTable(client: TableClient, options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
  try {
    await client.createTable(options);
  } catch (error) {
    throw toPortcullisError(error);
  }
}

/** One row as read, with its ETag; shaped by each store's own schema. */
export type EntityRow = TableEntityResult<Record<string, unknown>>;

/** A point read where a missing row is an answer (undefined); any other storage failure becomes PortcullisError. */
export async function getEntityOrUndefined(table: TableClient, partitionKey: string, rowKey: string, options: OperationOptions = {}): Promise<EntityRow | undefined> {
  try {
    return await table.getEntity<Record<string, unknown>>(partitionKey, rowKey, { abortSignal: options.abortSignal });
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "not-found") return undefined;
    throw failure;
  }
}

/** Table Storage answers every successful write with an ETag; a write without one cannot be followed up conditionally. */
function etagOfWrite(etag: string | undefined): string {
  if (etag === undefined) throw new PortcullisError("internal", "Table Storage returned no ETag for a write.");
  return etag;
}

/** Inserts a new row and returns its ETag; an existing row is a conflict PortcullisError. */
export async function createEntityWithEtag(table: TableClient, entity: TableEntity<Record<string, unknown>>, options: OperationOptions = {}): Promise<string> {
  try {
    return etagOfWrite((await table.createEntity(entity, { abortSignal: options.abortSignal })).etag);
  } catch (error) {
    throw toPortcullisError(error);
  }
}

/**
 * Replaces a row only if it still has `etag` and returns the new ETag. A row that is gone was released or replaced
 * by someone else, so it fails as precondition-failed (with `goneMessage`) just like a changed ETag.
 */
export async function replaceEntityIfMatch(
  table: TableClient,
  entity: TableEntity<Record<string, unknown>>,
  etag: string,
  goneMessage: string,
  options: OperationOptions = {},
): Promise<string> {
  try {
    return etagOfWrite((await table.updateEntity(entity, "Replace", { etag, abortSignal: options.abortSignal })).etag);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "not-found") throw new PortcullisError("precondition-failed", goneMessage, { statusCode: 404, cause: error });
    throw failure;
  }
}

/** Options of deleteEntitiesWhere. */
export interface DeleteEntitiesWhereOptions extends OperationOptions {
  /** At most this many deletes run at once (default 8). */
  readonly concurrency?: number;
}

/**
 * Deletes the rows an OData `filter` selects and `shouldDelete` accepts (only `select`ed columns are read), each
 * with If-Match on the ETag it was read with, so a row rewritten meanwhile is kept; returns how many it deleted.
 * Meant for tables with one row per partition, where a batch transaction cannot span rows: single deletes, a
 * bounded number at once, one page of the query at a time.
 */
export async function deleteEntitiesWhere(
  table: TableClient,
  query: { readonly filter: string; readonly select: readonly string[] },
  shouldDelete: (row: EntityRow) => boolean,
  options: DeleteEntitiesWhereOptions = {},
): Promise<number> {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  let deleted = 0;
  try {
    const pages = table
      .listEntities<Record<string, unknown>>({ queryOptions: { filter: query.filter, select: [...query.select] }, abortSignal: options.abortSignal })
      .byPage({ maxPageSize: 1000 });
    for await (const page of pages) {
      const rows = page.filter(shouldDelete);
      let next = 0;
      let failed = false;
      const worker = async (): Promise<void> => {
        while (!failed && next < rows.length) {
          const row = rows[next++]!;
          try {
            if (await deleteEntityIfUnchanged(table, row, options)) deleted++;
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
    }
  } catch (error) {
    throw toPortcullisError(error);
  }
  return deleted;
}

/** Deletes one row if it still has the ETag it was read with; false when it changed or is already gone. */
async function deleteEntityIfUnchanged(table: TableClient, row: EntityRow, options: OperationOptions): Promise<boolean> {
  if (row.partitionKey === undefined || row.rowKey === undefined) throw new PortcullisError("internal", "A queried row came back without its keys.");
  try {
    await table.deleteEntity(row.partitionKey, row.rowKey, { etag: row.etag, abortSignal: options.abortSignal });
    return true;
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "not-found" || failure.kind === "precondition-failed") return false;
    throw failure;
  }
}
