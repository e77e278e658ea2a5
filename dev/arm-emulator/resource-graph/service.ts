/**
 * Azure Resource Graph's query endpoint, `POST /providers/Microsoft.ResourceGraph/resources`, over the emulator's ARM
 * state: a real KQL evaluation (./kql.ts) of rows projected from every resource the emulator holds, with Resource
 * Graph's paging, quota, result trimming by RBAC and a configurable lag behind ARM.
 *
 * Facts this follows (sources):
 * - Request/response: azure-rest-api-specs specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/
 *   stable/2024-04-01/resourcegraph.json (`QueryRequest` {subscriptions, managementGroups, query (required), options
 *   {$skipToken, $top 1..1000, $skip >= 0, resultFormat table|objectArray (default objectArray), allowPartialScopes,
 *   authorizationScopeFilter}, facets}; `QueryResponse` {totalRecords, count, resultTruncated "true"|"false",
 *   $skipToken, data, facets}; the `Table` shape {columns [{name, type}], rows}). Api-versions: the stable folders
 *   2019-04-01, 2021-03-01, 2022-10-01, 2024-04-01 (@azure/arm-resourcegraph 5.0.0 sends 2024-04-01).
 * - Rows: examples/ResourcesNextPageQuery.json (2024-04-01) shows `type` lower-cased ("microsoft.compute/disks")
 *   with `id` and `name` as ARM spells them; the row's other columns (tenantId, kind, location, resourceGroup,
 *   subscriptionId, managedBy, sku, plan, properties, tags, identity, zones, extendedLocation) are the `resources`
 *   table's (Learn, "Understanding the Azure Resource Graph query language"). `properties` is what the resource
 *   provider's GET returns, so the emulator projects each resource through its own GET handler: a type another helper
 *   adds to the emulator appears here as soon as its route and state exist.
 * - Paging (Learn, "Working with large Azure resource data sets" and "Guidance for pagination"): 100 rows by default,
 *   `$top` at most 1000; `$skipToken` is returned when more rows follow, to be sent with the same query and scopes;
 *   no `$skipToken` when the query uses `limit`/`take` (then `resultTruncated` is "true" if rows were cut); the
 *   next-page example (ResourcesNextPageQuery.json) notes that `id` must be projected for stable pages, so a result
 *   without an `id` column gets no `$skipToken` either.
 * - Quota (Learn, "Guidance for throttled requests in Azure Resource Graph"): a quota per user per time window (the
 *   documented example: 15 queries per 5 seconds); every answer carries `x-ms-user-quota-remaining` (int) and
 *   `x-ms-user-quota-resets-after` (hh:mm:ss); past the quota, 429 with error code RateLimiting. Microsoft documents
 *   no Retry-After for it: clients back off on the quota headers, so the emulator sends none.
 * - Permissions (Learn, "Overview of Azure Resource Graph", "Permissions in Azure Resource Graph"): the caller needs at
 *   least read access to the resources it queries; resources it cannot read are simply not returned (no 403). The
 *   provider operation `Microsoft.ResourceGraph/resources/read` exists ("Submits a query on resources within specified
 *   subscriptions, the specified management groups, or against all access granted in the tenant",
 *   examples/OperationsList.json) but Microsoft documents no requirement to hold it, and the request's scope is the
 *   tenant (`/providers/...`), where a subscription-scoped custom role could not grant it anyway. So: any
 *   authenticated caller may query; each row needs `{type}/read` at the resource (rbac.ts decides, with the role
 *   assignments the emulator holds).
 * - Management groups: the tenant root group's ID is the tenant ID (Learn, "What are Azure management groups?");
 *   other groups are configured through the control API. No scopes in the request means every subscription the
 *   caller may read (a tenant-scope query).
 * - Errors (as Azure sends them; no published list: Azure/aztfexport#485, Azure/azure-powershell#13762,
 *   microsoft/ARI#195 for ResponsePayloadTooLarge over 16 MiB): 400
 *   {error: {code: "BadRequest", message: "Please provide below info when asking for support: timestamp = …,
 *   correlationId = ….", details: [{code: "InvalidQuery", message: "Query is invalid. …"}, {code: ParserFailure | …,
 *   line, characterPositionInLine, token}]}}.
 * - Lag: Resource Graph is notified of ARM changes and rescans regularly (Learn overview, "How Resource Graph is kept
 *   current"); tests make it lag on purpose (`lagMs`) or freeze it, so a stale inventory can be proven harmless.
 */
