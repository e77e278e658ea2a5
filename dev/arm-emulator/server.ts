/**
 * The emulator's request pipeline, in the order Azure Resource Manager applies it:
 *
 *   fault injection → bearer token (401: a JWT of the trusted issuer, ARM's audience, not expired) → throttling (429)
 *   → api-version present → [Resource Graph's endpoint: its own handler, resource-graph/service.ts] → RBAC (403 AuthorizationFailed: the action derived from method and path, at the path's
 *   scope; rbac.ts) → body (≤ 4 MB; PUT/PATCH: JSON media type) → route (404 / 405) → api-version supported by
 *   the provider → handler → ARM headers + request log
 *
 * Control (`/_emulator/…`) and custom-topic (`/_eventgrid/…`) requests bypass ARM's checks: they are not ARM. Every handler runs inside
 * a try/catch: a thrown ArmError becomes its ARM answer, anything else an ARM-shaped 500, never a crashed process.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ArmError } from "./errors.ts";
import { armChallenge, type ArmTokenVerifier, type Caller } from "./authentication.ts";
import type { FaultInjector } from "./faults.ts";
import { authorizationFailedMessage, requiredPermission, type RequiredPermission } from "./rbac.ts";
import { versionsNewestFirst } from "./api-versions.ts";
import { REGISTERED_RESOURCE_TYPES } from "../../src/domain/providers/registry.ts";
import { matchRoute, safeDecode, type ArmResponse, type EmulatorEnv, type HttpMethod, type Route } from "./routing.ts";
import { throttleClassOf, type ArmThrottle, type ThrottleClass } from "./throttling.ts";
import type { CustomTopicSink } from "./topics.ts";
import type { ResourceGraphRequest } from "./resource-graph/service.ts";

/** ARM refuses request bodies over 4 MB. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** One ARM request as the request log keeps it (tests count writes with it). */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | undefined;
  /** 0 when a fault dropped the connection. */
  readonly status: number;
  readonly subscriptionId: string | undefined;
  /** The object ID of the authenticated caller (undefined when authentication failed). */
  readonly principalId?: string | undefined;
  /** The action the request was authorized against (undefined for a path that names no ARM resource). */
  readonly action?: string | undefined;
  /** ISO time the answer was sent. */
  readonly at: string;
}

/** A control-API answer. */
export interface ControlAnswer {
  readonly status: number;
  readonly body?: unknown;
}

export type ControlHandler = (method: string, path: string, query: URLSearchParams, body: string) => Promise<ControlAnswer>;

export interface PipelineDependencies {
  readonly env: () => EmulatorEnv;
  readonly routes: readonly Route[];
  readonly faults: FaultInjector;
  readonly throttle: ArmThrottle;
  readonly topics: CustomTopicSink;
  readonly control: ControlHandler;
  readonly verifier: ArmTokenVerifier;
  /** Whether the principal holds the action at the scope (the role assignments seeded through the control API). */
  readonly authorize: (principalId: string, permission: RequiredPermission) => boolean;
  readonly log: RequestRecord[];
  /**
   * Azure Resource Graph (resource-graph/service.ts): a tenant-level provider that authorizes per result row (it returns
   * only what the caller may read) and has its own quota, so ARM's action check and subscription buckets do not apply.
   */
  readonly resourceGraph?: { matches(method: string, path: string): boolean; handle(request: ResourceGraphRequest): ArmResponse };
}

const KNOWN_METHODS = new Set<string>(["GET", "PUT", "PATCH", "DELETE", "POST"]);
const TOPIC_PATH = /^\/_eventgrid\/topics\/([^/]+)\/api\/events\/?$/i;

/** Builds the `(req, res)` listener of the HTTPS server. */
export function createRequestListener(deps: PipelineDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handleRequest(deps, req, res).catch((error: unknown) => {
      console.error("[arm-emulator] unhandled error:", error);
      if (!res.headersSent) writeJson(res, 500, new ArmError(500, "InternalServerError", "The server encountered an internal error.").toBody(), {});
      else res.destroy();
    });
  };
}

async function handleRequest(deps: PipelineDependencies, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestTarget(req);
  const path = url.pathname;
  if (path === "/_emulator" || path.startsWith("/_emulator/")) {
    const body = await readBody(req);
    if (body.tooLarge) return writeJson(res, 413, tooLarge().toBody(), {});
    const answer = await deps.control(req.method ?? "GET", path.slice("/_emulator".length) || "/", url.searchParams, body.text);
    return writeJson(res, answer.status, answer.body, {});
  }
  const topic = TOPIC_PATH.exec(path);
  if (topic && req.method === "POST") {
    const body = await readBody(req);
    if (body.tooLarge) return writeJson(res, 413, tooLarge().toBody(), {});
    const answer = deps.topics.handle(safeDecode(topic[1]!), headerRecord(req), body.text);
    return writeJson(res, answer.status, answer.body, {});
  }
  await handleArmRequest(deps, req, res, url);
}

