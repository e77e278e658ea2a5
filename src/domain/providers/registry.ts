/**
 * The Private Link providers Portcullis governs: one entry per ARM resource type that takes inbound private endpoint
 * connections. Pure data; everything type-specific in the engine, the audit, the emulator and infra is read from here,
 * so adding a type is adding an entry (and its emulator seed), not a code path.
 *
 * Every resource provider exposes the same connection shape: `{resourceId}/privateEndpointConnections/{name}` with
 * `properties.privateLinkServiceConnectionState {status, description, actionsRequired}`, approved or rejected by a PUT
 * of that state. What differs, and is recorded here with its source:
 * - the api-version Portcullis sends (a stable version published in azure-rest-api-specs for the type);
 * - the group ids (sub-resources) and the `privatelink.*` zone each one's A records live in (Microsoft Learn,
 *   "Azure Private Endpoint private DNS zone values", private-link/private-endpoint-dns.md, Azure commercial cloud);
 * - where public network access lives and which values the spec's enum allows;
 * - how the PUT completes (synchronously, or as a long-running operation polled at a URL with its own RBAC action);
 * - documented limits and prerequisites.
 *
 * Verified (issue 12, emulator helper) against azure-rest-api-specs as stored in the public index: each entry's `spec`
 * file and the examples beside it (x-ms-examples), and Microsoft Learn's resource provider operations reference
 * (role-based-access-control/resource-provider-operations, "Azure permissions for ...") for the polling actions. The
 * specs repository is moving services into `{Namespace}/{Service}/` folders (e.g. Microsoft.ApiManagement/ApiManagement,
 * Microsoft.ServiceBus/ServiceBus); `spec` names the path under which the cited version is published.
 */

/** One sub-resource a private endpoint can connect to, and the private DNS zones its records live in. */
export interface PrivateLinkGroup {
  /** As the consumer's endpoint names it in groupIds (compared case-insensitively). */
  readonly groupId: string;
  readonly dnsZones: readonly PrivateDnsZoneName[];
}

export interface PrivateDnsZoneName {
  /** The private zone, e.g. "privatelink.blob.core.windows.net". */
  readonly zone: string;
  /**
   * The public suffix the resource's FQDNs end in, e.g. "blob.core.windows.net": the record name in the private zone is
   * the FQDN without it ("contoso.blob.core.windows.net" -> "contoso").
   */
  readonly publicSuffix: string;
}

/** Where a type keeps `publicNetworkAccess` and the values its spec allows. */
export interface PublicNetworkAccessShape {
  /** The property under `properties` (every registered type uses "publicNetworkAccess"). */
  readonly property: "publicNetworkAccess";
  /** The enum in the spec, in its casing. */
  readonly values: readonly string[];
  /** The value that closes public access. */
  readonly disabled: string;
  /**
   * Whether the type's PATCH (update) body carries publicNetworkAccess. false: the spec's update model omits it, so it
   * is changed by a PUT of the whole resource (read, change, put back).
   */
  readonly patchable: boolean;
  /**
   * true when Azure refuses the disabled value until the resource has an approved private endpoint connection (APIM:
   * 400 NotSupported, azure-rest-api-specs issue 24947); the audit then reports "cannot disable yet" instead of
   * planning a write Azure would refuse.
   */
  readonly disableNeedsApprovedConnection?: true;
}

/** How the approve / reject PUT on a connection completes, and what polling it needs. */
export interface ConnectionWriteShape {
  /** true when the spec marks the PUT x-ms-long-running-operation (200 / 201 / 202 + a polling header). */
  readonly longRunning: boolean;
  /**
   * The RBAC actions ARM checks on the polling URLs of this type's long-running operations (each GET of a Location /
   * Azure-AsyncOperation URL is authorized on its own). Empty when the PUT is synchronous.
   */
  readonly operationStatusActions: readonly string[];
}

/** A documented prerequisite the audit checks, by id (the check itself lives in src/domain/audit). */
export type ProviderPrerequisite =
  | "apim-stv2-platform" // APIM: stv2 (or v2 tiers) platform
  | "apim-not-vnet-injected" // APIM: virtualNetworkType None
  | "premium-sku"; // Service Bus, Container Registry: private endpoints need the Premium tier

export interface PrivateLinkProvider {
  /** ARM resource type in the canonical casing of the spec, e.g. "Microsoft.Storage/storageAccounts". */
  readonly resourceType: string;
  /** Short human name for reports and the CLI. */
  readonly displayName: string;
  /** The api-version Portcullis sends for the resource and its connections. */
  readonly apiVersion: string;
  /** The spec file (azure-rest-api-specs, under specification/) that the connection operations and shapes follow. */
  readonly spec: string;
  /** Empty for types whose connections carry no group id (Private Link Services). */
  readonly groups: readonly PrivateLinkGroup[];
  /** undefined when the type has no publicNetworkAccess property (Private Link Services). */
  readonly publicNetworkAccess: PublicNetworkAccessShape | undefined;
  readonly connectionWrite: ConnectionWriteShape;
  /** Documented maximum of private endpoint connections per resource, where one is published. */
  readonly maxConnections: number | undefined;
  readonly prerequisites: readonly ProviderPrerequisite[];
}

