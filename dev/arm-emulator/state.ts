/**
 * The emulator's in-memory Azure estate and the rules that keep its parts consistent: an APIM connection and the
 * consumer endpoint's view of it, a private endpoint and its NIC, IP and DNS records. Routes translate HTTP into calls
 * here; every refusal is an ArmError with the status and code Azure would answer.
 */
import { randomUUID } from "node:crypto";
import { ArmError, invalidRequest, resourceNotFound } from "./errors.ts";
import {
  apimServiceId,
  idKey,
  networkInterfaceId,
  privateDnsZoneId,
  privateEndpointId,
  splitResourceId,
  virtualNetworkId,
} from "./ids.ts";
import { ipv4ToInt, nextFreeAddress, parseIpv4Prefix, type Ipv4Prefix } from "./ip.ts";
import { fqdnOf, profileOf, type PrivateLinkTypeProfile } from "./private-link-types.ts";
import type {
  ApimServiceSeed,
  ExistingPrivateEndpointSeed,
  PrivateDnsZoneSeed,
  PrivateLinkResourceSeed,
  Topology,
  TopologyIdentity,
  VirtualNetworkSeed,
} from "./topology.ts";

export type LinkStatus = "Pending" | "Approved" | "Rejected" | "Disconnected";

/** APIM accepts inbound Private Link connections on this sub-resource only. */
export const APIM_GROUP_ID = "Gateway";
/** Documented limit of private endpoint connections per APIM instance. */
export const MAX_CONNECTIONS_PER_SERVICE = 100;

export interface SubscriptionRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly displayName: string;
  /** Microsoft-owned (a managed virtual network's): no caller's role assignment reaches it. */
  readonly microsoftManaged: boolean;
  readonly resourceGroups: Map<string, { readonly name: string; readonly location: string }>;
}

export interface ConnectionRecord {
  readonly id: string;
  readonly name: string;
  /** The resource the connection belongs to (an APIM service or any other registered Private Link resource). */
  readonly serviceId: string;
  readonly privateEndpointId: string;
  status: LinkStatus;
  description: string;
  actionsRequired: string;
  provisioningState: string;
  readonly groupIds: readonly string[];
}

export interface ApimServiceRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  readonly skuName: string;
  readonly skuCapacity: number;
  readonly platformVersion: string;
  readonly virtualNetworkType: string;
  readonly virtualNetworkConfiguration: ApimServiceSeed["virtualNetworkConfiguration"];
  publicNetworkAccess: "Enabled" | "Disabled";
  publisherEmail: string;
  publisherName: string;
  notificationSenderEmail: string;
  tags: Record<string, string>;
  identity: ManagedIdentityRecord | undefined;
  zones: string[];
  hostnameConfigurations: HostnameConfigurationRecord[];
  readonly certificates: ApimServiceSeed["certificates"];
  readonly additionalLocations: ApimServiceSeed["additionalLocations"];
  readonly publicIpAddressId: string | undefined;
  readonly createdAtUtc: string;
  etagCounter: number;
  provisioningState: string;
  readonly connections: Map<string, ConnectionRecord>;
}

/**
 * A resource of a registered Private Link type other than API Management: what every such type shares (sku, kind,
 * publicNetworkAccess, its connections); the rest of its GET shape comes from its profile (private-link-types.ts).
 */
export interface PrivateLinkResourceRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  readonly profile: PrivateLinkTypeProfile;
  readonly sku: string | undefined;
  readonly kind: string | undefined;
  publicNetworkAccess: string | undefined;
  tags: Record<string, string>;
  /** Private Link Service only (properties.visibility / autoApproval .subscriptions). */
  readonly visibilitySubscriptions: readonly string[];
  readonly autoApprovalSubscriptions: readonly string[];
  provisioningState: string;
  readonly connections: Map<string, ConnectionRecord>;
}

/** What owns provider-side connections: an APIM service or another Private Link resource. */
export type ConnectionOwner = ApimServiceRecord | PrivateLinkResourceRecord;

/** A managed identity as ARM returns it: principal ids filled in. */
export interface ManagedIdentityRecord {
  readonly type: "SystemAssigned" | "UserAssigned" | "SystemAssigned, UserAssigned" | "None";
  readonly principalId: string | undefined;
  readonly tenantId: string | undefined;
  readonly userAssignedIdentities: Readonly<Record<string, { readonly principalId: string; readonly clientId: string }>>;
}

export interface HostnameConfigurationRecord {
  readonly type: string;
  readonly hostName: string;
  readonly keyVaultId: string | undefined;
  readonly identityClientId: string | undefined;
  readonly negotiateClientCertificate: boolean;
  readonly defaultSslBinding: boolean;
  readonly certificateSource: string;
  readonly certificateStatus: string | undefined;
  readonly certificate: { readonly expiry: string; readonly thumbprint: string; readonly subject: string } | undefined;
}

/** Allowed provider-side status changes; see checkConnectionTransition. */
const ALLOWED_TRANSITIONS: Readonly<Record<LinkStatus, readonly LinkStatus[]>> = {
  Pending: ["Approved", "Rejected"],
  Approved: ["Approved", "Rejected"],
  Rejected: ["Rejected"],
  Disconnected: [],
};

export interface SubnetRecord {
  readonly id: string;
  readonly name: string;
  readonly addressPrefix: string;
  readonly prefix: Ipv4Prefix;
  readonly allocated: Set<string>;
}

export interface VirtualNetworkRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  readonly addressPrefixes: readonly string[];
  readonly subnets: Map<string, SubnetRecord>;
  readonly tags: Record<string, string>;
}

/** One entry of a private endpoint's (manual)PrivateLinkServiceConnections, i.e. the consumer's view. */
export interface EndpointLinkRecord {
  readonly id: string;
  readonly name: string;
  readonly privateLinkServiceId: string;
  readonly groupIds: readonly string[];
  readonly requestMessage: string;
  readonly manual: boolean;
  status: LinkStatus;
  description: string;
  actionsRequired: string;
  /** The provider-side connection this link created (undefined when the target is not emulated). */
  readonly providerConnectionId: string | undefined;
}

export interface DnsZoneGroupRecord {
  readonly id: string;
  readonly name: string;
  readonly privateDnsZoneIds: readonly string[];
  provisioningState: string;
}

