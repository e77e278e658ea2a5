/**
 * The ARM SDK clients, created on first use (the SDK modules are imported only then, which keeps cold start
 * short) and once per subscription per process: every client of these SDKs takes its subscription ID in
 * the constructor. All clients share one pipeline setup: endpoint, CA, retries, user agent, call counter.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy, PipelineRetryOptions } from "@azure/core-rest-pipeline";
import type { ApiManagementClient } from "@azure/arm-apimanagement";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { PrivateDnsManagementClient } from "@azure/arm-privatedns";
import type { ResourceManagementClient } from "@azure/arm-resources";
import type { PipelineClient } from "./async-operation.ts";

/** The generic resources client plus its pipeline as a PipelineClient, for requests its generic model does not fit. */
export interface ResourcesClient {
  readonly client: ResourceManagementClient;
  /** Sends a request through the client's own pipeline (auth, retries, TLS trust, user agent, call counter). */
  readonly pipeline: PipelineClient;
}

/** What every client is built from; one set per `createArmPorts` call. */
export interface ArmClientSettings {
  /** ARM base URL, e.g. https://management.azure.com or the local emulator's URL. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** PEM of a CA to trust instead of the public ones (the local emulator's self-signed certificate). */
  readonly caPem?: string | undefined;
  readonly retryOptions: PipelineRetryOptions;
  readonly userAgentPrefix: string;
  /** Added per retry to every client's pipeline (the call counter). */
  readonly perRetryPolicies: readonly PipelinePolicy[];
}

/** Lazily created, cached SDK clients keyed by subscription ID (case-insensitive). */
export interface ArmClients {
  apim(subscriptionId: string): Promise<ApiManagementClient>;
  network(subscriptionId: string): Promise<NetworkManagementClient>;
  privateDns(subscriptionId: string): Promise<PrivateDnsManagementClient>;
  /** @azure/arm-resources, for every registered Private Link type (api-version per call, from the registry). */
  resources(subscriptionId: string): Promise<ResourcesClient>;
}

/** Options every SDK client here understands (core-client and @azure-rest/core-client alike). */
function pipelineOptions(settings: ArmClientSettings) {
  return {
    endpoint: settings.endpoint.replace(/\/+$/, ""),
    retryOptions: settings.retryOptions,
    userAgentOptions: { userAgentPrefix: settings.userAgentPrefix },
    additionalPolicies: settings.perRetryPolicies.map((policy) => ({ policy, position: "perRetry" as const })),
    ...(settings.caPem !== undefined ? { tlsOptions: { ca: settings.caPem } } : {}),
  };
}

/** The token scope of an ARM endpoint: its origin + "/.default" (https://management.azure.com/.default in Azure). */
export function armScope(endpoint: string): string {
  return `${new URL(endpoint).origin}/.default`;
}

function cachedBySubscription<T>(create: (subscriptionId: string) => Promise<T>): (subscriptionId: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (subscriptionId) => {
    const key = subscriptionId.toLowerCase();
    let client = cache.get(key);
    if (!client) {
      client = create(subscriptionId);
      cache.set(key, client);
      client.catch(() => cache.delete(key));
    }
    return client;
  };
}

/** Builds the lazy client cache; nothing is imported or constructed until a port method first needs it. */
export function createArmClients(settings: ArmClientSettings): ArmClients {
  const scope = armScope(settings.endpoint);
  return {
    apim: cachedBySubscription(async (subscriptionId) => {
      const { ApiManagementClient } = await import("@azure/arm-apimanagement");
      return new ApiManagementClient(settings.credential, subscriptionId, { ...pipelineOptions(settings), credentialScopes: [scope] });
    }),
    network: cachedBySubscription(async (subscriptionId) => {
      const { NetworkManagementClient } = await import("@azure/arm-network");
      return new NetworkManagementClient(settings.credential, subscriptionId, { ...pipelineOptions(settings), credentials: { scopes: [scope] } });
    }),
    privateDns: cachedBySubscription(async (subscriptionId) => {
      const { PrivateDnsManagementClient } = await import("@azure/arm-privatedns");
      return new PrivateDnsManagementClient(settings.credential, subscriptionId, { ...pipelineOptions(settings), credentials: { scopes: [scope] } });
    }),
    resources: cachedBySubscription(async (subscriptionId) => {
      const [{ ResourceManagementClient }, { createDefaultHttpClient }] = await Promise.all([import("@azure/arm-resources"), import("@azure/core-rest-pipeline")]);
      const client = new ResourceManagementClient(settings.credential, subscriptionId, { ...pipelineOptions(settings), credentials: { scopes: [scope] } });
      // The client keeps its HTTP client private; the pipeline's policies (TLS trust included) apply to whichever sends.
      const httpClient = createDefaultHttpClient();
      return { client, pipeline: { sendRequest: (request) => client.pipeline.sendRequest(httpClient, request) } };
    }),
  };
}
