/**
 * The API's one registry entry per route: method, path template, required role, the zod schemas of its path,
 * query, headers and body, its responses, and a thin handler. `toHttpFunction` turns an entry into the Functions
 * HTTP trigger that validates with exactly those schemas, and src/http/openapi.ts documents the same entries, so
 * the OpenAPI document cannot drift from what is enforced.
 *
 * Every request goes through the same steps, in this order (the first failure answers):
 *
 *   authenticate (401) → role (403) → path parameters (400) → query (400) → headers (400) → body: media type
 *   (415), size (413), JSON (400), schema (400) → route checks (400) → Idempotency-Key on POST (400 missing,
 *   422 reused, 409 in use, replay) → handler → problem details for any error (503 + Retry-After when a dependency is down)
 *
 * HTTP triggers are `anonymous` at the Functions level: a function key is a shared secret, not an identity, so the
 * bearer token (src/http/auth.ts) is what every route requires; keys would only add a second secret to distribute.
 */
import { randomUUID } from "node:crypto";
import type azf from "@azure/functions";
import { z } from "zod";
import { toPortcullisError } from "../domain/errors.ts";
import type { HttpFunctionDefinition } from "../functions/definition.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdempotencyStore } from "../ports/idempotency-store.ts";
import { hasRole, type ApiRole, type Authenticator, type Principal } from "./auth.ts";
import { IDEMPOTENCY_KEY_HEADER, idempotencyKeySchema, requestFingerprint, startIdempotentRequest } from "./idempotency.ts";
import { problemForError, ProblemError, type ApiResponse } from "./problem.ts";
import { canonicalJson, parseWith, queryObject, readJsonBody, requireNoBody, type RequestLike } from "./request.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One documented response of a route (errors common to all routes are added by the OpenAPI builder). */
export interface ResponseSpec {
  readonly description: string;
  /** JSON body schema; absent for a response without a body (or a problem document, for 4xx/5xx). */
  readonly schema?: z.ZodType;
  /** Response headers: name → description. */
  readonly headers?: Readonly<Record<string, string>>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: validated input and the authenticated caller. */
export interface RouteInput<P, Q, H, B> {
  readonly params: Out<P>;
  readonly query: Out<Q>;
  readonly headers: Out<H>;
  readonly body: Out<B>;
  readonly principal: Principal;
}

export interface ApiLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Per-request context: the services the runtime holds, the correlation ID, a log, the request URL. */
export interface ApiContext<S> {
  readonly services: S;
  readonly correlationId: string;
  readonly log: ApiLogger;
  readonly url: URL;
}

/** A route as its module declares it. Schemas are zod; `headers` keys are lower-case header names. */
export interface ApiRouteSpec<S, P, Q, H, B> {
  /** Function name (unique in the function table). */
  readonly name: string;
  readonly method: HttpMethod;
  /** Route under /api in the Functions template syntax, e.g. `rules/{ruleId}`. */
  readonly route: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** The app role required (roles nest: see src/http/auth.ts). */
  readonly role: ApiRole;
  readonly params?: P;
  readonly query?: Q;
  readonly headers?: H;
  readonly body?: B;
  /** POST only: Idempotency-Key is required and replays answer from the first response. */
  readonly idempotent?: boolean;
  /** Checks that need the runtime's services (e.g. the configured ticket pattern); throw ProblemError. Runs before idempotency. */
  check?(input: RouteInput<P, Q, H, B>, services: S): void;
  /** Success responses and the route's own error statuses (404, 409, 412, 428...). */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  handle(input: RouteInput<P, Q, H, B>, context: ApiContext<S>): Promise<ApiResponse>;
}

/** A registered route with its input types erased (the registry's element type). */
export type ApiRoute<S> = ApiRouteSpec<S, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/** `const route = routeFor<Services>(); route({...})`: infers each schema's type for the handler. */
export function routeFor<S>() {
  return <
    P extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    H extends z.ZodType | undefined = undefined,
    B extends z.ZodType | undefined = undefined,
  >(
    spec: ApiRouteSpec<S, P, Q, H, B>,
  ): ApiRoute<S> => {
    if (spec.idempotent && spec.method !== "POST") throw new Error(`${spec.name}: only POST routes take an Idempotency-Key`);
    return spec as unknown as ApiRoute<S>;
  };
}

/** What the framework needs at request time, built once per process (lazily, to keep cold start short). */
export interface ApiRuntime<S> {
  readonly authenticator: Authenticator;
  readonly idempotency: IdempotencyStore;
  readonly clock: Clock;
  readonly services: S;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMPTY_QUERY = z.strictObject({});

function correlationIdOf(request: RequestLike, context: azf.InvocationContext): string {
  const given = request.headers.get("x-correlation-id");
  if (given !== null && CORRELATION_ID.test(given)) return given;
  return CORRELATION_ID.test(context.invocationId ?? "") ? context.invocationId : randomUUID();
}

function loggerOf(context: azf.InvocationContext, correlationId: string): ApiLogger {
  return {
    info: (message) => context.log(`[${correlationId}] ${message}`),
    warn: (message) => context.warn(`[${correlationId}] ${message}`),
    error: (message) => context.error(`[${correlationId}] ${message}`),
  };
}

function headerObject(schema: z.ZodType, headers: Headers): Record<string, string> {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, unknown>) : {};
  const values: Record<string, string> = {};
  for (const name of Object.keys(shape)) {
    const value = headers.get(name);
    if (value !== null) values[name] = value;
  }
  return values;
}

/** Runs every step up to and including the handler; throws ProblemError or application errors. */
async function respond<S>(route: ApiRoute<S>, runtime: ApiRuntime<S>, request: RequestLike, context: ApiContext<S>): Promise<ApiResponse> {
  const principal = await runtime.authenticator.authenticate(request.headers);
  if (!hasRole(principal, route.role)) throw new ProblemError("forbidden", `This operation needs the ${route.role} app role.`);
  const params = route.params === undefined ? undefined : parseWith(route.params, request.params, "path", "path");
  const query = parseWith(route.query ?? EMPTY_QUERY, queryObject(request.query), "query", "query string");
  const headers = route.headers === undefined ? undefined : parseWith(route.headers, headerObject(route.headers, request.headers), "header", "request headers");
  let rawBody: unknown;
  let body: unknown;
  if (route.body === undefined) {
    await requireNoBody(request);
  } else {
    rawBody = await readJsonBody(request);
    body = parseWith(route.body, rawBody, "body", "request body");
  }
  const input = { params, query, headers, body, principal } as RouteInput<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;
  route.check?.(input, context.services);
  if (!route.idempotent) return route.handle(input, context);

  const rawKey = request.headers.get(IDEMPOTENCY_KEY_HEADER);
  if (rawKey === null) {
    throw new ProblemError("validation", "This operation requires an Idempotency-Key header.", {
      errors: [{ in: "header", field: "Idempotency-Key", detail: "required" }],
    });
  }
  const key = parseWith(idempotencyKeySchema, rawKey, "header", "Idempotency-Key header");
  const fingerprint = requestFingerprint(request.method, context.url.pathname.toLowerCase(), canonicalJson(rawBody ?? null));
  const started = await startIdempotentRequest(
    { store: runtime.idempotency, clock: runtime.clock, log: context.log },
    { scope: principal.objectId, key, fingerprint },
  );
  if (started.kind === "replay") return started.response;
  const response = await Promise.resolve()
    .then(() => route.handle(input, context))
    .catch((error: unknown) => answerForError(error, context));
  await started.complete(response);
  return response;
}

/** The problem response for an error, logged: dependencies down as a warning, anything unexpected as an error. */
function answerForError(error: unknown, context: ApiContext<unknown>): ApiResponse {
  const response = problemForError(error, context.correlationId);
  if (response.status >= 500) {
    const failure = toPortcullisError(error);
    const log = failure.kind === "transient" ? context.log.warn : context.log.error;
    log(`${response.status}: ${failure.kind}: ${failure.message}${failure.stack ? `\n${failure.stack}` : ""}`);
  }
  return response;
}

function toHttpResponse(response: ApiResponse, correlationId: string): azf.HttpResponseInit {
  const headers: Record<string, string> = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...response.headers,
    "x-correlation-id": correlationId,
  };
  if (response.body === undefined) return { status: response.status, headers };
  // A rendered document (a report as HTML, CSV, Markdown, SARIF) is sent as the text it is, under its own type.
  if (typeof response.body === "string" && response.headers?.["content-type"] !== undefined) return { status: response.status, headers, body: response.body };
  headers["content-type"] ??= "application/json; charset=utf-8";
  return { status: response.status, headers, body: JSON.stringify(response.body) };
}

/** The Functions HTTP trigger for a route; `runtime` is called on every request (cache it). */
export function toHttpFunction<S>(route: ApiRoute<S>, runtime: () => Promise<ApiRuntime<S>>): HttpFunctionDefinition {
  return {
    kind: "http",
    name: route.name,
    route: route.route,
    methods: [route.method],
    authLevel: "anonymous",
    requiresBearerRole: route.role,
    handler: async (request, invocation) => {
      const correlationId = correlationIdOf(request, invocation);
      const log = loggerOf(invocation, correlationId);
      let context: ApiContext<S> | undefined;
      try {
        const built = await runtime();
        context = { services: built.services, correlationId, log, url: new URL(request.url) };
        return toHttpResponse(await respond(route, built, request, context), correlationId);
      } catch (error) {
        return toHttpResponse(answerForError(error, context ?? { services: undefined, correlationId, log, url: new URL(request.url) }), correlationId);
      }
    },
  };
}
