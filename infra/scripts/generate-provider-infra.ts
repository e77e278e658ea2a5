/**
 * The one list infra/ reads about Private Link providers, generated from the provider registry
 * (src/domain/providers/registry.ts): infra/app/private-link-providers.json, which the Bicep loads with
 * `loadJsonContent` for the custom roles (infra/app/governance-roles.bicep) and the Event Grid filter
 * (infra/app/event-subscription.bicep via subscription-wiring.bicep). Nothing type-specific is written in Bicep by
 * hand, so a registry change is one command away from the deployed roles:
 *
 *   node infra/scripts/generate-provider-infra.ts          # rewrite the JSON
 *   node infra/scripts/generate-provider-infra.ts --check  # exit 1 when the committed JSON is stale
 *
 * test/infra/provider-infra.test.ts fails when the committed file differs from what this renders.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CONSUMER_ENDPOINT_DELETE, CONSUMER_ENDPOINT_WRITE, HANDLED_OPERATION_NAMES } from "../../src/domain/decisions/arm-events.ts";
import { connectionEventOperations, decideActions, PRIVATE_LINK_PROVIDERS, readActions, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";

export const PROVIDER_INFRA_FILE = path.join("infra", "app", "private-link-providers.json");

/** What infra needs of one registered type. */
export interface ProviderInfra {
  readonly resourceType: string;
  readonly displayName: string;
  /** Seeds the GUID of the type's custom roles (a role's GUID must not change once deployed). */
  readonly roleKey: string;
  /** The type as role names show it ("Portcullis <roleLabel> connection approver (...)"). */
  readonly roleLabel: string;
  /** Reading the resource and its connections (sweep, audit, manual API). */
  readonly readActions: readonly string[];
  /** Approving or rejecting a connection, polling of its long-running operation included. */
  readonly decideActions: readonly string[];
  /**
   * The decideActions ARM authorizes at the subscription, not at the resource: polling URLs under
   * /subscriptions/{id}/providers/{namespace}/locations/{region}/... (e.g. SQL's privateEndpointConnectionAzureAsyncOperation).
   * A role assigned at one resource does not cover them, so infra assigns them at the resource's subscription too.
   */
  readonly subscriptionScopedActions: readonly string[];
  /** `{type}/write`, to set publicNetworkAccess (only with public-access remediation on); empty when the type has none. */
  readonly publicAccessRemediationActions: readonly string[];
  /** Provider-side operation names of the type's connection events the Event Grid filter lets through. */
  readonly connectionEventOperations: readonly string[];
}

export interface ProvidersInfra {
  readonly $comment: string;
  /** Registered types in registry order (canonical casing). */
  readonly resourceTypes: readonly string[];
  /** Consumer-side operations (the endpoint in the consumer's subscription), whatever types are governed. */
  readonly endpointEventOperations: readonly string[];
  /** By lowercase resource type (Bicep looks types up with toLower, so any casing of a type finds its entry). */
  readonly providers: Readonly<Record<string, ProviderInfra>>;
}

/**
 * Role GUIDs are seeded with this key. API Management keeps the seed its role had before other types were governed
 * ('portcullis-apim-connection-approver'), so an existing deployment updates its role in place instead of meeting
 * ARM's RoleDefinitionWithSameNameExists for a new one.
 */
function roleKeyOf(provider: PrivateLinkProvider): string {
  if (provider.resourceType === "Microsoft.ApiManagement/service") return "apim";
  return provider.resourceType.replace(/^Microsoft\./, "").replace(/[./]/g, "-").toLowerCase();
}

/** Role names keep letters, digits, spaces and hyphens only ("App Service / Function app" -> "App Service or Function app"). */
function roleLabelOf(provider: PrivateLinkProvider): string {
  if (provider.resourceType === "Microsoft.ApiManagement/service") return "APIM"; // the deployed role's name
  return provider.displayName.replace(/\s*\/\s*/g, " or ").replace(/[^A-Za-z0-9 -]/g, "").replace(/\s+/g, " ").trim();
}

const isSubscriptionScoped = (action: string) => /^[^/]+\/locations\//i.test(action);

/**
 * The engine's handled operations that belong to a type (e.g. API Management's privateEndpointConnectionProxies
 * writes, src/domain/decisions/arm-events.ts) join the registry's connection operations, so the filter never drops
 * an event the engine acts on.
 */
function eventOperationsOf(provider: PrivateLinkProvider): string[] {
  const prefix = `${provider.resourceType.toLowerCase()}/`;
  const handled = HANDLED_OPERATION_NAMES.filter((op) => op.toLowerCase().startsWith(prefix));
  return unique([...connectionEventOperations(provider), ...handled]);
}

function unique(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v.toLowerCase()) ? false : (seen.add(v.toLowerCase()), true)));
}

export function providerInfra(providers: readonly PrivateLinkProvider[] = PRIVATE_LINK_PROVIDERS): ProvidersInfra {
  return {
    $comment: "Generated from src/domain/providers/registry.ts by infra/scripts/generate-provider-infra.ts; do not edit (test/infra/provider-infra.test.ts fails when stale).",
    resourceTypes: providers.map((p) => p.resourceType),
    endpointEventOperations: [CONSUMER_ENDPOINT_WRITE, CONSUMER_ENDPOINT_DELETE],
    providers: Object.fromEntries(
      providers.map((p) => {
        const decide = unique(decideActions(p));
        const entry: ProviderInfra = {
          resourceType: p.resourceType,
          displayName: p.displayName,
          roleKey: roleKeyOf(p),
          roleLabel: roleLabelOf(p),
          readActions: unique(readActions(p)),
          decideActions: decide,
          subscriptionScopedActions: decide.filter(isSubscriptionScoped),
          publicAccessRemediationActions: p.publicNetworkAccess === undefined ? [] : [`${p.resourceType}/write`],
          connectionEventOperations: eventOperationsOf(p),
        };
        return [p.resourceType.toLowerCase(), entry];
      }),
    ),
  };
}

/** The file's text: two-space JSON with a final newline. */
export function renderProviderInfra(providers?: readonly PrivateLinkProvider[]): string {
  return `${JSON.stringify(providerInfra(providers), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const file = path.join(projectRoot, PROVIDER_INFRA_FILE);
  const text = renderProviderInfra();
  let current: string | undefined;
  try {
    current = readFileSync(file, "utf8");
  } catch {
    current = undefined;
  }
  if (process.argv.includes("--check")) {
    if (current !== text) {
      console.error(`${PROVIDER_INFRA_FILE} is stale: run node infra/scripts/generate-provider-infra.ts`);
      process.exit(1);
    }
    console.log(`${PROVIDER_INFRA_FILE} is up to date`);
  } else if (current === text) {
    console.log(`${PROVIDER_INFRA_FILE} is up to date`);
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${PROVIDER_INFRA_FILE} (${PRIVATE_LINK_PROVIDERS.length} types)`);
  }
}
