/**
 * The inventory over Azure Resource Graph (`@azure/arm-resourcegraph`): one paged query answers "every Pending
 * connection on the governed types across these subscriptions / management groups", and a few more the audit's
 * services, endpoints and NICs. Results are candidates only (src/ports/inventory.ts): callers re-read from ARM.
 *
 * Facts this follows (the emulator's dev/arm-emulator/resource-graph/service.ts cites the same sources):
 * - `POST /providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01` with {subscriptions | managementGroups,
 *   query, options {$top (<= 1000), $skipToken, resultFormat}} (azure-rest-api-specs resourcegraph stable/2024-04-01/
 *   resourcegraph.json). A next page repeats the same query and scopes with `$skipToken`.
 * - Throttling (Learn, "Guidance for throttled requests in Azure Resource Graph"): a per-user quota per time window;
 *   every answer carries `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (hh:mm:ss); a 429 means wait
 *   until the reset. This adapter waits proactively when the quota reaches 0 and, on a 429, until the reset (or an
 *   exponential 1 s, 2 s, ... when the header is missing), at most `maxThrottleWaits` times, then fails transient.
 * - Permissions: Resource Graph returns only resources the caller may read (Learn, "Overview of Azure Resource Graph",
 *   Permissions); rows the app cannot read are absent, never an error: absence is never evidence of safety.
 * - `mv-expand` expands 128 rows per resource unless told `limit N` (MicrosoftDocs/azure-docs#82030); Microsoft's own
 *   queries use 1000 (microsoft/AzureMonitorCommunity#269), which covers every documented connection limit of the
 *   registered types (APIM: 100). A resource with more connections would show only its first 1000 here.
 *
 * The KQL is written once, in INVENTORY_QUERIES below; values are quoted with KQL's string escaping.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy, PipelineRetryOptions } from "@azure/core-rest-pipeline";
import type { QueryRequest, QueryResponse, ResourceGraphClient } from "@azure/arm-resourcegraph";
import { setTimeout as sleepFor } from "node:timers/promises";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { providerOf } from "../../domain/providers/registry.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { ConnectionCandidate, InventoryOptions, InventoryPort, InventoryResource, InventoryScope } from "../../ports/inventory.ts";
import { armScope } from "./clients.ts";
import { connectionFromWire, inventoryResourceFromRow, networkInterfaceFromRow, privateEndpointFromRow, registryType } from "./inventory-rows.ts";
import type { NetworkInterface, PrivateEndpoint, PrivateEndpointConnection } from "../../domain/model.ts";

/**
 * Registered types whose resource GET (what Resource Graph indexes) carries no `properties.privateEndpointConnections`,
 * so their connections are listed from ARM per resource: App Service (WebApps.json: SiteProperties has no such
 * member; the emulator's profile says the same). Every other registered type embeds them (e.g. APIM's
 * ApiManagementServiceBaseProperties, Storage's StorageAccountProperties, Key Vault's VaultProperties, Service Bus's
 * SBNamespaceProperties).
 */
export const CONNECTIONS_NOT_IN_RESOURCE_BODY: readonly string[] = ["Microsoft.Web/sites"];

/** Resource Graph's largest page ($top maximum, resourcegraph.json). */
export const RESOURCE_GRAPH_MAX_PAGE = 1000;
/** Rows mv-expand may make from one resource in our queries. */
export const CONNECTIONS_PER_RESOURCE_LIMIT = 1000;

/** KQL string literal: single-quoted, backslash escapes (Kusto "string data type"). */
export function kqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

const list = (values: readonly string[]) => `(${values.map(kqlString).join(", ")})`;

/** Every query the app sends to Resource Graph. Types are lower-cased because Resource Graph stores them so. */
export const INVENTORY_QUERIES = {
  pendingConnections: (resourceTypes: readonly string[]) =>
    [
      "resources",
      `| where type in~ ${list(resourceTypes.map((t) => t.toLowerCase()))}`,
      `| mv-expand limit ${CONNECTIONS_PER_RESOURCE_LIMIT} connection = properties.privateEndpointConnections`,
      "| where tostring(connection.properties.privateLinkServiceConnectionState.status) =~ 'Pending'",
      "| project id, type, subscriptionId, connection",
      "| order by id asc",
    ].join("\n"),
  resources: (resourceTypes: readonly string[]) =>
    [
      "resources",
      `| where type in~ ${list(resourceTypes.map((t) => t.toLowerCase()))}`,
      "| project id, name, type, location, subscriptionId, sku, properties",
      "| order by id asc",
    ].join("\n"),
  byIds: (resourceType: string, ids: readonly string[]) =>
    [
      "resources",
      `| where type =~ ${kqlString(resourceType.toLowerCase())} and id in~ ${list(ids)}`,
      "| project id, name, type, location, subscriptionId, properties",
      "| order by id asc",
    ].join("\n"),
} as const;

