/**
 * Starts Azurite's Table service in this process, in memory, on a free loopback port, for tests and
 * `npm start`. Dev-only: never imported by src/.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface LocalTableStorage {
  /** e.g. http://127.0.0.1:51234/devstoreaccount1 */
  readonly tableEndpoint: string;
  readonly connectionString: string;
  readonly port: number;
  /** Stops the server and drops its in-memory data. */
  close(): Promise<void>;
}

interface AzuriteTableServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}

export interface StartAzuriteOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

/** Starts an in-memory Azurite Table service on 127.0.0.1. */
export async function startAzuriteTables(options: StartAzuriteOptions = {}): Promise<LocalTableStorage> {
  // Import the table modules directly: azurite's package entry also loads its VS Code extension.
  const TableServer = (require("azurite/dist/src/table/TableServer.js") as { default: new (config: unknown) => AzuriteTableServer }).default;
  const TableConfiguration = (require("azurite/dist/src/table/TableConfiguration.js") as { default: new (...args: unknown[]) => unknown }).default;
  // Positional arguments of TableConfiguration (azurite 3.37): host, port, keepAliveTimeout, metadataDBPath,
  // enableDebugLog, enableAccessLog, accessLogWriteStream, debugLogFilePath, loose, skipApiVersionCheck,
  // cert, key, pwd, oauth, disableProductStyleUrl, isMemoryPersistence.
  const config = new TableConfiguration(
    "127.0.0.1", options.port ?? 0, undefined, undefined, false, false, undefined, undefined,
    false, false, "", "", "", undefined, false, true,
  );
  const server = new TableServer(config);
  await server.start();
  const address = server.getHttpServerAddress(); // "http://127.0.0.1:PORT"
  const port = Number(new URL(address).port);
  const tableEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};`;
  let closed = false;
  return {
    tableEndpoint,
    connectionString,
    port,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await server.clean();
    },
  };
}