const ENABLED_DISABLED = ["Enabled", "Disabled"] as const;
const WITH_PERIMETER = ["Enabled", "Disabled", "SecuredByPerimeter"] as const;

function publicAccess(values: readonly string[], patchable = true): PublicNetworkAccessShape {
  return { property: "publicNetworkAccess", values, disabled: "Disabled", patchable };
}

function zone(zoneName: string, publicSuffix: string): PrivateDnsZoneName {
  return { zone: zoneName, publicSuffix };
}

const SYNCHRONOUS: ConnectionWriteShape = { longRunning: false, operationStatusActions: [] };

const STORAGE_GROUPS: readonly PrivateLinkGroup[] = (["blob", "table", "queue", "file", "web", "dfs"] as const).flatMap((service) => {
  const dnsZones = [zone(`privatelink.${service}.core.windows.net`, `${service}.core.windows.net`)];
  // Read-access geo-redundant accounts expose a secondary endpoint per service (file has none).
  return service === "file" ? [{ groupId: service, dnsZones }] : [{ groupId: service, dnsZones }, { groupId: `${service}_secondary`, dnsZones }];
});

/** Every governed type. The first entry is API Management, the type Portcullis started with. */
export const PRIVATE_LINK_PROVIDERS: readonly PrivateLinkProvider[] = [
  {
    resourceType: "Microsoft.ApiManagement/service",
    displayName: "API Management",
    apiVersion: "2024-05-01",
    spec: "apimanagement/resource-manager/Microsoft.ApiManagement/ApiManagement/stable/2024-05-01/apimprivatelink.json",
    groups: [{ groupId: "Gateway", dnsZones: [zone("privatelink.azure-api.net", "azure-api.net")] }],
    publicNetworkAccess: { ...publicAccess(ENABLED_DISABLED), disableNeedsApprovedConnection: true },
    connectionWrite: { longRunning: true, operationStatusActions: ["Microsoft.ApiManagement/service/operationresults/read"] },
    maxConnections: 100,
    prerequisites: ["apim-stv2-platform", "apim-not-vnet-injected"],
  },
  {
    resourceType: "Microsoft.Storage/storageAccounts",
    displayName: "Storage account",
    apiVersion: "2023-05-01",
    // storage.json carries the account and StorageAccounts privateEndpointConnections (PrivateEndpointConnections_Put:
    // 200 only, no x-ms-long-running-operation; example StorageAccountPutPrivateEndpointConnection.json, and the SDK's
    // synchronous privateEndpointConnections.put). publicNetworkAccess: Enabled | Disabled | SecuredByPerimeter
    // (StorageAccountCreateEnablePublicNetworkAccess.json shows it on the account).
    spec: "storage/resource-manager/Microsoft.Storage/stable/2023-05-01/storage.json",
    groups: STORAGE_GROUPS,
    publicNetworkAccess: publicAccess(WITH_PERIMETER),
    connectionWrite: SYNCHRONOUS,
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.KeyVault/vaults",
    displayName: "Key Vault",
    apiVersion: "2023-07-01",
    // PrivateEndpointConnections_Put answers 200 only (it sends Retry-After / Azure-AsyncOperation headers but is not
    // x-ms-long-running-operation; examples/putPrivateEndpointConnection.json); the Delete is the long-running one.
    // publicNetworkAccess is a free string in the spec (default "enabled"); getVault.json shows "Enabled", and the
    // service documents Enabled / Disabled.
    spec: "keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/keyvault.json",
    groups: [{ groupId: "vault", dnsZones: [zone("privatelink.vaultcore.azure.net", "vault.azure.net")] }],
    publicNetworkAccess: publicAccess(ENABLED_DISABLED),
    connectionWrite: SYNCHRONOUS,
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.Sql/servers",
    displayName: "SQL server",
    apiVersion: "2021-11-01",
    // PrivateEndpointConnections_CreateOrUpdate: 200 / 202, x-ms-long-running-operation. SQL polls at subscription
    // scope: Azure-AsyncOperation .../providers/Microsoft.Sql/locations/{l}/privateEndpointConnectionAzureAsyncOperation/
    // {id} and Location .../privateEndpointConnectionOperationResults/{id} (both resource types are in Microsoft.Sql's
    // provider registration; actions in "Azure permissions for Databases"). publicNetworkAccess (Servers.json
    // ServerProperties, 2021-11-01): Enabled | Disabled only; SecuredByPerimeter came in later previews.
    spec: "sql/resource-manager/Microsoft.Sql/stable/2021-11-01/PrivateEndpointConnections.json",
    groups: [{ groupId: "sqlServer", dnsZones: [zone("privatelink.database.windows.net", "database.windows.net")] }],
    publicNetworkAccess: publicAccess(ENABLED_DISABLED),
    connectionWrite: {
      longRunning: true,
      operationStatusActions: [
        "Microsoft.Sql/locations/privateEndpointConnectionAzureAsyncOperation/read",
        "Microsoft.Sql/locations/privateEndpointConnectionOperationResults/read",
      ],
    },
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.DocumentDB/databaseAccounts",
    displayName: "Cosmos DB account",
    apiVersion: "2024-11-15",
    // PrivateEndpointConnections_CreateOrUpdate: 200 / 202, x-ms-long-running-operation (example
    // CosmosDBPrivateEndpointConnectionUpdate.json: "202": {}). The list is not paged (x-ms-pageable nextLinkName null).
    // Cosmos DB polls at Azure-AsyncOperation .../providers/Microsoft.DocumentDB/locations/{l}/operationsStatus/{id}.
    spec: "cosmos-db/resource-manager/Microsoft.DocumentDB/stable/2024-11-15/privateEndpointConnection.json",
    groups: [
      { groupId: "Sql", dnsZones: [zone("privatelink.documents.azure.com", "documents.azure.com")] },
      { groupId: "MongoDB", dnsZones: [zone("privatelink.mongo.cosmos.azure.com", "mongo.cosmos.azure.com")] },
      { groupId: "Cassandra", dnsZones: [zone("privatelink.cassandra.cosmos.azure.com", "cassandra.cosmos.azure.com")] },
      { groupId: "Gremlin", dnsZones: [zone("privatelink.gremlin.cosmos.azure.com", "gremlin.cosmos.azure.com")] },
      { groupId: "Table", dnsZones: [zone("privatelink.table.cosmos.azure.com", "table.cosmos.azure.com")] },
    ],
    publicNetworkAccess: publicAccess(WITH_PERIMETER),
    connectionWrite: { longRunning: true, operationStatusActions: ["Microsoft.DocumentDB/locations/operationsStatus/read"] },
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.EventHub/namespaces",
    displayName: "Event Hubs namespace",
    apiVersion: "2024-01-01",
    // The connections are in namespaces-preview.json (not networkrulessets-preview.json): CreateOrUpdate lists 200 /
    // 201 / 202 but is not x-ms-long-running-operation (the SDKs' createOrUpdate is synchronous); Delete is.
    // EHNamespace.properties.publicNetworkAccess: Enabled | Disabled | SecuredByPerimeter, default Enabled.
    spec: "eventhub/resource-manager/Microsoft.EventHub/stable/2024-01-01/namespaces-preview.json",
    groups: [{ groupId: "namespace", dnsZones: [zone("privatelink.servicebus.windows.net", "servicebus.windows.net")] }],
    publicNetworkAccess: publicAccess(WITH_PERIMETER),
    connectionWrite: SYNCHRONOUS,
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.ServiceBus/namespaces",
    displayName: "Service Bus namespace",
    // 2021-11-01's SBNamespaceProperties has no publicNetworkAccess (only the networkRuleSets child had it); 2024-01-01
    // puts it on the namespace: Enabled | Disabled | SecuredByPerimeter, default Enabled. Its update model
    // (SBNamespaceUpdateProperties) omits it: a PATCH cannot change it. Connections are in namespace-preview.json:
    // CreateOrUpdate 200 / 201 / 202, not x-ms-long-running-operation; Delete is.
    apiVersion: "2024-01-01",
    spec: "servicebus/resource-manager/Microsoft.ServiceBus/ServiceBus/stable/2024-01-01/namespace-preview.json",
    groups: [{ groupId: "namespace", dnsZones: [zone("privatelink.servicebus.windows.net", "servicebus.windows.net")] }],
    publicNetworkAccess: publicAccess(WITH_PERIMETER, false),
    connectionWrite: SYNCHRONOUS,
    maxConnections: undefined,
    prerequisites: ["premium-sku"],
  },
  {
    resourceType: "Microsoft.ContainerRegistry/registries",
    displayName: "Container Registry",
    apiVersion: "2023-07-01",
    spec: "containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2023-07-01/containerregistry.json",
    groups: [{ groupId: "registry", dnsZones: [zone("privatelink.azurecr.io", "azurecr.io")] }],
    publicNetworkAccess: publicAccess(ENABLED_DISABLED),
    // PrivateEndpointConnections_CreateOrUpdate is long-running (200 / 201); its 201 carries Azure-AsyncOperation
    // {connection}/operationStatuses/privateendpointconnections-{guid} (example PrivateEndpointConnectionCreateOrUpdate.json
    // of Microsoft.ContainerRegistry/Registry/stable/2025-11-01, same shape since 2019), authorized as
    // ".../registries/privateEndpointConnections/operationStatuses/read" ("Get Private Endpoint Connection Async
    // Operation Status", Azure permissions for Containers) — not locations/operationResults.
    connectionWrite: {
      longRunning: true,
      operationStatusActions: ["Microsoft.ContainerRegistry/registries/privateEndpointConnections/operationStatuses/read"],
    },
    maxConnections: undefined,
    prerequisites: ["premium-sku"],
  },
  {
    resourceType: "Microsoft.Web/sites",
    displayName: "App Service / Function app",
    apiVersion: "2023-12-01",
    spec: "web/resource-manager/Microsoft.Web/stable/2023-12-01/WebApps.json",
    groups: [{ groupId: "sites", dnsZones: [zone("privatelink.azurewebsites.net", "azurewebsites.net")] }],
    publicNetworkAccess: publicAccess(ENABLED_DISABLED),
    // ApproveOrRejectPrivateEndpointConnection: 200 / 202, long-running; the 202 of
    // examples/ApproveRejectSitePrivateEndpointConnection.json carries azure-asyncoperation
    // /subscriptions/{s}/providers/Microsoft.Web/locations/{l}/operationResults/{id}, which ARM authorizes as
    // Microsoft.Web/locations/operationResults/read ("Get Operations"; its AuthorizationFailed is a known stumbling block).
    // publicNetworkAccess is a string ("Enabled", "Disabled" or empty) in the site's properties.
    connectionWrite: { longRunning: true, operationStatusActions: ["Microsoft.Web/locations/operationResults/read"] },
    maxConnections: undefined,
    prerequisites: [],
  },
  {
    resourceType: "Microsoft.Network/privateLinkServices",
    displayName: "Private Link Service",
    apiVersion: "2024-05-01",
    // PrivateLinkServices_UpdatePrivateEndpointConnection: 200 only (synchronous); the Delete is long-running. The
    // service carries properties.visibility.subscriptions and properties.autoApproval.subscriptions (string arrays),
    // and no publicNetworkAccess. 1000 endpoints per service (Azure networking limits, "Private Link limits").
    spec: "network/resource-manager/Microsoft.Network/stable/2024-05-01/privateLinkService.json",
    groups: [],
    publicNetworkAccess: undefined,
    connectionWrite: SYNCHRONOUS,
    maxConnections: 1000,
    prerequisites: [],
  },
];