export interface ResourceGraphInventoryOptions {
  /** ARM base URL (Resource Graph is served by ARM): https://management.azure.com or the emulator's URL. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  readonly caPem?: string | undefined;
  /** The SDK's own retries (5xx, dropped connections); 429s are this adapter's, on the quota headers. */
  readonly retryOptions?: PipelineRetryOptions;
  readonly userAgentPrefix?: string;
  /** Added per retry to the client's pipeline (the ARM call counter). */
  readonly perRetryPolicies?: readonly PipelinePolicy[];
  /** Rows per page ($top), 1..1000 (default 1000). */
  readonly pageSize?: number;
  /** IDs per endpoint / NIC lookup query (default 100). */
  readonly idsPerQuery?: number;
  /** How many 429s one query may wait out before it fails transient (default 8). */
  readonly maxThrottleWaits?: number;
  /** Longest single wait (default 60 s). */
  readonly maxWaitMs?: number;
  /** For tests: how the adapter waits. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Types whose resource body (what Resource Graph indexes) does not carry `properties.privateEndpointConnections`:
   * their resources come from Resource Graph, their connections from ARM (one list per resource). Which registered
   * types need it is not settled (see docs/inventory.md); without this, such a type would show no connections.
   */
  readonly connectionsFromArm?: {
    readonly resourceTypes: readonly string[];
    readonly listConnections: (resourceId: string, options?: OperationOptions) => AsyncIterable<PrivateEndpointConnection>;
  };
}

/** What one adapter has waited and been refused (for benches and reports). */
export interface ResourceGraphStats {
  queries: number;
  throttled: number;
  waitedMs: number;
}

export interface ResourceGraphInventory extends InventoryPort {
  stats(): ResourceGraphStats;
}

/** hh:mm:ss (or d.hh:mm:ss) -> milliseconds; undefined when absent or malformed. */
export function parseResetsAfter(value: string | undefined | null): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value?.trim() ?? "");
  if (!m) return undefined;
  const [, days, h, min, s, frac] = m;
  const seconds = Number(days ?? 0) * 86400 + Number(h) * 3600 + Number(min) * 60 + Number(s) + (frac ? Number(`0.${frac}`) : 0);
  return Math.round(seconds * 1000);
}