import { randomUUID, createHash } from "node:crypto";
import { z } from "zod";
import { ArmError } from "../errors.ts";
import { versionsNewestFirst } from "../api-versions.ts";
import { matchRoute, type ArmResponse, type EmulatorEnv, type HttpMethod, type Route } from "../routing.ts";
import type { RequiredPermission } from "../rbac.ts";
import { evaluate, KqlError, parseQuery, type Expr, type KqlValue, type Query, type Row } from "./kql.ts";

export const RESOURCE_GRAPH_PATH = /^\/providers\/microsoft\.resourcegraph\/resources\/?$/i;
export const RESOURCE_GRAPH_API_VERSIONS = ["2019-04-01", "2021-03-01", "2022-10-01", "2024-04-01"] as const;

/** The `resources` table's columns, in Resource Graph's order. */
export const RESOURCES_COLUMNS = [
  "id",
  "name",
  "type",
  "tenantId",
  "kind",
  "location",
  "resourceGroup",
  "subscriptionId",
  "managedBy",
  "sku",
  "plan",
  "properties",
  "tags",
  "identity",
  "zones",
  "extendedLocation",
] as const;

const DEFAULT_PAGE = 100;
/** Resource Graph refuses answers over 16 MiB with ResponsePayloadTooLarge (as Azure sent it: microsoft/ARI#195). */
export const MAX_RESPONSE_BYTES = 16_777_216;
const MAX_TOP = 1000;

export interface QuotaSettings {
  /** Queries per window per principal. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface ResourceGraphSettings {
  /** Answers from ARM state at least this old (0: live). */
  readonly lagMs: number;
  /** Answers from the snapshot taken when frozen, until unfrozen. */
  readonly frozen: boolean;
  /** null: no quota. Default: the documented 15 queries per 5 seconds. */
  readonly quota: QuotaSettings | null;
  /** Management group name -> subscription IDs (besides the tenant root groups, which hold their tenant's subscriptions). */
  readonly managementGroups: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_SETTINGS: ResourceGraphSettings = { lagMs: 0, frozen: false, quota: { limit: 15, windowMs: 5000 }, managementGroups: {} };

export const settingsSchema = z.strictObject({
  lagMs: z.number().int().min(0).max(3_600_000).optional(),
  frozen: z.boolean().optional(),
  quota: z.strictObject({ limit: z.number().int().min(1).max(1_000_000), windowMs: z.number().int().min(1).max(3_600_000) }).nullable().optional(),
  managementGroups: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
});

const requestSchema = z.object({
  subscriptions: z.array(z.string().min(1)).optional(),
  managementGroups: z.array(z.string().min(1)).optional(),
  query: z.string({ error: "query is required" }),
  options: z
    .object({
      $skipToken: z.string().optional(),
      $top: z.number().int().min(1).max(MAX_TOP).optional(),
      $skip: z.number().int().min(0).optional(),
      resultFormat: z.enum(["table", "objectArray"]).optional(),
      allowPartialScopes: z.boolean().optional(),
      authorizationScopeFilter: z.enum(["AtScopeAndBelow", "AtScopeAndAbove", "AtScopeExact", "AtScopeAboveAndBelow"]).optional(),
    })
    .optional(),
  facets: z.array(z.unknown()).optional(),
});

/** What the pipeline hands over: an authenticated request to the Resource Graph endpoint. */
export interface ResourceGraphRequest {
  readonly method: string;
  readonly principalId: string;
  readonly apiVersion: string;
  readonly body: unknown;
  readonly correlationId: string;
}

export interface ResourceGraphDependencies {
  readonly env: () => EmulatorEnv;
  readonly routes: readonly Route[];
  readonly authorize: (principalId: string, permission: RequiredPermission) => boolean;
  /** Milliseconds from any origin (default performance.now). */
  readonly now?: () => number;
}

interface Snapshot {
  readonly at: number;
  readonly rows: readonly Row[];
}

interface QuotaWindow {
  startedAt: number;
  used: number;
}

/** The emulated Resource Graph: query endpoint plus its control surface (settings, reset, stats). */
export class ResourceGraphService {
  readonly #deps: ResourceGraphDependencies;
  readonly #now: () => number;
  #settings: ResourceGraphSettings = DEFAULT_SETTINGS;
  #snapshots: Snapshot[] = [];
  #frozen: Snapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #quota = new Map<string, QuotaWindow>();
  #queries = 0;
  #throttled = 0;

