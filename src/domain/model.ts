/**
 * The domain's view of Azure resources. Adapters convert SDK models into these types at the boundary,
 * so SDK shapes never leak into workflows or domain logic. Fields the SDK may omit are optional here
 * and every consumer must treat "unknown" as "not known to be safe" (fail closed).
 */

export type ConnectionStatus = "Pending" | "Approved" | "Rejected";

/** Azure documents these; anything else from ARM is kept as a string and treated as unknown. */
export type ProvisioningState = "Succeeded" | "Creating" | "Updating" | "Deleting" | "Failed" | (string & {});

/** A private endpoint connection on a governed resource (the provider side), of any type in src/domain/providers. */
export interface PrivateEndpointConnection {
  /** Full ARM ID: {resourceId}/privateEndpointConnections/{name} */
  readonly id: string;
  readonly name: string;
  /** ARM ID of the resource that owns this connection (an APIM instance, a storage account, a vault, ...). */
  readonly resourceId: string;
  /** ARM ID of the consumer's private endpoint (in the consumer subscription, maybe another tenant). */
  readonly privateEndpointId: string | undefined;
  readonly status: ConnectionStatus;
  readonly description: string | undefined;
  readonly actionsRequired: string | undefined;
  readonly provisioningState: ProvisioningState | undefined;
  readonly groupIds: readonly string[];
}

/** One private link service connection as the consumer's private endpoint sees it. */
export interface EndpointLinkConnection {
  readonly name: string;
  readonly privateLinkServiceId: string;
  readonly groupIds: readonly string[];
  /** The consumer's request message; free text written by the requester (untrusted). */
  readonly requestMessage: string | undefined;
  readonly status: ConnectionStatus | undefined;
  /** true for manualPrivateLinkServiceConnections, false for privateLinkServiceConnections. */
  readonly manual: boolean;
}

export interface CustomDnsConfig {
  readonly fqdn: string | undefined;
  readonly ipAddresses: readonly string[];
}

/** A consumer's private endpoint (Microsoft.Network/privateEndpoints). */
export interface PrivateEndpoint {
  readonly id: string;
  readonly name: string;
  readonly location: string | undefined;
  readonly subnetId: string | undefined;
  readonly networkInterfaceIds: readonly string[];
  readonly customDnsConfigs: readonly CustomDnsConfig[];
  readonly connections: readonly EndpointLinkConnection[];
  readonly provisioningState: ProvisioningState | undefined;
}

export interface NetworkInterface {
  readonly id: string;
  readonly privateIpAddresses: readonly string[];
}

export interface PrivateDnsZoneGroup {
  readonly id: string;
  readonly name: string;
  /** Private DNS zone IDs this group manages records in. */
  readonly privateDnsZoneIds: readonly string[];
}

export type PublicNetworkAccess = "Enabled" | "Disabled";

/**
 * Any governed Private Link resource, read through ARM's generic resource operations with the type's api-version
 * (src/domain/providers/registry.ts). Type-specific facts beyond these stay in the type's own port (ApimPort).
 */
export interface PrivateLinkResource {
  readonly id: string;
  readonly name: string;
  /** ARM type as ARM returned it, e.g. "Microsoft.Storage/storageAccounts" (compare case-insensitively). */
  readonly type: string;
  readonly location: string | undefined;
  /** In the type's own spelling (Enabled | Disabled | SecuredByPerimeter); undefined when the type has none or ARM omitted it. */
  readonly publicNetworkAccess: string | undefined;
  readonly skuName: string | undefined;
  readonly provisioningState: ProvisioningState | undefined;
  /** Microsoft.Network/privateLinkServices only: who may see the service and whose connections Azure approves itself. */
  readonly privateLinkService?: PrivateLinkServiceLists | undefined;
}

export interface PrivateLinkServiceLists {
  /** properties.visibility.subscriptions ("*" means everyone). */
  readonly visibilitySubscriptions: readonly string[];
  /** properties.autoApproval.subscriptions: connections from these are approved by Azure, not by Portcullis. */
  readonly autoApprovalSubscriptions: readonly string[];
}

/** An API Management instance as the audit and the engine need it. */
export interface ApimService {
  readonly id: string;
  readonly name: string;
  readonly location: string | undefined;
  /** SKU name: Developer | Basic | Standard | Premium | Consumption | BasicV2 | StandardV2 | ... */
  readonly skuName: string | undefined;
  readonly platformVersion: string | undefined;
  readonly virtualNetworkType: string | undefined;
  readonly publicNetworkAccess: PublicNetworkAccess | undefined;
  readonly provisioningState: ProvisioningState | undefined;
}

export interface PrivateDnsZone {
  readonly id: string;
  readonly name: string;
}

export interface ARecordSet {
  readonly id: string;
  /** Relative record name within the zone, e.g. "contoso-apim". */
  readonly name: string;
  readonly zoneId: string;
  readonly ipv4Addresses: readonly string[];
  readonly ttl: number | undefined;
  readonly etag: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface VirtualNetworkLink {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly virtualNetworkId: string | undefined;
  readonly registrationEnabled: boolean;
}
