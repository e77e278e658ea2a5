/**
 * The HTTP trigger's two conversions, done with the @azure/functions library's own classes so handlers
 * see what they see in Azure:
 * - incoming: the raw body bytes (the host never parses HTTP trigger bodies), headers, the query with
 *   repeated keys joined by `,` (ASP.NET's StringValues) and the route values, in a real `HttpRequest`;
 * - outgoing: the handler's `HttpResponseInit` or `HttpResponse` through `new HttpResponse(...)`, which
 *   applies the library's rules (jsonBody wins over body and defaults `content-type: application/json`,
 *   204/205/304 drop the body, strings get `text/plain;charset=UTF-8`), then the body is read whole, as the
 *   library does when it hands a response to the host; cookies become `Set-Cookie` headers the way
 *   ASP.NET Core writes them.
 */
import type { IncomingHttpHeaders } from "node:http";
import azf from "@azure/functions";

/** A response ready to write to the socket. */
export interface SerializedHttpResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/** Builds the `HttpRequest` a handler receives. */
export function toHttpRequest(input: {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly params: Readonly<Record<string, string>>;
}): azf.HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(input.url.searchParams.keys())) query[key] = input.url.searchParams.getAll(key).join(",");
  const hasBody = input.body.length > 0 && input.method !== "GET" && input.method !== "HEAD";
  return new azf.HttpRequest({
    method: input.method,
    url: input.url.href,
    headers,
    query,
    params: { ...input.params },
    ...(hasBody ? { body: { bytes: new Uint8Array(input.body) } } : {}),
  });
}

/** Converts what a handler returned, throwing (an invocation failure) where the library would. */
export async function serializeHttpResult(result: unknown): Promise<SerializedHttpResponse> {
  if (result === undefined || result === null) return { status: 204, headers: [], body: Buffer.alloc(0) };
  if (typeof result !== "object") {
    throw new TypeError('The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".');
  }
  const response = result instanceof azf.HttpResponse ? result : new azf.HttpResponse(result as azf.HttpResponseInit);
  const headers: [string, string][] = [...response.headers.entries()];
  for (const cookie of response.cookies) headers.push(["set-cookie", formatSetCookie(cookie)]);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers, body };
}

/** `name=value; expires=...; max-age=...; domain=...; path=...; secure; samesite=...; httponly`, as ASP.NET Core formats it. */
function formatSetCookie(cookie: azf.Cookie): string {
  const parts = [`${escapeDataString(cookie.name)}=${escapeDataString(cookie.value)}`];
  if (cookie.expires !== undefined) parts.push(`expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`max-age=${Math.trunc(cookie.maxAge)}`);
  if (cookie.domain !== undefined) parts.push(`domain=${cookie.domain}`);
  if (cookie.path !== undefined) parts.push(`path=${cookie.path}`);
  if (cookie.secure) parts.push("secure");
  if (cookie.sameSite !== undefined) parts.push(`samesite=${cookie.sameSite.toLowerCase()}`);
  if (cookie.httpOnly) parts.push("httponly");
  return parts.join("; ");
}

/** .NET's Uri.EscapeDataString: everything but RFC 3986 unreserved characters is percent-encoded. */
function escapeDataString(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
