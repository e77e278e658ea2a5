/**
 * Credentials for ARM. In Azure: DefaultAzureCredential (the Function App's managed identity; a user-assigned
 * identity is picked with AZURE_CLIENT_ID), imported and built on the first token request to keep cold start
 * short. Locally: a fixed bearer token that only the ARM emulator accepts, never valid against Azure.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/** The bearer token the local-emulator credential sends; the emulator may be started to require exactly this. */
export const LOCAL_EMULATOR_TOKEN = "portcullis-local-arm-emulator-token";

const ONE_HOUR_IN_MS = 60 * 60 * 1000;

/** DEV ONLY: a credential that hands out one fixed token, for the local ARM emulator. */
export function createLocalEmulatorCredential(token: string = LOCAL_EMULATOR_TOKEN): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + ONE_HOUR_IN_MS, tokenType: "Bearer" };
    },
  };
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
