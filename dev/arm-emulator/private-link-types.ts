/**
 * How the emulator serves each registered Private Link type other than API Management (which has its own module,
 * routes/apim.ts): the facts of src/domain/providers/registry.ts (api-version, groups, publicNetworkAccess, whether the
 * connection PUT is long-running and which RBAC action its polling URL needs) plus what only the emulator needs — the
 * shape of the resource and connection on GET, how a long-running PUT answers and where it is polled — each from the
 * registry entry's spec file and the examples beside it (azure-rest-api-specs):
 *
 * - Microsoft.Storage/storageAccounts (storage.json 2023-05-01; StorageAccountGetProperties.json,
 *   StorageAccountGetPrivateEndpointConnection.json): PUT synchronous 200; connection state carries `actionRequired`
 *   (privatelinks.json's spelling); the connections list is one page (no nextLink in PrivateEndpointConnectionListResult);
 *   the account embeds privateEndpointConnections.
 * - Microsoft.KeyVault/vaults (keyvault.json 2023-07-01; getVault.json, putPrivateEndpointConnection.json): PUT
 *   synchronous 200; connections carry an etag; the list pages by nextLink; the vault embeds them.
 * - Microsoft.Sql/servers (PrivateEndpointConnections.json 2021-11-01): PUT 202 then polling at
 *   locations/{l}/privateEndpointConnectionAzureAsyncOperation/{id} (Azure-AsyncOperation) and
 *   .../privateEndpointConnectionOperationResults/{id} (Location); status and description are both required and the
 *   status must be Approved or Rejected (IncorrectPrivateLinkServiceConnectionStateStatus, in the PUT's error list);
 *   connections carry groupIds; list paged by nextLink; the server embeds them (ServerPrivateEndpointConnection).
 * - Microsoft.DocumentDB/databaseAccounts (privateEndpointConnection.json 2024-11-15): PUT 202, polled at
 *   locations/{l}/operationsStatus/{id}; connections carry groupId (a string); the list is one page (nextLinkName null).
 * - Microsoft.EventHub/namespaces, Microsoft.ServiceBus/namespaces (namespaces-preview.json / namespace-preview.json):
 *   PUT synchronous 200 (not x-ms-long-running-operation); lists paged by nextLink; namespaces embed connections.
 * - Microsoft.ContainerRegistry/registries (containerregistry.json; PrivateEndpointConnectionCreateOrUpdate.json): PUT
 *   201 with the connection and Azure-AsyncOperation {connection}/operationStatuses/privateendpointconnections-{guid}.
 * - Microsoft.Web/sites (WebApps.json 2023-12-01; ApproveRejectSitePrivateEndpointConnection.json): PUT 202 with the
 *   connection and azure-asyncoperation /subscriptions/{s}/providers/Microsoft.Web/locations/{l}/operationResults/{id};
 *   connections carry groupIds.
 * - Microsoft.Network/privateLinkServices (privateLinkService.json 2024-05-01): PUT synchronous 200; the service carries
 *   visibility / autoApproval / alias and embeds its connections; connections carry linkIdentifier.
 *
 * Simplifications, said here so no one mistakes them for Azure's behaviour: a resource PATCH (publicNetworkAccess) is
 * applied synchronously (200) for every type; a connection DELETE is long-running only where the type's PUT is (the
 * same polling URL), else answered 200 at once.
 */