async function handleArmRequest(
  deps: PipelineDependencies,
  req: IncomingMessage,
  res: ServerResponse,
  url: ReturnType<typeof requestTarget>,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const path = url.pathname;
  const apiVersion = url.searchParams.get("api-version") ?? undefined;
  const subscriptionId = /^\/subscriptions\/([^/?]+)/i.exec(path)?.[1];
  const throttleClass = throttleClassOf(method);
  const correlationId = firstHeader(req, "x-ms-correlation-request-id") ?? randomUUID();
  const armHeaders: Record<string, string> = { "x-ms-request-id": randomUUID(), "x-ms-correlation-request-id": correlationId };
  let caller: Caller | undefined;
  const resourceGraph = deps.resourceGraph?.matches(method, path) === true ? deps.resourceGraph : undefined;
  const permission = resourceGraph === undefined ? requiredPermission(method, path) : undefined;
  const record = (status: number) =>
    deps.log.push({ method, path, apiVersion, status, subscriptionId, principalId: caller?.principalId, action: permission?.action, at: new Date().toISOString() });
  const answer = (response: ArmResponse) => {
    record(response.status);
    writeJson(res, response.status, response.body, { ...armHeaders, ...response.headers });
  };

  try {
    const fault = deps.faults.match(method, path);
    if (fault && fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault?.drop) {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) throw faultError(fault.status, fault.errorCode);

    caller = await authenticate(req, deps.verifier, subscriptionId === undefined ? undefined : deps.env().state.tenantOf(subscriptionId));
    if (subscriptionId !== undefined) chargeThrottle(deps.throttle, subscriptionId, throttleClass, armHeaders);
    if (apiVersion === undefined) {
      throw new ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    }
    if (resourceGraph !== undefined) {
      const body = await readBody(req);
      if (body.tooLarge) throw tooLarge();
      return answer(resourceGraph.handle({ method, principalId: caller.principalId, apiVersion, body: parseJsonBody(body.text, method), correlationId }));
    }
    const match = matchRoute(deps.routes, path);
    // Fail closed: a request a handler would serve but whose action cannot be derived is denied, never let through.
    if (permission === undefined) {
      if (match && KNOWN_METHODS.has(method) && match.route.handlers[method as HttpMethod] !== undefined) throw new ArmError(403, "AuthorizationFailed", authorizationFailedMessage(caller.principalId, { action: `(no action for ${method})`, scope: path }));
    } else if (!deps.authorize(caller.principalId, permission) && !(method === "GET" && match?.route.filtersByPermission === true)) {
      throw new ArmError(403, "AuthorizationFailed", authorizationFailedMessage(caller.principalId, permission));
    }
    const body = await readBody(req);
    if (body.tooLarge) throw tooLarge();
    checkMediaType(method, firstHeader(req, "content-type"));

    if (!match) throw unknownRoute(path, apiVersion);
    const handler = KNOWN_METHODS.has(method) ? match.route.handlers[method as HttpMethod] : undefined;
    if (!handler) {
      const allowed = Object.keys(match.route.handlers).join(", ");
      throw new ArmError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`, { headers: { Allow: allowed } });
    }
    const supported = versionsNewestFirst(match.route.resourceType);
    if (!supported.includes(apiVersion)) {
      throw new ArmError(
        400,
        "InvalidApiVersionParameter",
        `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(",")}'.`,
      );
    }
    const env = deps.env();
    const principalId = caller.principalId;
    const response = handler(
      {
        method: method as HttpMethod,
        path,
        query: url.searchParams,
        headers: req.headers,
        body: parseJsonBody(body.text, method),
        params: match.params,
        apiVersion,
        url: `${env.baseUrl}${url.raw}`,
        correlationId,
        authorize: (action, scope) => deps.authorize(principalId, { action, scope }),
        principalId,
      },
      env,
    );
    answer(response);
  } catch (error) {
    if (error instanceof ArmError) return answer({ status: error.status, body: error.toBody(), headers: error.headers });
    console.error(`[arm-emulator] ${method} ${path} failed:`, error);
    answer({ status: 500, body: new ArmError(500, "InternalServerError", "The server encountered an internal error. Please retry the request.").toBody() });
  }
}

/**
 * ARM reads PUT and PATCH bodies as JSON only: any other Content-Type, or none, is 415 UnsupportedMediaType
 * (ARM RPC, "Content-Type": clients must send application/json; DOMAIN.md corrections).
 */
function checkMediaType(method: string, contentType: string | undefined): void {
  if (method !== "PUT" && method !== "PATCH") return;
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/json") return;
  throw new ArmError(415, "UnsupportedMediaType", `The content media type '${contentType ?? ""}' is not supported. Only 'application/json' is supported.`);
}