export interface PrivateEndpointRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  readonly subnetId: string;
  readonly networkInterfaceId: string;
  readonly privateIpAddress: string;
  readonly fqdn: string | undefined;
  readonly links: readonly EndpointLinkRecord[];
  tags: Record<string, string>;
  readonly customNetworkInterfaceName: string | undefined;
  /** The static IP configuration the endpoint was created with (empty: dynamic allocation). */
  readonly ipConfigurations: readonly PrivateEndpointIpConfiguration[];
  provisioningState: string;
  etag: string;
  readonly dnsZoneGroups: Map<string, DnsZoneGroupRecord>;
}

export interface PrivateEndpointIpConfiguration {
  readonly name: string;
  readonly groupId: string;
  readonly memberName: string;
  readonly privateIPAddress: string;
}

export interface NetworkInterfaceRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly location: string;
  readonly privateIpAddress: string;
  readonly subnetId: string;
  readonly privateEndpointId: string;
  readonly fqdn: string | undefined;
  readonly etag: string;
  /** Static when the endpoint named its address (ipConfigurations), else Dynamic. */
  readonly privateIPAllocationMethod: "Static" | "Dynamic";
  /** The endpoint's static IP configuration name, which the NIC's ip configuration takes (else a generated one). */
  readonly ipConfigurationName: string | undefined;
  /** privateLinkConnectionProperties.groupId / requiredMemberName: the target's group ("" for a Private Link Service). */
  readonly groupId: string;
}

export interface ARecordSetRecord {
  /** Stored lower-case, as Azure Private DNS returns record set names. */
  readonly name: string;
  ttl: number;
  ipv4Addresses: string[];
  metadata: Record<string, string>;
  etag: string;
}

export interface VirtualNetworkLinkRecord {
  readonly id: string;
  readonly name: string;
  readonly virtualNetworkId: string;
  readonly registrationEnabled: boolean;
  readonly etag: string;
  readonly virtualNetworkLinkState: "InProgress" | "Completed";
  readonly tags: Record<string, string>;
}

export interface PrivateDnsZoneRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly etag: string;
  readonly tags: Record<string, string>;
  readonly records: Map<string, ARecordSetRecord>;
  readonly links: Map<string, VirtualNetworkLinkRecord>;
}

/** Input of a private endpoint PUT after the route has validated the body's shape. */
export interface PrivateEndpointSpec {
  readonly location: string;
  readonly subnetId: string;
  readonly manual: boolean;
  readonly connections: readonly { name: string; privateLinkServiceId: string; groupIds: readonly string[]; requestMessage: string }[];
  tags: Record<string, string>;
  readonly customNetworkInterfaceName: string | undefined;
  readonly ipConfigurations: readonly PrivateEndpointIpConfiguration[];
}

/** What `putARecord` needs to know about conditional headers. */
export interface RecordPreconditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
}

const FIRST_PARTY_NOT_FOUND = "PrivateLinkServiceNotFound";

/** The whole emulated estate; rebuilt from a topology on reset. */
export class ArmState {
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly apimServices = new Map<string, ApimServiceRecord>();
  /** Every other registered Private Link type's resources, by idKey. */
  readonly privateLinkResources = new Map<string, PrivateLinkResourceRecord>();
  readonly virtualNetworks = new Map<string, VirtualNetworkRecord>();
  readonly privateEndpoints = new Map<string, PrivateEndpointRecord>();
  readonly networkInterfaces = new Map<string, NetworkInterfaceRecord>();
  readonly privateDnsZones = new Map<string, PrivateDnsZoneRecord>();

  /** Builds the estate a topology describes; endpoints are created last so their targets and subnets exist. */
  static fromTopology(topology: Topology): ArmState {
    const state = new ArmState();
    for (const sub of topology.subscriptions) {
      const groups = new Map<string, { name: string; location: string }>();
      for (const rg of sub.resourceGroups) groups.set(rg.name.toLowerCase(), { name: rg.name, location: rg.location });
      state.subscriptions.set(sub.id.toLowerCase(), {
        id: sub.id,
        tenantId: sub.tenantId,
        displayName: sub.displayName,
        microsoftManaged: sub.microsoftManaged,
        resourceGroups: groups,
      });
    }
    for (const sub of topology.subscriptions) {
      for (const rg of sub.resourceGroups) {
        for (const svc of rg.apimServices) state.seedApimService(sub.id, rg.name, svc);
        for (const resource of rg.privateLinkResources) state.seedPrivateLinkResource(sub.id, rg.name, resource);
        for (const vnet of rg.virtualNetworks) state.seedVirtualNetwork(sub.id, rg.name, vnet);
        for (const zone of rg.privateDnsZones) state.seedPrivateDnsZone(sub.id, rg.name, zone);
      }
    }
    for (const sub of topology.subscriptions) {
      for (const rg of sub.resourceGroups) {
        for (const pe of rg.privateEndpoints) state.seedPrivateEndpoint(sub.id, rg.name, pe);
      }
    }
    return state;
  }

  // ---- subscriptions and resource groups ----

