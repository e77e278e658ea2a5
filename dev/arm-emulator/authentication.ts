/**
 * Bearer tokens as Azure Resource Manager checks them: a JWT signed by a key of the trusted issuer's JWKS, from that
 * issuer, for ARM's audience, inside its lifetime, naming the caller's object ID. Each failure answers 401 with ARM's
 * code: `AuthenticationFailed` (no or malformed Authorization header), `InvalidAuthenticationToken` (bad signature,
 * issuer, claims), `InvalidAuthenticationTokenAudience` (another resource's token; the message lists the four
 * audiences ARM accepts, as ARM's own answer does), `ExpiredAuthenticationToken`.
 *
 * A token string is verified once and then remembered with its expiry (a cache hit still checks the clock), so RBAC
 * costs one signature check per token, not per request.
 */
import https from "node:https";
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from "jose";
import { ArmError } from "./errors.ts";

/** The audiences ARM accepts: its two resource URIs, with and without the trailing slash. */
export const ARM_AUDIENCES: readonly string[] = [
  "https://management.core.windows.net/",
  "https://management.core.windows.net",
  "https://management.azure.com/",
  "https://management.azure.com",
];

/** The issuer the emulator trusts (a running dev/oidc-issuer). */
export interface TrustedIssuer {
  /** The `iss` claim its tokens carry. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Its client-credentials token endpoint (for callers building credentials). */
  readonly tokenEndpoint: string;
  /** PEM of its TLS certificate. */
  readonly caPem: string;
}

/** Who a verified token names. */
export interface Caller {
  /** The `oid` claim: the principal role assignments name. */
  readonly principalId: string;
  readonly tenantId: string | undefined;
}

const MAX_CACHED_TOKENS = 10_000;

/**
 * The authority ARM's 401 challenge names: `https://login.windows.net/{tenantId}` for a subscription ARM knows, and
 * `https://login.windows.net/` (no tenant segment) otherwise: a path that names no subscription, an unknown or
 * malformed subscription ID. Sources: Microsoft.Liftr.Utilities HttpBearerChallengeTests (ARM's challenge with the
 * subscription's tenant), Microsoft's TypeScript CAE parser tests (`parseCAEChallenges`, case "ARM") and azure-sdk-for-go
 * sdk/azcore/arm/runtime/policy_bearer_token_test.go ("no claims"): ARM's challenge without a tenant. Which of the two
 * an unknown subscription gets is not published; the emulator gives the tenantless one, so no tenant is ever made up.
 */
export function armAuthority(tenantId: string | undefined): string {
  return `https://login.windows.net/${tenantId ?? ""}`;
}

/**
 * ARM's WWW-Authenticate for a 401, in ARM's parameter order: `Bearer authorization_uri="…", error="invalid_token",
 * error_description="…"` (the same sources; platform-engineering-labs/formae PR 738 shows it from a real
 * `curl -i https://management.azure.com/subscriptions/<id>?api-version=2022-12-01`). Quotes in the description are
 * escaped, so the header always parses.
 */
export function armChallenge(tenantId: string | undefined): (description: string) => Record<string, string> {
  const authority = armAuthority(tenantId);
  return (description) => ({
    "WWW-Authenticate": `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${description.replace(/["\\]/g, "\\$&")}"`,
  });
}

/** Verifies ARM bearer tokens against one issuer's published keys. */
export class ArmTokenVerifier {
  readonly #issuer: string;
  readonly #keys: ReturnType<typeof createLocalJWKSet>;
  readonly #verified = new Map<string, { caller: Caller; expiresAtMs: number }>();

  private constructor(issuer: string, jwks: JSONWebKeySet) {
    this.#issuer = issuer;
    this.#keys = createLocalJWKSet(jwks);
  }

  /** Reads the issuer's JWKS once (over HTTPS, trusting its certificate). */
  static async forIssuer(trusted: TrustedIssuer): Promise<ArmTokenVerifier> {
    return new ArmTokenVerifier(trusted.issuer, await fetchJwks(trusted.jwksUri, trusted.caPem));
  }

  /** The caller a token names, or the 401 ArmError ARM would answer. */
  async verify(token: string, challenge: (description: string) => Record<string, string>): Promise<Caller> {
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (Date.now() >= cached.expiresAtMs) throw expired(cached.expiresAtMs, challenge);
      return cached.caller;
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, { issuer: this.#issuer, audience: [...ARM_AUDIENCES], algorithms: ["RS256"] }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        const exp = typeof error.payload.exp === "number" ? error.payload.exp * 1000 : Date.now();
        throw expired(exp, challenge);
      }
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "aud") {
        const aud = error.payload.aud;
        throw new ArmError(
          401,
          "InvalidAuthenticationTokenAudience",
          `The access token has been obtained for wrong audience or resource '${Array.isArray(aud) ? aud.join(",") : String(aud)}'. ` +
            `It should exactly match with one of the allowed audiences ${ARM_AUDIENCES.map((a) => `'${a}'`).join(",")}.`,
          { headers: challenge("The access token has been obtained for wrong audience or resource.") },
        );
      }
      throw invalid("The access token is invalid.", challenge);
    }
    const oid = payload["oid"];
    if (typeof oid !== "string" || oid === "") {
      throw invalid("The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present.", challenge);
    }
    const tid = payload["tid"];
    const caller: Caller = { principalId: oid, tenantId: typeof tid === "string" ? tid : undefined };
    if (this.#verified.size >= MAX_CACHED_TOKENS) this.#verified.clear();
    this.#verified.set(token, { caller, expiresAtMs: (payload.exp ?? 0) * 1000 });
    return caller;
  }
}

function invalid(message: string, challenge: (description: string) => Record<string, string>): ArmError {
  return new ArmError(401, "InvalidAuthenticationToken", message, { headers: challenge(message) });
}

function expired(expiresAtMs: number, challenge: (description: string) => Record<string, string>): ArmError {
  const message = `The access token expiry UTC time '${new Date(expiresAtMs).toISOString()}' is earlier than current UTC time '${new Date().toISOString()}'.`;
  return new ArmError(401, "ExpiredAuthenticationToken", message, { headers: challenge("The access token has expired.") });
}

function fetchJwks(url: string, caPem: string): Promise<JSONWebKeySet> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: caPem, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`JWKS ${url} answered ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as JSONWebKeySet);
          } catch (error) {
            reject(error as Error);
          }
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}