export function createResourceGraphInventory(options: ResourceGraphInventoryOptions): ResourceGraphInventory {
  const pageSize = Math.min(RESOURCE_GRAPH_MAX_PAGE, Math.max(1, options.pageSize ?? RESOURCE_GRAPH_MAX_PAGE));
  const idsPerQuery = Math.max(1, options.idsPerQuery ?? 100);
  const maxThrottleWaits = options.maxThrottleWaits ?? 8;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, signal === undefined ? {} : { signal }));
  const stats: ResourceGraphStats = { queries: 0, throttled: 0, waitedMs: 0 };
  /** Earliest time (Date.now) the next query may go out: shared by every query of this adapter. */
  let notBefore = 0;

  let client: Promise<ResourceGraphClient> | undefined;
  const clientOf = () =>
    (client ??= import("@azure/arm-resourcegraph").then(
      ({ ResourceGraphClient }) =>
        new ResourceGraphClient(options.credential, {
          endpoint: options.endpoint.replace(/\/+$/, ""),
          credentials: { scopes: [armScope(options.endpoint)] },
          ...(options.retryOptions === undefined ? {} : { retryOptions: options.retryOptions }),
          userAgentOptions: { userAgentPrefix: options.userAgentPrefix ?? "portcullis" },
          additionalPolicies: (options.perRetryPolicies ?? []).map((policy) => ({ policy, position: "perRetry" as const })),
          ...(options.caPem !== undefined ? { tlsOptions: { ca: options.caPem } } : {}),
        }),
    ));

  const wait = async (ms: number, signal: AbortSignal | undefined) => {
    const bounded = Math.min(maxWaitMs, Math.max(0, ms));
    if (bounded === 0) return;
    stats.waitedMs += bounded;
    await sleep(bounded, signal);
  };

  /** One page, waiting out the quota: proactively at 0 remaining, and on 429 until the reset. */
  async function queryPage(request: QueryRequest, opts: OperationOptions | undefined): Promise<QueryResponse> {
    for (let attempt = 0; ; attempt += 1) {
      await wait(notBefore - Date.now(), opts?.abortSignal);
      let remaining: number | undefined;
      let resetsAfterMs: number | undefined;
      try {
        stats.queries += 1;
        const response = await (await clientOf()).resources(request, {
          ...(opts?.abortSignal === undefined ? {} : { abortSignal: opts.abortSignal }),
          onResponse: (raw) => {
            const left = Number.parseInt(raw.headers.get("x-ms-user-quota-remaining") ?? "", 10);
            remaining = Number.isFinite(left) ? left : undefined;
            resetsAfterMs = parseResetsAfter(raw.headers.get("x-ms-user-quota-resets-after"));
          },
        });
        if (remaining === 0 && resetsAfterMs !== undefined) notBefore = Math.max(notBefore, Date.now() + resetsAfterMs);
        return response;
      } catch (error) {
        const failure = toPortcullisError(error);
        if (failure.statusCode !== 429) throw failure;
        stats.throttled += 1;
        const backOff = resetsAfterMs ?? (failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : 1000 * 2 ** attempt);
        if (attempt >= maxThrottleWaits) {
          throw new PortcullisError("transient", `Resource Graph kept throttling the query (${attempt + 1} answers 429); try again later.`, {
            code: failure.code ?? "RateLimiting",
            statusCode: 429,
            retryAfterSeconds: Math.ceil(backOff / 1000),
            cause: failure,
          });
        }
        notBefore = Math.max(notBefore, Date.now() + backOff);
      }
    }
  }

  /** Every row of a query over the scope, page by page (subscriptions in chunks of 1000 per request). */
  async function* rows(query: string, scope: InventoryScope | undefined, opts: OperationOptions | undefined): AsyncGenerator<unknown> {
    for (const scopePart of scopeParts(scope)) {
      let skipToken: string | undefined;
      do {
        const response = await queryPage(
          { ...scopePart, query, options: { top: pageSize, resultFormat: "objectArray", ...(skipToken === undefined ? {} : { skipToken }) } },
          opts,
        );
        if (!Array.isArray(response.data)) {
          throw new PortcullisError("internal", "Resource Graph answered without a row array; Portcullis will not act on it.", { code: "InvalidArmResponse" });
        }
        yield* response.data;
        skipToken = response.skipToken;
      } while (skipToken !== undefined && skipToken !== "");
    }
  }

  const governedTypes = (resourceTypes: readonly string[]) => {
    if (resourceTypes.length === 0) return [];
    for (const type of resourceTypes) {
      if (providerOf(type) === undefined) throw new PortcullisError("invalid-input", `${type} is not a registered Private Link provider.`, { code: "UnregisteredResourceType" });
    }
    return resourceTypes;
  };

  const armConnectionTypes = new Set((options.connectionsFromArm?.resourceTypes ?? []).map((t) => t.toLowerCase()));
  const splitTypes = (types: readonly string[]) => ({
    inBody: types.filter((t) => !armConnectionTypes.has(t.toLowerCase())),
    fromArm: types.filter((t) => armConnectionTypes.has(t.toLowerCase())),
  });

  /** Resources of these types from Resource Graph, each with its connections listed from ARM. */
  async function* resourcesWithArmConnections(scope: InventoryScope, types: readonly string[], opts: InventoryOptions | undefined): AsyncGenerator<InventoryResource> {
    const lister = options.connectionsFromArm;
    if (types.length === 0 || lister === undefined) return;
    for await (const row of rows(INVENTORY_QUERIES.resources(types), scope, opts)) {
      const item = parsed(row, inventoryResourceFromRow, opts);
      if (item === undefined) continue;
      const connections: PrivateEndpointConnection[] = [];
      for await (const c of lister.listConnections(item.resource.id, opts)) connections.push(c);
      yield { ...item, connections };
    }
  }

  /**
   * Converts one row; a row that does not parse goes to `onUnreadableRow` (and undefined comes back) when the caller
   * gave one, else its InvalidArmResponse ends the listing.
   */
  function parsed<T>(raw: unknown, convert: (row: unknown) => T, opts: InventoryOptions | undefined): T | undefined {
    try {
      return convert(raw);
    } catch (error) {
      const failure = toPortcullisError(error);
      if (opts?.onUnreadableRow === undefined || failure.code !== "InvalidArmResponse") throw failure;
      const id = (raw as { id?: unknown } | null)?.id;
      opts.onUnreadableRow({ resourceId: typeof id === "string" ? id : undefined, error: failure });
      return undefined;
    }
  }

  async function* byIds<T>(resourceType: string, ids: readonly string[], convert: (row: unknown) => T, opts: OperationOptions | undefined): AsyncGenerator<T> {
    const unique = [...new Map(ids.map((id) => [id.toLowerCase(), id])).values()];
    for (let i = 0; i < unique.length; i += idsPerQuery) {
      // No scopes: "against all access granted in the tenant": consumer endpoints live in any subscription.
      for await (const row of rows(INVENTORY_QUERIES.byIds(resourceType, unique.slice(i, i + idsPerQuery)), undefined, opts)) yield convert(row);
    }
  }

  return {
    source: "resource-graph",
    stats: () => ({ ...stats }),

    async *pendingConnections(scope, resourceTypes, opts) {
      const { inBody, fromArm } = splitTypes(governedTypes(resourceTypes));
      for await (const item of resourcesWithArmConnections(scope, fromArm, opts)) {
        for (const connection of item.connections) {
          if (connection.status === "Pending") yield { connection, resourceType: item.resource.type, subscriptionId: item.subscriptionId };
        }
      }
      if (inBody.length === 0) return;
      for await (const raw of rows(INVENTORY_QUERIES.pendingConnections(inBody), scope, opts)) {
        const candidate = parsed(raw, candidateFromRow, opts);
        // The query filters on Pending; a row that says otherwise is not a candidate (fail closed on a surprise).
        if (candidate?.connection.status === "Pending") yield candidate;
      }
    },

    async *resources(scope, resourceTypes, opts): AsyncGenerator<InventoryResource> {
      const { inBody, fromArm } = splitTypes(governedTypes(resourceTypes));
      if (inBody.length > 0) {
        for await (const row of rows(INVENTORY_QUERIES.resources(inBody), scope, opts)) {
          const item = parsed(row, inventoryResourceFromRow, opts);
          if (item !== undefined) yield item;
        }
      }
      yield* resourcesWithArmConnections(scope, fromArm, opts);
    },

    privateEndpoints(ids, opts): AsyncGenerator<PrivateEndpoint> {
      return byIds("Microsoft.Network/privateEndpoints", ids, privateEndpointFromRow, opts);
    },

    networkInterfaces(ids, opts): AsyncGenerator<NetworkInterface> {
      return byIds("Microsoft.Network/networkInterfaces", ids, networkInterfaceFromRow, opts);
    },
  };
}

