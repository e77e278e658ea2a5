/**
 * The plain input of the audit checks: what the gatherer (src/workflows/audit-gather.ts) read for one APIM
 * instance, plus the estate-wide facts. Checks are pure functions of these values, so a test can build
 * one by hand.
 */
import type { ErrorKind } from "../errors.ts";
import type { ApimService, ARecordSet, PrivateEndpointConnection } from "../model.ts";
import { parseResourceId } from "../resource-id.ts";
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

/** A private DNS zone as it concerns one instance: its A record for the instance and its VNet links. */
export interface ZoneSnapshot {
  readonly zoneId: string;
  /** true for zones from PORTCULLIS_DNS_ZONE_IDS, which must hold a record for every approved endpoint. */
  readonly configured: boolean;
  /** The instance's A record in the zone; undefined when absent (or when the zone could not be read). */
  readonly record: ARecordSet | undefined;
  /** What Portcullis last wrote to that record (its ownership store); undefined when it never wrote it. */
  readonly written: WrittenRecord | undefined;
  readonly linkedVirtualNetworkIds: readonly string[];
  readonly failure: ReadFailure | undefined;
}

/** Everything the checks see about one instance. `failure` set means the instance itself could not be read. */
export interface InstanceSnapshot {
  readonly instanceId: string;
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

/** The A record name for an instance: `NAME.privatelink.azure-api.net` holds the private IPs of `NAME.azure-api.net`. */
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