const BY_TYPE = new Map(PRIVATE_LINK_PROVIDERS.map((provider) => [provider.resourceType.toLowerCase(), provider]));

/** The registry entry of an ARM resource type (case-insensitive), or undefined for a type Portcullis does not govern. */
export function providerOf(resourceType: string): PrivateLinkProvider | undefined {
  return BY_TYPE.get(resourceType.toLowerCase());
}

/** The registry entry for a type that must be registered (settings and rules have already been validated against it). */
export function requireProvider(resourceType: string): PrivateLinkProvider {
  const provider = providerOf(resourceType);
  if (provider === undefined) throw new Error(`${resourceType} is not a registered Private Link provider`);
  return provider;
}

/** The registry's type names, in registry order (for settings errors, docs and the CLI). */
export const REGISTERED_RESOURCE_TYPES: readonly string[] = PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType);

/** The private DNS zones a connection's group ids put records in, for one type (none when a group is unknown). */
export function dnsZonesOf(provider: PrivateLinkProvider, groupIds: readonly string[]): readonly PrivateDnsZoneName[] {
  const wanted = new Set(groupIds.map((g) => g.toLowerCase()));
  const zones = new Map<string, PrivateDnsZoneName>();
  for (const group of provider.groups) if (wanted.has(group.groupId.toLowerCase())) for (const z of group.dnsZones) zones.set(z.zone, z);
  return [...zones.values()];
}

/** The RBAC actions that read a type's resources and connections (the sweep, the audit, the manual API). */
export function readActions(provider: PrivateLinkProvider): readonly string[] {
  return [`${provider.resourceType}/read`, `${provider.resourceType}/privateEndpointConnections/read`];
}

/** The RBAC actions that approve or reject a connection of a type, polling included. */
export function decideActions(provider: PrivateLinkProvider): readonly string[] {
  return [`${provider.resourceType}/privateEndpointConnections/write`, ...provider.connectionWrite.operationStatusActions];
}

/** The operation names of the provider-side connection events the Event Grid filter lets through. */
export function connectionEventOperations(provider: PrivateLinkProvider): readonly string[] {
  return [`${provider.resourceType}/privateEndpointConnections/write`, `${provider.resourceType}/privateEndpointConnections/delete`];
}
