/**
 * DNS drift analysis for one instance, shared by the DNS checks and the remediation plan so both read the
 * same desired state. The same for every registered type: only the zone names and the record names differ, and both
 * come from the registry (src/domain/providers/registry.ts).
 *
 * Which zones and records concern an instance:
 * - a zone concerns it when its name is one of the type's `privatelink.*` zones (dnsZonesOf for the group ids of its
 *   approved connections; a Private Link Service has none, so no DNS is checked for it);
 * - an approved endpoint "targets" such a zone when the zone is configured (a hub zone, PORTCULLIS_DNS_ZONE_IDS) or
 *   named by one of the endpoint's own DNS zone groups;
 * - the record names come from the endpoint's customDnsConfigs: each FQDN minus the zone's public suffix
 *   (contoso.blob.core.windows.net -> "contoso" in privatelink.blob.core.windows.net; Key Vault's vault.azure.net ->
 *   privatelink.vaultcore.azure.net), and that FQDN's IPs are the record's. IPs known only from the NIC (no FQDN)
 *   belong to the instance's own name (recordNameForInstance), which is also always looked at, so a record left
 *   behind after its endpoints are gone is seen.
 *
 * For each (zone, record name) that has a record or a targeting endpoint:
 *
 * | record      | targeting endpoints | outcome                                                   |
 * |-------------|---------------------|-----------------------------------------------------------|
 * | absent      | none                | nothing to say                                            |
 * | absent      | some                | record missing                                            |
 * | present     | any                 | wrong IPs when an expected IP is absent                   |
 * | present     | any                 | stale IPs when an IP belongs to no approved endpoint      |
 * | any         | from 2+ VNets       | competing endpoints (one record cannot serve both VNets)  |
 * | any         | VNet not linked     | zone not linked (the endpoint's VNet cannot resolve it)   |
 */
import type { ARecordSet } from "../model.ts";
import { dnsZonesOf, type PrivateDnsZoneName, type PrivateLinkProvider } from "../providers/registry.ts";
import { resourceIdKey } from "../resource-id.ts";
import { recordOwnership, type RecordOwnership } from "./ownership.ts";
import { aRecordId, recordNameForInstance, type ConnectionSnapshot, type EndpointSnapshot, type InstanceSnapshot, type ZoneSnapshot } from "./snapshot.ts";

export interface RecordAnalysis {
  readonly zone: ZoneSnapshot;
  /** Lower-case relative name in the zone. */
  readonly recordName: string;
  readonly recordId: string;
  /** The record as read; undefined when absent. */
  readonly record: ARecordSet | undefined;
  readonly targetingEndpoints: readonly EndpointSnapshot[];
  /** Union of the targeting endpoints' IPs, sorted. */
  readonly expectedIps: readonly string[];
  /** The record's IPs, sorted ([] when the record is absent). */
  readonly actualIps: readonly string[];
  /** Expected IPs absent from the record. */
  readonly missingIps: readonly string[];
  /** Record IPs that belong to no approved endpoint of the instance ([] when that cannot be known). */
  readonly staleIps: readonly string[];
  /** Distinct VNets of the targeting endpoints, sorted; two or more compete for the one record. */
  readonly targetingVirtualNetworkIds: readonly string[];
  /** Targeting endpoints' VNets that the zone has no virtual network link to. */
  readonly unlinkedVirtualNetworkIds: readonly string[];
  /** Whether Portcullis owns the record (ownership.ts): only an owned, unchanged record may be rewritten. */
  readonly ownership: RecordOwnership;
}

export interface InstanceDnsAnalysis {
  readonly records: readonly RecordAnalysis[];
  /**
   * false when an approved endpoint or a zone could not be read: then an absent problem is not proof of
   * health, so earlier DNS findings stay open and the plan leaves DNS alone.
   */
  readonly complete: boolean;
}

/** Orders dotted IPv4 addresses numerically (10.0.0.9 before 10.0.0.10); anything else sorts as text after. */
export function compareIpAddresses(a: string, b: string): number {
  const pa = ipv4Parts(a);
  const pb = ipv4Parts(b);
  if (pa && pb) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a.localeCompare(b);
}

function ipv4Parts(ip: string): number[] | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) return undefined;
  return parts.map(Number);
}

/** A sorted, de-duplicated IP list. */
export function normalizeIps(ips: Iterable<string>): string[] {
  return [...new Set([...ips].map((ip) => ip.trim()).filter((ip) => ip.length > 0))].sort(compareIpAddresses);
}

/** The zone's name: the last segment of its ID, lower-case. */
export function zoneNameOf(zoneId: string): string {
  return (zoneId.replace(/\/+$/, "").split("/").at(-1) ?? zoneId).toLowerCase();
}

/** Every private DNS zone name a type's groups use, lower-case (a Private Link Service has none). */
export function zoneNamesOfProvider(provider: PrivateLinkProvider): ReadonlySet<string> {
  return new Set(provider.groups.flatMap((g) => g.dnsZones.map((z) => z.zone.toLowerCase())));
}

