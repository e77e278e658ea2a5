/**
 * SDK models -> domain types. ARM responses are untrusted input: each model is parsed with zod here, at the
 * boundary, and anything malformed becomes a PortcullisError (kind "internal", code "InvalidArmResponse")
 * rather than a half-filled domain object. Values Azure may extend (statuses, access flags) are matched
 * explicitly; an unrecognised value never reads as Approved, Pending or Disabled.
 */
import { z } from "zod";
import { PortcullisError } from "../../domain/errors.ts";
import type {
  ApimService,
  ARecordSet,
  ConnectionStatus,
  EndpointLinkConnection,
  NetworkInterface,
  PrivateDnsZone,
  PrivateDnsZoneGroup,
  PrivateEndpoint,
  PrivateEndpointConnection,
  PrivateLinkResource,
  PublicNetworkAccess,
  VirtualNetworkLink,
} from "../../domain/model.ts";
import { providerOf, type PrivateLinkProvider } from "../../domain/providers/registry.ts";
import { parseProviderConnectionId, parseResourceId, resourceTypeOf, sameResourceId } from "../../domain/resource-id.ts";


const isRegisteredType = (resourceType: string): boolean => providerOf(resourceType) !== undefined;

const text = z.string().nullish().transform((v) => v ?? undefined);
const armId = z.string().refine((id) => parseResourceId(id) !== undefined, "not an ARM resource ID");
const optionalArmId = armId.nullish().transform((v) => v ?? undefined);
const reference = z.object({ id: optionalArmId }).nullish();
const list = <T extends z.ZodType>(item: T) => z.array(item).nullish().transform((v) => v ?? []);

/** Reports a model that does not parse, naming the resource and each problem. */
export function malformed(what: string, resourceId: string | undefined, problems: string): PortcullisError {
  const subject = resourceId ? `${what} '${resourceId}'` : what;
  return new PortcullisError("internal", `ARM returned a malformed ${subject}: ${problems}. Portcullis will not act on it.`, {
    code: "InvalidArmResponse",
  });
}

function parse<T extends z.ZodType>(schema: T, model: unknown, what: string, resourceId: string | undefined): z.output<T> {
  const result = schema.safeParse(model);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  throw malformed(what, resourceId, problems);
}

function idOf(model: unknown): string | undefined {
  const id = (model as { id?: unknown } | null | undefined)?.id;
  return typeof id === "string" ? id : undefined;
}

/**
 * The provider-side connection status. Azure documents Pending | Approved | Rejected (compared
 * case-insensitively). Anything else, such as "Disconnected" after the consumer deleted its endpoint, means
 * the connection cannot be used and must not be decided: it maps to Rejected, never to Approved or Pending.
 */
export function connectionStatusFromArm(status: string): ConnectionStatus {
  return endpointLinkStatusFromArm(status) ?? "Rejected";
}

/** The consumer-side view of a status: the three known values, else undefined (unknown to the domain). */
export function endpointLinkStatusFromArm(status: string | undefined): ConnectionStatus | undefined {
  switch (status?.toLowerCase()) {
    case "approved":
      return "Approved";
    case "pending":
      return "Pending";
    case "rejected":
      return "Rejected";
    default:
      return undefined;
  }
}

/** Enabled | Disabled (case-insensitive); anything else is unknown, which audits treat as not known to be safe. */
export function publicNetworkAccessFromArm(value: string | undefined): PublicNetworkAccess | undefined {
  switch (value?.toLowerCase()) {
    case "enabled":
      return "Enabled";
    case "disabled":
      return "Disabled";
    default:
      return undefined;
  }
}

const apimServiceModel = z.object({
  id: armId,
  name: z.string().min(1),
  location: text,
  sku: z.object({ name: text }).nullish(),
  platformVersion: text,
  virtualNetworkType: text,
  publicNetworkAccess: text,
  provisioningState: text,
});

