/**
 * The OpenAPI 3.1 document, generated from the route registry (src/http/route.ts): the same zod schemas that
 * validate each request describe it here (z.toJSONSchema, JSON Schema 2020-12, which OpenAPI 3.1 uses as is), so
 * the document cannot drift from what is enforced. Errors every route can answer are added from the route's shape
 * (a body: 413 / 415; an Idempotency-Key: 409 / 422; always 400 / 401 / 403 / 500 / 503).
 */
import { z } from "zod";
import { API_ROLES } from "./auth.ts";
import { idempotencyKeySchema } from "./idempotency.ts";
import { PROBLEMS, problemSchema } from "./problem.ts";
import type { ApiRoute, HttpMethod, ResponseSpec } from "./route.ts";

/** An HTTP function outside the registry (anonymous, e.g. /health), documented from its own schema. */
export interface PlainRouteDoc {
  readonly name: string;
  readonly method: HttpMethod;
  readonly route: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

type JsonObject = Record<string, unknown>;

/** JSON Schema of a zod schema, as OpenAPI 3.1 embeds it (no `$schema`; shared definitions under components). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const generated = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any", reused: "inline" }) as JsonObject;
  const { $schema: _dialect, ...rest } = generated;
  return rest;
}

/** `instances/{subscriptionId}/...` → `/instances/{subscriptionId}/...` (constraints dropped, as OpenAPI wants). */
export function openApiPath(route: string): string {
  return `/${route.replace(/^\/+/, "").replace(/\{\*{0,2}([A-Za-z_][A-Za-z0-9_]*)[^}]*\}/g, "{$1}")}`;
}

function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

function parameters(location: "path" | "query" | "header", schema: z.ZodType | undefined): JsonObject[] {
  return Object.entries(objectShape(schema)).map(([name, field]) => {
    const described = jsonSchema(field, "input");
    const { description, deprecated, ...fieldSchema } = described;
    return {
      name,
      in: location,
      required: location === "path" || !field.safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      // A deprecated alias (e.g. instanceId for resourceId) is marked on the parameter, where OpenAPI reads it.
      ...(deprecated === true ? { deprecated: true } : {}),
      schema: fieldSchema,
    };
  });
}

function problemResponse(description: string): JsonObject {
  return { description, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } };
}

function response(status: number, spec: ResponseSpec): JsonObject {
  const headers = Object.fromEntries(Object.entries(spec.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: "string" } }]));
  const withHeaders = Object.keys(headers).length > 0 ? { headers } : {};
  if (status >= 400) return { ...problemResponse(spec.description), ...withHeaders };
  if (spec.schema === undefined) return { description: spec.description, ...withHeaders };
  return { description: spec.description, ...withHeaders, content: { "application/json": { schema: jsonSchema(spec.schema, "output") } } };
}

/** The errors any route of this shape can answer, beyond what it declares. */
function commonErrors(route: ApiRoute<unknown>): Record<number, JsonObject> {
  const errors: Record<number, JsonObject> = {
    400: problemResponse("The request is not valid; `errors` lists each field's problem."),
    401: { ...problemResponse("No valid bearer token."), headers: { "www-authenticate": { description: "Bearer challenge", schema: { type: "string" } } } },
    403: problemResponse(`The token lacks the ${route.role} app role.`),
    500: problemResponse(PROBLEMS.internal.title),
    503: {
      ...problemResponse("Azure Resource Manager, Table Storage or the token issuer is unreachable; nothing was changed."),
      headers: { "retry-after": { description: "Seconds to wait before retrying.", schema: { type: "string" } } },
    },
  };
  if (route.body !== undefined) {
    errors[413] = problemResponse(PROBLEMS["payload-too-large"].title);
    errors[415] = problemResponse(PROBLEMS["unsupported-media-type"].title);
  }
  if (route.idempotent) {
    errors[409] = problemResponse("The resource's state does not allow this, or the first request with this Idempotency-Key is still running.");
    errors[422] = problemResponse(PROBLEMS["idempotency-key-reused"].title);
  }
  return errors;
}

function operation(route: ApiRoute<unknown>): JsonObject {
  const idempotencyHeader = route.idempotent
    ? [{ name: "Idempotency-Key", in: "header", required: true, description: idempotencyKeySchema.description, schema: { type: "string", minLength: 1, maxLength: 257 } }]
    : [];
  const responses: Record<string, JsonObject> = {};
  for (const [status, error] of Object.entries(commonErrors(route))) responses[status] = error;
  for (const [status, spec] of Object.entries(route.responses)) responses[status] = response(Number(status), spec);
  return {
    operationId: route.name,
    summary: route.summary,
    ...(route.description !== undefined ? { description: route.description } : {}),
    tags: [...route.tags],
    security: [{ bearer: [route.role] }],
    parameters: [...parameters("path", route.params), ...parameters("query", route.query), ...parameters("header", route.headers), ...idempotencyHeader],
    ...(route.body !== undefined
      ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } } }
      : {}),
    responses,
  };
}

function plainOperation(route: PlainRouteDoc): JsonObject {
  return {
    operationId: route.name,
    summary: route.summary,
    tags: [...route.tags],
    security: [],
    responses: Object.fromEntries(Object.entries(route.responses).map(([status, spec]) => [status, response(Number(status), spec)])),
  };
}

/** Builds the document for the registry (and plain anonymous routes). Throws if two routes claim one path and method. */
export function buildOpenApiDocument(info: OpenApiInfo, routes: readonly ApiRoute<unknown>[], plainRoutes: readonly PlainRouteDoc[] = []): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  const add = (route: { route: string; method: HttpMethod; name: string }, op: JsonObject) => {
    const path = openApiPath(route.route);
    const item = (paths[path] ??= {});
    const method = route.method.toLowerCase();
    if (item[method] !== undefined) throw new Error(`${route.name}: ${route.method} ${path} is registered twice`);
    item[method] = op;
  };
  for (const route of routes) add(route, operation(route));
  for (const route of plainRoutes) add(route, plainOperation(route));
  return {
    openapi: "3.1.0",
    info: { title: info.title, version: info.version, description: info.description },
    servers: [{ url: "/api" }],
    tags: [...new Set([...routes, ...plainRoutes].flatMap((r) => r.tags))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, "output") },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: `An Entra ID access token for the API's app registration. App roles (nested: Admin implies Approver implies Reader): ${API_ROLES.join(", ")}.`,
        },
      },
    },
  };
}