/** One row of the pending-connections query -> a candidate (InvalidArmResponse when it does not parse). */
function candidateFromRow(raw: unknown): ConnectionCandidate {
  const row = raw as { id?: unknown; type?: unknown; subscriptionId?: unknown; connection?: unknown } | null;
  if (typeof row?.id !== "string" || typeof row.type !== "string" || typeof row.subscriptionId !== "string") {
    throw new PortcullisError("internal", "Resource Graph returned a pending-connection row without id, type or subscriptionId.", { code: "InvalidArmResponse" });
  }
  return { connection: connectionFromWire(row.connection, row.id), resourceType: registryType(row.type), subscriptionId: row.subscriptionId };
}

/** The request scopes of one inventory scope: subscriptions in chunks of 1000, or the management groups. */
function scopeParts(scope: InventoryScope | undefined): Pick<QueryRequest, "subscriptions" | "managementGroups">[] {
  if (scope === undefined) return [{}];
  if (scope.managementGroups !== undefined) {
    if (scope.managementGroups.length === 0) return [];
    return [{ managementGroups: [...scope.managementGroups] }];
  }
  const parts: Pick<QueryRequest, "subscriptions">[] = [];
  for (let i = 0; i < scope.subscriptions.length; i += 1000) parts.push({ subscriptions: scope.subscriptions.slice(i, i + 1000) });
  return parts;
}
