/**
 * The HTTP API on the local stack, for its end-to-end tests and benchmark: the local OpenID issuer (real RS256
 * tokens over HTTPS), in-process Azurite, the HTTPS ARM emulator, the production composition over them, and the
 * local Functions host serving the API's HTTP triggers. Nothing is mocked: requests go over HTTP to the host, the
 * app validates tokens against the issuer's JWKS, and the real adapters talk to ARM and Table Storage.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { ArmEmulator, TopologyInput } from "../../dev/arm-emulator/index.ts";
import { startFunctionsHost, type LocalFunctionsHost } from "../../dev/functions-host/index.ts";
import { startOidcIssuer, type MintTokenOptions, type OidcIssuer } from "../../dev/oidc-issuer/index.ts";
import type { CompositionOptions } from "../../src/composition.ts";
import { createApiFunctions } from "../../src/functions/api.ts";
import { health } from "../../src/functions/health.ts";
import type { ApiRole } from "../../src/http/auth.ts";
import { APIM_RG, CONSUMER_SUB, engineTopology, PARTNER_SUB, PROVIDER_SUB, resourceIdOf, startEngineStack, type EngineStack, type PendingSeed } from "./engine-stack.ts";

export { CONSUMER_SUB, PARTNER_SUB, PROVIDER_SUB, resourceIdOf };

export const AUDIENCE = "api://portcullis-api-tests";
export const TICKET = "CHG0001234";

/** A private endpoint seeded with a connection to an instance (Azure names it `{endpoint}.{GUID}`). */
export type SeededEndpoint = PendingSeed;

/** The API path of a connection: `/api/instances/{sub}/{rg}/{service}/connections/{name}`. */
export const connectionPathFor = (instance: string, connectionName: string) => `/api/instances/${PROVIDER_SUB}/${APIM_RG}/${instance}/connections/${connectionName}`;

/** Instances in the provider subscription; consumer and partner subscriptions hold the endpoints. */
export function apiTopology(instances: readonly string[], endpoints: readonly SeededEndpoint[]): TopologyInput {
  return engineTopology(
    instances,
    endpoints.map((e) => ({ ...e, requestMessage: e.requestMessage ?? `Please connect ${e.name}` })),
  );
}

export interface ApiStackOptions {
  readonly topology: TopologyInput;
  /** Instances the app manages (explicit IDs); the others exist but are unmanaged. */
  readonly managedInstances: readonly string[];
  readonly settings?: Readonly<Record<string, string>>;
  readonly composition?: CompositionOptions;
  /** Emulator long-running operation duration (default 20 ms). */
  readonly lroDelayMs?: number;
}

export interface ApiReply {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON body (undefined when empty). */
  readonly body: any;
}

export interface RequestOptions {
  readonly token?: string;
  /** Sent as JSON with Content-Type: application/json. */
  readonly json?: unknown;
  /** Sent as is (with whatever headers are given). */
  readonly rawBody?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
}

