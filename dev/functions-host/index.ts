/**
 * A local Azure Functions host (runtime v4, Node programming model v4) for the function table in
 * src/functions, because Azure Functions Core Tools cannot run here. Dev-only: never imported by src/.
 *
 * It mirrors the real host where that is documented:
 * - HTTP triggers at `/<routePrefix>/<route>` (route templates: ./routes.ts), auth levels enforced with
 *   keys (./keys.ts) -> 401; no route for the path and method -> 404 (the real host answers 404, not 405,
 *   for a known route with another method); a handler that throws -> 500 with an empty body.
 * - Event Grid triggers at `/runtime/webhooks/eventgrid?functionName=NAME&code=KEY` (./event-grid.ts):
 *   the `eventgrid_extension` system key or the master key, else 401; an unknown function 404; all events
 *   of a batch invoked concurrently, one invocation each; 202 when all succeed, else 500 with the text
 *   `Exception while executing function: Functions.NAME` so Event Grid retries.
 * - Timer triggers (./timers.ts, ./ncrontab.ts) and `POST /admin/functions/NAME` with the master key:
 *   202 and the function runs in the background; 400 without a JSON object body (`{"input": "..."}`),
 *   404 for an unknown function. An Event Grid function gets `input` parsed as its event.
 * - Requests over 100 MB (104,857,600 bytes) -> 413; URLs over 4 KB -> 414; malformed HTTP -> 400.
 *
 * App settings: `settings` only resolves `%NAME%` in timer schedules; handlers read process.env as in Azure,
 * so a caller that wants settings visible to handlers puts them there.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type {
  EventGridFunctionDefinition,
  FunctionDefinition,
  HttpFunctionDefinition,
  TimerFunctionDefinition,
} from "../../src/functions/definition.ts";
import { readEventGridWebhook } from "./event-grid.ts";
import { serializeHttpResult, toHttpRequest, type SerializedHttpResponse } from "./http-trigger.ts";
import { invokeFunction, type HostConsole, type InvocationOutcome } from "./invocation.ts";
import { createHostKeys, grantOf, presentedKey, type HostKeys } from "./keys.ts";
import { parseTimerSchedule, type TimerSchedule } from "./ncrontab.ts";
import { compareRoutePrecedence, compileRouteTemplate, type RouteTemplate } from "./routes.ts";
import { createTimerListener, type TimerListener } from "./timers.ts";

export type { HostKeys } from "./keys.ts";

/** The real host's request length limit (httpRuntime maxRequestLength): 100 MB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 104_857_600;
/** The real host's URL length limit: 4 KB. */
const MAX_URL_LENGTH = 4096;

/** What to serve and how; only `definitions` is required. */
export interface StartFunctionsHostOptions {
  readonly definitions: readonly FunctionDefinition[];
  /** For `%NAME%` in timer schedules; default process.env. */
  readonly settings?: Readonly<Record<string, string | undefined>>;
  /** 0 (default) picks a free port; the host listens on 127.0.0.1. */
  readonly port?: number;
  /** Keys not given are generated at random. */
  readonly keys?: Partial<HostKeys>;
  /** Schedule timers and honour runOnStartup (default true); fireTimer and the admin API work either way. */
  readonly timers?: boolean;
  /** The clock timers schedule by (default the system clock); it must advance for schedules to come due. */
  readonly now?: () => Date;
  /** Where host and invocation log lines go; default console.log. */
  readonly log?: (line: string) => void;
  /** host.json `extensions.http.routePrefix`; default "api", "" serves HTTP routes at the root. */
  readonly routePrefix?: string;
  /** Request body limit in bytes; default 100 MB as in Azure. */
  readonly maxRequestBodyBytes?: number;
}

/** A running local host. */
export interface LocalFunctionsHost {
  /** e.g. http://127.0.0.1:51234 */
  readonly url: string;
  readonly keys: HostKeys;
  /** The URL an Event Grid subscription posts to for `functionName`, including the system key. */
  eventGridWebhookUrl(functionName: string): string;
  /** Runs a timer function now (after any run in progress); rejects with the handler's error if it throws. */
  fireTimer(name: string): Promise<void>;
  /** Stops timers, waits for invocations in progress, and closes the server. */
  close(): Promise<void>;
}