/** ApiManagementServiceResource -> ApimService. */
export function toApimService(model: unknown): ApimService {
  const m = parse(apimServiceModel, model, "API Management service", idOf(model));
  return {
    id: m.id,
    name: m.name,
    location: m.location,
    skuName: m.sku?.name,
    platformVersion: m.platformVersion,
    virtualNetworkType: m.virtualNetworkType,
    publicNetworkAccess: publicNetworkAccessFromArm(m.publicNetworkAccess),
    provisioningState: m.provisioningState,
  };
}

const connectionModel = z.object({
  id: armId.refine((id) => parseProviderConnectionId(id, isRegisteredType) !== undefined, "not a private endpoint connection of a registered type"),
  name: z.string().min(1),
  privateEndpoint: reference,
  privateLinkServiceConnectionState: z.object({
    status: z.string().min(1),
    description: text,
    actionsRequired: text,
  }),
  provisioningState: text,
  groupIds: z.array(z.string()).nullish(),
  /** Cosmos DB names its one group in a string (privateEndpointConnection.json, PrivateEndpointConnectionProperties.groupId). */
  groupId: text,
});

/**
 * The group ids a connection is for. Most providers' connection resources omit them (APIM, Storage, Key Vault, Event
 * Hubs, Service Bus, Container Registry); then a type with a single group can only be that one, and a type with several
 * (Storage) is unknown here: [] (the consumer's endpoint names them; callers read it from there).
 */
function groupIdsOf(m: z.output<typeof connectionModel>, provider: PrivateLinkProvider | undefined): readonly string[] {
  if (m.groupIds && m.groupIds.length > 0) return m.groupIds;
  if (m.groupId !== undefined && m.groupId !== "") return [m.groupId];
  return provider !== undefined && provider.groups.length === 1 ? [provider.groups[0]!.groupId] : [];
}

/**
 * A connection model (state at the top level, as the SDKs map it) -> PrivateEndpointConnection, for any registered type;
 * the connection must belong to `expectedResourceId` when given.
 */
export function toPrivateEndpointConnection(model: unknown, expectedResourceId?: string): PrivateEndpointConnection {
  const m = parse(connectionModel, model, "private endpoint connection", idOf(model));
  const ref = parseProviderConnectionId(m.id, isRegisteredType)!;
  if (expectedResourceId !== undefined && !sameResourceId(ref.resourceId, expectedResourceId)) {
    throw malformed("private endpoint connection", m.id, `it does not belong to '${expectedResourceId}'`);
  }
  const state = m.privateLinkServiceConnectionState;
  return {
    id: m.id,
    name: m.name,
    resourceId: ref.resourceId,
    privateEndpointId: m.privateEndpoint?.id,
    status: connectionStatusFromArm(state.status),
    description: state.description,
    actionsRequired: state.actionsRequired,
    provisioningState: m.provisioningState,
    groupIds: groupIdsOf(m, providerOf(ref.resourceType)),
  };
}

const wireResource = z.object({ id: z.unknown(), name: z.unknown(), properties: z.record(z.string(), z.unknown()).nullish() });

/**
 * A connection as ARM sends it on the wire (state under `properties`) -> PrivateEndpointConnection, for answers
 * read without an SDK's typed deserializer; it lifts exactly the properties the connection models share, then parses as above.
 */
export function toPrivateEndpointConnectionFromWire(body: unknown, expectedResourceId?: string): PrivateEndpointConnection {
  const wire = wireResource.safeParse(body);
  if (!wire.success) throw malformed("private endpoint connection", idOf(body), "the body is not a resource object");
  const properties = wire.data.properties ?? {};
  const model = {
    id: wire.data.id,
    name: wire.data.name,
    privateEndpoint: properties["privateEndpoint"],
    privateLinkServiceConnectionState: properties["privateLinkServiceConnectionState"],
    provisioningState: properties["provisioningState"],
    groupIds: properties["groupIds"],
    groupId: properties["groupId"],
  };
  return toPrivateEndpointConnection(model, expectedResourceId);
}

