/** Plain snapshot builders for the pure audit tests: a healthy instance by default, overridden per test. */
import type { ApimService, ARecordSet, ConnectionStatus, CustomDnsConfig, PrivateEndpointConnection, PrivateLinkResource } from "../../../src/domain/model.ts";
import type { AuditPolicy, CheckContext } from "../../../src/domain/audit/checks.ts";
import type { WrittenRecord } from "../../../src/domain/audit/ownership.ts";
import { resourceOfApimService, type ConnectionHistory, type ConnectionSnapshot, type EndpointSnapshot, type InstanceSnapshot, type ZoneSnapshot } from "../../../src/domain/audit/snapshot.ts";
import { requireProvider } from "../../../src/domain/providers/registry.ts";

export const PROVIDER_SUB = "a0a0a0a0-0000-4000-8000-000000000001";
export const CONSUMER_SUB = "c1c1c1c1-0000-4000-8000-000000000002";
export const INSTANCE_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/contoso-apim`;
export const HUB_ZONE_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;
export const NOW = new Date("2025-06-01T12:00:00.000Z");

export function vnetId(name: string): string {
  return `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/${name}`;
}

export const POLICY: AuditPolicy = {
  publicAccessExemptIds: [],
  publicAccessDisabledRequired: "when-approved",
  pendingMaxAgeHours: 24,
  rejectedMaxAgeDays: 30,
  capacityWarning: 80,
};

export const CONTEXT: CheckContext = { policy: POLICY, now: NOW, estateSubscriptionIds: [PROVIDER_SUB, CONSUMER_SUB] };

export function service(overrides: Partial<ApimService> = {}): ApimService {
  return {
    id: INSTANCE_ID,
    name: "contoso-apim",
    location: "westeurope",
    skuName: "Premium",
    platformVersion: "stv2",
    virtualNetworkType: "None",
    publicNetworkAccess: "Disabled",
    provisioningState: "Succeeded",
    ...overrides,
  };
}

export const EMPTY_HISTORY: ConnectionHistory = { firstRecordedAt: undefined, approvedAt: undefined, rejectedAt: undefined, statusSeenSince: undefined };

export interface ConnectionOptions {
  readonly status?: ConnectionStatus;
  readonly vnet?: string;
  readonly ips?: readonly string[];
  readonly dnsZoneIds?: readonly string[];
  readonly customDnsConfigs?: readonly CustomDnsConfig[];
  readonly groupIds?: readonly string[];
  /** The owning resource (default the APIM instance). */
  readonly resourceId?: string;
  readonly history?: Partial<ConnectionHistory>;
  readonly endpointFailure?: ConnectionSnapshot["endpointFailure"];
}

/** A connection named `name`; Approved ones get an endpoint in VNet `vnet` with `ips` (approved by Portcullis by default). */
export function connection(name: string, options: ConnectionOptions = {}): ConnectionSnapshot {
  const status = options.status ?? "Approved";
  const endpointId = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/pe-${name}`;
  const resourceId = options.resourceId ?? INSTANCE_ID;
  const conn: PrivateEndpointConnection = {
    id: `${resourceId}/privateEndpointConnections/${name}`,
    name,
    resourceId,
    privateEndpointId: endpointId,
    status,
    description: undefined,
    actionsRequired: undefined,
    provisioningState: "Succeeded",
    groupIds: options.groupIds ?? ["Gateway"],
  };
  const endpoint: EndpointSnapshot | undefined =
    status === "Approved" && options.endpointFailure === undefined
      ? { endpointId, virtualNetworkId: vnetId(options.vnet ?? "vnet-a"), privateIps: options.ips ?? ["10.0.1.4"], dnsZoneIds: options.dnsZoneIds ?? [], customDnsConfigs: options.customDnsConfigs ?? [] }
      : undefined;
  const defaultHistory = status === "Approved" ? { approvedAt: "2025-05-01T00:00:00.000Z" } : {};
  return { connection: conn, endpoint, endpointFailure: options.endpointFailure, history: { ...EMPTY_HISTORY, ...defaultHistory, ...options.history } };
}

export function record(zoneId: string, ips: readonly string[], metadata: Record<string, string> = {}, name = "contoso-apim"): ARecordSet {
  return { id: `${zoneId}/A/${name}`, name, zoneId, ipv4Addresses: ips, ttl: 10, etag: `etag-${ips.join("-")}`, metadata };
}

/** A zone snapshot; `record` / `written` (or the lists `records` / `writtens`) are shorthands for the name maps. */
export type ZoneInit = Partial<ZoneSnapshot> & {
  readonly record?: ARecordSet | undefined;
  readonly written?: WrittenRecord | undefined;
  readonly records?: readonly ARecordSet[];
  readonly writtens?: readonly WrittenRecord[];
};

export function zone(init: ZoneInit = {}): ZoneSnapshot {
  const { record: one, written: mine, records = [], writtens = [], ...overrides } = init;
  const recordList = [...records, ...(one ? [one] : [])];
  const writtenList = [...writtens, ...(mine ? [mine] : [])];
  return {
    zoneId: HUB_ZONE_ID,
    configured: true,
    recordsByName: new Map(recordList.map((r) => [r.name.toLowerCase(), r])),
    writtenByName: new Map(writtenList.map((w) => [w.recordName.toLowerCase(), w])),
    linkedVirtualNetworkIds: [vnetId("vnet-a")],
    failure: undefined,
    ...overrides,
  };
}

/** An APIM instance snapshot (provider, resource view and service facts); `service: undefined` gives neither. */
export function instance(overrides: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  const svc = "service" in overrides ? overrides.service : service();
  return {
    instanceId: INSTANCE_ID,
    provider: requireProvider("Microsoft.ApiManagement/service"),
    resource: svc === undefined ? undefined : resourceOfApimService(svc),
    service: svc,
    failure: undefined,
    connections: [],
    zones: [],
    ...overrides,
  };
}

export function hoursBefore(hours: number): string {
  return new Date(NOW.getTime() - hours * 3_600_000).toISOString();
}

/** The ARM ID of a resource of any registered type in the provider subscription. */
export function resourceIdOf(resourceType: string, name: string): string {
  return `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-app/providers/${resourceType}/${name}`;
}

/** The ID of a hub zone of that name in the provider subscription's DNS resource group. */
export function hubZoneId(zoneName: string): string {
  return `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/${zoneName}`;
}

/**
 * A snapshot of a resource of any registered type (not APIM's service facts): public access closed, the SKU the type
 * needs, no connections. `resource` overrides the generic view.
 */
export function resourceInstance(
  resourceType: string,
  name: string,
  overrides: Partial<Omit<InstanceSnapshot, "resource">> & { readonly resource?: Partial<PrivateLinkResource> } = {},
): InstanceSnapshot {
  const provider = requireProvider(resourceType);
  const id = resourceIdOf(provider.resourceType, name);
  const { resource: resourceOverrides, ...rest } = overrides;
  return {
    instanceId: id,
    provider,
    resource: {
      id,
      name,
      type: provider.resourceType,
      location: "westeurope",
      publicNetworkAccess: provider.publicNetworkAccess?.disabled,
      skuName: provider.prerequisites.includes("premium-sku") ? "Premium" : "Standard",
      provisioningState: "Succeeded",
      ...(provider.publicNetworkAccess === undefined && provider.groups.length === 0 ? { privateLinkService: { visibilitySubscriptions: [CONSUMER_SUB], autoApprovalSubscriptions: [] } } : {}),
      ...resourceOverrides,
    },
    service: undefined,
    failure: undefined,
    connections: [],
    zones: [],
    ...rest,
  };
}