interface HttpRoute {
  readonly definition: HttpFunctionDefinition;
  readonly template: RouteTemplate;
}

interface Reply {
  readonly status: number;
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
}

/** Validates the table (names, routes, schedules), starts listening, then arms the timers. */
export async function startFunctionsHost(options: StartFunctionsHostOptions): Promise<LocalFunctionsHost> {
  const host: HostConsole = { log: options.log ?? ((line) => console.log(line)), now: options.now ?? (() => new Date()) };
  const definitions = options.definitions;
  assertUniqueNames(definitions);
  const routePrefix = splitPath(options.routePrefix ?? "api");
  const maxBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const settings = options.settings ?? process.env;

  const httpRoutes: HttpRoute[] = definitions
    .filter((d): d is HttpFunctionDefinition => d.kind === "http")
    .map((definition) => ({ definition, template: compileForFunction(definition) }))
    .sort((a, b) => compareRoutePrecedence(a.template, b.template));
  const eventGridFunctions = new Map(
    definitions.filter((d): d is EventGridFunctionDefinition => d.kind === "eventGrid").map((d) => [d.name, d]),
  );
  const timerListeners = definitions
    .filter((d): d is TimerFunctionDefinition => d.kind === "timer")
    .map((d) => createTimerListener(d, scheduleFor(d, settings), host));
  const keys = createHostKeys(definitions.map((d) => d.name), options.keys);

  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };

  const findByName = (name: string): FunctionDefinition | undefined =>
    definitions.find((d) => d.name.toLowerCase() === name.toLowerCase());
  const timerListener = (name: string): TimerListener | undefined =>
    timerListeners.find((t) => t.name.toLowerCase() === name.toLowerCase());

  const handleHttpTrigger = async (req: IncomingMessage, url: URL, path: readonly string[], body: Buffer): Promise<Reply> => {
    const method = req.method ?? "GET";
    const found = findHttpRoute(httpRoutes, method, path);
    if (!found) return { status: 404 };
    const { definition, params } = found;
    if (!isAuthorized(definition, grantOf(keyOf(req, url), keys, definition.name))) return { status: 401 };
    const request = toHttpRequest({ method, url, headers: req.headers, body, params });
    const outcome = await invokeFunction(
      host,
      definition.name,
      { type: "httpTrigger", options: { authLevel: definition.authLevel, methods: [...definition.methods], route: definition.route } },
      undefined,
      async (context) => serializeHttpResult(await definition.handler(request, context)),
    );
    return outcome.succeeded ? toReply(outcome.value) : { status: 500 };
  };

  const invokeEventGrid = (definition: EventGridFunctionDefinition, event: unknown): Promise<InvocationOutcome<void>> =>
    invokeFunction(
      host,
      definition.name,
      { type: "eventGridTrigger" },
      {
        data: typeof event === "object" && event !== null ? (event as Record<string, unknown>)["data"] : undefined,
        sys: { methodName: definition.name, utcNow: host.now().toISOString(), randGuid: randomUUID() },
      },
      (context) => definition.handler(event, context),
    );

  const handleEventGridWebhook = async (req: IncomingMessage, url: URL, body: Buffer): Promise<Reply> => {
    const grant = grantOf(keyOf(req, url), keys);
    if (grant !== "admin" && grant !== "system") return { status: 401 };
    const functionName = url.searchParams.get("functionName") ?? "";
    const definition = eventGridFunctions.get(functionName);
    if (!definition) return text(404, `cannot find function: '${functionName}'`);
    const action = readEventGridWebhook({
      method: req.method ?? "POST",
      eventType: headerValue(req, "aeg-event-type"),
      requestOrigin: headerValue(req, "webhook-request-origin"),
      body: body.toString("utf8"),
    });
    if (action.kind === "respond") return { status: action.status, headers: Object.entries(action.headers), body: action.body };
    const outcomes = await Promise.all(action.events.map((event) => invokeEventGrid(definition, event)));
    return outcomes.every((o) => o.succeeded) ? { status: 202 } : text(500, `Exception while executing function: Functions.${definition.name}`);
  };

  const handleAdminInvoke = (req: IncomingMessage, url: URL, name: string, body: Buffer): Reply => {
    if (grantOf(keyOf(req, url), keys) !== "admin") return { status: 401 };
    const definition = findByName(name);
    if (!definition) return { status: 404 };
    const invocation = parseObject(body.toString("utf8"));
    if (!invocation) return text(400, 'expected a JSON object body such as {"input": ""}');
    const input = invocation["input"];
    switch (definition.kind) {
      case "timer":
        void track(timerListener(definition.name)!.run("manual"));
        return { status: 202 };
      case "eventGrid":
        void track(
          invokeFunction(host, definition.name, { type: "eventGridTrigger" }, undefined, (context) =>
            definition.handler(typeof input === "string" ? (JSON.parse(input) as unknown) : input, context),
          ),
        );
        return { status: 202 };
      case "http":
        return text(400, `'${definition.name}' is HTTP-triggered: call its route instead`);
    }
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<void> => {
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_LENGTH) return write(res, { status: 414 });
    const url = requestUrl(req, baseUrl);
    const path = url && decodePath(url.pathname);
    if (!url || !path) return write(res, text(400, "malformed request URL"));
    if (Number(req.headers["content-length"] ?? 0) > maxBodyBytes) return write(res, { status: 413 }, { close: true });
    const body = await readBody(req, maxBodyBytes);
    if (body === "too-large") return write(res, { status: 413 }, { close: true });
    const lower = path.map((s) => s.toLowerCase());
    const method = req.method ?? "GET";
    if (lower.length === 3 && lower[0] === "runtime" && lower[1] === "webhooks" && lower[2] === "eventgrid") {
      return write(res, await handleEventGridWebhook(req, url, body));
    }
    if (lower.length === 3 && lower[0] === "admin" && lower[1] === "functions" && method === "POST") {
      return write(res, handleAdminInvoke(req, url, path[2]!, body));
    }
    if (startsWithSegments(lower, routePrefix)) {
      return write(res, await handleHttpTrigger(req, url, path.slice(routePrefix.length), body));
    }
    return write(res, { status: 404 });
  };

  const server = createServer();
  let baseUrl = "";
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void track(
      dispatch(req, res, baseUrl).catch((error: unknown) => {
        host.log(`[${host.now().toISOString()}] host error on ${req.method} ${req.url}: ${String(error)}`);
        try {
          if (res.headersSent) throw error;
          for (const name of res.getHeaderNames()) res.removeHeader(name);
          write(res, { status: 500 }, { close: true });
        } catch {
          res.destroy();
        }
      }),
    );
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  logFunctionTable(host, baseUrl, routePrefix, definitions);
  if (options.timers ?? true) for (const listener of timerListeners) listener.start();

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    keys,
    eventGridWebhookUrl: (functionName) =>
      `${baseUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}&code=${encodeURIComponent(keys.eventGridSystemKey)}`,
    async fireTimer(name) {
      const listener = timerListener(name);
      if (!listener) throw new Error(`no timer function named '${name}'`);
      const outcome = await track(listener.run("manual"));
      if (!outcome.succeeded) throw outcome.error;
    },
    close() {
      closing ??= (async () => {
        await Promise.all(timerListeners.map((t) => t.stop()));
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

function assertUniqueNames(definitions: readonly FunctionDefinition[]): void {
  const seen = new Set<string>();
  for (const d of definitions) {
    const key = d.name.toLowerCase();
    if (seen.has(key)) throw new Error(`two functions are named '${d.name}' (function names are case-insensitive)`);
    seen.add(key);
  }
}

function compileForFunction(definition: HttpFunctionDefinition): RouteTemplate {
  try {
    return compileRouteTemplate(definition.route);
  } catch (error) {
    throw new Error(`function '${definition.name}': ${(error as Error).message}`, { cause: error });
  }
}

/** Resolves every `%NAME%` from the settings, as the host's name resolver does, and parses the result. */
function scheduleFor(definition: TimerFunctionDefinition, settings: Readonly<Record<string, string | undefined>>): TimerSchedule {
  const expression = definition.schedule.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = settings[name];
    if (value === undefined || value.length === 0) {
      throw new Error(`function '${definition.name}': the schedule refers to the app setting ${name}, which is not set`);
    }
    return value;
  });
  try {
    return parseTimerSchedule(expression);
  } catch (error) {
    throw new Error(`function '${definition.name}': ${(error as Error).message}`, { cause: error });
  }
}

function findHttpRoute(
  routes: readonly HttpRoute[],
  method: string,
  path: readonly string[],
): { definition: HttpFunctionDefinition; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (!(route.definition.methods as readonly string[]).includes(method)) continue;
    const params = route.template.match(path);
    if (params) return { definition: route.definition, params };
  }
  return undefined;
}

