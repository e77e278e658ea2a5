/**
 * The plain input of the audit checks: what the gatherer (src/workflows/audit-gather.ts) read for one governed
 * resource (an "instance": an APIM instance, a storage account, a vault, a Private Link Service, any type of
 * src/domain/providers/registry.ts), plus the estate-wide facts. Checks are pure functions of these values, so a
 * test can build one by hand.
 */
import type { ErrorKind } from "../errors.ts";
import type { ApimService, ARecordSet, CustomDnsConfig, PrivateEndpointConnection, PrivateLinkResource } from "../model.ts";
import type { PrivateLinkProvider } from "../providers/registry.ts";
import type { RuleSetSnapshot } from "../rules/rule-set.ts";
import type { DefaultAction } from "../rules/evaluate.ts";
import { providerOf } from "../providers/registry.ts";
import { parseResourceId, resourceTypeOf } from "../resource-id.ts";
import type { WrittenRecord } from "./ownership.ts";

/** Why a read failed, kept as data so a finding can say so (the run carries on). */
export interface ReadFailure {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly message: string;
}

/** A consumer private endpoint, reduced to what the DNS checks compare. */
export interface EndpointSnapshot {
  readonly endpointId: string;
  /** The VNet the endpoint's subnet belongs to (the subnet ID's parent); undefined when unknown. */
  readonly virtualNetworkId: string | undefined;
  /** Private IPs from customDnsConfigs and the NIC, de-duplicated. */
  readonly privateIps: readonly string[];
  /**
   * The endpoint's customDnsConfigs (FQDN -> IPs): which record name in which zone each IP belongs to, e.g.
   * contoso.blob.core.windows.net -> "contoso" in privatelink.blob.core.windows.net. Empty when ARM gave none (the
   * IPs then came from the NIC and belong to the resource's own name).
   */
  readonly customDnsConfigs: readonly CustomDnsConfig[];
  /** Private DNS zones named by the endpoint's DNS zone groups. */
  readonly dnsZoneIds: readonly string[];
}

/** What the decision log and earlier audits know about a connection's history. ISO 8601 times. */
export interface ConnectionHistory {
  /** The earliest decision-log record for the connection (marks when Portcullis first saw it). */
  readonly firstRecordedAt: string | undefined;
  /** The latest decision that approved the connection in Azure, if any. */
  readonly approvedAt: string | undefined;
  /** The latest decision that rejected the connection in Azure, if any. */
  readonly rejectedAt: string | undefined;
  /** When an audit first saw the connection in its current status. */
  readonly statusSeenSince: string | undefined;
}

export interface ConnectionSnapshot {
  readonly connection: PrivateEndpointConnection;
  /** Read for Approved connections only (the DNS checks need them); undefined otherwise or when the read failed. */
  readonly endpoint: EndpointSnapshot | undefined;
  /** Why an Approved connection's endpoint could not be read (kind not-found: the endpoint no longer exists). */
  readonly endpointFailure: ReadFailure | undefined;
  readonly history: ConnectionHistory;
}

/**
 * A private DNS zone as it concerns one instance: its A records and its VNet links. Only zones of the instance's type
 * are given (their name is one of the type's `privatelink.*` zones in the registry).
 */
export interface ZoneSnapshot {
  readonly zoneId: string;
  /**
   * true for zones from PORTCULLIS_DNS_ZONE_IDS (hub zones), which must hold a record for every approved endpoint
   * whose group ids put records in a zone of that name.
   */
  readonly configured: boolean;
  /** The zone's A records by lower-case relative name (the whole zone, shared between instances); empty when unreadable. */
  readonly recordsByName: ReadonlyMap<string, ARecordSet>;
  /** What Portcullis last wrote to the zone's records (its ownership store), by lower-case relative name. */
  readonly writtenByName: ReadonlyMap<string, WrittenRecord>;
  readonly linkedVirtualNetworkIds: readonly string[];
  readonly failure: ReadFailure | undefined;
}

