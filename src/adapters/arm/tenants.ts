/**
 * TenantPort over ARM's 401 challenge: an unauthenticated `GET {ARM}/subscriptions/{id}?api-version=2022-12-01` is
 * refused, and the refusal names the Entra tenant the subscription trusts. No token is ever sent (that is the point:
 * it works for subscriptions Portcullis has no access to, e.g. a partner's).
 *
 * What the sources show (undocumented by Microsoft; read as a hint, see src/workflows/tenant-lookup.ts):
 * - The answer is `401` with `WWW-Authenticate: Bearer authorization_uri="https://login.windows.net/{tenantId}",
 *   error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`
 *   (Microsoft.Liftr.Utilities HttpBearerChallengeTests, whose TenantHelper relies on it for
 *   `GetTenantIdForSubscriptionAsync` and fails unless the status is 401; Microsoft.Azure.EventHubs
 *   Primitives/TenantIdProvider.cs, Azure/azure-event-hubs-dotnet, same call with api-version 2016-06-01;
 *   platform-engineering-labs/formae PR 738, `curl -i .../subscriptions/<id>?api-version=2022-12-01` →
 *   `HTTP/2 401` / `www-authenticate: Bearer authorization_uri="https://login.windows.net/<tenant>", ...`).
 * - A token from another tenant gets `InvalidAuthenticationTokenTenant` naming the same authority, and ARM adds that
 *   a subscription moved to another tenant takes "up to an hour" to show the new one (Shawn Tabrizi, "Secret APIs in
 *   Azure Active Directory and Azure Resource Manager", 2017; Azure/BatchExplorer issue 2044): a hint can be stale.
 * - What varies, and what this parser therefore accepts or refuses:
 *   - the header name's case (`WWW-Authenticate`, lowercase `www-authenticate` over HTTP/2: formae PR 738); headers
 *     are read case-insensitively;
 *   - the scheme's case (`Bearer` / `bearer`: Liftr tests) and the order of parameters (the Azure SDK for Go tests
 *     put `claims` first or last, sdk/azcore/arm/runtime/policy_bearer_token_test.go); one header may carry several
 *     challenges separated by commas (Microsoft's TypeScript CAE parser tests, `parseCAEChallenges`, join them);
 *   - the host: ARM names `login.windows.net`; Key Vault and Graph name `login.microsoftonline.com`, sometimes with
 *     `/oauth2/authorize` after the tenant (core-client authorizeRequestOnTenantChallenge takes the first path
 *     segment if it is a UUID). Accepted: only Entra's hosts for the ARM endpoint's cloud (MSAL's instance-discovery
 *     aliases: @azure/msal-common AuthorityMetadata), or a configured local issuer; the path exactly `/{GUID}`;
 *   - the tenant GUID's case (Key Vault answers upper case: Liftr tests); it is returned lower case;
 *   - a challenge that names no tenant: `authorization_uri="https://login.windows.net/"` is what the Azure SDKs'
 *     tests use as ARM's answer without a subscription's tenant (the `parseCAEChallenges` tests' case "ARM"; Go azcore test
 *     "no claims") and what CAE challenges carry; read as "no tenant" (undefined), as is anything else unexpected.
 *   - Unknown or malformed subscription IDs: no source shows ARM's exact answer (scripts treat a 404 or a challenge
 *     without a GUID as "not found"); this adapter reads every answer other than a well-formed 401 challenge as
 *     "no tenant", and refuses to send a subscription ID that is not a GUID.
 *
 * Failing closed: the tenant decides rules (`requester-tenants`), so an answer could make us believe a partner is
 * someone else. TLS to the configured ARM endpoint (the same CA option as the SDK clients) is what makes the answer
 * ARM's; the parser then refuses anything but one unambiguous Bearer challenge with `error="invalid_token"` and one
 * `authorization_uri` on an expected https host naming exactly one GUID: duplicated or conflicting parameters,
 * several challenges naming different tenants, userinfo, ports, queries, fragments, `common`, the nil GUID, extra path
 * segments, oversized headers. Redirects are not followed. 429, 408, 5xx and network failures throw kind "transient"
 * (after at most two retries of the pipeline's own, so an event is not held for minutes by a hint).
 */
import {
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
  type PipelinePolicy,
  type PipelineRetryOptions,
} from "@azure/core-rest-pipeline";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { OperationOptions, TenantPort } from "../../ports/arm.ts";

