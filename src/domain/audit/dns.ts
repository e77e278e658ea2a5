/**
 * DNS drift analysis for one instance, shared by the DNS checks and the remediation plan so both read the
 * same desired state.
 *
 * For each readable zone that concerns the instance, the desired A record holds the private IPs of every
 * approved endpoint that "targets" the zone: every approved endpoint targets a configured (hub) zone, and an
 * endpoint targets the zones named by its own DNS zone groups.
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
import { resourceIdKey } from "../resource-id.ts";
import { recordOwnership, type RecordOwnership } from "./ownership.ts";
import { aRecordId, recordNameForInstance, type EndpointSnapshot, type InstanceSnapshot, type ZoneSnapshot } from "./snapshot.ts";

export interface RecordAnalysis {
  readonly zone: ZoneSnapshot;
  readonly recordName: string;
  readonly recordId: string;
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

function endpointTargetsZone(endpoint: EndpointSnapshot, zone: ZoneSnapshot): boolean {
  if (zone.configured) return true;
  const key = resourceIdKey(zone.zoneId);
  return endpoint.dnsZoneIds.some((id) => resourceIdKey(id) === key);
}

function distinctVirtualNetworks(endpoints: readonly EndpointSnapshot[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of endpoints) if (e.virtualNetworkId !== undefined) byKey.set(resourceIdKey(e.virtualNetworkId), e.virtualNetworkId);
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, id]) => id);
}

/** Analyses every readable zone of an instance against its approved endpoints. */
export function analyzeInstanceDns(snapshot: InstanceSnapshot): InstanceDnsAnalysis {
  const approved = snapshot.connections.filter((c) => c.connection.status === "Approved");
  const endpoints = approved.flatMap((c) => (c.endpoint ? [c.endpoint] : []));
  const everyEndpointRead = approved.every((c) => c.endpoint !== undefined);
  const everyZoneRead = snapshot.zones.every((z) => z.failure === undefined);
  const approvedIps = new Set(endpoints.flatMap((e) => e.privateIps));
  const recordName = recordNameForInstance(snapshot.instanceId);

  const records = snapshot.zones
    .filter((zone) => zone.failure === undefined)
    .map((zone): RecordAnalysis => {
      const targeting = endpoints.filter((e) => endpointTargetsZone(e, zone));
      const expectedIps = normalizeIps(targeting.flatMap((e) => e.privateIps));
      const actualIps = normalizeIps(zone.record?.ipv4Addresses ?? []);
      const actualSet = new Set(actualIps);
      const linked = new Set(zone.linkedVirtualNetworkIds.map(resourceIdKey));
      const vnets = distinctVirtualNetworks(targeting);
      return {
        zone,
        recordName: zone.record?.name ?? recordName,
        recordId: zone.record?.id ?? aRecordId(zone.zoneId, recordName),
        targetingEndpoints: targeting,
        expectedIps,
        actualIps,
        missingIps: expectedIps.filter((ip) => !actualSet.has(ip)),
        staleIps: everyEndpointRead ? actualIps.filter((ip) => !approvedIps.has(ip)) : [],
        targetingVirtualNetworkIds: vnets,
        unlinkedVirtualNetworkIds: vnets.filter((v) => !linked.has(resourceIdKey(v))),
        ownership: recordOwnership(zone.record === undefined ? undefined : actualIps, zone.written),
      };
    });
  return { records, complete: everyEndpointRead && everyZoneRead };
}