/** A page of a collection list as ARM sends it: `value` and, when more follow, `nextLink`. */
const wirePage = z.object({ value: z.array(z.unknown()), nextLink: z.string().min(1).nullish().transform((v) => v ?? undefined) });

/** Parses one page of a list answer; the items are converted by the caller. */
export function toListPage(body: unknown, what: string, resourceId: string): { readonly value: readonly unknown[]; readonly nextLink: string | undefined } {
  return parse(wirePage, body, `list of ${what} of`, resourceId);
}

const subscriptionList = list(z.string().min(1));

const privateLinkResourceWire = z.object({
  id: armId,
  name: z.string().min(1),
  type: z.string().min(1),
  location: text,
  sku: z.object({ name: text }).nullish(),
  /** The generic resource list ($expand=provisioningState) puts it here; a GET puts it under properties. */
  provisioningState: text,
  properties: z
    .object({
      publicNetworkAccess: text,
      provisioningState: text,
      visibility: z.object({ subscriptions: subscriptionList }).nullish(),
      autoApproval: z.object({ subscriptions: subscriptionList }).nullish(),
    })
    .nullish(),
});

/**
 * A registered type's resource (GenericResource: wire JSON, properties untyped) -> PrivateLinkResource. Its type must
 * be `expectedType` (case-insensitive). publicNetworkAccess is given in the registry's spelling when it is one of the
 * type's values, else as ARM sent it (never read as Disabled unless it is). A list answer carries no properties: then
 * publicNetworkAccess and the Private Link Service lists are undefined.
 */
export function toPrivateLinkResource(body: unknown, expectedType: string): PrivateLinkResource {
  const m = parse(privateLinkResourceWire, body, "resource", idOf(body));
  const provider = providerOf(expectedType);
  const idType = resourceTypeOf(m.id);
  if (provider === undefined || m.type.toLowerCase() !== provider.resourceType.toLowerCase() || idType?.toLowerCase() !== provider.resourceType.toLowerCase()) {
    throw malformed("resource", m.id, `its type '${m.type}' is not the requested ${expectedType}`);
  }
  const publicNetworkAccess = m.properties?.publicNetworkAccess;
  const known = provider.publicNetworkAccess?.values.find((v) => v.toLowerCase() === publicNetworkAccess?.toLowerCase());
  const visibility = m.properties?.visibility;
  const autoApproval = m.properties?.autoApproval;
  const isPrivateLinkService = provider.resourceType === "Microsoft.Network/privateLinkServices";
  return {
    id: m.id,
    name: m.name,
    type: m.type,
    location: m.location,
    publicNetworkAccess: known ?? publicNetworkAccess,
    skuName: m.sku?.name,
    provisioningState: m.properties?.provisioningState ?? m.provisioningState,
    ...(isPrivateLinkService && m.properties
      ? { privateLinkService: { visibilitySubscriptions: visibility?.subscriptions ?? [], autoApprovalSubscriptions: autoApproval?.subscriptions ?? [] } }
      : {}),
  };
}

const linkConnectionModel = z.object({
  name: text,
  privateLinkServiceId: armId,
  groupIds: list(z.string()),
  requestMessage: text,
  privateLinkServiceConnectionState: z.object({ status: text }).nullish(),
});

const privateEndpointModel = z.object({
  id: armId,
  name: z.string().min(1),
  location: text,
  subnet: reference,
  networkInterfaces: list(z.object({ id: armId })),
  customDnsConfigs: list(z.object({ fqdn: text, ipAddresses: list(z.string()) })),
  privateLinkServiceConnections: list(linkConnectionModel),
  manualPrivateLinkServiceConnections: list(linkConnectionModel),
  provisioningState: text,
});

function toLinkConnection(m: z.output<typeof linkConnectionModel>, manual: boolean): EndpointLinkConnection {
  return {
    name: m.name ?? "",
    privateLinkServiceId: m.privateLinkServiceId,
    groupIds: m.groupIds,
    requestMessage: m.requestMessage,
    status: endpointLinkStatusFromArm(m.privateLinkServiceConnectionState?.status),
    manual,
  };
}

