/**
 * A local OpenID Connect issuer shaped like Entra ID (v2.0 endpoints), served over HTTPS with its own self-signed
 * certificate, so the API is tried locally exactly as in Azure: real RS256 access tokens checked against a real
 * discovery document and JWKS. Dev and test only: nothing under src/ imports it, and it is never deployed.
 *
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration   discovery document
 *   GET  /{tenant}/discovery/v2.0/keys                     JWKS (the published signing key only)
 *   POST /{tenant}/oauth2/v2.0/token                       client-credentials style token endpoint for local use:
 *        form fields client_id (required), roles (space- or comma-separated app roles), name, scope: `{resource}/.default`
 *        makes the token's audience that resource (as Entra ID does, e.g. https://management.azure.com/.default for
 *        ARM); without it the audience is the API's
 *
 * The app trusts the certificate through PORTCULLIS_AUTH_CA_FILE (local stack only).
 */
import { createHash, randomUUID } from "node:crypto";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { createServerCertificate } from "../tls.ts";

/** What a test token says; every claim has a sensible local default. */
export interface MintTokenOptions {
  /** App roles in the `roles` claim, e.g. ["Portcullis.Approver"]. */
  readonly roles?: readonly string[];
  /** Entra object ID of the caller; default a fixed local GUID. */
  readonly oid?: string;
  /** Display name (user tokens carry it; app tokens do not). */
  readonly name?: string;
  /** Client (application) ID of the caller, sent as `azp` as v2.0 tokens do. */
  readonly appid?: string;
  /** Default: the audience the issuer was started with. */
  readonly audience?: string;
  /** Lifetime from now; negative values mint an already-expired token. Default 3600. */
  readonly expiresInSeconds?: number;
  /** Default: now. */
  readonly notBefore?: Date;
  /** Sign with a key the JWKS does not publish (a forged token). */
  readonly signWithUnpublishedKey?: boolean;
  /** Claims added or overriding the defaults (tests of hostile tokens). */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
}

export interface StartOidcIssuerOptions {
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** Path segment naming the tenant, as in login.microsoftonline.com/{tenant}; default "local-tenant". */
  readonly tenantId?: string;
  /** The API's audience (PORTCULLIS_AUTH_AUDIENCE). */
  readonly audience: string;
}

/** A running local issuer. */
export interface OidcIssuer {
  /** e.g. https://127.0.0.1:8444/local-tenant/v2.0 (PORTCULLIS_AUTH_ISSUER). */
  readonly issuer: string;
  /** PEM of the self-signed certificate (write it to PORTCULLIS_AUTH_CA_FILE). */
  readonly caPem: string;
  readonly discoveryUrl: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  /** Signs an access token for the API. */
  mintToken(options?: MintTokenOptions): Promise<string>;
  close(): Promise<void>;
}

/** The object ID local tokens carry when the caller gives none. */
export const LOCAL_OBJECT_ID = "00000000-0000-4000-8000-00000000a11c";

const DEFAULT_LIFETIME_SECONDS = 3600;
const MAX_FORM_BYTES = 16 * 1024;

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const publicJwk = await exportJWK(publicKey);
  const kid = createHash("sha256").update(JSON.stringify(publicJwk)).digest("base64url").slice(0, 27);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, use: "sig", alg: "RS256" } };
}

