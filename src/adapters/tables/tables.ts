/**
 * Table Storage clients for every Portcullis table, built the same way: a connection string on the local stack
 * (Azurite over plain http), or the table endpoint plus a TokenCredential (managed identity) in Azure.
 */
import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import type { TokenCredential } from "@azure/core-auth";
import { toPortcullisError } from "../../domain/errors.ts";
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

/** Creates the table if it does not exist (an existing table is fine). Storage errors become PortcullisError. */
export async function ensureTable(client: TableClient, options: { readonly abortSignal?: AbortSignal } = {}): Promise<void> {
  try {
    await client.createTable(options);
  } catch (error) {
    throw toPortcullisError(error);
  }
}
