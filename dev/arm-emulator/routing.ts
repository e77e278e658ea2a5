/**
 * The pieces every ARM route shares: route templates matched case-insensitively (ARM compares names that way), the
 * request/response shapes handlers see, api-versions per resource provider, paging with nextLink, and the helper
 * that reports a successful write to Event Grid delivery.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { z } from "zod";
import { ArmError } from "./errors.ts";
import type { ArmActivity, EventGridDelivery } from "./events.ts";
import type { OperationTracker } from "./lro.ts";
import type { EmulatedResourceType } from "./api-versions.ts";
import type { ArmState } from "./state.ts";

export type HttpMethod = "GET" | "PUT" | "PATCH" | "DELETE" | "POST";

/**
 * Resource providers the emulator serves; each has its own supported api-versions. "privatelink": the other
 * registered Private Link types (routes/private-link.ts, whose body errors carry each type's own code).
 */
export type ProviderName = "apim" | "network" | "privatedns" | "privatelink" | "resources";

/** The resource provider of an emulated resource type (its body errors have the provider's codes). */
export function providerOf(type: EmulatedResourceType): ProviderName {
  if (type.startsWith("Microsoft.ApiManagement/")) return "apim";
  if (type.startsWith("Microsoft.Resources/")) return "resources";
  if (type === "Microsoft.Network/privateDnsZones") return "privatedns";
  return type.startsWith("Microsoft.Network/") ? "network" : "privatelink";
}

/** A parsed ARM request as handlers see it. */
export interface ArmRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  readonly params: Readonly<Record<string, string>>;
  readonly apiVersion: string;
  /** The absolute URL of the request (for events). */
  readonly url: string;
  readonly correlationId: string;
  /** Whether the caller holds an action at a scope (for lists ARM filters by what the caller may read). */
  readonly authorize: (action: string, scope: string) => boolean;
  /** The authenticated caller's object ID. */
  readonly principalId: string;
}

export interface ArmResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Tunables handlers read. */
export interface HandlerOptions {
  readonly pageSize: number;
  readonly providerProxyEvents: boolean;
  /** Sent as Retry-After on 202 / in-progress answers when > 0. */
  readonly lroRetryAfterSeconds: number;
}

/** Everything a handler may use; `state` is read through a getter because reset swaps it. */
export interface EmulatorEnv {
  readonly state: ArmState;
  readonly operations: OperationTracker;
  readonly events: EventGridDelivery;
  readonly options: HandlerOptions;
  readonly baseUrl: string;
}

export type Handler = (request: ArmRequest, env: EmulatorEnv) => ArmResponse;

export interface Route {
  readonly template: string;
  /** The resource type the route serves; its published api-versions are the ones accepted (api-versions.ts). */
  readonly resourceType: EmulatedResourceType;
  readonly provider: ProviderName;
  readonly handlers: Partial<Record<HttpMethod, Handler>>;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
  /**
   * ARM does not refuse this GET for want of the path's action: it answers with the items the caller may read
   * (the handler filters with `request.authorize`). Microsoft.Resources' subscription resource list.
   */
  readonly filtersByPermission?: boolean;
}

/** Compiles `/subscriptions/{subscriptionId}/...` into a case-insensitive matcher. */
export function defineRoute(
  template: string,
  resourceType: EmulatedResourceType,
  handlers: Partial<Record<HttpMethod, Handler>>,
  options: { filtersByPermission?: boolean } = {},
): Route {
  const paramNames: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) {
        paramNames.push(param[1]!);
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return {
    template,
    resourceType,
    provider: providerOf(resourceType),
    handlers,
    pattern: new RegExp(`^${source}/?$`, "i"),
    paramNames,
    ...(options.filtersByPermission === true ? { filtersByPermission: true } : {}),
  };
}

/** The first route whose template matches the path, with its decoded parameters. */
export function matchRoute(routes: readonly Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => {
      params[name] = safeDecode(match[i + 1]!);
    });
    return { route, params };
  }
  return undefined;
}

/** Percent-decodes a path segment; a malformed escape is kept as written (and then matches no resource). */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A required route parameter (templates guarantee it exists). */
export function param(request: ArmRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new Error(`route parameter ${name} missing`);
  return value;
}

const BODY_ERROR_CODE: Readonly<Record<ProviderName, string>> = {
  apim: "ValidationError",
  network: "InvalidRequestFormat",
  privatedns: "BadRequest",
  privatelink: "BadRequest",
  resources: "InvalidRequestContent",
};

/** Parses a request body with zod; failures become the 400 the provider would answer, naming each bad field. */
export function parseBody<T extends z.ZodType>(schema: T, request: ArmRequest, provider: ProviderName): z.output<T> {
  if (request.body === undefined) {
    throw new ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the request body is empty.");
  }
  const result = schema.safeParse(request.body);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `'${issue.path.join(".") || "(body)"}': ${issue.message}`).join("; ");
    const first = result.error.issues[0]?.path.join(".");
    throw new ArmError(400, BODY_ERROR_CODE[provider], `The request body is invalid: ${problems}`, first ? { target: first } : {});
  }
  return result.data;
}

/**
 * One page of a list in ARM's `{value, nextLink}` shape. The nextLink repeats the request with `$skiptoken`; `$top`
 * (Private DNS) caps the page size.
 */
export function pageOf<T>(items: readonly T[], request: ArmRequest, env: EmulatorEnv): { value: T[]; nextLink?: string } {
  const skip = Math.max(0, Number.parseInt(request.query.get("$skiptoken") ?? "0", 10) || 0);
  const top = Number.parseInt(request.query.get("$top") ?? "", 10);
  const size = Number.isInteger(top) && top > 0 ? Math.min(top, env.options.pageSize) : env.options.pageSize;
  const value = items.slice(skip, skip + size);
  if (skip + size >= items.length) return { value };
  const next = new URLSearchParams(request.query);
  next.set("$skiptoken", String(skip + size));
  return { value, nextLink: `${env.baseUrl}${request.path}?${next.toString()}` };
}

/** Reports one successful ARM write/delete to Event Grid delivery, attributed to the resource's subscription. */
export function publishActivity(
  env: EmulatorEnv,
  request: ArmRequest,
  activity: { operationName: string; resourceId: string; kind: ArmActivity["kind"]; created?: boolean },
): void {
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(activity.resourceId)?.[1] ?? "";
  env.events.publish({
    operationName: activity.operationName,
    resourceId: activity.resourceId,
    subscriptionId,
    tenantId: env.state.tenantOf(subscriptionId) ?? "",
    kind: activity.kind,
    correlationId: request.correlationId,
    httpMethod: request.method,
    url: request.url,
    ...(activity.created === undefined ? {} : { created: activity.created }),
  });
}

/** Headers for a 202 / in-progress answer, with Retry-After only when configured (the SDK honours it). */
export function pollingHeaders(env: EmulatorEnv, headers: Record<string, string>): Record<string, string> {
  return env.options.lroRetryAfterSeconds > 0 ? { ...headers, "Retry-After": String(env.options.lroRetryAfterSeconds) } : headers;
}

