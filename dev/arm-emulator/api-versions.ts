/**
 * The api-versions ARM accepts per emulated resource type: every version in which the resource type's spec is
 * published in azure-rest-api-specs (stable and preview), not only the one the installed SDK sends. A request with
 * any other version answers 400 InvalidApiVersionParameter listing these.
 *
 * Sources (folder listings and AutoRest tags of azure-rest-api-specs):
 * - API Management: specification/apimanagement/resource-manager/Microsoft.ApiManagement/ApiManagement/readme.md
 *   (stable/2016-07-07 … stable/2024-05-01 and the preview folders). `service` is in apimanagement.json of every
 *   version; privateEndpointConnections and privateLinkResources are in apimprivatelink.json, first published in
 *   preview/2021-04-01-preview and stable/2021-08-01.
 * - Network: specification/network/resource-manager/Microsoft.Network/Network/stable/<version>/ —
 *   networkInterface(s) (network.json up to 2017-03-01, networkInterface.json after; stable since 2015-06-15),
 *   privateEndpoint.json (privateEndpoints since 2019-04-01, privateDnsZoneGroups since 2020-03-01), up to the
 *   2025-x TypeSpec versions (virtualNetwork.json) and 2026-01-01, the version @azure/arm-network 39 sends.
 * - Private DNS: specification/privatedns/resource-manager/Microsoft.Network/stable/{2018-09-01,2020-01-01,
 *   2020-06-01,2024-06-01}/privatedns.json (Private DNS has no preview folder in use since 2018-09-01).
 * - The other registered Private Link types (src/domain/providers/registry.ts), each from its service's readme.md
 *   tags (specification/<service>/resource-manager/readme.md) and version folders: the resource type in every version
 *   that publishes it, its privateEndpointConnections from the first version that carries them. Storage's newest tags
 *   (2025-01-01 … 2026-09-01) were read from its readme today; the older ones and the other services' lists are the
 *   folders as the SDK release histories name them, not re-read folder by folder — an older version missing here is
 *   refused 400 where Azure would answer; add it when a client sends it.
 * - Microsoft.Resources generic list (resources/resource-manager/Microsoft.Resources/stable/<v>/resources.json): every
 *   stable version; @azure/arm-resources 8 sends 2025-04-01.
 */

/** API Management previews that carry apimanagement.json (the service resource). */
const APIM_PREVIEWS_WITHOUT_PRIVATE_LINK = [
  "2018-06-01-preview",
  "2019-12-01-preview",
  "2020-06-01-preview",
  "2021-01-01-preview",
] as const;

/** API Management versions whose folder carries apimprivatelink.json (connections, private link resources). */
const APIM_PRIVATE_LINK = [
  "2021-04-01-preview",
  "2021-08-01",
  "2021-12-01-preview",
  "2022-04-01-preview",
  "2022-08-01",
  "2022-09-01-preview",
  "2023-03-01-preview",
  "2023-05-01-preview",
  "2023-09-01-preview",
  "2024-05-01",
  "2024-06-01-preview",
  "2024-10-01-preview",
  "2025-03-01-preview",
  "2025-09-01-preview",
  "2026-09-01-preview",
] as const;

const APIM_SERVICE = [
  "2016-07-07",
  "2016-10-10",
  "2017-03-01",
  "2018-01-01",
  "2019-01-01",
  "2019-12-01",
  "2020-12-01",
  ...APIM_PREVIEWS_WITHOUT_PRIVATE_LINK,
  ...APIM_PRIVATE_LINK,
] as const;

/** Network stable versions that publish privateEndpoint.json (privateEndpoints resource type). */
const NETWORK_PRIVATE_ENDPOINTS = [
  "2019-04-01",
  "2019-06-01",
  "2019-07-01",
  "2019-08-01",
  "2019-09-01",
  "2019-11-01",
  "2019-12-01",
  "2020-03-01",
  "2020-04-01",
  "2020-05-01",
  "2020-06-01",
  "2020-07-01",
  "2020-08-01",
  "2020-11-01",
  "2021-02-01",
  "2021-03-01",
  "2021-05-01",
  "2021-08-01",
  "2022-01-01",
  "2022-05-01",
  "2022-07-01",
  "2022-09-01",
  "2022-11-01",
  "2023-02-01",
  "2023-04-01",
  "2023-05-01",
  "2023-06-01",
  "2023-09-01",
  "2023-11-01",
  "2024-01-01",
  "2024-03-01",
  "2024-05-01",
  "2024-07-01",
  "2024-10-01",
  "2025-01-01",
  "2025-03-01",
  "2025-05-01",
  "2025-07-01",
  "2025-09-01",
  "2026-01-01",
] as const;