/** Network PrivateEndpoint -> PrivateEndpoint. */
export function toPrivateEndpoint(model: unknown): PrivateEndpoint {
  const m = parse(privateEndpointModel, model, "private endpoint", idOf(model));
  return {
    id: m.id,
    name: m.name,
    location: m.location,
    subnetId: m.subnet?.id,
    networkInterfaceIds: m.networkInterfaces.map((nic) => nic.id),
    customDnsConfigs: m.customDnsConfigs.map((c) => ({ fqdn: c.fqdn, ipAddresses: c.ipAddresses })),
    connections: [
      ...m.manualPrivateLinkServiceConnections.map((c) => toLinkConnection(c, true)),
      ...m.privateLinkServiceConnections.map((c) => toLinkConnection(c, false)),
    ],
    provisioningState: m.provisioningState,
  };
}

const networkInterfaceModel = z.object({
  id: armId,
  ipConfigurations: list(z.object({ privateIPAddress: text })),
});

/** Network NetworkInterface -> NetworkInterface (its private IPs, in configuration order). */
export function toNetworkInterface(model: unknown): NetworkInterface {
  const m = parse(networkInterfaceModel, model, "network interface", idOf(model));
  return {
    id: m.id,
    privateIpAddresses: m.ipConfigurations.flatMap((c) => (c.privateIPAddress ? [c.privateIPAddress] : [])),
  };
}

const zoneGroupModel = z.object({
  id: armId,
  name: z.string().min(1),
  privateDnsZoneConfigs: list(z.object({ privateDnsZoneId: optionalArmId })),
});

/** Network PrivateDnsZoneGroup -> PrivateDnsZoneGroup. */
export function toPrivateDnsZoneGroup(model: unknown): PrivateDnsZoneGroup {
  const m = parse(zoneGroupModel, model, "private DNS zone group", idOf(model));
  return {
    id: m.id,
    name: m.name,
    privateDnsZoneIds: m.privateDnsZoneConfigs.flatMap((c) => (c.privateDnsZoneId ? [c.privateDnsZoneId] : [])),
  };
}

const zoneModel = z.object({ id: armId, name: z.string().min(1) });

/** PrivateZone -> PrivateDnsZone. */
export function toPrivateDnsZone(model: unknown): PrivateDnsZone {
  const m = parse(zoneModel, model, "private DNS zone", idOf(model));
  return { id: m.id, name: m.name };
}

const recordSetModel = z.object({
  id: armId,
  name: z.string().min(1),
  etag: text,
  ttl: z.number().int().min(0).nullish().transform((v) => v ?? undefined),
  metadata: z.record(z.string(), z.string()).nullish().transform((v) => v ?? {}),
  aRecords: list(z.object({ ipv4Address: z.string().min(1) })),
});

/** RecordSet (type A) of `zoneId` -> ARecordSet. */
export function toARecordSet(model: unknown, zoneId: string): ARecordSet {
  const m = parse(recordSetModel, model, "A record set", idOf(model));
  return {
    id: m.id,
    name: m.name,
    zoneId,
    ipv4Addresses: m.aRecords.map((r) => r.ipv4Address),
    ttl: m.ttl,
    etag: m.etag,
    metadata: m.metadata,
  };
}

const virtualNetworkLinkModel = z.object({
  id: armId,
  name: z.string().min(1),
  virtualNetwork: reference,
  registrationEnabled: z.boolean().nullish().transform((v) => v ?? false),
});

/** VirtualNetworkLink of `zoneId` -> VirtualNetworkLink. */
export function toVirtualNetworkLink(model: unknown, zoneId: string): VirtualNetworkLink {
  const m = parse(virtualNetworkLinkModel, model, "virtual network link", idOf(model));
  return { id: m.id, name: m.name, zoneId, virtualNetworkId: m.virtualNetwork?.id, registrationEnabled: m.registrationEnabled };
}