  /** The subscription, or 404 SubscriptionNotFound as ARM answers. */
  requireSubscription(subscriptionId: string): SubscriptionRecord {
    const sub = this.subscriptions.get(subscriptionId.toLowerCase());
    if (!sub) throw new ArmError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);
    return sub;
  }

  /** The canonical resource group name, or 404 ResourceGroupNotFound. */
  requireResourceGroup(subscriptionId: string, resourceGroup: string): { subscription: SubscriptionRecord; name: string; location: string } {
    const subscription = this.requireSubscription(subscriptionId);
    const rg = subscription.resourceGroups.get(resourceGroup.toLowerCase());
    if (!rg) throw new ArmError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
    return { subscription, name: rg.name, location: rg.location };
  }

  /** Tenant of a subscription (events carry it); undefined for subscriptions outside the topology. */
  tenantOf(subscriptionId: string): string | undefined {
    return this.subscriptions.get(subscriptionId.toLowerCase())?.tenantId;
  }

  // ---- API Management ----

  requireApimService(subscriptionId: string, resourceGroup: string, name: string): ApimServiceRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const svc = this.apimServices.get(idKey(apimServiceId(rg.subscription.id, rg.name, name)));
    if (!svc) throw resourceNotFound("Microsoft.ApiManagement/service", name, rg.name);
    return svc;
  }

  listApimServices(subscriptionId: string, resourceGroup?: string): ApimServiceRecord[] {
    const sub = this.requireSubscription(subscriptionId);
    const rgName = resourceGroup === undefined ? undefined : this.requireResourceGroup(subscriptionId, resourceGroup).name;
    return [...this.apimServices.values()].filter(
      (svc) => svc.subscriptionId === sub.id && (rgName === undefined || svc.resourceGroup.toLowerCase() === rgName.toLowerCase()),
    );
  }

  requireConnection(svc: ApimServiceRecord, connectionName: string): ConnectionRecord {
    const conn = svc.connections.get(connectionName.toLowerCase());
    if (!conn) {
      throw new ArmError(404, "ResourceNotFound", `Private endpoint connection '${connectionName}' was not found on API Management service '${svc.name}'.`);
    }
    return conn;
  }

  // ---- other Private Link resources ----

  /** The resource of a registered type, or ARM's 404 ResourceNotFound. */
  requirePrivateLinkResource(profile: PrivateLinkTypeProfile, subscriptionId: string, resourceGroup: string, name: string): PrivateLinkResourceRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const resource = this.privateLinkResources.get(idKey(privateLinkResourceId(profile, rg.subscription.id, rg.name, name)));
    if (!resource) throw resourceNotFound(profile.provider.resourceType, name, rg.name);
    return resource;
  }

  /** The subscription's (or resource group's) resources of one type. */
  listPrivateLinkResources(profile: PrivateLinkTypeProfile, subscriptionId: string, resourceGroup?: string): PrivateLinkResourceRecord[] {
    const sub = this.requireSubscription(subscriptionId);
    const rgName = resourceGroup === undefined ? undefined : this.requireResourceGroup(subscriptionId, resourceGroup).name;
    return [...this.privateLinkResources.values()].filter(
      (r) => r.profile === profile && r.subscriptionId === sub.id && (rgName === undefined || r.resourceGroup.toLowerCase() === rgName.toLowerCase()),
    );
  }

  /** A connection of any owner by name, or 404 as the type's provider answers. */
  requireOwnedConnection(owner: ConnectionOwner, connectionName: string): ConnectionRecord {
    const conn = owner.connections.get(connectionName.toLowerCase());
    if (!conn) throw new ArmError(404, "PrivateEndpointConnectionNotFound", `Private endpoint connection '${connectionName}' was not found on '${owner.name}'.`);
    return conn;
  }

  /** Whether a subscription is Microsoft-owned (every request into it is refused, see SubscriptionRecord). */
  isMicrosoftManaged(subscriptionId: string): boolean {
    return this.subscriptions.get(subscriptionId.toLowerCase())?.microsoftManaged ?? false;
  }

  /** Sets the provider-side status and mirrors it into the consumer endpoint's link, as Azure does. */
  setConnectionStatus(conn: ConnectionRecord, status: LinkStatus, description: string, actionsRequired: string): void {
    conn.status = status;
    conn.description = description;
    conn.actionsRequired = actionsRequired;
    conn.provisioningState = "Succeeded";
    const link = this.findLinkForConnection(conn);
    if (link) {
      link.status = status;
      link.description = description;
      link.actionsRequired = actionsRequired;
    }
  }

  /** Removes a provider-side connection; the endpoint stays and shows Disconnected (documented Private Link behaviour). */
  deleteConnection(svc: ConnectionOwner, conn: ConnectionRecord): void {
    svc.connections.delete(conn.name.toLowerCase());
    const link = this.findLinkForConnection(conn);
    if (link) {
      link.status = "Disconnected";
      link.description = "Connection was removed by the private link service owner.";
    }
  }

  /**
   * Refuses `Disabled` unless an approved connection exists: APIM answers 400 NotSupported (azure-rest-api-specs
   * issue 24947; DOMAIN.md corrections).
   */
  checkPublicNetworkAccessChange(svc: ApimServiceRecord, value: "Enabled" | "Disabled"): void {
    if (value !== "Disabled") return;
    const hasApproved = [...svc.connections.values()].some((c) => c.status === "Approved");
    if (!hasApproved) {
      throw invalidRequest(
        "NotSupported",
        `Disabling all publicNetworkAccess on API Management service '${svc.name}' is not supported if the service does not have ` +
          "at least one approved Private Endpoint Connection.",
        "publicNetworkAccess",
      );
    }
  }

  /**
   * The provider-side status changes allowed: Pending -> Approved | Rejected, Approved -> Rejected (revoke), and
   * re-sending the current status. A Rejected connection is not approved again: the consumer re-creates its endpoint
   * (manage-private-endpoint: a rejected or removed connection's endpoint "should be deleted for clean-up"; APIM
   * publishes no re-approval, so the emulator refuses it rather than allow what Azure may not). Disconnected
   * connections are gone from the provider side and cannot be written at all.
   */
  checkConnectionTransition(conn: ConnectionRecord, next: LinkStatus): void {
    if (ALLOWED_TRANSITIONS[conn.status].includes(next)) return;
    throw invalidRequest(
      "PrivateEndpointConnectionStatusTransitionNotAllowed",
      `Private endpoint connection '${conn.name}' is ${conn.status} and cannot be set to ${next}. A rejected connection's private endpoint must be re-created to ask again.`,
      "properties.privateLinkServiceConnectionState.status",
    );
  }

  /** A managed identity with its principal ids, as ARM returns it after a write (ids kept from `previous` when the same). */
  resolveIdentity(subscriptionId: string, identity: TopologyIdentity, previous?: ManagedIdentityRecord): ManagedIdentityRecord | undefined {
    if (identity.type === "None") return undefined;
    const system = identity.type.includes("SystemAssigned");
    const user = identity.type.includes("UserAssigned");
    const assigned: Record<string, { principalId: string; clientId: string }> = {};
    for (const [id, value] of Object.entries(user ? (identity.userAssignedIdentities ?? {}) : {})) {
      const kept = previous?.userAssignedIdentities[id];
      assigned[id] = { principalId: value.principalId ?? kept?.principalId ?? randomUUID(), clientId: value.clientId ?? kept?.clientId ?? randomUUID() };
    }
    return {
      type: identity.type,
      principalId: system ? (identity.principalId ?? previous?.principalId ?? randomUUID()) : undefined,
      tenantId: system ? (identity.tenantId ?? this.tenantOf(subscriptionId)) : undefined,
      userAssignedIdentities: assigned,
    };
  }

  // ---- Network ----

  requirePrivateEndpoint(subscriptionId: string, resourceGroup: string, name: string): PrivateEndpointRecord {
    const pe = this.findPrivateEndpoint(subscriptionId, resourceGroup, name);
    if (!pe) throw resourceNotFound("Microsoft.Network/privateEndpoints", name, this.requireResourceGroup(subscriptionId, resourceGroup).name);
    return pe;
  }

  /** The endpoint, or undefined when it does not exist (its resource group must). */
  findPrivateEndpoint(subscriptionId: string, resourceGroup: string, name: string): PrivateEndpointRecord | undefined {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    return this.privateEndpoints.get(idKey(privateEndpointId(rg.subscription.id, rg.name, name)));
  }

  listPrivateEndpoints(subscriptionId: string, resourceGroup?: string): PrivateEndpointRecord[] {
    const sub = this.requireSubscription(subscriptionId);
    const rgName = resourceGroup === undefined ? undefined : this.requireResourceGroup(subscriptionId, resourceGroup).name;
    return [...this.privateEndpoints.values()].filter(
      (pe) => pe.subscriptionId === sub.id && (rgName === undefined || pe.resourceGroup.toLowerCase() === rgName.toLowerCase()),
    );
  }

  requireNetworkInterface(subscriptionId: string, resourceGroup: string, name: string): NetworkInterfaceRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const nic = this.networkInterfaces.get(idKey(networkInterfaceId(rg.subscription.id, rg.name, name)));
    if (!nic) throw resourceNotFound("Microsoft.Network/networkInterfaces", name, rg.name);
    return nic;
  }

  requireVirtualNetwork(subscriptionId: string, resourceGroup: string, name: string): VirtualNetworkRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const vnet = this.virtualNetworks.get(idKey(virtualNetworkId(rg.subscription.id, rg.name, name)));
    if (!vnet) throw resourceNotFound("Microsoft.Network/virtualNetworks", name, rg.name);
    return vnet;
  }

  requireSubnet(subnetId: string): SubnetRecord {
    const parts = splitResourceId(subnetId);
    const vnetPair = parts?.pairs[0];
    const subnetPair = parts?.pairs[1];
    const notFound = new ArmError(
      400,
      "InvalidResourceReference",
      `Resource ${subnetId} referenced by the private endpoint was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
    );
    if (!parts || !vnetPair || !subnetPair || parts.pairs.length !== 2 || vnetPair[0].toLowerCase() !== "virtualnetworks" || subnetPair[0].toLowerCase() !== "subnets") {
      throw new ArmError(400, "LinkedInvalidPropertyId", `Property id '${subnetId}' at path 'properties.subnet.id' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`);
    }
    const vnet = this.virtualNetworks.get(idKey(virtualNetworkId(parts.subscriptionId, parts.resourceGroup, vnetPair[1])));
    const subnet = vnet?.subnets.get(subnetPair[1].toLowerCase());
    if (!subnet) throw notFound;
    return subnet;
  }

  /**
   * Validates and creates a private endpoint with its NIC, IP and the provider-side connection (Pending for manual
   * requests, Approved at once for automatic ones). Refusals mirror what APIM answers through the Network RP.
   */
  putPrivateEndpoint(subscriptionId: string, resourceGroup: string, name: string, spec: PrivateEndpointSpec): { pe: PrivateEndpointRecord; created: boolean } {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const existing = this.privateEndpoints.get(idKey(privateEndpointId(rg.subscription.id, rg.name, name)));
    if (!existing) return { pe: this.createPrivateEndpoint(rg.subscription.id, rg.name, name, spec), created: true };
    this.checkSameConnections(existing, spec);
    existing.tags = { ...spec.tags };
    existing.etag = newWeakEtag();
    existing.provisioningState = "Updating";
    return { pe: existing, created: false };
  }

  /** An update may change tags only; Azure refuses to change an endpoint's subnet, static IP or connection targets. */
  private checkSameConnections(pe: PrivateEndpointRecord, spec: PrivateEndpointSpec): void {
    const link = pe.links[0];
    const request = spec.connections[0];
    const same =
      link !== undefined &&
      request !== undefined &&
      spec.connections.length === 1 &&
      link.manual === spec.manual &&
      idKey(link.privateLinkServiceId) === idKey(request.privateLinkServiceId) &&
      idKey(pe.subnetId) === idKey(spec.subnetId) &&
      sameIpConfigurations(pe.ipConfigurations, spec.ipConfigurations);
    if (!same) {
      throw invalidRequest(
        "CannotChangePrivateEndpointConnections",
        `Private endpoint ${pe.id} already exists; its subnet and private link service connections cannot be changed. Delete it and create a new one.`,
      );
    }
  }

  private createPrivateEndpoint(subscriptionId: string, resourceGroup: string, name: string, spec: PrivateEndpointSpec): PrivateEndpointRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const id = privateEndpointId(rg.subscription.id, rg.name, name);
    const subnet = this.requireSubnet(spec.subnetId);
    if (spec.connections.length !== 1) {
      throw invalidRequest(
        "InvalidPrivateEndpointConnectionCount",
        `Private endpoint ${id} must have exactly one private link service connection in either privateLinkServiceConnections or manualPrivateLinkServiceConnections.`,
      );
    }
    const request = spec.connections[0]!;
    const svc = this.targetForLink(request.privateLinkServiceId, id);
    if ("profile" in svc) this.checkResourceAcceptsEndpoint(svc, request.groupIds, rg.subscription.id, id);
    else this.checkServiceAcceptsEndpoint(svc, request.groupIds);
    const ip = this.allocateAddress(subnet, spec.ipConfigurations, id);
    subnet.allocated.add(ip);

    const nicName = spec.customNetworkInterfaceName ?? `${name}.nic.${randomUUID()}`;
    const nicId = networkInterfaceId(rg.subscription.id, rg.name, nicName);
    const groupId = "profile" in svc ? (svc.profile.provider.groups.find((g) => g.groupId.toLowerCase() === request.groupIds[0]?.toLowerCase())?.groupId ?? "") : APIM_GROUP_ID;
    const fqdn = "profile" in svc ? fqdnOf(svc.profile.provider, svc.name, groupId) : `${svc.name.toLowerCase()}.azure-api.net`;
    const connName = `${name}.${randomUUID()}`;
    // A Private Link Service approves connections from its autoApproval subscriptions itself (privateLinkService.json).
    const autoApproved = "profile" in svc && svc.autoApprovalSubscriptions.some((s) => s === "*" || s.toLowerCase() === rg.subscription.id.toLowerCase());
    const pending = spec.manual && !autoApproved;
    const conn: ConnectionRecord = {
      id: `${svc.id}/privateEndpointConnections/${connName}`,
      name: connName,
      serviceId: svc.id,
      privateEndpointId: id,
      status: pending ? "Pending" : "Approved",
      description: pending ? request.requestMessage : "Auto-Approved",
      actionsRequired: "None",
      provisioningState: "Succeeded",
      groupIds: groupId === "" ? [] : [groupId],
    };
    svc.connections.set(connName.toLowerCase(), conn);
    const linkCollection = spec.manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections";
    const link: EndpointLinkRecord = {
      id: `${id}/${linkCollection}/${request.name}`,
      name: request.name,
      privateLinkServiceId: svc.id,
      groupIds: [...request.groupIds],
      requestMessage: request.requestMessage,
      manual: spec.manual,
      status: conn.status,
      description: pending ? "Awaiting approval" : "Auto-Approved",
      actionsRequired: "None",
      providerConnectionId: conn.id,
    };
    const pe: PrivateEndpointRecord = {
      id,
      subscriptionId: rg.subscription.id,
      resourceGroup: rg.name,
      name,
      location: spec.location,
      subnetId: subnet.id,
      networkInterfaceId: nicId,
      privateIpAddress: ip,
      fqdn,
      links: [link],
      tags: spec.tags,
      customNetworkInterfaceName: spec.customNetworkInterfaceName,
      ipConfigurations: [...spec.ipConfigurations],
      provisioningState: "Updating",
      etag: newWeakEtag(),
      dnsZoneGroups: new Map(),
    };
    this.privateEndpoints.set(idKey(id), pe);
    this.networkInterfaces.set(idKey(nicId), {
      id: nicId,
      subscriptionId: rg.subscription.id,
      resourceGroup: rg.name,
      name: nicName,
      location: spec.location,
      privateIpAddress: ip,
      subnetId: subnet.id,
      privateEndpointId: id,
      fqdn,
      etag: newWeakEtag(),
      privateIPAllocationMethod: spec.ipConfigurations.length > 0 ? "Static" : "Dynamic",
      ipConfigurationName: spec.ipConfigurations[0]?.name,
      groupId,
    });
    return pe;
  }

  /** Deletes an endpoint with its NIC, IP, provider-side connection and the A records its zone groups wrote. */
  deletePrivateEndpoint(pe: PrivateEndpointRecord): void {
    for (const link of pe.links) {
      if (!link.providerConnectionId) continue;
      const svc = this.ownerOfConnectionId(link.providerConnectionId);
      const conn = svc && [...svc.connections.values()].find((c) => idKey(c.id) === idKey(link.providerConnectionId!));
      if (svc && conn) svc.connections.delete(conn.name.toLowerCase());
    }
    for (const group of pe.dnsZoneGroups.values()) this.removeZoneGroupRecords(pe, group);
    this.releaseAddress(pe.subnetId, pe.privateIpAddress);
    this.networkInterfaces.delete(idKey(pe.networkInterfaceId));
    this.privateEndpoints.delete(idKey(pe.id));
  }

  /** Creates or replaces a zone group and writes the endpoint's A record `<service>` in every referenced zone. */
  putDnsZoneGroup(pe: PrivateEndpointRecord, name: string, zoneIds: readonly string[]): { group: DnsZoneGroupRecord; created: boolean } {
    const zones = zoneIds.map((zoneId) => {
      const zone = this.privateDnsZones.get(idKey(zoneId));
      if (!zone) {
        throw new ArmError(
          400,
          "InvalidResourceReference",
          `Resource ${zoneId} referenced by resource ${pe.id}/privateDnsZoneGroups/${name} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
        );
      }
      return zone;
    });
    const existing = pe.dnsZoneGroups.get(name.toLowerCase());
    if (existing) this.removeZoneGroupRecords(pe, existing);
    const recordName = this.recordNameFor(pe);
    for (const zone of zones) {
      const record = zone.records.get(recordName);
      if (record) {
        record.ipv4Addresses = [pe.privateIpAddress];
        record.etag = randomUUID();
      } else {
        zone.records.set(recordName, { name: recordName, ttl: 10, ipv4Addresses: [pe.privateIpAddress], metadata: {}, etag: randomUUID() });
      }
    }
    const group: DnsZoneGroupRecord = {
      id: `${pe.id}/privateDnsZoneGroups/${existing?.name ?? name}`,
      name: existing?.name ?? name,
      privateDnsZoneIds: zones.map((z) => z.id),
      provisioningState: "Updating",
    };
    pe.dnsZoneGroups.set(name.toLowerCase(), group);
    return { group, created: existing === undefined };
  }

  /** Relative A record name a zone group writes for this endpoint: the target's host label (service, account, ...). */
  recordNameFor(pe: PrivateEndpointRecord): string {
    const svcName = pe.fqdn?.split(".")[0] ?? pe.name;
    return svcName.toLowerCase();
  }

  // ---- Private DNS ----

  requirePrivateDnsZone(subscriptionId: string, resourceGroup: string, name: string): PrivateDnsZoneRecord {
    const rg = this.requireResourceGroup(subscriptionId, resourceGroup);
    const zone = this.privateDnsZones.get(idKey(privateDnsZoneId(rg.subscription.id, rg.name, name)));
    if (!zone) throw resourceNotFound("Microsoft.Network/privateDnsZones", name, rg.name);
    return zone;
  }

  listPrivateDnsZones(subscriptionId: string, resourceGroup?: string): PrivateDnsZoneRecord[] {
    const sub = this.requireSubscription(subscriptionId);
    const rgName = resourceGroup === undefined ? undefined : this.requireResourceGroup(subscriptionId, resourceGroup).name;
    return [...this.privateDnsZones.values()].filter(
      (z) => z.subscriptionId === sub.id && (rgName === undefined || z.resourceGroup.toLowerCase() === rgName.toLowerCase()),
    );
  }

  requireARecord(zone: PrivateDnsZoneRecord, recordName: string): ARecordSetRecord {
    const record = zone.records.get(recordName.toLowerCase());
    if (!record) {
      throw new ArmError(404, "NotFound", `The resource record '${recordName}' does not exist in resource group '${zone.resourceGroup}' of subscription '${zone.subscriptionId}'.`);
    }
    return record;
  }

  /** Creates or replaces an A record set, honouring If-Match / If-None-Match like Azure Private DNS. */
  putARecord(
    zone: PrivateDnsZoneRecord,
    recordName: string,
    value: { ttl: number; ipv4Addresses: string[]; metadata: Record<string, string> },
    conditions: RecordPreconditions,
  ): { record: ARecordSetRecord; created: boolean } {
    const key = recordName.toLowerCase();
    const existing = zone.records.get(key);
    checkPreconditions(existing, recordName, conditions);
    if (existing) {
      existing.ttl = value.ttl;
      existing.ipv4Addresses = value.ipv4Addresses;
      existing.metadata = value.metadata;
      existing.etag = randomUUID();
      return { record: existing, created: false };
    }
    const record: ARecordSetRecord = { name: key, ...value, etag: randomUUID() };
    zone.records.set(key, record);
    return { record, created: true };
  }

  /** Deletes an A record set; true when one existed. If-Match must match the current etag. */
  deleteARecord(zone: PrivateDnsZoneRecord, recordName: string, ifMatch: string | undefined): boolean {
    const existing = zone.records.get(recordName.toLowerCase());
    if (ifMatch !== undefined && ifMatch !== "*" && (!existing || !etagMatches(ifMatch, existing.etag))) {
      throw preconditionFailed(recordName);
    }
    if (!existing) return false;
    zone.records.delete(recordName.toLowerCase());
    return true;
  }

  requireVirtualNetworkLink(zone: PrivateDnsZoneRecord, linkName: string): VirtualNetworkLinkRecord {
    const link = zone.links.get(linkName.toLowerCase());
    if (!link) throw resourceNotFound("Microsoft.Network/privateDnsZones/virtualNetworkLinks", `${zone.name}/${linkName}`, zone.resourceGroup);
    return link;
  }

  /** A JSON dump of the whole estate, for debugging and the control API. */
  snapshot(): unknown {
    const mapValues = <T, R>(m: Map<string, T>, f: (v: T) => R): R[] => [...m.values()].map(f);
    return {
      subscriptions: mapValues(this.subscriptions, (s) => ({ id: s.id, tenantId: s.tenantId, resourceGroups: [...s.resourceGroups.values()] })),
      apimServices: mapValues(this.apimServices, (s) => ({ ...s, connections: [...s.connections.values()] })),
      privateLinkResources: mapValues(this.privateLinkResources, ({ profile, ...r }) => ({
        ...r,
        type: profile.provider.resourceType,
        connections: [...r.connections.values()],
      })),
      virtualNetworks: mapValues(this.virtualNetworks, (v) => ({
        ...v,
        subnets: mapValues(v.subnets, (s) => ({ id: s.id, name: s.name, addressPrefix: s.addressPrefix, allocated: [...s.allocated] })),
      })),
      privateEndpoints: mapValues(this.privateEndpoints, (p) => ({ ...p, dnsZoneGroups: [...p.dnsZoneGroups.values()] })),
      networkInterfaces: [...this.networkInterfaces.values()],
      privateDnsZones: mapValues(this.privateDnsZones, (z) => ({ ...z, records: [...z.records.values()], links: [...z.links.values()] })),
    };
  }

  // ---- internals ----

  /**
   * The endpoint's address: the static one its ipConfigurations name (it must lie in the subnet, outside Azure's
   * reserved addresses, and be free), else the subnet's next free one.
   */
  private allocateAddress(subnet: SubnetRecord, ipConfigurations: readonly PrivateEndpointIpConfiguration[], endpointId: string): string {
    const requested = ipConfigurations[0];
    if (requested === undefined) {
      const ip = nextFreeAddress(subnet.prefix, subnet.allocated);
      if (!ip) throw new ArmError(400, "SubnetIsFull", `Subnet ${subnet.id} with address prefix ${subnet.addressPrefix} does not have enough capacity for 1 IP addresses.`);
      return ip;
    }
    const value = ipv4ToInt(requested.privateIPAddress);
    const offset = value - subnet.prefix.network;
    if (offset < 0 || offset >= subnet.prefix.size) {
      throw invalidRequest(
        "PrivateIPAddressNotInSubnet",
        `Private static IP address ${requested.privateIPAddress} of ${endpointId} does not belong to the range of subnet prefix ${subnet.addressPrefix}.`,
        "properties.ipConfigurations[0].properties.privateIPAddress",
      );
    }
    if (offset < 4 || offset === subnet.prefix.size - 1) {
      throw invalidRequest(
        "PrivateIPAddressIsReserved",
        `Private static IP address ${requested.privateIPAddress} of ${endpointId} is reserved by Azure in subnet ${subnet.addressPrefix}.`,
        "properties.ipConfigurations[0].properties.privateIPAddress",
      );
    }
    if (subnet.allocated.has(requested.privateIPAddress)) {
      throw invalidRequest(
        "PrivateIPAddressInUse",
        `IP configuration ${endpointId}/ipConfigurations/${requested.name} is using the private IP address ${requested.privateIPAddress} which is already allocated to another resource.`,
        "properties.ipConfigurations[0].properties.privateIPAddress",
      );
    }
    return requested.privateIPAddress;
  }

  /** The APIM service or other Private Link resource a link names; 400 PrivateLinkServiceNotFound otherwise. */
  private targetForLink(privateLinkServiceId: string, endpointId: string): ConnectionOwner {
    const parts = splitResourceId(privateLinkServiceId);
    const isApim = parts?.provider.toLowerCase() === "microsoft.apimanagement" && parts.pairs.length === 1 && parts.pairs[0]![0].toLowerCase() === "service";
    const svc = isApim ? this.apimServices.get(idKey(privateLinkServiceId)) : parts?.pairs.length === 1 ? this.privateLinkResources.get(idKey(privateLinkServiceId)) : undefined;
    if (!svc) {
      throw new ArmError(
        400,
        FIRST_PARTY_NOT_FOUND,
        `Private link service ${privateLinkServiceId} referenced by private endpoint ${endpointId} was not found or is not a supported private link resource.`,
      );
    }
    return svc;
  }

  /** The article's limits: Gateway only, stv2 (not stv1), no VNet injection, at most 100 connections. */
  private checkServiceAcceptsEndpoint(svc: ApimServiceRecord, groupIds: readonly string[]): void {
    const callFailed = (code: string, message: string) =>
      new ArmError(400, code, `Call to Microsoft.ApiManagement/service failed. Error message: ${message}`);
    if (groupIds.length !== 1 || groupIds[0]!.toLowerCase() !== APIM_GROUP_ID.toLowerCase()) {
      throw callFailed("InvalidGroupId", `Group id(s) '${groupIds.join(",")}' are not supported by API Management service '${svc.name}'. Supported group ids: '${APIM_GROUP_ID}'.`);
    }
    if (svc.platformVersion.toLowerCase() === "stv1") {
      throw callFailed("PlatformVersionNotSupported", `API Management service '${svc.name}' is hosted on the stv1 platform; private endpoints require the stv2 platform.`);
    }
    if (svc.virtualNetworkType !== "None") {
      throw callFailed(
        "VirtualNetworkInjectionNotSupported",
        `API Management service '${svc.name}' is deployed in a virtual network (virtualNetworkType '${svc.virtualNetworkType}'); private endpoints are supported only when virtualNetworkType is 'None'.`,
      );
    }
    if (svc.connections.size >= MAX_CONNECTIONS_PER_SERVICE) {
      throw callFailed("PrivateEndpointConnectionLimitReached", `API Management service '${svc.name}' already has the maximum of ${MAX_CONNECTIONS_PER_SERVICE} private endpoint connections.`);
    }
  }

  /**
   * What Azure checks when an endpoint asks a resource of another registered type: the group id is one of the type's
   * sub-resources (Microsoft Learn, private endpoint DNS zone values; a Private Link Service takes none), the consumer
   * may see a Private Link Service (its visibility list), the tier allows private endpoints (Service Bus and Container
   * Registry: Premium only), and the documented connection limit.
   */
  private checkResourceAcceptsEndpoint(resource: PrivateLinkResourceRecord, groupIds: readonly string[], consumerSubscriptionId: string, endpointId: string): void {
    const provider = resource.profile.provider;
    const callFailed = (code: string, message: string) => new ArmError(400, code, `Call to ${provider.resourceType} failed. Error message: ${message}`);
    if (provider.groups.length === 0) {
      const visible = resource.visibilitySubscriptions.some((s) => s === "*" || s.toLowerCase() === consumerSubscriptionId.toLowerCase());
      const approved = resource.autoApprovalSubscriptions.some((s) => s === "*" || s.toLowerCase() === consumerSubscriptionId.toLowerCase());
      if (!visible && !approved && resource.subscriptionId.toLowerCase() !== consumerSubscriptionId.toLowerCase()) {
        throw new ArmError(
          400,
          FIRST_PARTY_NOT_FOUND,
          `Private link service ${resource.id} referenced by private endpoint ${endpointId} was not found or is not visible to subscription ${consumerSubscriptionId}.`,
        );
      }
    } else if (groupIds.length !== 1 || !provider.groups.some((g) => g.groupId.toLowerCase() === groupIds[0]!.toLowerCase())) {
      throw callFailed(
        "InvalidGroupId",
        `Group id(s) '${groupIds.join(",")}' are not supported by '${resource.name}'. Supported group ids: '${provider.groups.map((g) => g.groupId).join("', '")}'.`,
      );
    }
    if (provider.prerequisites.includes("premium-sku") && (resource.sku ?? "").toLowerCase() !== "premium") {
      throw callFailed("PrivateEndpointNotSupportedForSku", `'${resource.name}' has the ${resource.sku ?? "default"} tier; private endpoints require the Premium tier.`);
    }
    if (provider.maxConnections !== undefined && resource.connections.size >= provider.maxConnections) {
      throw callFailed("PrivateEndpointConnectionLimitReached", `'${resource.name}' already has the maximum of ${provider.maxConnections} private endpoint connections.`);
    }
  }

  private findLinkForConnection(conn: ConnectionRecord): EndpointLinkRecord | undefined {
    const pe = this.privateEndpoints.get(idKey(conn.privateEndpointId));
    return pe?.links.find((l) => l.providerConnectionId !== undefined && idKey(l.providerConnectionId) === idKey(conn.id));
  }

  private ownerOfConnectionId(connectionId: string): ConnectionOwner | undefined {
    const ownerId = idKey(connectionId.replace(/\/privateEndpointConnections\/[^/]+$/i, ""));
    return this.apimServices.get(ownerId) ?? this.privateLinkResources.get(ownerId);
  }

  private releaseAddress(subnetId: string, ip: string): void {
    try {
      this.requireSubnet(subnetId).allocated.delete(ip);
    } catch {
      // The subnet is gone: nothing to release.
    }
  }

  /** Takes this endpoint's IP out of the records its zone group wrote; a record left empty is deleted. */
  private removeZoneGroupRecords(pe: PrivateEndpointRecord, group: DnsZoneGroupRecord): void {
    const recordName = this.recordNameFor(pe);
    for (const zoneId of group.privateDnsZoneIds) {
      const zone = this.privateDnsZones.get(idKey(zoneId));
      const record = zone?.records.get(recordName);
      if (!zone || !record) continue;
      record.ipv4Addresses = record.ipv4Addresses.filter((ip) => ip !== pe.privateIpAddress);
      record.etag = randomUUID();
      if (record.ipv4Addresses.length === 0) zone.records.delete(recordName);
    }
  }

  private seedApimService(sub: string, rg: string, seed: ApimServiceSeed): void {
    const id = apimServiceId(sub, rg, seed.name);
    const svc: ApimServiceRecord = {
      id,
      subscriptionId: sub,
      resourceGroup: rg,
      name: seed.name,
      location: seed.location,
      skuName: seed.sku.name,
      skuCapacity: seed.sku.capacity,
      platformVersion: seed.platformVersion,
      virtualNetworkType: seed.virtualNetworkType,
      virtualNetworkConfiguration: seed.virtualNetworkConfiguration,
      publicNetworkAccess: seed.publicNetworkAccess,
      publisherEmail: seed.publisherEmail,
      publisherName: seed.publisherName,
      notificationSenderEmail: seed.notificationSenderEmail,
      tags: { ...seed.tags },
      identity: seed.identity === undefined ? undefined : this.resolveIdentity(sub, seed.identity),
      zones: [...seed.zones],
      hostnameConfigurations: seed.hostnameConfigurations.map((h) => ({
        type: h.type,
        hostName: h.hostName,
        keyVaultId: h.keyVaultId,
        identityClientId: h.identityClientId,
        negotiateClientCertificate: h.negotiateClientCertificate,
        defaultSslBinding: h.defaultSslBinding,
        certificateSource: h.certificateSource,
        certificateStatus: h.certificateStatus,
        certificate: h.certificate,
      })),
      certificates: seed.certificates,
      additionalLocations: seed.additionalLocations,
      publicIpAddressId: seed.publicIpAddressId,
      createdAtUtc: "2024-01-15T09:30:00.0000000Z",
      etagCounter: 1,
      provisioningState: "Succeeded",
      connections: new Map(),
    };
    for (const c of seed.privateEndpointConnections) {
      svc.connections.set(c.name.toLowerCase(), {
        id: `${id}/privateEndpointConnections/${c.name}`,
        name: c.name,
        serviceId: id,
        privateEndpointId: c.privateEndpointId,
        status: c.status,
        description: c.description,
        actionsRequired: c.actionsRequired,
        provisioningState: "Succeeded",
        groupIds: c.groupIds,
      });
    }
    this.apimServices.set(idKey(id), svc);
  }

  private seedVirtualNetwork(sub: string, rg: string, seed: VirtualNetworkSeed): void {
    const id = virtualNetworkId(sub, rg, seed.name);
    const subnets = new Map<string, SubnetRecord>();
    for (const s of seed.subnets) {
      subnets.set(s.name.toLowerCase(), { id: `${id}/subnets/${s.name}`, name: s.name, addressPrefix: s.addressPrefix, prefix: parseIpv4Prefix(s.addressPrefix), allocated: new Set() });
    }
    this.virtualNetworks.set(idKey(id), { id, subscriptionId: sub, resourceGroup: rg, name: seed.name, location: seed.location, addressPrefixes: seed.addressPrefixes, subnets, tags: { ...seed.tags } });
  }

  private seedPrivateDnsZone(sub: string, rg: string, seed: PrivateDnsZoneSeed): void {
    const id = privateDnsZoneId(sub, rg, seed.name);
    const records = new Map<string, ARecordSetRecord>();
    for (const r of seed.aRecords) {
      const name = r.name.toLowerCase();
      records.set(name, { name, ttl: r.ttl, ipv4Addresses: [...r.ipv4Addresses], metadata: { ...r.metadata }, etag: randomUUID() });
    }
    const links = new Map<string, VirtualNetworkLinkRecord>();
    for (const l of seed.virtualNetworkLinks) {
      links.set(l.name.toLowerCase(), {
        id: `${id}/virtualNetworkLinks/${l.name}`,
        name: l.name,
        virtualNetworkId: l.virtualNetworkId,
        registrationEnabled: l.registrationEnabled,
        etag: randomUUID(),
        virtualNetworkLinkState: l.virtualNetworkLinkState,
        tags: { ...l.tags },
      });
    }
    this.privateDnsZones.set(idKey(id), { id, subscriptionId: sub, resourceGroup: rg, name: seed.name, etag: randomUUID(), tags: { ...seed.tags }, records, links });
  }

  private seedPrivateEndpoint(sub: string, rg: string, seed: ExistingPrivateEndpointSeed): void {
    const pe = this.createPrivateEndpoint(sub, rg, seed.name, {
      location: seed.location,
      subnetId: seed.subnetId,
      manual: seed.manual,
      connections: [{ name: seed.connectionName ?? seed.name, privateLinkServiceId: seed.privateLinkServiceId, groupIds: seed.groupIds, requestMessage: seed.requestMessage }],
      tags: { ...seed.tags },
      customNetworkInterfaceName: seed.customNetworkInterfaceName,
      ipConfigurations: seed.ipConfigurations,
    });
    pe.provisioningState = "Succeeded";
    const link = pe.links[0]!;
    if (seed.status && link.providerConnectionId) {
      const svc = this.ownerOfConnectionId(link.providerConnectionId)!;
      const conn = [...svc.connections.values()].find((c) => idKey(c.id) === idKey(link.providerConnectionId!))!;
      this.setConnectionStatus(conn, seed.status, seed.description ?? conn.description, "None");
    }
  }

  private seedPrivateLinkResource(sub: string, rg: string, seed: PrivateLinkResourceSeed): void {
    const profile = profileOf(seed.type)!;
    const id = privateLinkResourceId(profile, sub, rg, seed.name);
    const pna = profile.provider.publicNetworkAccess;
    const resource: PrivateLinkResourceRecord = {
      id,
      subscriptionId: sub,
      resourceGroup: rg,
      name: seed.name,
      location: seed.location,
      profile,
      sku: seed.sku ?? profile.defaultSku,
      kind: seed.kind,
      publicNetworkAccess: pna === undefined ? undefined : (seed.publicNetworkAccess ?? pna.values[0]),
      tags: { ...seed.tags },
      visibilitySubscriptions: [...seed.visibility],
      autoApprovalSubscriptions: [...seed.autoApproval],
      provisioningState: "Succeeded",
      connections: new Map(),
    };
    for (const c of seed.privateEndpointConnections) {
      resource.connections.set(c.name.toLowerCase(), {
        id: `${id}/privateEndpointConnections/${c.name}`,
        name: c.name,
        serviceId: id,
        privateEndpointId: c.privateEndpointId,
        status: c.status,
        description: c.description,
        actionsRequired: c.actionsRequired,
        provisioningState: "Succeeded",
        groupIds: c.groupIds,
      });
    }
    this.privateLinkResources.set(idKey(id), resource);
  }
}