/** privateDnsZoneGroups (a child of privateEndpoints) first appears in 2020-03-01. */
const NETWORK_DNS_ZONE_GROUPS = NETWORK_PRIVATE_ENDPOINTS.filter((v) => v >= "2020-03-01");

/** Network stable versions before privateEndpoints existed; networkInterfaces and virtualNetworks are in all of them. */
const NETWORK_BEFORE_PRIVATE_ENDPOINTS = [
  "2015-06-15",
  "2016-03-30",
  "2016-06-01",
  "2016-09-01",
  "2016-12-01",
  "2017-03-01",
  "2017-06-01",
  "2017-08-01",
  "2017-09-01",
  "2017-10-01",
  "2017-11-01",
  "2018-01-01",
  "2018-02-01",
  "2018-04-01",
  "2018-06-01",
  "2018-07-01",
  "2018-08-01",
  "2018-10-01",
  "2018-11-01",
  "2018-12-01",
  "2019-02-01",
] as const;

const NETWORK_ALL = [...NETWORK_BEFORE_PRIVATE_ENDPOINTS, ...NETWORK_PRIVATE_ENDPOINTS] as const;

const PRIVATE_DNS = ["2018-09-01", "2020-01-01", "2020-06-01", "2024-06-01"] as const;

const from = (versions: readonly string[], first: string) => versions.filter((v) => v >= first);

const STORAGE = [
  "2015-06-15", "2016-01-01", "2016-05-01", "2016-12-01", "2017-06-01", "2017-10-01", "2018-02-01", "2018-03-01-preview", "2018-07-01",
  "2018-11-01", "2019-04-01", "2019-06-01", "2020-08-01-preview", "2021-01-01", "2021-02-01", "2021-04-01", "2021-06-01", "2021-08-01",
  "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01", "2025-06-01", "2025-08-01",
  "2026-04-01", "2026-06-01", "2026-09-01",
] as const;
const KEY_VAULT = [
  "2015-06-01", "2016-10-01", "2018-02-14", "2018-02-14-preview", "2019-09-01", "2020-04-01-preview", "2021-04-01-preview", "2021-06-01-preview",
  "2021-10-01", "2021-11-01-preview", "2022-02-01-preview", "2022-07-01", "2022-11-01", "2023-02-01", "2023-07-01", "2024-04-01-preview",
  "2024-11-01", "2024-12-01-preview", "2025-05-01",
] as const;
const SQL = [
  "2014-04-01", "2015-05-01-preview", "2017-03-01-preview", "2017-10-01-preview", "2018-06-01-preview", "2019-06-01-preview", "2020-02-02-preview",
  "2020-08-01-preview", "2020-11-01-preview", "2021-02-01-preview", "2021-05-01-preview", "2021-08-01-preview", "2021-11-01", "2021-11-01-preview",
  "2022-02-01-preview", "2022-05-01-preview", "2022-08-01-preview", "2022-11-01-preview", "2023-02-01-preview", "2023-05-01-preview", "2023-08-01",
  "2023-08-01-preview", "2024-05-01-preview", "2024-11-01-preview", "2025-01-01",
] as const;
const COSMOS = [
  "2015-04-08", "2019-08-01", "2019-12-12", "2020-03-01", "2020-04-01", "2020-06-01-preview", "2020-09-01", "2021-01-15", "2021-03-15",
  "2021-04-15", "2021-05-15", "2021-06-15", "2021-10-15", "2022-05-15", "2022-08-15", "2022-11-15", "2023-03-15", "2023-04-15", "2023-09-15",
  "2023-11-15", "2024-05-15", "2024-08-15", "2024-11-15", "2025-04-15", "2025-10-15",
] as const;
const EVENT_HUB = [
  "2014-09-01", "2015-08-01", "2017-04-01", "2018-01-01-preview", "2021-01-01-preview", "2021-06-01-preview", "2021-11-01", "2022-01-01-preview",
  "2022-10-01-preview", "2023-01-01-preview", "2024-01-01", "2024-05-01-preview", "2025-05-01-preview", "2026-01-01",
] as const;
const SERVICE_BUS = [
  "2014-09-01", "2015-08-01", "2017-04-01", "2018-01-01-preview", "2021-01-01-preview", "2021-06-01-preview", "2021-11-01", "2022-01-01-preview",
  "2022-10-01-preview", "2023-01-01-preview", "2024-01-01", "2025-05-01-preview",
] as const;
const CONTAINER_REGISTRY = [
  "2017-03-01", "2017-10-01", "2019-05-01", "2019-12-01-preview", "2020-11-01-preview", "2021-06-01-preview", "2021-08-01-preview", "2021-09-01",
  "2021-12-01-preview", "2022-02-01-preview", "2022-12-01", "2023-01-01-preview", "2023-06-01-preview", "2023-07-01", "2023-08-01-preview",
  "2023-11-01-preview", "2024-11-01-preview", "2025-03-01-preview", "2025-04-01", "2025-05-01-preview", "2025-11-01",
] as const;
const WEB = [
  "2016-08-01", "2018-02-01", "2018-11-01", "2019-08-01", "2020-06-01", "2020-09-01", "2020-10-01", "2020-12-01", "2021-01-01", "2021-01-15",
  "2021-02-01", "2021-03-01", "2022-03-01", "2022-09-01", "2023-01-01", "2023-12-01", "2024-04-01", "2024-11-01", "2025-03-01",
] as const;
/** privateLinkService.json is in every Network version that has privateEndpoint.json (since 2019-04-01). */
const PRIVATE_LINK_SERVICES = NETWORK_PRIVATE_ENDPOINTS;
const RESOURCES = [
  "2015-11-01", "2016-02-01", "2016-07-01", "2016-09-01", "2017-05-10", "2018-02-01", "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10",
  "2019-07-01", "2019-08-01", "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01",
  "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
] as const;

