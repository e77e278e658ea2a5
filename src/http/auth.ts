/**
 * Who is calling, proven: every API call except /health carries an Entra ID access token, validated here with jose
 * (signature against the issuer's JWKS found through its OpenID discovery document, issuer, audience, expiry and
 * not-before with 60 s of clock skew, RS256 only). Function keys are never an identity: the HTTP triggers are
 * `anonymous` at the Functions level and this check is always on.
 *
 * App Service Authentication: when the platform says it is on (WEBSITE_AUTH_ENABLED=true) it has validated the
 * caller and injects `x-ms-client-principal` (stripping any such header the client sent), so the principal may be
 * read from that header instead, but only one signed in with Entra ID by the configured issuer's tenant (the site
 * may have other identity providers). When it is off the header is ignored entirely: anyone can send it.
 *
 * Roles are the app roles of the API's registration. They nest: Admin implies Approver, Approver implies Reader,
 * so one assignment per caller is enough (an approver must be able to read what it approves; an admin can
 * already do more than approve by changing rules).
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { PortcullisError } from "../domain/errors.ts";
import { ProblemError } from "./problem.ts";
import { createTrustedFetch, type GetFetch } from "./trusted-fetch.ts";

export const API_ROLES = ["Portcullis.Reader", "Portcullis.Approver", "Portcullis.Admin"] as const;
export type ApiRole = (typeof API_ROLES)[number];

/**
 * The roles each app role grants (itself and the ones it implies). A Map, not an object literal: a claimed role
 * is caller-controlled text, and `"constructor" in {}` is true.
 */
const IMPLIED_ROLES: ReadonlyMap<string, readonly ApiRole[]> = new Map<string, readonly ApiRole[]>([
  ["Portcullis.Reader", ["Portcullis.Reader"]],
  ["Portcullis.Approver", ["Portcullis.Approver", "Portcullis.Reader"]],
  ["Portcullis.Admin", ["Portcullis.Admin", "Portcullis.Approver", "Portcullis.Reader"]],
]);

/** The authenticated caller; `objectId`, `appId` and `name` are what the decision log and rule history record. */
export interface Principal {
  /** Entra object ID (`oid`) of the user or service principal. */
  readonly objectId: string;
  /** Client ID of the calling application (`azp` in v2.0 tokens, `appid` in v1.0). */
  readonly appId: string | undefined;
  readonly name: string | undefined;
  /** The roles granted, implied ones included. */
  readonly roles: readonly ApiRole[];
  readonly authenticatedBy: "bearer-token" | "app-service";
}

/** True when the principal holds `role` directly or through a role that implies it. */
export function hasRole(principal: Principal, role: ApiRole): boolean {
  return principal.roles.includes(role);
}

/** The API roles granted by a token's `roles` claim; unknown roles are ignored. */
export function grantedRoles(claimed: readonly unknown[]): ApiRole[] {
  const granted = new Set<ApiRole>();
  for (const role of claimed) {
    const implied = typeof role === "string" ? IMPLIED_ROLES.get(role) : undefined;
    if (implied !== undefined) for (const r of implied) granted.add(r);
  }
  return API_ROLES.filter((r) => granted.has(r));
}

export interface AuthenticatorOptions {
  /** PORTCULLIS_AUTH_ISSUER: the exact `iss` of accepted tokens; discovery is `{issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** PORTCULLIS_AUTH_AUDIENCE: the exact `aud` of accepted tokens. */
  readonly audience: string;
  /** PEM of an extra CA to trust for discovery and JWKS (local issuer only). */
  readonly caPem?: string | undefined;
  /** WEBSITE_AUTH_ENABLED: only then is x-ms-client-principal read. */
  readonly trustAppServicePrincipal: boolean;
  readonly clockToleranceSeconds?: number;
  /** Replaces the fetch used for discovery and JWKS (tests). */
  readonly fetch?: GetFetch;
  /** Milliseconds since the epoch; replaces Date.now for the discovery back-off (tests). */
  readonly now?: () => number;
}

export interface Authenticator {
  /** The caller of a request; throws ProblemError 401 when unproven, PortcullisError transient when the issuer is unreachable. */
  authenticate(headers: Headers): Promise<Principal>;
}

export const CLIENT_PRINCIPAL_HEADER = "x-ms-client-principal";
const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]+$/;
const OBJECT_ID = /^[A-Za-z0-9-]{1,128}$/;

const FIRST_DISCOVERY_BACKOFF_MS = 1_000;
const MAX_DISCOVERY_BACKOFF_MS = 60_000;

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url({ protocol: /^https$/ }) });