/** Everything the checks see about one instance. `failure` set means the instance itself could not be read. */
export interface InstanceSnapshot {
  readonly instanceId: string;
  /** The registry entry of the instance's type; undefined only with a failure (an ID of a type Portcullis does not govern). */
  readonly provider: PrivateLinkProvider | undefined;
  /** The resource as the generic port reads it (public network access, SKU, a Private Link Service's own lists). */
  readonly resource: PrivateLinkResource | undefined;
  /** API Management only: the service's prerequisite facts (platform, VNet type, tier); undefined for other types. */
  readonly service: ApimService | undefined;
  readonly failure: ReadFailure | undefined;
  readonly connections: readonly ConnectionSnapshot[];
  readonly zones: readonly ZoneSnapshot[];
}

/** The rule store's health as the engine sees it (a rule set that does not parse makes the engine fail closed). */
export interface RuleSetHealth {
  readonly status: "usable" | "unusable";
  readonly problems: readonly string[];
}

/** Facts about the estate as a whole, checked once per run. */
export interface EstateSnapshot {
  readonly rules: RuleSetHealth;
  /** Zones (configured or from zone groups) whose read failed in this run; each is reported once. */
  readonly unreadableZones: readonly { readonly zoneId: string; readonly failure: ReadFailure }[];
}

/**
 * The rules as the engine would apply them, for checks that ask "what would Portcullis decide here" (a Private Link
 * Service's auto-approved subscriptions bypass them).
 */
export interface RulesInForce {
  readonly ruleSet: RuleSetSnapshot;
  /** PORTCULLIS_DEFAULT_ACTION. */
  readonly defaultAction: DefaultAction;
}

/**
 * The instance's own record name: `NAME.privatelink.azure-api.net` holds the private IPs of `NAME.azure-api.net`, and
 * likewise `contoso.privatelink.blob.core.windows.net` those of `contoso.blob.core.windows.net`. Used for IPs whose
 * FQDN is unknown (read from the NIC) and to find records left behind once no endpoint names them.
 */
export function recordNameForInstance(instanceId: string): string {
  const parsed = parseResourceId(instanceId);
  const name = parsed?.segments.at(-1)?.[1] ?? instanceId.split("/").at(-1) ?? instanceId;
  return name.toLowerCase();
}

/** The VNet ID a subnet belongs to (the subnet ID's parent), or undefined for anything that is not a subnet ID. */
export function virtualNetworkIdOfSubnet(subnetId: string | undefined): string | undefined {
  if (subnetId === undefined) return undefined;
  const match = /^(.*\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+)\/subnets\/[^/]+\/?$/i.exec(subnetId);
  return match?.[1];
}

/** The ARM ID of an A record set in a zone. */
export function aRecordId(zoneId: string, recordName: string): string {
  return `${zoneId.replace(/\/+$/, "")}/A/${recordName}`;
}

/** An APIM service as the generic resource view: what the generic checks read (public access, SKU) for every type alike. */
export function resourceOfApimService(service: ApimService): PrivateLinkResource {
  return {
    id: service.id,
    name: service.name,
    type: "Microsoft.ApiManagement/service",
    location: service.location,
    publicNetworkAccess: service.publicNetworkAccess,
    skuName: service.skuName,
    provisioningState: service.provisioningState,
  };
}

/**
 * The ID under which a failed listing of one type in one subscription is reported:
 * `/subscriptions/{id}/providers/{type}` (the path ARM lists it at).
 */
export function listingScopeId(subscriptionId: string, resourceType: string): string {
  return `/subscriptions/${subscriptionId}/providers/${resourceType}`;
}

/**
 * The registered ARM type an instance ID (or a listing scope ID) is of, in the registry's casing; undefined for IDs of
 * no registered type (estate-wide findings, listing failures stored before listings were per type).
 */
export function governedTypeOf(instanceId: string | undefined): string | undefined {
  if (instanceId === undefined) return undefined;
  const type = resourceTypeOf(instanceId) ?? /^\/subscriptions\/[^/]+\/providers\/([^/]+\/[^/]+)\/?$/i.exec(instanceId)?.[1];
  return type === undefined ? undefined : (providerOf(type)?.resourceType ?? type);
}

/** API Management: the type whose own port (ApimPort) adds the facts its prerequisite checks read (platform, VNet type). */
export function hasApimFacts(provider: PrivateLinkProvider | undefined): boolean {
  return provider !== undefined && (provider.prerequisites.includes("apim-stv2-platform") || provider.prerequisites.includes("apim-not-vnet-injected"));
}
