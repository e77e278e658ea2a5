/**
 * The real ARM ports: every registered Private Link type (generic resources), APIM, Network and Private DNS over the Azure SDK clients, plus a counter of the ARM
 * calls they make. The composition root calls `createArmPortsFromSettings`; tests call `createArmPorts`.
 */
import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import type { Settings } from "../../config.ts";
import type { ArmPorts } from "../../ports/arm.ts";
import { createApimPort } from "./apim.ts";
import { createArmCallCounter, type ArmCallCounter } from "./call-counter.ts";
import { createArmClients } from "./clients.ts";
import { createArmCredentialFromSettings, type ArmCredentialSettings } from "./credential.ts";
import { createNetworkPort } from "./network.ts";
import { createPrivateDnsPort } from "./private-dns.ts";
import { createPrivateLinkPort } from "./private-link.ts";
import { authorityHostsFor, createTenantPort } from "./tenants.ts";

export type { ArmCallCounter, ArmCallStats } from "./call-counter.ts";
export { createArmCredentialFromSettings, createLocalEmulatorCredential, LOCAL_ARM_CLIENT_ID } from "./credential.ts";

/**
 * Retries tuned for a throttled sweep. ARM answers 429 with Retry-After once a subscription's token bucket is
 * empty (writes refill at 10/s); the SDK waits exactly that long, so a retry costs only time, never extra
 * load, and six of them let a write ride out a drained bucket instead of failing an item the next run would
 * redo anyway. 5xx and dropped connections back off exponentially from 1 s, capped at 30 s, so an event
 * invocation still ends well inside the Functions timeout.
 */
export const ARM_RETRY_DEFAULTS = { maxRetries: 6, retryDelayInMs: 1_000, maxRetryDelayInMs: 30_000 } as const;

/** The SDK's own default: how often a long-running operation is polled when ARM sends no Retry-After. */
export const ARM_POLL_INTERVAL_IN_MS = 2_000;

export interface CreateArmPortsOptions {
  /** ARM base URL: https://management.azure.com in Azure, the emulator's URL locally. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** PEM of the CA to trust instead of the public ones (local emulator only). */
  readonly caPem?: string;
  readonly maxRetries?: number;
  readonly retryDelayInMs?: number;
  readonly maxRetryDelayInMs?: number;
  readonly pollIntervalInMs?: number;
  /** Prepended to the SDKs' User-Agent, e.g. "portcullis/0.1.0". */
  readonly userAgentPrefix?: string;
  /** The local issuer's URL (local stack): a tenant challenge naming its host is accepted too (src/adapters/arm/tenants.ts). */
  readonly localIssuerUrl?: string | undefined;
}

/** ArmPorts plus the counter of the HTTP calls they have made (retries and polls included). */
export interface AzureArmPorts extends ArmPorts {
  readonly callCounter: ArmCallCounter;
}

/** Builds the ARM ports; SDK modules and clients are created on first use, once per subscription. */
export function createArmPorts(options: CreateArmPortsOptions): AzureArmPorts {
  const callCounter = createArmCallCounter();
  const clientSettings = {
    endpoint: options.endpoint,
    credential: options.credential,
    caPem: options.caPem,
    retryOptions: {
      maxRetries: options.maxRetries ?? ARM_RETRY_DEFAULTS.maxRetries,
      retryDelayInMs: options.retryDelayInMs ?? ARM_RETRY_DEFAULTS.retryDelayInMs,
      maxRetryDelayInMs: options.maxRetryDelayInMs ?? ARM_RETRY_DEFAULTS.maxRetryDelayInMs,
    },
    userAgentPrefix: options.userAgentPrefix ?? "portcullis",
    perRetryPolicies: [callCounter.policy],
  };
  const clients = createArmClients(clientSettings);
  return {
    apim: createApimPort(clients),
    privateLink: createPrivateLinkPort(clients, { endpoint: options.endpoint, pollIntervalInMs: options.pollIntervalInMs ?? ARM_POLL_INTERVAL_IN_MS }),
    // The same endpoint, CA, user agent and call counter as the SDK clients, but no credential: see tenants.ts.
    tenants: createTenantPort({ ...clientSettings, authorityHosts: authorityHostsFor(options.endpoint, options.localIssuerUrl) }),
    network: createNetworkPort(clients),
    privateDns: createPrivateDnsPort(clients),
    callCounter,
  };
}

export type ArmSettings = Pick<Settings, "PORTCULLIS_ARM_ENDPOINT" | "PORTCULLIS_ARM_CA_FILE"> & ArmCredentialSettings;

/** Builds the ARM ports from app settings: managed identity in Azure, the local issuer's token and the emulator's CA locally. */
export function createArmPortsFromSettings(settings: ArmSettings): AzureArmPorts {
  const credential = createArmCredentialFromSettings(settings);
  return createArmPorts({
    endpoint: settings.PORTCULLIS_ARM_ENDPOINT,
    credential,
    ...(settings.PORTCULLIS_ARM_CA_FILE !== undefined ? { caPem: readFileSync(settings.PORTCULLIS_ARM_CA_FILE, "utf8") } : {}),
    ...(settings.PORTCULLIS_ARM_CREDENTIAL === "local-emulator" ? { localIssuerUrl: settings.PORTCULLIS_ARM_TOKEN_ENDPOINT } : {}),
  });
}