/**
 * The caller of an ARM request, or the 401 ARM answers: `AuthenticationFailed` without a well-formed bearer header,
 * else the token verifier's verdict. The challenge names the subscription's tenant when the emulator knows it, as ARM's
 * WWW-Authenticate does.
 */
async function authenticate(req: IncomingMessage, verifier: ArmTokenVerifier, tenantId: string | undefined): Promise<Caller> {
  const header = firstHeader(req, "authorization");
  const challenge = armChallenge(tenantId);
  if (header === undefined) {
    throw new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {
      headers: challenge("The authentication failed because of missing 'Authorization' header."),
    });
  }
  const token = /^Bearer\s+(\S.*)$/i.exec(header)?.[1]?.trim();
  if (!token) {
    throw new ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.", {
      headers: challenge("The authentication failed because of invalid 'Authorization' header."),
    });
  }
  return verifier.verify(token, challenge);
}

/** Takes one token from the subscription's bucket; sets the remaining-count header or throws 429. */
function chargeThrottle(throttle: ArmThrottle, subscriptionId: string, cls: ThrottleClass, headers: Record<string, string>): void {
  const decision = throttle.take(subscriptionId, cls);
  headers[`x-ms-ratelimit-remaining-subscription-${cls}`] = String(decision.remaining);
  if (!decision.allowed) {
    throw new ArmError(
      429,
      "TooManyRequests",
      `Number of '${cls === "reads" ? "read" : cls === "writes" ? "write" : "delete"}' requests for subscription '${subscriptionId}' exceeded the limit. Please try again after '${decision.retryAfterSeconds}' seconds.`,
      { headers: { "Retry-After": String(decision.retryAfterSeconds) } },
    );
  }
}

const FAULT_CODES: Readonly<Record<number, string>> = {
  408: "RequestTimeout",
  409: "Conflict",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

function faultError(status: number, errorCode: string | undefined): ArmError {
  const code = errorCode ?? FAULT_CODES[status] ?? "InjectedFault";
  return new ArmError(status, code, `Injected fault: the emulator answers ${status} (${code}).`);
}

/** The resource provider namespaces the emulator serves (API Management, Network and every registered Private Link type's). */
const EMULATED_NAMESPACES = new Set(["microsoft.apimanagement", "microsoft.network", ...REGISTERED_RESOURCE_TYPES.map((t) => t.split("/")[0]!.toLowerCase())]);

/** ARM's 404 for a path no provider serves: an unknown namespace or an unknown resource type. */
function unknownRoute(path: string, apiVersion: string): ArmError {
  const providerPart = /\/providers\/([^/]+)(?:\/([^/]+))?/i.exec(path);
  const namespace = providerPart?.[1];
  const type = providerPart?.[2];
  if (namespace && !EMULATED_NAMESPACES.has(namespace.toLowerCase())) {
    return new ArmError(404, "InvalidResourceNamespace", `The resource namespace '${namespace}' is invalid.`);
  }
  if (namespace && type) {
    return new ArmError(
      404,
      "InvalidResourceType",
      `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${apiVersion}'.`,
    );
  }
  return new ArmError(404, "NotFound", `No HTTP resource was found that matches the request URI '${path}'.`);
}

function tooLarge(): ArmError {
  return new ArmError(413, "RequestEntityTooLarge", `The request content size exceeds the maximum allowed size of ${MAX_BODY_BYTES} bytes.`);
}

function parseJsonBody(text: string, method: string): unknown {
  if (text.trim() === "" || method === "GET" || method === "DELETE") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArmError(400, "InvalidRequestContent", `The request content was invalid and could not be deserialized: '${(error as Error).message}'.`);
  }
}

/** Reads the body up to MAX_BODY_BYTES; the rest is drained and dropped so the connection stays usable. */
async function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLargeSeen = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLargeSeen = true;
    else chunks.push(chunk);
  }
  return { text: tooLargeSeen ? "" : Buffer.concat(chunks).toString("utf8"), tooLarge: tooLargeSeen };
}

/** Path and query of the request target, kept as sent: no dot-segment normalization, so `..` never walks up a route. */
function requestTarget(req: IncomingMessage): { pathname: string; searchParams: URLSearchParams; raw: string } {
  const raw = req.url ?? "/";
  const queryAt = raw.indexOf("?");
  const pathname = queryAt < 0 ? raw : raw.slice(0, queryAt);
  return { pathname, searchParams: new URLSearchParams(queryAt < 0 ? "" : raw.slice(queryAt + 1)), raw };
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function headerRecord(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) out[name] = Array.isArray(value) ? value.join(", ") : value;
  return out;
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  res.writeHead(status, {
    "Cache-Control": "no-cache",
    Pragma: "no-cache",
    Expires: "-1",
    ...(payload === undefined ? {} : { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(payload)) }),
    ...headers,
  });
  res.end(payload);
}
