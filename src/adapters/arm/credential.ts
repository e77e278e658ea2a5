/**
 * Credentials for ARM. In Azure: DefaultAzureCredential (the Function App's managed identity; a user-assigned
 * identity is picked with AZURE_CLIENT_ID), imported and built on the first token request to keep cold start
 * short. Locally: a client-credentials token from the local OpenID issuer (dev/oidc-issuer), which the ARM emulator
 * verifies and authorizes like ARM (signature, audience, expiry, then RBAC for the token's object ID).
 */
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/** The client ID the app names itself with at the local issuer unless told otherwise (PORTCULLIS_ARM_CLIENT_ID). */
export const LOCAL_ARM_CLIENT_ID = "portcullis-local";

/** Where and as whom the local credential asks for tokens. */
export interface LocalIssuerCredentialOptions {
  /** The local issuer's token endpoint (PORTCULLIS_ARM_TOKEN_ENDPOINT). */
  readonly tokenEndpoint: string;
  /** Default LOCAL_ARM_CLIENT_ID; the issuer derives the token's object ID from it. */
  readonly clientId?: string;
  /** PEM of the issuer's certificate (PORTCULLIS_ARM_TOKEN_CA_FILE). */
  readonly caPem?: string;
}

/** Tokens are renewed this long before they expire, as the Azure SDK credentials do. */
const REFRESH_MARGIN_IN_MS = 5 * 60 * 1000;

/**
 * DEV ONLY: client credentials against the local issuer, one token per resource, cached until shortly before it
 * expires (concurrent callers share one request). A refused or failed token request throws.
 */
export function createLocalEmulatorCredential(options: LocalIssuerCredentialOptions): TokenCredential {
  const clientId = options.clientId ?? LOCAL_ARM_CLIENT_ID;
  const tokens = new Map<string, Promise<AccessToken>>();
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const scope = (Array.isArray(scopes) ? scopes : [scopes]).map(armScopeForLocalEndpoint).join(" ");
      const cached = tokens.get(scope);
      if (cached !== undefined) {
        const token = await cached.catch(() => undefined);
        if (token !== undefined && token.expiresOnTimestamp - REFRESH_MARGIN_IN_MS > Date.now()) return token;
      }
      let pending = tokens.get(scope);
      if (pending === undefined || pending === cached) {
        const request = requestToken(options.tokenEndpoint, options.caPem, clientId, scope);
        request.catch(() => {
          if (tokens.get(scope) === request) tokens.delete(scope);
        });
        tokens.set(scope, request);
        pending = request;
      }
      return pending;
    },
  };
}

/** ARM's resource: what the ARM emulator, standing in for https://management.azure.com, accepts as audience. */
const ARM_SCOPE = "https://management.azure.com/.default";

/**
 * The SDK asks for `{endpoint}/.default`; a loopback endpoint is the local ARM emulator standing in for ARM, so the
 * token is asked for ARM's own resource, as against Azure. Other scopes are asked as given.
 */
function armScopeForLocalEndpoint(scope: string): string {
  return /^https:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?\.default$/i.test(scope) ? ARM_SCOPE : scope;
}

function requestToken(tokenEndpoint: string, caPem: string | undefined, clientId: string, scope: string): Promise<AccessToken> {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, scope }).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      tokenEndpoint,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(form) },
        // A fresh connection per (rare) token request: a pooled keep-alive socket the issuer has meanwhile closed
        // would fail the request with ECONNRESET.
        agent: false,
        ...(caPem !== undefined ? { ca: caPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
          try {
            body = JSON.parse(text) as typeof body;
          } catch {
            // handled below: no access_token
          }
          if (res.statusCode !== 200 || typeof body.access_token !== "string" || typeof body.expires_in !== "number") {
            return reject(new Error(`The local token endpoint ${tokenEndpoint} refused a token (HTTP ${res.statusCode}): ${String(body.error_description ?? body.error ?? text.slice(0, 200))}`));
          }
          resolve({ token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000, tokenType: "Bearer" });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(form);
  });
}

/** DefaultAzureCredential, imported and constructed on first use, then shared. */
export function createLazyDefaultAzureCredential(): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= import("@azure/identity").then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
      return (await credential).getToken(scopes, options);
    },
  };
}

/** The settings that choose the app's ARM credential. */
export interface ArmCredentialSettings {
  readonly PORTCULLIS_ARM_CREDENTIAL: "default" | "local-emulator";
  readonly PORTCULLIS_ARM_TOKEN_ENDPOINT?: string | undefined;
  readonly PORTCULLIS_ARM_CLIENT_ID?: string | undefined;
  readonly PORTCULLIS_ARM_TOKEN_CA_FILE?: string | undefined;
}

/** Managed identity in Azure; client credentials at the local issuer for `local-emulator` (which needs its token endpoint). */
export function createArmCredentialFromSettings(settings: ArmCredentialSettings): TokenCredential {
  if (settings.PORTCULLIS_ARM_CREDENTIAL !== "local-emulator") return createLazyDefaultAzureCredential();
  if (settings.PORTCULLIS_ARM_TOKEN_ENDPOINT === undefined) {
    throw new Error("PORTCULLIS_ARM_CREDENTIAL=local-emulator needs PORTCULLIS_ARM_TOKEN_ENDPOINT (the local issuer's token endpoint).");
  }
  return createLocalEmulatorCredential({
    tokenEndpoint: settings.PORTCULLIS_ARM_TOKEN_ENDPOINT,
    ...(settings.PORTCULLIS_ARM_CLIENT_ID !== undefined ? { clientId: settings.PORTCULLIS_ARM_CLIENT_ID } : {}),
    ...(settings.PORTCULLIS_ARM_TOKEN_CA_FILE !== undefined ? { caPem: readFileSync(settings.PORTCULLIS_ARM_TOKEN_CA_FILE, "utf8") } : {}),
  });
}