/** The resource types the emulator serves, each with its own published api-versions. */
export const API_VERSIONS = {
  "Microsoft.ApiManagement/service": APIM_SERVICE,
  "Microsoft.ApiManagement/service/privateEndpointConnections": APIM_PRIVATE_LINK,
  "Microsoft.ApiManagement/service/privateLinkResources": APIM_PRIVATE_LINK,
  "Microsoft.Network/privateEndpoints": NETWORK_PRIVATE_ENDPOINTS,
  "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": NETWORK_DNS_ZONE_GROUPS,
  "Microsoft.Network/networkInterfaces": NETWORK_ALL,
  "Microsoft.Network/virtualNetworks": NETWORK_ALL,
  /** Network's locations/{location}/operations and operationResults answer for every Network version. */
  "Microsoft.Network/locations/operations": NETWORK_ALL,
  "Microsoft.Network/privateDnsZones": PRIVATE_DNS,
  "Microsoft.Storage/storageAccounts": STORAGE,
  "Microsoft.Storage/storageAccounts/privateEndpointConnections": from(STORAGE, "2019-06-01"),
  "Microsoft.KeyVault/vaults": KEY_VAULT,
  "Microsoft.KeyVault/vaults/privateEndpointConnections": from(KEY_VAULT, "2018-02-14"),
  "Microsoft.Sql/servers": SQL,
  "Microsoft.Sql/servers/privateEndpointConnections": from(SQL, "2018-06-01-preview"),
  "Microsoft.DocumentDB/databaseAccounts": COSMOS,
  "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections": from(COSMOS, "2019-08-01"),
  "Microsoft.EventHub/namespaces": EVENT_HUB,
  "Microsoft.EventHub/namespaces/privateEndpointConnections": from(EVENT_HUB, "2018-01-01-preview"),
  "Microsoft.ServiceBus/namespaces": SERVICE_BUS,
  "Microsoft.ServiceBus/namespaces/privateEndpointConnections": from(SERVICE_BUS, "2018-01-01-preview"),
  "Microsoft.ContainerRegistry/registries": CONTAINER_REGISTRY,
  "Microsoft.ContainerRegistry/registries/privateEndpointConnections": from(CONTAINER_REGISTRY, "2019-12-01-preview"),
  "Microsoft.Web/sites": WEB,
  "Microsoft.Web/sites/privateEndpointConnections": from(WEB, "2019-08-01"),
  "Microsoft.Network/privateLinkServices": PRIVATE_LINK_SERVICES,
  "Microsoft.Network/privateLinkServices/privateEndpointConnections": PRIVATE_LINK_SERVICES,
  "Microsoft.Resources/resources": RESOURCES,
} as const satisfies Record<string, readonly string[]>;

/** The emulated type of a registered Private Link type's resource or connection, checked against API_VERSIONS. */
export function emulatedType(type: string): EmulatedResourceType {
  const key = Object.keys(API_VERSIONS).find((k) => k.toLowerCase() === type.toLowerCase());
  if (key === undefined) throw new Error(`no api-versions are listed for ${type} (dev/arm-emulator/api-versions.ts)`);
  return key as EmulatedResourceType;
}

export type EmulatedResourceType = keyof typeof API_VERSIONS;

/** Newest first, as ARM lists them in InvalidApiVersionParameter. */
export function versionsNewestFirst(type: EmulatedResourceType): string[] {
  return [...API_VERSIONS[type]].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}