import { requireProvider, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";

/** Where a long-running connection PUT is polled, as paths under the emulator's base URL. */
export interface PollingUrls {
  /** Azure-AsyncOperation: answers 200 + {status} (InProgress until done). */
  readonly asyncOperation: string;
  /** Location, when the type sends one: 202 until done, then the result. */
  readonly location?: string;
}

/** What a polling URL template needs. */
export interface PollingContext {
  readonly subscriptionId: string;
  readonly location: string;
  readonly connectionId: string;
  readonly operationId: string;
}

export interface LongRunningWrite {
  readonly kind: "long-running";
  /** The first answer's status: 202 (SQL, Cosmos DB, sites) or 201 (Container Registry). */
  readonly acceptedStatus: 201 | 202;
  /** Whether the first answer carries the connection (Container Registry's 201 and sites' 202 do; SQL's and Cosmos DB's 202 do not). */
  readonly acceptedBody: boolean;
  readonly urls: (context: PollingContext) => PollingUrls;
  /** Route templates of the polling URLs (matched by routes/private-link.ts). */
  readonly asyncOperationTemplate: string;
  readonly locationTemplate?: string;
}

export type ConnectionWriteEmulation = { readonly kind: "synchronous" } | LongRunningWrite;

export interface PrivateLinkTypeProfile {
  readonly provider: PrivateLinkProvider;
  /** e.g. "Microsoft.Storage" */
  readonly namespace: string;
  /** e.g. "storageAccounts" */
  readonly typeName: string;
  /** The route template of one resource, e.g. `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts/{resourceName}`. */
  readonly resourceTemplate: string;
  readonly write: ConnectionWriteEmulation;
  /** The connections list pages by nextLink (x-ms-pageable nextLinkName "nextLink"); false: one page, no nextLink. */
  readonly listPaged: boolean;
  /** The resource's GET embeds properties.privateEndpointConnections. */
  readonly embedsConnections: boolean;
  /**
   * Members of an embedded connection: the full connection resource, or Key Vault's PrivateEndpointConnectionItem
   * (keyvault openapi.json: id, etag and properties; no name, no type).
   */
  readonly embeddedItem?: "resource" | "id-etag-properties";
  /** How the connection state names its third member: common-types' actionsRequired, or Storage's actionRequired. */
  readonly actionsKey: "actionsRequired" | "actionRequired";
  /** How a connection shows its group: groupIds (array), groupId (string, Cosmos DB) or not at all. */
  readonly groupField: "groupIds" | "groupId" | "none";
  /** Status values a PUT may set (besides refusing unknown ones). */
  readonly settableStatuses: readonly string[];
  /** Both status and description must be sent (SQL's PrivateLinkServiceConnectionStateProperty.required). */
  readonly descriptionRequired: boolean;
  /** Connections carry an etag (Key Vault, Private Link Service). */
  readonly connectionEtag: boolean;
  /** The ARM error code for a body the provider refuses. */
  readonly badRequestCode: string;
  /** The sku a resource gets when the topology names none. */
  readonly defaultSku: string | undefined;
  /** The sku shape on GET (Key Vault nests it under properties with a family). */
  readonly skuView: (sku: string) => Record<string, unknown> | undefined;
  /** Type-specific read-only properties of the resource on GET (endpoints and the like), from the GET examples. */
  readonly properties: (resource: { readonly name: string; readonly location: string; readonly sku: string | undefined; readonly kind: string | undefined }) => Record<string, unknown>;
}

const RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers";
const SUB = "/subscriptions/{subscriptionId}/providers";

function templateOf(resourceType: string): { namespace: string; typeName: string; resourceTemplate: string } {
  const [namespace, typeName] = resourceType.split("/") as [string, string];
  return { namespace, typeName, resourceTemplate: `${RG}/${namespace}/${typeName}/{resourceName}` };
}

function profile(
  resourceType: string,
  rest: Omit<PrivateLinkTypeProfile, "provider" | "namespace" | "typeName" | "resourceTemplate">,
): PrivateLinkTypeProfile {
  return { provider: requireProvider(resourceType), ...templateOf(resourceType), ...rest };
}

const SYNCHRONOUS: ConnectionWriteEmulation = { kind: "synchronous" };
const APPROVE_REJECT = ["Approved", "Rejected"] as const;
const plainSku = (sku: string) => ({ name: sku, tier: sku });

/** One profile per registered type except API Management, in registry order. */
export const PRIVATE_LINK_TYPE_PROFILES: readonly PrivateLinkTypeProfile[] = [
  profile("Microsoft.Storage/storageAccounts", {
    write: SYNCHRONOUS,
    listPaged: false,
    embedsConnections: true,
    actionsKey: "actionRequired",
    groupField: "none",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "InvalidRequestPropertyValue",
    defaultSku: "Standard_LRS",
    skuView: (sku) => ({ name: sku, tier: sku.startsWith("Premium") ? "Premium" : "Standard" }),
    properties: ({ name, location }) => ({
      primaryEndpoints: Object.fromEntries(["blob", "queue", "table", "file", "web", "dfs"].map((s) => [s, `https://${name}.${s}.core.windows.net/`])),
      primaryLocation: location,
      statusOfPrimary: "available",
      supportsHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      creationTime: "2024-01-15T09:30:00.0000000Z",
    }),
  }),
  profile("Microsoft.KeyVault/vaults", {
    write: SYNCHRONOUS,
    listPaged: true,
    embedsConnections: true,
    embeddedItem: "id-etag-properties",
    actionsKey: "actionsRequired",
    groupField: "none",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: true,
    badRequestCode: "BadRequest",
    defaultSku: "standard",
    skuView: () => undefined,
    properties: ({ name, sku }) => ({
      sku: { family: "A", name: sku ?? "standard" },
      tenantId: "00000000-0000-0000-0000-000000000000",
      accessPolicies: [],
      enableRbacAuthorization: true,
      vaultUri: `https://${name}.vault.azure.net/`,
    }),
  }),
  profile("Microsoft.Sql/servers", {
    write: {
      kind: "long-running",
      acceptedStatus: 202,
      acceptedBody: false,
      urls: ({ subscriptionId, location, operationId }) => ({
        asyncOperation: `/subscriptions/${subscriptionId}/providers/Microsoft.Sql/locations/${location}/privateEndpointConnectionAzureAsyncOperation/${operationId}`,
        location: `/subscriptions/${subscriptionId}/providers/Microsoft.Sql/locations/${location}/privateEndpointConnectionOperationResults/${operationId}`,
      }),
      asyncOperationTemplate: `${SUB}/Microsoft.Sql/locations/{location}/privateEndpointConnectionAzureAsyncOperation/{operationId}`,
      locationTemplate: `${SUB}/Microsoft.Sql/locations/{location}/privateEndpointConnectionOperationResults/{operationId}`,
    },
    listPaged: true,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "groupIds",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: true,
    connectionEtag: false,
    badRequestCode: "IncorrectPrivateLinkServiceConnectionStateStatus",
    defaultSku: undefined,
    skuView: () => undefined,
    properties: ({ name }) => ({
      administratorLogin: "sqladmin",
      version: "12.0",
      state: "Ready",
      fullyQualifiedDomainName: `${name}.database.windows.net`,
      minimalTlsVersion: "1.2",
      restrictOutboundNetworkAccess: "Disabled",
    }),
  }),
  profile("Microsoft.DocumentDB/databaseAccounts", {
    write: {
      kind: "long-running",
      acceptedStatus: 202,
      acceptedBody: false,
      urls: ({ subscriptionId, location, operationId }) => ({
        asyncOperation: `/subscriptions/${subscriptionId}/providers/Microsoft.DocumentDB/locations/${location}/operationsStatus/${operationId}`,
      }),
      asyncOperationTemplate: `${SUB}/Microsoft.DocumentDB/locations/{location}/operationsStatus/{operationId}`,
    },
    listPaged: false,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "groupId",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "BadRequest",
    defaultSku: undefined,
    skuView: () => undefined,
    properties: ({ name }) => ({
      databaseAccountOfferType: "Standard",
      documentEndpoint: `https://${name}.documents.azure.com:443/`,
      consistencyPolicy: { defaultConsistencyLevel: "Session", maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
      disableLocalAuth: false,
    }),
  }),
  profile("Microsoft.EventHub/namespaces", {
    write: SYNCHRONOUS,
    listPaged: true,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "none",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "BadRequest",
    defaultSku: "Standard",
    skuView: (sku) => ({ name: sku, tier: sku, capacity: 1 }),
    properties: ({ name }) => ({
      serviceBusEndpoint: `https://${name}.servicebus.windows.net:443/`,
      metricId: `00000000-0000-0000-0000-000000000000:${name}`,
      status: "Active",
      kafkaEnabled: true,
      disableLocalAuth: false,
      minimumTlsVersion: "1.2",
      createdAt: "2024-01-15T09:30:00Z",
      updatedAt: "2024-01-15T09:30:00Z",
    }),
  }),
  profile("Microsoft.ServiceBus/namespaces", {
    write: SYNCHRONOUS,
    listPaged: true,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "none",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "BadRequest",
    defaultSku: "Premium",
    skuView: (sku) => ({ name: sku, tier: sku, ...(sku === "Premium" ? { capacity: 1 } : {}) }),
    properties: ({ name }) => ({
      serviceBusEndpoint: `https://${name}.servicebus.windows.net:443/`,
      metricId: `00000000-0000-0000-0000-000000000000:${name}`,
      status: "Active",
      disableLocalAuth: false,
      minimumTlsVersion: "1.2",
      createdAt: "2024-01-15T09:30:00Z",
      updatedAt: "2024-01-15T09:30:00Z",
    }),
  }),
  profile("Microsoft.ContainerRegistry/registries", {
    write: {
      kind: "long-running",
      acceptedStatus: 201,
      acceptedBody: true,
      urls: ({ connectionId, operationId }) => ({ asyncOperation: `${connectionId}/operationStatuses/privateendpointconnections-${operationId}` }),
      asyncOperationTemplate: `${RG}/Microsoft.ContainerRegistry/registries/{resourceName}/privateEndpointConnections/{privateEndpointConnectionName}/operationStatuses/{operationId}`,
    },
    listPaged: true,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "none",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "BadRequest",
    defaultSku: "Premium",
    skuView: (sku) => ({ name: sku, tier: sku }),
    properties: ({ name }) => ({
      loginServer: `${name.toLowerCase()}.azurecr.io`,
      creationDate: "2024-01-15T09:30:00Z",
      adminUserEnabled: false,
      dataEndpointEnabled: false,
      networkRuleBypassOptions: "AzureServices",
      zoneRedundancy: "Disabled",
    }),
  }),
  profile("Microsoft.Web/sites", {
    write: {
      kind: "long-running",
      acceptedStatus: 202,
      acceptedBody: true,
      urls: ({ subscriptionId, location, operationId }) => ({
        asyncOperation: `/subscriptions/${subscriptionId}/providers/Microsoft.Web/locations/${location}/operationResults/${operationId}`,
      }),
      asyncOperationTemplate: `${SUB}/Microsoft.Web/locations/{location}/operationResults/{operationId}`,
    },
    listPaged: true,
    embedsConnections: false,
    actionsKey: "actionsRequired",
    groupField: "groupIds",
    settableStatuses: APPROVE_REJECT,
    descriptionRequired: false,
    connectionEtag: false,
    badRequestCode: "BadRequest",
    defaultSku: undefined,
    skuView: () => undefined,
    properties: ({ name }) => ({
      state: "Running",
      hostNames: [`${name.toLowerCase()}.azurewebsites.net`],
      defaultHostName: `${name.toLowerCase()}.azurewebsites.net`,
      enabled: true,
      httpsOnly: true,
    }),
  }),
  profile("Microsoft.Network/privateLinkServices", {
    write: SYNCHRONOUS,
    listPaged: true,
    embedsConnections: true,
    actionsKey: "actionsRequired",
    groupField: "none",
    settableStatuses: [...APPROVE_REJECT, "Removed"],
    descriptionRequired: false,
    connectionEtag: true,
    badRequestCode: "InvalidRequestFormat",
    defaultSku: undefined,
    skuView: () => undefined,
    properties: () => ({ enableProxyProtocol: false, loadBalancerFrontendIpConfigurations: [], ipConfigurations: [], fqdns: [] }),
  }),
];

const BY_TYPE = new Map(PRIVATE_LINK_TYPE_PROFILES.map((p) => [p.provider.resourceType.toLowerCase(), p]));

/** The profile of a registered non-APIM type (case-insensitive), or undefined. */
export function profileOf(resourceType: string): PrivateLinkTypeProfile | undefined {
  return BY_TYPE.get(resourceType.toLowerCase());
}

/** The canonical spelling of a type's connection child type, e.g. "Microsoft.Storage/storageAccounts/privateEndpointConnections". */
export function connectionTypeOf(profile: PrivateLinkTypeProfile): string {
  return `${profile.provider.resourceType}/privateEndpointConnections`;
}

/** The public FQDN a group of a resource answers on (`{name}.{publicSuffix}`; read-access secondaries as `{name}-secondary`). */
export function fqdnOf(provider: PrivateLinkProvider, resourceName: string, groupId: string): string | undefined {
  const group = provider.groups.find((g) => g.groupId.toLowerCase() === groupId.toLowerCase());
  const suffix = group?.dnsZones[0]?.publicSuffix;
  if (suffix === undefined) return undefined;
  const host = group!.groupId.endsWith("_secondary") ? `${resourceName}-secondary` : resourceName;
  return `${host.toLowerCase()}.${suffix}`;
}