  constructor(deps: ResourceGraphDependencies) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
  }

  /** Whether a request is for the query endpoint (any method: a wrong one is answered 405 by handle). */
  matches(_method: string, path: string): boolean {
    return RESOURCE_GRAPH_PATH.test(path);
  }

  settings(): ResourceGraphSettings {
    return structuredClone(this.#settings);
  }

  /** Changes some settings; a new lag or freeze starts from the ARM state of this moment. */
  configure(input: z.input<typeof settingsSchema>): ResourceGraphSettings {
    const parsed = settingsSchema.parse(input);
    const next: ResourceGraphSettings = {
      lagMs: parsed.lagMs ?? this.#settings.lagMs,
      frozen: parsed.frozen ?? this.#settings.frozen,
      quota: parsed.quota === undefined ? this.#settings.quota : parsed.quota,
      managementGroups: parsed.managementGroups ?? this.#settings.managementGroups,
    };
    if (next.frozen && !this.#settings.frozen) this.#frozen = this.#capture();
    if (!next.frozen) this.#frozen = undefined;
    if (next.lagMs !== this.#settings.lagMs) this.#snapshots = next.lagMs > 0 ? [this.#capture()] : [];
    if (parsed.quota !== undefined) this.#quota.clear();
    this.#settings = next;
    this.#schedule();
    return this.settings();
  }

  /** Back to the defaults: live, documented quota, no extra management groups (emulator reset). */
  reset(): void {
    this.#settings = DEFAULT_SETTINGS;
    this.#snapshots = [];
    this.#frozen = undefined;
    this.#quota.clear();
    this.#queries = 0;
    this.#throttled = 0;
    this.#schedule();
  }

  stats(): { queries: number; throttled: number } {
    return { queries: this.#queries, throttled: this.#throttled };
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Answers one authenticated request to the endpoint. */
  handle(request: ResourceGraphRequest): ArmResponse {
    if (request.method !== "POST") {
      throw new ArmError(405, "MethodNotAllowed", `The requested resource does not support http method '${request.method}'.`, { headers: { Allow: "POST" } });
    }
    if (!(RESOURCE_GRAPH_API_VERSIONS as readonly string[]).includes(request.apiVersion)) {
      const supported = [...RESOURCE_GRAPH_API_VERSIONS].reverse().join(",");
      throw new ArmError(400, "InvalidApiVersionParameter", `The api-version '${request.apiVersion}' is invalid. The supported versions are '${supported}'.`);
    }
    const quotaHeaders = this.#charge(request.principalId);
    if (quotaHeaders.throttled) {
      this.#throttled += 1;
      return {
        status: 429,
        headers: quotaHeaders.headers,
        body: graphError("RateLimiting", request.correlationId, [
          {
            code: "RateLimiting",
            message:
              "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.",
          },
        ]),
      };
    }
    this.#queries += 1;
    try {
      return { status: 200, headers: quotaHeaders.headers, body: this.#query(request) };
    } catch (error) {
      if (error instanceof GraphRequestError) return { status: 400, headers: quotaHeaders.headers, body: graphError("BadRequest", request.correlationId, error.details) };
      throw error;
    }
  }

  #query(request: ResourceGraphRequest): unknown {
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      throw new GraphRequestError([
        { code: "InvalidRequestContent", message: parsed.error.issues.map((i) => `'${i.path.join(".") || "(body)"}': ${i.message}`).join("; ") },
      ]);
    }
    const body = parsed.data;
    if (body.facets !== undefined && body.facets.length > 0) {
      throw new GraphRequestError([{ code: "InvalidQueryLanguage", message: "The ARM emulator's Resource Graph does not compute facets." }]);
    }
    if (body.subscriptions !== undefined && body.managementGroups !== undefined) {
      throw new GraphRequestError([{ code: "InvalidRequestContent", message: "Specify either subscriptions or managementGroups, not both." }]);
    }
    let query;
    try {
      query = parseQuery(body.query, RESOURCES_COLUMNS);
    } catch (error) {
      if (error instanceof KqlError) throw new GraphRequestError([INVALID_QUERY, error.toDetail()]);
      throw error;
    }
    const scope = this.#scopeSubscriptions(body.subscriptions, body.managementGroups);
    const visible = this.#rows(prefilterOf(query)).filter(
      (row) =>
        (scope === undefined || scope.has(String(row.subscriptionId).toLowerCase())) &&
        this.#deps.authorize(request.principalId, { action: `${armTypeOf(row)}/read`, scope: String(row.id) }),
    );
    const result = evaluate(query, visible.map(stripArmType), RESOURCES_COLUMNS);
    const fingerprint = fingerprintOf(body.query, body.subscriptions, body.managementGroups);
    const options = body.options ?? {};
    const token = options.$skipToken === undefined ? undefined : decodeSkipToken(options.$skipToken, fingerprint);
    const offset = options.$skip ?? token?.offset ?? 0;
    const top = options.$top ?? token?.top ?? DEFAULT_PAGE;
    const page = result.rows.slice(offset, offset + top);
    const more = offset + page.length < result.rows.length;
    const pageable = !result.limited && result.columns.includes("id");
    const response: Record<string, unknown> = {
      totalRecords: result.rows.length,
      count: page.length,
      resultTruncated: more && !pageable ? "true" : "false",
      facets: [],
      data: options.resultFormat === "table" ? asTable(page, result.columns) : page,
    };
    if (more && pageable) response.$skipToken = encodeSkipToken({ offset: offset + page.length, top, fingerprint });
    const size = Buffer.byteLength(JSON.stringify(response));
    if (size > MAX_RESPONSE_BYTES) {
      throw new GraphRequestError([
        {
          code: "ResponsePayloadTooLarge",
          message: `Response payload size is ${size}, and has exceeded the limit of ${MAX_RESPONSE_BYTES}. Please consider querying less data at a time and make paginated call if needed.`,
        },
      ]);
    }
    return response;
  }

  /** The subscriptions a request names (lower-case), or undefined for a tenant-scope query. */
  #scopeSubscriptions(subscriptions: string[] | undefined, managementGroups: string[] | undefined): Set<string> | undefined {
    if (subscriptions !== undefined) return new Set(subscriptions.map((s) => s.toLowerCase()));
    if (managementGroups === undefined) return undefined;
    const state = this.#deps.env().state;
    const out = new Set<string>();
    for (const group of managementGroups) {
      const configured = Object.entries(this.#settings.managementGroups).find(([name]) => name.toLowerCase() === group.toLowerCase());
      const members = configured?.[1] ?? [...state.subscriptions.values()].filter((s) => s.tenantId.toLowerCase() === group.toLowerCase()).map((s) => s.id);
      if (configured === undefined && members.length === 0) {
        throw new GraphRequestError([{ code: "AuthorizationFailed", message: `The management group '${group}' could not be found or the client has no access to it.` }]);
      }
      for (const id of members) out.add(id.toLowerCase());
    }
    return out;
  }

  /** The rows of the moment the settings say: live (only those the query's first filter can match), lagging, or frozen. */
  #rows(prefilter: Prefilter): readonly Row[] {
    if (this.#frozen !== undefined) return this.#frozen.rows;
    if (this.#settings.lagMs === 0) return this.#capture(prefilter).rows;
    const now = this.#now();
    this.#snapshots.push(this.#capture());
    const due = now - this.#settings.lagMs;
    let chosen = this.#snapshots[0]!;
    for (const snapshot of this.#snapshots) if (snapshot.at <= due) chosen = snapshot;
    this.#snapshots = this.#snapshots.filter((s) => s.at >= chosen.at);
    return chosen.rows;
  }

  /** While lagging, the ARM state is sampled often enough that the answer is never much older than the lag. */
  #schedule(): void {
    this.close();
    const lag = this.#settings.lagMs;
    if (lag === 0 || this.#frozen !== undefined) return;
    this.#timer = setInterval(() => {
      this.#snapshots.push(this.#capture());
      const due = this.#now() - lag;
      const keepFrom = this.#snapshots.findLastIndex((s) => s.at <= due);
      if (keepFrom > 0) this.#snapshots = this.#snapshots.slice(keepFrom);
    }, Math.max(10, Math.min(250, Math.floor(lag / 4))));
    this.#timer.unref();
  }

  /**
   * Every top-level resource of the state as a Resource Graph row, through the resource's own GET handler; with a
   * prefilter only the resources whose ID can match it (a cost saving: the query's own where still decides).
   */
  #capture(prefilter: Prefilter = {}): Snapshot {
    const env = this.#deps.env();
    const rows: Row[] = [];
    for (const id of topLevelResourceIds(env.state)) {
      if (prefilter.ids !== undefined && !prefilter.ids.has(id.toLowerCase())) continue;
      if (prefilter.types !== undefined && !prefilter.types.has(typeOfId(id))) continue;
      const row = projectRow(id, env, this.#deps.routes);
      if (row !== undefined) rows.push(row);
    }
    rows.sort((a, b) => (String(a.id).toLowerCase() < String(b.id).toLowerCase() ? -1 : 1));
    return { at: this.#now(), rows };
  }

  #charge(principalId: string): { throttled: boolean; headers: Record<string, string> } {
    const quota = this.#settings.quota;
    if (quota === null) return { throttled: false, headers: {} };
    const now = this.#now();
    let window = this.#quota.get(principalId);
    if (window === undefined || now - window.startedAt >= quota.windowMs) {
      window = { startedAt: now, used: 0 };
      this.#quota.set(principalId, window);
    }
    const resetsAfter = hhmmss(Math.max(0, quota.windowMs - (now - window.startedAt)));
    if (window.used >= quota.limit) {
      return { throttled: true, headers: { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": resetsAfter } };
    }
    window.used += 1;
    return { throttled: false, headers: { "x-ms-user-quota-remaining": String(quota.limit - window.used), "x-ms-user-quota-resets-after": resetsAfter } };
  }
}

const INVALID_QUERY = { code: "InvalidQuery", message: "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying." };

class GraphRequestError extends Error {
  readonly details: readonly Record<string, unknown>[];
  constructor(details: readonly Record<string, unknown>[]) {
    super(String(details.at(-1)?.message ?? "bad request"));
    this.details = details;
  }
}

function graphError(code: string, correlationId: string, details: readonly Record<string, unknown>[]): unknown {
  return {
    error: {
      code,
      message: `Please provide below info when asking for support: timestamp = ${new Date().toISOString()}, correlationId = ${correlationId}.`,
      details,
    },
  };
}

/** Rounds up to whole seconds, as the documented example (00:00:03) shows. */
function hhmmss(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

/**
 * IDs of the state's top-level resources, found generically: every Map the state holds whose records carry an ARM
 * resource `id` with one type/name pair under its provider (APIM services, endpoints, NICs, VNets, zones, and whatever
 * types are added to the state later). Child resources (connections, zone groups) live in their parent's properties.
 */
export function topLevelResourceIds(state: object): string[] {
  const ids: string[] = [];
  for (const value of Object.values(state)) {
    if (!(value instanceof Map)) continue;
    for (const record of value.values()) {
      const id = (record as { id?: unknown } | null)?.id;
      if (typeof id === "string" && /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+$/i.test(id)) ids.push(id);
    }
  }
  return ids;
}

/** Lower-cased sets of the types / IDs a query's first `where` requires (undefined: any). */
interface Prefilter {
  readonly types?: ReadonlySet<string>;
  readonly ids?: ReadonlySet<string>;
}

/**
 * What the query's first stage, if it is a `where`, requires of `type` and `id` through `==`, `=~`, `in` or `in~` on
 * string literals in its top-level `and`s: a superset of the rows it can keep (case folded), never fewer.
 */
export function prefilterOf(query: Query): Prefilter {
  const first = query.stages[0];
  if (first?.kind !== "where") return {};
  const conjuncts: Expr[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === "binary" && e.op === "and") {
      walk(e.left);
      walk(e.right);
    } else conjuncts.push(e);
  };
  walk(first.predicate);
  const out: { types?: Set<string>; ids?: Set<string> } = {};
  for (const c of conjuncts) {
    let column: string | undefined;
    let values: string[] | undefined;
    if (c.kind === "binary" && (c.op === "==" || c.op === "=~") && c.left.kind === "column" && c.right.kind === "literal" && typeof c.right.value === "string") {
      column = c.left.name;
      values = [c.right.value];
    } else if (c.kind === "in" && (c.op === "in" || c.op === "in~") && c.left.kind === "column" && c.list.every((v) => v.kind === "literal" && typeof v.value === "string")) {
      column = c.left.name;
      values = c.list.map((v) => String((v as { value: unknown }).value));
    }
    if (values === undefined) continue;
    const set = new Set(values.map((v) => v.toLowerCase()));
    if (column === "type" && out.types === undefined) out.types = set;
    if (column === "id" && out.ids === undefined) out.ids = set;
  }
  return out;
}

/** `microsoft.apimanagement/service` from a top-level resource ID. */
function typeOfId(id: string): string {
  const parts = id.split("/");
  return `${parts[6]}/${parts[7]}`.toLowerCase();
}

const ARM_TYPE = "__armType";

/** A resource as its GET handler answers it, shaped as a `resources` row; undefined when no GET route serves it. */
export function projectRow(id: string, env: EmulatorEnv, routes: readonly Route[]): Row | undefined {
  const match = matchRoute(routes, id);
  const handler = match?.route.handlers.GET;
  if (match === undefined || handler === undefined) return undefined;
  const apiVersion = versionsNewestFirst(match.route.resourceType)[0]!;
  let answer: ArmResponse;
  try {
    answer = handler(
      {
        method: "GET" as HttpMethod,
        path: id,
        query: new URLSearchParams({ "api-version": apiVersion }),
        headers: {},
        body: undefined,
        params: match.params,
        apiVersion,
        url: `${env.baseUrl}${id}?api-version=${apiVersion}`,
        correlationId: randomUUID(),
        // The projection reads every resource as the emulator itself; who may see a row is decided by the query's scope.
        authorize: () => true,
        principalId: "resource-graph-projection",
      },
      env,
    );
  } catch {
    return undefined;
  }
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== "object") return undefined;
  const body = structuredClone(answer.body) as Record<string, KqlValue>;
  const parts = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(id)!;
  const subscriptionId = parts[1]!;
  const armType = String(body.type ?? match.route.resourceType);
  return {
    id: String(body.id ?? id),
    name: String(body.name ?? id.split("/").at(-1)),
    type: armType.toLowerCase(),
    tenantId: env.state.tenantOf(subscriptionId) ?? "",
    kind: (body.kind as KqlValue) ?? "",
    location: String(body.location ?? "").toLowerCase().replace(/\s+/g, ""),
    resourceGroup: parts[2]!.toLowerCase(),
    subscriptionId,
    managedBy: (body.managedBy as KqlValue) ?? "",
    sku: body.sku ?? null,
    plan: body.plan ?? null,
    properties: body.properties ?? null,
    tags: body.tags ?? null,
    identity: body.identity ?? null,
    zones: body.zones ?? null,
    extendedLocation: body.extendedLocation ?? null,
    [ARM_TYPE]: armType,
  };
}

function armTypeOf(row: Row): string {
  return String(row[ARM_TYPE] ?? row.type);
}

function stripArmType(row: Row): Row {
  const { [ARM_TYPE]: _, ...rest } = row;
  return rest;
}

function asTable(rows: readonly Row[], columns: readonly string[]): unknown {
  const typeOf = (name: string): string => {
    const sample = rows.map((r) => r[name]).find((v) => v !== null && v !== undefined);
    if (typeof sample === "string") return "string";
    if (typeof sample === "boolean") return "boolean";
    if (typeof sample === "number") return Number.isInteger(sample) ? "integer" : "number";
    return "object";
  };
  return { columns: columns.map((name) => ({ name, type: typeOf(name) })), rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
}

function fingerprintOf(query: string, subscriptions: string[] | undefined, managementGroups: string[] | undefined): string {
  return createHash("sha256").update(JSON.stringify([query, subscriptions ?? null, managementGroups ?? null])).digest("hex").slice(0, 16);
}

interface SkipToken {
  readonly offset: number;
  readonly top: number;
  readonly fingerprint: string;
}

function encodeSkipToken(token: SkipToken): string {
  return Buffer.from(JSON.stringify({ o: token.offset, t: token.top, f: token.fingerprint })).toString("base64");
}

/** An opaque token of this query and scopes; any other (or a tampered one) is refused, as Azure refuses it. */
function decodeSkipToken(text: string, fingerprint: string): SkipToken {
  try {
    const decoded = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as { o?: unknown; t?: unknown; f?: unknown };
    if (typeof decoded.o === "number" && typeof decoded.t === "number" && decoded.f === fingerprint) return { offset: decoded.o, top: decoded.t, fingerprint };
  } catch {
    // fall through
  }
  throw new GraphRequestError([{ code: "InvalidSkipToken", message: "The $skipToken is invalid, or was issued for another query or other scopes." }]);
}