/**
 * The record name an FQDN has in a zone: the FQDN minus the zone's public suffix ("contoso.blob.core.windows.net" ->
 * "contoso"), or minus the zone itself when ARM gave the privatelink name; undefined when the FQDN is not in the zone.
 */
export function recordNameInZone(fqdn: string, zone: PrivateDnsZoneName): string | undefined {
  const name = fqdn.trim().toLowerCase().replace(/\.$/, "");
  for (const suffix of [zone.zone.toLowerCase(), zone.publicSuffix.toLowerCase()]) {
    if (name.endsWith(`.${suffix}`) && name.length > suffix.length + 1) return name.slice(0, -(suffix.length + 1));
  }
  return undefined;
}

interface Targeting {
  readonly endpoint: EndpointSnapshot;
  readonly ips: readonly string[];
}

/** The record names (and their IPs) one targeting endpoint wants in a zone. */
function recordsWanted(endpoint: EndpointSnapshot, zone: PrivateDnsZoneName, ownName: string): Map<string, string[]> {
  const wanted = new Map<string, string[]>();
  for (const config of endpoint.customDnsConfigs) {
    if (config.fqdn === undefined) continue;
    const name = recordNameInZone(config.fqdn, zone);
    if (name === undefined) continue;
    wanted.set(name, [...(wanted.get(name) ?? []), ...config.ipAddresses]);
  }
  // No FQDN of this zone: the IPs (from the NIC) can only be the instance's own name.
  if (wanted.size === 0) wanted.set(ownName, [...endpoint.privateIps]);
  return wanted;
}

function distinctVirtualNetworks(endpoints: readonly EndpointSnapshot[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of endpoints) if (e.virtualNetworkId !== undefined) byKey.set(resourceIdKey(e.virtualNetworkId), e.virtualNetworkId);
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, id]) => id);
}

function targetsZone(connection: ConnectionSnapshot, provider: PrivateLinkProvider, zone: ZoneSnapshot, zoneName: string): PrivateDnsZoneName | undefined {
  const endpoint = connection.endpoint;
  if (endpoint === undefined) return undefined;
  const entry = dnsZonesOf(provider, connection.connection.groupIds).find((z) => z.zone.toLowerCase() === zoneName);
  if (entry === undefined) return undefined;
  if (zone.configured) return entry;
  const key = resourceIdKey(zone.zoneId);
  return endpoint.dnsZoneIds.some((id) => resourceIdKey(id) === key) ? entry : undefined;
}

/** Analyses every readable zone of an instance's type against its approved endpoints. */
export function analyzeInstanceDns(snapshot: InstanceSnapshot): InstanceDnsAnalysis {
  const provider = snapshot.provider;
  const approved = snapshot.connections.filter((c) => c.connection.status === "Approved");
  const everyEndpointRead = approved.every((c) => c.endpoint !== undefined);
  const everyZoneRead = snapshot.zones.every((z) => z.failure === undefined);
  if (provider === undefined || snapshot.failure !== undefined) return { records: [], complete: everyEndpointRead && everyZoneRead };
  const approvedIps = new Set(approved.flatMap((c) => c.endpoint?.privateIps ?? []));
  const ownName = recordNameForInstance(snapshot.instanceId);
  const typeZones = zoneNamesOfProvider(provider);

  const records: RecordAnalysis[] = [];
  for (const zone of snapshot.zones) {
    const zoneName = zoneNameOf(zone.zoneId);
    if (zone.failure !== undefined || !typeZones.has(zoneName)) continue;
    const byName = new Map<string, Targeting[]>([[ownName, []]]);
    for (const c of approved) {
      const entry = targetsZone(c, provider, zone, zoneName);
      if (entry === undefined || c.endpoint === undefined) continue;
      for (const [name, ips] of recordsWanted(c.endpoint, entry, ownName)) byName.set(name, [...(byName.get(name) ?? []), { endpoint: c.endpoint, ips }]);
    }
    for (const [name, targeting] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const record = zone.recordsByName.get(name);
      if (record === undefined && targeting.length === 0) continue;
      const endpoints = targeting.map((t) => t.endpoint);
      const expectedIps = normalizeIps(targeting.flatMap((t) => t.ips));
      const actualIps = normalizeIps(record?.ipv4Addresses ?? []);
      const actualSet = new Set(actualIps);
      const linked = new Set(zone.linkedVirtualNetworkIds.map(resourceIdKey));
      const vnets = distinctVirtualNetworks(endpoints);
      records.push({
        zone,
        recordName: name,
        recordId: record?.id ?? aRecordId(zone.zoneId, name),
        record,
        targetingEndpoints: endpoints,
        expectedIps,
        actualIps,
        missingIps: expectedIps.filter((ip) => !actualSet.has(ip)),
        staleIps: everyEndpointRead ? actualIps.filter((ip) => !approvedIps.has(ip)) : [],
        targetingVirtualNetworkIds: vnets,
        unlinkedVirtualNetworkIds: vnets.filter((v) => !linked.has(resourceIdKey(v))),
        ownership: recordOwnership(record === undefined ? undefined : actualIps, zone.writtenByName.get(name)),
      });
    }
  }
  return { records, complete: everyEndpointRead && everyZoneRead };
}