/** Subscriptions - Get (specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json). */
export const SUBSCRIPTION_GET_API_VERSION = "2022-12-01";

/** Entra's login hosts per cloud, keyed by the cloud's ARM host (MSAL instance-discovery aliases). */
const ENTRA_HOSTS_BY_ARM_HOST: Readonly<Record<string, readonly string[]>> = {
  "management.azure.com": ["login.windows.net", "login.microsoftonline.com", "login.microsoft.com", "sts.windows.net"],
  "management.usgovcloudapi.net": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
  "management.chinacloudapi.cn": ["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
};

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The hosts an authorization_uri may name for this ARM endpoint: Entra's for the endpoint's cloud; a loopback endpoint
 * is the local emulator standing in for public ARM (as the local credential treats it), so public Entra's. A local
 * issuer's URL, when given, adds its host. Any other endpoint accepts only the local issuer: nothing, without one.
 */
export function authorityHostsFor(armEndpoint: string, localIssuerUrl?: string): ReadonlySet<string> {
  const host = new URL(armEndpoint).hostname.toLowerCase();
  const hosts = new Set(ENTRA_HOSTS_BY_ARM_HOST[host] ?? (LOOPBACK_HOSTS.has(host) ? ENTRA_HOSTS_BY_ARM_HOST["management.azure.com"]! : []));
  if (localIssuerUrl !== undefined) hosts.add(new URL(localIssuerUrl).host.toLowerCase());
  return hosts;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_GUID = "00000000-0000-0000-0000-000000000000";
/** ARM's challenges are ~200 characters; anything far longer is not the answer we know. */
const MAX_CHALLENGE_LENGTH = 4096;

/** One auth challenge: its scheme and parameters (names lower-cased), or undefined when the text does not parse. */
interface Challenge {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses a WWW-Authenticate value into its challenges (RFC 9110 §11.6.1: `scheme param=value, param="quoted", next
 * scheme ...`). Undefined on anything it cannot read unambiguously, including a parameter given twice.
 */
export function parseChallenges(header: string): readonly Challenge[] | undefined {
  const challenges: { scheme: string; params: Map<string, string> }[] = [];
  let rest = header.trim();
  let current: { scheme: string; params: Map<string, string> } | undefined;
  while (rest.length > 0) {
    const token = TOKEN.exec(rest)?.[0];
    if (token === undefined) return undefined;
    const afterToken = rest.slice(token.length).replace(/^[ \t]*/, "");
    if (afterToken.startsWith("=") && current !== undefined && !/^=[ \t]*(,|$)/.test(afterToken)) {
      // name=value of the current challenge
      let valueText = afterToken.slice(1).replace(/^[ \t]*/, "");
      let value: string;
      if (valueText.startsWith('"')) {
        let i = 1;
        value = "";
        for (; i < valueText.length && valueText[i] !== '"'; i++) {
          if (valueText[i] === "\\") i++;
          if (i >= valueText.length) return undefined;
          value += valueText[i];
        }
        if (i >= valueText.length) return undefined;
        valueText = valueText.slice(i + 1);
      } else {
        const bare = TOKEN.exec(valueText)?.[0];
        if (bare === undefined) return undefined;
        value = bare;
        valueText = valueText.slice(bare.length);
      }
      const name = token.toLowerCase();
      if (current.params.has(name)) return undefined;
      current.params.set(name, value);
      rest = valueText.replace(/^[ \t]*/, "");
      if (rest.startsWith(",")) rest = rest.slice(1).replace(/^[ \t]*/, "");
      else if (rest.length > 0) return undefined;
      continue;
    }
    // a new challenge's scheme (token68 credentials are not part of any answer we read)
    current = { scheme: token.toLowerCase(), params: new Map() };
    challenges.push(current);
    rest = afterToken;
    if (rest.startsWith(",")) rest = rest.slice(1).replace(/^[ \t]*/, "");
  }
  return challenges;
}

/**
 * The tenant a 401 challenge names, lower case, or undefined when it names none this parser can trust: exactly one
 * `authorization_uri` across the Bearer challenges with `error="invalid_token"`, on an https URL of an allowed host
 * with no userinfo, port, query or fragment, whose path is exactly `/{GUID}` (not the nil GUID).
 */
export function tenantFromChallenge(header: string | undefined, allowedHosts: ReadonlySet<string>): string | undefined {
  if (header === undefined || header.length === 0 || header.length > MAX_CHALLENGE_LENGTH) return undefined;
  const challenges = parseChallenges(header);
  if (challenges === undefined) return undefined;
  const bearer = challenges.filter((c) => c.scheme === "bearer");
  const uris = new Set<string>();
  for (const challenge of bearer) {
    const uri = challenge.params.get("authorization_uri");
    if (uri === undefined) continue;
    if (challenge.params.get("error") !== "invalid_token") return undefined;
    uris.add(uri);
  }
  if (uris.size !== 1) return undefined;
  const [uri] = uris as Set<string>;
  let url: URL;
  try {
    url = new URL(uri!);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") return undefined;
  if (!allowedHosts.has(url.host.toLowerCase())) return undefined;
  // The raw text, not URL's normalised path: "/a/../{guid}" or percent-escapes are not ARM's answer.
  const path = /^https:\/\/[^/?#]+(\/[^?#]*)$/i.exec(uri!)?.[1];
  const tenant = /^\/([^/]+)\/?$/.exec(path ?? "")?.[1];
  if (tenant === undefined || !GUID.test(tenant) || tenant === NIL_GUID) return undefined;
  return tenant.toLowerCase();
}

export interface TenantPortSettings {
  /** ARM base URL (https://management.azure.com, or the emulator's). */
  readonly endpoint: string;
  /** PEM of the CA to trust instead of the public ones: the same option the SDK clients get (local emulator). */
  readonly caPem?: string | undefined;
  readonly retryOptions: PipelineRetryOptions;
  readonly userAgentPrefix: string;
  /** Added per retry (the ARM call counter), so each attempt is counted like the SDK clients' requests. */
  readonly perRetryPolicies: readonly PipelinePolicy[];
  /** Hosts an authorization_uri may name; default authorityHostsFor(endpoint). */
  readonly authorityHosts?: ReadonlySet<string> | undefined;
  /** For tests: the HTTP client (default: the SDK's Node client). */
  readonly httpClient?: HttpClient | undefined;
}

/** At most this many retries for a hint: an event or sweep item is not held for minutes by it. */
const MAX_TENANT_RETRIES = 2;

/** Builds the TenantPort; the pipeline carries no credential, so no Authorization header can be sent. */
export function createTenantPort(settings: TenantPortSettings): TenantPort {
  const base = settings.endpoint.replace(/\/+$/, "");
  const hosts = settings.authorityHosts ?? authorityHostsFor(settings.endpoint);
  const pipeline: Pipeline = createPipelineFromOptions({
    retryOptions: { ...settings.retryOptions, maxRetries: Math.min(settings.retryOptions.maxRetries ?? MAX_TENANT_RETRIES, MAX_TENANT_RETRIES) },
    userAgentOptions: { userAgentPrefix: settings.userAgentPrefix },
    // A redirect would take the question to another host: the answer must be ARM's own.
    redirectOptions: { maxRetries: 0 },
    ...(settings.caPem !== undefined ? { tlsOptions: { ca: settings.caPem } } : {}),
  });
  // Where the SDK clients put per-retry policies (core-client's `position: "perRetry"`): once per attempt.
  for (const policy of settings.perRetryPolicies) pipeline.addPolicy(policy, { afterPhase: "Sign" });
  const httpClient = settings.httpClient ?? createDefaultHttpClient();

  return {
    async discoverSubscriptionTenant(subscriptionId: string, options: OperationOptions = {}): Promise<string | undefined> {
      if (!GUID.test(subscriptionId)) {
        throw new PortcullisError("invalid-input", `'${subscriptionId.slice(0, 64)}' is not a subscription ID (a GUID); its tenant is not looked up.`);
      }
      const request = createPipelineRequest({
        url: `${base}/subscriptions/${subscriptionId.toLowerCase()}?api-version=${SUBSCRIPTION_GET_API_VERSION}`,
        method: "GET",
        ...(options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {}),
      });
      let response;
      try {
        response = await pipeline.sendRequest(httpClient, request);
      } catch (error) {
        const failure = toPortcullisError(error);
        throw new PortcullisError("transient", `Looking up the tenant of subscription ${subscriptionId} failed: ${failure.message}`, { cause: failure });
      }
      const status = response.status;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfter = Number(response.headers.get("retry-after"));
        throw new PortcullisError("transient", `ARM answered ${status} to the tenant lookup of subscription ${subscriptionId}.`, {
          statusCode: status,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
        });
      }
      if (status !== 401) return undefined;
      return tenantFromChallenge(response.headers.get("www-authenticate"), hosts);
    },
  };
}
