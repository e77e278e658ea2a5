/**
 * A fetch for the issuer's discovery document and JWKS that can trust one extra CA (the local OpenID issuer's
 * self-signed certificate, PORTCULLIS_AUTH_CA_FILE). Node's global fetch cannot take a CA per request, so with a
 * CA this goes through node:https; without one it is the global fetch (public CAs, as in Azure).
 */
import https from "node:https";

/** The subset of fetch this module offers: GET only. */
export type GetFetch = (url: string, init?: { readonly headers?: Headers | Record<string, string>; readonly signal?: AbortSignal | null }) => Promise<Response>;

/** Discovery documents and key sets are small; anything larger is refused. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A GET-only fetch over HTTPS trusting `caPem` in addition to nothing else (undefined: the global fetch). */
export function createTrustedFetch(caPem: string | undefined): GetFetch {
  if (caPem === undefined) return (url, init) => fetch(url, { ...init, redirect: "manual" });
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== "https:") {
        reject(new TypeError(`refusing to fetch ${target.protocol} URL: only https is allowed`));
        return;
      }
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const request = https.get(target, { ca: caPem, headers, signal: init?.signal ?? undefined }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) response.destroy(new Error(`response from ${target.origin} exceeds ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on("error", reject);
        response.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === "string") responseHeaders.set(name, value);
            else if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
          }
          const status = response.statusCode ?? 502;
          const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status: status < 200 ? 502 : status, headers: responseHeaders }));
        });
      });
      request.on("error", reject);
    });
}