export interface ApiStack {
  readonly engine: EngineStack;
  readonly emulator: ArmEmulator;
  readonly issuer: OidcIssuer;
  readonly host: LocalFunctionsHost;
  /** Log lines of the host (invocations, warnings). */
  readonly lines: string[];
  /** The ARM ID of the connection a seeded endpoint made on an instance. */
  connectionId(instance: string, endpointName: string): string;
  /** Its API path (`/api/instances/.../connections/{name}`). */
  connectionPath(instance: string, endpointName: string): string;
  /** A token with these roles; the object ID is derived from the roles unless given. */
  token(roles: readonly ApiRole[], options?: MintTokenOptions): Promise<string>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiReply>;
  /** ARM writes the emulator answered (any method but GET). */
  armWrites(): number;
  /** Table Storage writes to anything but the idempotency table (entities, batches); table creation excluded. */
  storageWrites(): number;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE", "MERGE"]);

/** Counts Table Storage writes that change Portcullis state (everything but idempotency records and table creation). */
function storageWriteCounter(idempotencyTable: string): { policy: PipelinePolicy; count: () => number } {
  let writes = 0;
  return {
    count: () => writes,
    policy: {
      name: "portcullis-test-storage-write-counter",
      async sendRequest(request, next) {
        const path = new URL(request.url).pathname;
        const table = path.split("/")[2]?.replace(/\(.*$/, "") ?? "";
        const response = await next(request);
        if (WRITE_METHODS.has(request.method) && table !== "Tables" && table.toLowerCase() !== idempotencyTable.toLowerCase() && response.status < 300) writes += 1;
        return response;
      },
    },
  };
}

let stacks = 0;

/** Starts the issuer, Azurite, the emulator and the host with the API's functions over the production composition. */
export async function startApiStack(options: ApiStackOptions): Promise<ApiStack> {
  const issuer = await startOidcIssuer({ audience: AUDIENCE });
  const dir = mkdtempSync(join(tmpdir(), "portcullis-api-"));
  const caFile = join(dir, "oidc-ca.pem");
  writeFileSync(caFile, issuer.caPem);
  const tablePrefix = `api${++stacks}x${process.pid}`;
  const counter = storageWriteCounter(`${tablePrefix}idempotency`);
  const engine = await startEngineStack({
    topology: options.topology,
    emulator: { lroDelayMs: options.lroDelayMs ?? 20 },
    tablePrefix,
    settings: {
      PORTCULLIS_MANAGED_SUBSCRIPTIONS: "",
      PORTCULLIS_MANAGED_INSTANCES: options.managedInstances.map(resourceIdOf).join(","),
      PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: "",
      PORTCULLIS_AUTH_ISSUER: issuer.issuer,
      PORTCULLIS_AUTH_AUDIENCE: AUDIENCE,
      PORTCULLIS_AUTH_CA_FILE: caFile,
      PORTCULLIS_APPROVAL_WAIT_MS: "5000",
      ...options.settings,
    },
    composition: {
      armPollIntervalInMs: 20,
      engineTimings: { firstPollDelayInMs: 0 },
      ...options.composition,
      tableClientOptions: {
        ...options.composition?.tableClientOptions,
        additionalPolicies: [...(options.composition?.tableClientOptions?.additionalPolicies ?? []), { policy: counter.policy, position: "perCall" }],
      },
    },
  });
  const lines: string[] = [];
  const host = await startFunctionsHost({
    definitions: [health, ...createApiFunctions(() => engine.composition)],
    timers: false,
    log: (line) => lines.push(line),
  });
  const snapshot = engine.emulator.snapshot() as { apimServices: { name: string; connections: { id: string; name: string; privateEndpointId: string }[] }[] };
  const connectionOf = (instance: string, endpointName: string) => {
    const found = snapshot.apimServices
      .find((s) => s.name === instance)
      ?.connections.find((c) => c.privateEndpointId.toLowerCase().endsWith(`/privateendpoints/${endpointName.toLowerCase()}`));
    if (found === undefined) throw new Error(`no connection from endpoint ${endpointName} on ${instance}`);
    return found;
  };
  return {
    engine,
    emulator: engine.emulator,
    connectionId: (instance, endpointName) => connectionOf(instance, endpointName).id,
    connectionPath: (instance, endpointName) => connectionPathFor(instance, connectionOf(instance, endpointName).name),
    issuer,
    host,
    lines,
    token: (roles, mint = {}) =>
      issuer.mintToken({ roles, oid: `00000000-0000-4000-8000-${String(roles.length).padStart(12, "0")}`, name: `Tester ${roles.join("+") || "without roles"}`, appid: "api-tests", ...mint }),
    async request(method, path, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      if (request.token !== undefined) headers["authorization"] = `Bearer ${request.token}`;
      if (request.idempotencyKey !== undefined) headers["idempotency-key"] = request.idempotencyKey;
      let body: string | Uint8Array | undefined = request.rawBody;
      if (request.json !== undefined) {
        body = JSON.stringify(request.json);
        headers["content-type"] ??= "application/json";
      }
      const response = await fetch(`${host.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text.length === 0 ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
    armWrites: () => engine.emulator.requests().filter((r) => r.method !== "GET").length,
    storageWrites: counter.count,
    async close() {
      await host.close();
      await engine.close();
      await issuer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