function sameIpConfigurations(a: readonly PrivateEndpointIpConfiguration[], b: readonly PrivateEndpointIpConfiguration[]): boolean {
  return a.length === b.length && a.every((c, i) => c.privateIPAddress === b[i]!.privateIPAddress && c.name.toLowerCase() === b[i]!.name.toLowerCase());
}

/** The ID of a resource of a registered non-APIM type, in the type's canonical casing. */
export function privateLinkResourceId(profile: PrivateLinkTypeProfile, sub: string, rg: string, name: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${profile.namespace}/${profile.typeName}/${name}`;
}

/** `W/"<guid>"`, the weak etag shape the Network RP returns. */
export function newWeakEtag(): string {
  return `W/"${randomUUID()}"`;
}

function etagMatches(header: string, etag: string): boolean {
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, "").replace(/^"|"$/g, ""))
    .some((t) => t === "*" || t === etag);
}

function preconditionFailed(recordName: string): ArmError {
  return new ArmError(412, "PreconditionFailed", `The Record set ${recordName} has been modified (etag mismatch).`);
}

function checkPreconditions(existing: ARecordSetRecord | undefined, recordName: string, conditions: RecordPreconditions): void {
  // privatedns.json (RecordSets_CreateOrUpdate, If-None-Match): "Set to '*' to allow a new record set to be created,
  // but to prevent updating an existing record set. Other values will be ignored."
  if (conditions.ifNoneMatch?.trim() === "*" && existing) {
    throw new ArmError(412, "PreconditionFailed", `The Record set ${recordName} exists already and hence cannot be created again.`);
  }
  if (conditions.ifMatch !== undefined && conditions.ifMatch.trim() !== "*" && (!existing || !etagMatches(conditions.ifMatch, existing.etag))) {
    throw preconditionFailed(recordName);
  }
  if (conditions.ifMatch?.trim() === "*" && !existing) throw preconditionFailed(recordName);
}