/** A 401 with the RFC 6750 challenge; `error` is null when no credentials were sent at all. */
function unauthenticated(detail: string, error: "invalid_token" | "invalid_request" | null = "invalid_token"): ProblemError {
  const challenge = error === null ? "Bearer" : `Bearer error="${error}"`;
  return new ProblemError("unauthenticated", detail, { headers: { "www-authenticate": challenge } });
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/** A text claim usable as an identity field: bounded, no control characters; otherwise undefined. */
function textClaim(value: unknown, maxLength: number): string | undefined {
  return typeof value === "string" && value.length <= maxLength && NO_CONTROL_CHARACTERS.test(value) ? value : undefined;
}

function principalOf(claims: { oid: unknown; appId: unknown; name: unknown; roles: readonly unknown[] }, via: Principal["authenticatedBy"]): Principal {
  const objectId = typeof claims.oid === "string" && OBJECT_ID.test(claims.oid) ? claims.oid : undefined;
  if (objectId === undefined) throw unauthenticated("The token carries no usable object ID (oid) claim, so the caller cannot be recorded.");
  return { objectId, appId: textClaim(claims.appId, 128), name: textClaim(claims.name, 256), roles: grantedRoles(claims.roles), authenticatedBy: via };
}

/** Why a token was refused, in words a caller can act on (no key material, no internals). */
function describeTokenFailure(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return "The token has expired.";
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return "The token was not issued for this API (audience).";
      case "iss":
        return "The token was not issued by the trusted issuer.";
      case "nbf":
        return "The token is not valid yet (not before).";
      default:
        return `The token's ${error.claim} claim is not acceptable.`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token is not signed with an accepted algorithm (RS256).";
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return "The token's signature could not be verified with the issuer's keys.";
  }
  return "The token is malformed.";
}

/** jose errors that mean the caller's token is bad (401), as opposed to the issuer being unreachable (503). */
function isTokenProblem(error: unknown): error is errors.JOSEError {
  return (
    error instanceof errors.JWTExpired ||
    error instanceof errors.JWTClaimValidationFailed ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JWKInvalid
  );
}

/** Builds the authenticator. Nothing is fetched until the first token arrives; discovery is then cached. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const issuer = options.issuer;
  const fetchImpl = options.fetch ?? createTrustedFetch(options.caPem);
  const clockTolerance = options.clockToleranceSeconds ?? 60;
  const now = options.now ?? Date.now;
  const expected = { issuer, tenant: tenantOfIssuer(issuer) };
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${trimSlash(issuer)}/.well-known/openid-configuration`;
    let document: unknown;
    try {
      const response = await fetchImpl(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(5_000) });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      document = await response.json();
    } catch (error) {
      throw new PortcullisError("transient", `OpenID discovery at ${url} failed: ${(error as Error).message}`, { cause: error });
    }
    const parsed = discoverySchema.safeParse(document);
    if (!parsed.success || trimSlash(parsed.data.issuer) !== trimSlash(issuer)) {
      throw new PortcullisError("transient", `OpenID discovery at ${url} did not describe the issuer ${issuer}.`);
    }
    return createRemoteJWKSet(new URL(parsed.data.jwks_uri), {
      timeoutDuration: 5_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      [customFetch]: (url: string, init: { headers: Headers; signal: AbortSignal }) => fetchImpl(url, { headers: init.headers, signal: init.signal }),
    });
  }

  /**
   * The issuer's key set, discovered once. A failed discovery is remembered and answered from memory (503) until a
   * back-off passes (1 s, doubling to 60 s while it keeps failing): otherwise every junk token would cost a
   * discovery fetch of up to 5 s, an easy way to tie up the app.
   */
  let failure: { readonly error: unknown; readonly retryAtMs: number; readonly consecutive: number } | undefined;
  function jwks(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (keySet === undefined && failure !== undefined && now() < failure.retryAtMs) return Promise.reject(failure.error);
    keySet ??= discover().then(
      (keys) => {
        failure = undefined;
        return keys;
      },
      (error: unknown) => {
        keySet = undefined;
        const consecutive = (failure?.consecutive ?? 0) + 1;
        const backOffMs = Math.min(MAX_DISCOVERY_BACKOFF_MS, FIRST_DISCOVERY_BACKOFF_MS * 2 ** (consecutive - 1));
        failure = { error, retryAtMs: now() + backOffMs, consecutive };
        throw error;
      },
    );
    return keySet;
  }

  async function verifyBearer(authorization: string): Promise<Principal> {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    const token = match?.[1];
    if (token === undefined || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw unauthenticated("The Authorization header must be 'Bearer <JWT access token>'.", "invalid_request");
    }
    try {
      if (decodeProtectedHeader(token).alg !== "RS256") throw new errors.JOSEAlgNotAllowed("alg");
    } catch (error) {
      throw unauthenticated(error instanceof errors.JOSEAlgNotAllowed ? describeTokenFailure(error) : "The token is malformed.");
    }
    const keys = await jwks();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: options.audience,
        algorithms: ["RS256"],
        clockTolerance,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      if (isTokenProblem(error)) throw unauthenticated(describeTokenFailure(error));
      throw new PortcullisError("transient", `Fetching the issuer's signing keys failed: ${(error as Error).message}`, { cause: error });
    }
    const roles = Array.isArray(payload["roles"]) ? (payload["roles"] as unknown[]) : [];
    return principalOf({ oid: payload["oid"], appId: payload["azp"] ?? payload["appid"], name: payload["name"], roles }, "bearer-token");
  }

  return {
    async authenticate(headers) {
      if (options.trustAppServicePrincipal) {
        const clientPrincipal = headers.get(CLIENT_PRINCIPAL_HEADER);
        if (clientPrincipal !== null) return readClientPrincipal(clientPrincipal, expected);
      }
      const authorization = headers.get("authorization");
      if (authorization === null) throw unauthenticated("A bearer token is required (Authorization: Bearer <token>).", null);
      return verifyBearer(authorization);
    },
  };
}

const clientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
});

const OID_CLAIM_TYPES = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
const ROLE_CLAIM_TYPES = ["roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"];
const TENANT_CLAIM_TYPES = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
/** Entra ID's token issuers: v2.0 `https://login.microsoftonline.com/{tenant}/v2.0`, v1.0 `https://sts.windows.net/{tenant}/`. */
const ENTRA_ISSUER_HOSTS = ["login.microsoftonline.com", "sts.windows.net"];

/** Who the App Service principal must come from: PORTCULLIS_AUTH_ISSUER, and the tenant in its path. */
export interface ExpectedIssuer {
  readonly issuer: string;
  /** The first path segment of the issuer URL (the tenant ID for Entra ID); computed from `issuer` when absent. */
  readonly tenant?: string | undefined;
}

/** The tenant an issuer URL names: its first path segment ("{tenant}" in login.microsoftonline.com/{tenant}/v2.0). */
function tenantOfIssuer(issuerUrl: string): string | undefined {
  try {
    const segment = new URL(issuerUrl).pathname.split("/").find((s) => s.length > 0);
    return segment?.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Whether the platform's principal comes from the configured issuer: the same pin the bearer path applies to `iss`.
 * Its `iss` claim must be the configured issuer or an Entra ID issuer (v1.0 or v2.0) of the same tenant, and a
 * tenant claim, if present, must name that tenant; a principal with neither claim is refused.
 */
function fromExpectedIssuer(claims: readonly { typ: string; val: string }[], expected: ExpectedIssuer): boolean {
  const tenant = expected.tenant ?? tenantOfIssuer(expected.issuer);
  const iss = claims.find((c) => c.typ === "iss")?.val;
  const tid = claims.find((c) => TENANT_CLAIM_TYPES.includes(c.typ))?.val;
  if (tid !== undefined && (tenant === undefined || tid.toLowerCase() !== tenant)) return false;
  if (iss === undefined) return tid !== undefined;
  if (trimSlash(iss) === trimSlash(expected.issuer)) return true;
  try {
    const url = new URL(iss);
    return url.protocol === "https:" && ENTRA_ISSUER_HOSTS.includes(url.hostname.toLowerCase()) && tenant !== undefined && tenantOfIssuer(iss) === tenant;
  } catch {
    return false;
  }
}

/**
 * The principal App Service Authentication injected (base64 JSON: auth_typ, claims [{typ, val}], name_typ,
 * role_typ). Only called when WEBSITE_AUTH_ENABLED is true. App Service accepts whichever identity providers the
 * site configures, so the principal is pinned like a bearer token: identity provider `aad` and the configured
 * issuer / tenant only.
 */
export function readClientPrincipal(headerValue: string, expected: ExpectedIssuer): Principal {
  let decoded: unknown;
  try {
    if (headerValue.length > MAX_TOKEN_LENGTH * 2) throw new Error("too long");
    decoded = JSON.parse(Buffer.from(headerValue, "base64").toString("utf8"));
  } catch {
    throw unauthenticated("The x-ms-client-principal header is malformed.");
  }
  const parsed = clientPrincipalSchema.safeParse(decoded);
  if (!parsed.success) throw unauthenticated("The x-ms-client-principal header is malformed.");
  const { claims, role_typ: roleType, auth_typ: authType } = parsed.data;
  if (authType?.toLowerCase() !== "aad") throw unauthenticated("The App Service principal was not signed in with Microsoft Entra ID (identity provider aad).");
  if (!fromExpectedIssuer(claims, expected)) throw unauthenticated("The App Service principal was not issued by the trusted issuer and tenant.");
  const first = (types: readonly string[]) => claims.find((c) => types.includes(c.typ))?.val;
  const roleTypes = roleType !== undefined ? [roleType, ...ROLE_CLAIM_TYPES] : ROLE_CLAIM_TYPES;
  return principalOf(
    {
      oid: first(OID_CLAIM_TYPES),
      appId: first(["azp", "appid"]),
      name: first(["name"]),
      roles: claims.filter((c) => roleTypes.includes(c.typ)).map((c) => c.val),
    },
    "app-service",
  );
}