function isAuthorized(definition: HttpFunctionDefinition, grant: ReturnType<typeof grantOf>): boolean {
  switch (definition.authLevel) {
    case "anonymous":
      return true;
    case "function":
      return grant === "admin" || grant === "function";
    case "admin":
      return grant === "admin";
  }
}

function keyOf(req: IncomingMessage, url: URL): string | undefined {
  return presentedKey(headerValue(req, "x-functions-key"), url.searchParams);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The public URL of the request: its Host header when that parses, else the address the host listens on. */
function requestUrl(req: IncomingMessage, baseUrl: string): URL | undefined {
  const hostHeader = req.headers.host;
  const base = hostHeader !== undefined && URL.canParse(`http://${hostHeader}`) ? `http://${hostHeader}` : baseUrl;
  return URL.canParse(req.url ?? "/", base) ? new URL(req.url ?? "/", base) : undefined;
}

/** Percent-decoded path segments without the leading and trailing slash; undefined for bad escapes. */
function decodePath(pathname: string): string[] | undefined {
  try {
    return splitPath(pathname).map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, "").replace(/\/$/, "");
  return trimmed.length === 0 ? [] : trimmed.split("/");
}

function startsWithSegments(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((segment, i) => path[i] === segment.toLowerCase());
}

/** The whole body, or "too-large" as soon as it passes the limit (the rest is discarded unread). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overLimit = false;
    req.on("data", (chunk: Buffer) => {
      if (overLimit) return;
      size += chunk.length;
      if (size > limit) {
        overLimit = true;
        chunks.length = 0;
        resolve("too-large");
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function text(status: number, body: string): Reply {
  return { status, headers: [["content-type", "text/plain; charset=utf-8"]], body };
}

function toReply(response: SerializedHttpResponse): Reply {
  return { status: response.status, headers: response.headers, body: response.body };
}

function write(res: ServerResponse, reply: Reply, options: { close?: boolean } = {}): void {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of reply.headers ?? []) {
    const key = name.toLowerCase();
    if (key === "content-length" || key === "transfer-encoding" || key === "connection") continue;
    grouped.set(key, [...(grouped.get(key) ?? []), value]);
  }
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  const body = typeof reply.body === "string" ? Buffer.from(reply.body) : (reply.body ?? Buffer.alloc(0));
  res.setHeader("content-length", body.length);
  if (options.close) res.setHeader("connection", "close");
  res.writeHead(reply.status);
  res.end(body);
}

/**
 * How a route is reached, as the caller meets it: the host's key level, and the bearer token the app demands.
 * API routes are `anonymous` to the host (no function key) yet refuse a request without a token (401), so printing
 * only the host's level would call them all "anonymous".
 */
function accessOf(definition: HttpFunctionDefinition): string {
  const keys = definition.authLevel === "anonymous" ? undefined : `${definition.authLevel} key`;
  const token = definition.requiresBearerRole === undefined ? undefined : `bearer token, role ${definition.requiresBearerRole}`;
  return [keys, token].filter((part) => part !== undefined).join(" + ") || "anonymous: no key, no token";
}

function logFunctionTable(host: HostConsole, baseUrl: string, routePrefix: readonly string[], definitions: readonly FunctionDefinition[]): void {
  const prefix = routePrefix.length === 0 ? "" : `/${routePrefix.join("/")}`;
  const lines = definitions.map((d) => {
    switch (d.kind) {
      case "http":
        return `  ${d.name}: [${d.methods.join(",")}] ${baseUrl}${prefix}/${d.route} (${accessOf(d)})`;
      case "eventGrid":
        return `  ${d.name}: eventGridTrigger ${baseUrl}/runtime/webhooks/eventgrid?functionName=${d.name}`;
      case "timer":
        return `  ${d.name}: timerTrigger '${d.schedule}'${d.runOnStartup ? " (runOnStartup)" : ""}`;
    }
  });
  host.log(`[${host.now().toISOString()}] Functions host listening on ${baseUrl}\n${lines.join("\n")}`);
}