/** A stable GUID-shaped object ID for a client ID, so repeated local token requests name the same principal. */
export function objectIdForClient(clientId: string): string {
  const hex = createHash("sha256").update(`portcullis-local:${clientId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Starts the issuer; resolves once it listens. */
export async function startOidcIssuer(options: StartOidcIssuerOptions): Promise<OidcIssuer> {
  const tenantId = options.tenantId ?? "local-tenant";
  if (!/^[A-Za-z0-9-]{1,64}$/.test(tenantId)) throw new Error(`tenantId must be letters, digits and hyphens: ${tenantId}`);
  const [published, unpublished, certificate] = await Promise.all([createSigningKey(), createSigningKey(), createServerCertificate("Portcullis local OpenID issuer")]);
  let origin = "";
  const urls = () => ({
    issuer: `${origin}/${tenantId}/v2.0`,
    discoveryUrl: `${origin}/${tenantId}/v2.0/.well-known/openid-configuration`,
    jwksUri: `${origin}/${tenantId}/discovery/v2.0/keys`,
    tokenEndpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
  });

  async function mintToken(mint: MintTokenOptions = {}): Promise<string> {
    const key = mint.signWithUnpublishedKey ? unpublished : published;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const notBefore = mint.notBefore === undefined ? nowSeconds : Math.floor(mint.notBefore.getTime() / 1000);
    const oid = mint.oid ?? LOCAL_OBJECT_ID;
    const claims: Record<string, unknown> = {
      aud: mint.audience ?? options.audience,
      iss: urls().issuer,
      iat: nowSeconds,
      nbf: notBefore,
      exp: nowSeconds + (mint.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS),
      oid,
      sub: oid,
      tid: tenantId,
      ver: "2.0",
      uti: randomUUID().replaceAll("-", ""),
      ...(mint.appid !== undefined ? { azp: mint.appid, azpacr: "1" } : {}),
      ...(mint.name !== undefined ? { name: mint.name } : {}),
      ...(mint.roles !== undefined ? { roles: [...mint.roles] } : {}),
      ...mint.extraClaims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "https://127.0.0.1").pathname;
    const { discoveryUrl, jwksUri, tokenEndpoint, issuer } = urls();
    const pathOf = (url: string) => new URL(url).pathname;
    if (req.method === "GET" && path === pathOf(discoveryUrl)) {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/authorize`,
        token_endpoint: tokenEndpoint,
        jwks_uri: jwksUri,
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "oid", "tid", "name", "azp", "roles", "ver"],
        tenant_region_scope: "local",
      });
    }
    if (req.method === "GET" && path === pathOf(jwksUri)) return json(res, 200, { keys: [published.publicJwk] });
    if (req.method === "POST" && path === pathOf(tokenEndpoint)) return issueToken(req, res);
    return json(res, 404, { error: "not_found", error_description: `No such endpoint: ${req.method} ${path}` });
  }

  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    if (text === undefined) return json(res, 413, { error: "invalid_request", error_description: "the request body is too large" });
    const form = new URLSearchParams(text);
    const grantType = form.get("grant_type") ?? "client_credentials";
    if (grantType !== "client_credentials") {
      return json(res, 400, { error: "unsupported_grant_type", error_description: "only client_credentials is supported locally" });
    }
    const clientId = form.get("client_id") ?? "";
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(clientId)) {
      return json(res, 400, { error: "invalid_client", error_description: "client_id is required (letters, digits, '.', '_', '-')" });
    }
    const roles = (form.get("roles") ?? "").split(/[\s,]+/).filter((r) => r.length > 0);
    const name = form.get("name") ?? undefined;
    const resource = /^(\S+)\/\.default$/.exec(form.get("scope") ?? "")?.[1];
    const accessToken = await mintToken({
      ...(resource !== undefined ? { audience: resource } : {}),
      roles,
      oid: objectIdForClient(clientId),
      appid: clientId,
      ...(name !== undefined && name.length > 0 ? { name } : {}),
    });
    return json(res, 200, { token_type: "Bearer", expires_in: DEFAULT_LIFETIME_SECONDS, ext_expires_in: DEFAULT_LIFETIME_SECONDS, access_token: accessToken });
  }

  const server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: "server_error", error_description: String(error) });
      else res.destroy();
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...urls(),
    caPem: certificate.certPem,
    mintToken,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The curl command `npm start` prints: fetch a local token with the given roles (the CA file makes curl trust it). */
export function tokenCurlCommand(issuer: Pick<OidcIssuer, "tokenEndpoint">, options: { readonly caFile: string; readonly clientId: string; readonly roles: readonly string[] }): string {
  return [
    `curl -s --cacert ${shellQuote(options.caFile)} ${shellQuote(issuer.tokenEndpoint)}`,
    `-d grant_type=client_credentials -d client_id=${shellQuote(options.clientId)} -d roles=${shellQuote(options.roles.join(" "))}`,
  ].join(" ");
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readText(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_FORM_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
