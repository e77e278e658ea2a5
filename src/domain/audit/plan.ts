/**
 * Remediation as a pure plan: snapshot + DNS analysis + this run's observations -> the changes that would put
 * things right. The workflow filters the plan by the enabled remediations and the mode, then applies it.
 *
 * What may be changed (Portcullis repairs only what it owns, and never clobbers a concurrent change). "Owned"
 * means the record still holds the IPs Portcullis last wrote to it, by its own ownership store (ownership.ts),
 * whatever the record's tags say:
 *
 * | situation                                                          | change                                   |
 * |--------------------------------------------------------------------|------------------------------------------|
 * | public access open where closed is required, on a type whose       | set publicNetworkAccess to the type's    |
 * |   registry entry has publicNetworkAccess; for APIM only with an    |   disabled value (generic port)          |
 * |   approved connection and no VNet injection (what Azure accepts)   |                                          |
 * | record absent, approved endpoints target the zone                  | PUT record, If-None-Match: *, label tag  |
 * | record owned, IPs differ from the expected set                     | PUT record, If-Match: its ETag           |
 * | record owned, no approved endpoint targets the zone                | DELETE record, If-Match: its ETag        |
 * | record not owned (no entry, even if tagged managedBy=portcullis)   | nothing (reported only)                  |
 * | record drifted (someone changed its IPs since Portcullis wrote it) | nothing (reported as dns-record-drifted) |
 * | endpoints from 2+ VNets compete for the record                     | nothing (reported only)                  |
 * | any endpoint or zone of the instance unreadable                    | nothing for DNS (state not known)        |
 *
 * Every applied DNS write updates the ownership store (a delete removes the entry), so a second run over the state
 * the plan produced yields an empty plan.
 */
import { findingId, type Observation } from "./findings.ts";
import type { InstanceDnsAnalysis, RecordAnalysis } from "./dns.ts";
import { hasApimFacts, type InstanceSnapshot } from "./snapshot.ts";

/** The remediations that can be switched on (PORTCULLIS_REMEDIATE). */
export const REMEDIATIONS = ["public-network-access", "dns-record"] as const;
export type RemediationName = (typeof REMEDIATIONS)[number];

/**
 * Metadata key and value written on the A records Portcullis creates: a label for people browsing the zone. It
 * is never read as proof of ownership (anyone can set it); the ownership store is.
 */
export const OWNER_METADATA_KEY = "managedBy";
export const OWNER_METADATA_VALUE = "portcullis";
/** TTL of records Portcullis creates (seconds), matching Azure's zone-group records. */
export const CREATED_RECORD_TTL = 10;

export type PlannedChange =
  | {
      readonly kind: "disable-public-network-access";
      readonly remediation: "public-network-access";
      readonly instanceId: string;
      /** The value written: the type's disabled value from the registry (absent in runs stored before it was recorded: "Disabled"). */
      readonly value?: string | undefined;
      readonly findingIds: readonly string[];
    }
  | {
      readonly kind: "put-a-record";
      readonly remediation: "dns-record";
      readonly instanceId: string;
      readonly zoneId: string;
      readonly recordName: string;
      readonly ipv4Addresses: readonly string[];
      readonly previousIpv4Addresses?: readonly string[] | undefined;
      /** Set when replacing an owned record; absent when creating (ifNoneMatch "*"). */
      readonly ifMatch?: string | undefined;
      readonly ifNoneMatch?: "*" | undefined;
      readonly ttl: number;
      readonly metadata: Readonly<Record<string, string>>;
      readonly findingIds: readonly string[];
    }
  | {
      readonly kind: "delete-a-record";
      readonly remediation: "dns-record";
      readonly instanceId: string;
      readonly zoneId: string;
      readonly recordName: string;
      readonly previousIpv4Addresses: readonly string[];
      readonly ifMatch: string;
      readonly findingIds: readonly string[];
    };

function sameIps(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip === b[i]);
}

function dnsFindingIds(record: RecordAnalysis, observations: readonly Observation[]): string[] {
  const ids = new Set([
    findingId("dns-record-missing", record.recordId),
    findingId("dns-record-wrong-ips", record.recordId),
    findingId("dns-stale-ips", record.recordId),
  ]);
  return observations.filter((o) => ids.has(o.id)).map((o) => o.id);
}

function planRecord(instanceId: string, record: RecordAnalysis, observations: readonly Observation[]): PlannedChange[] {
  if (record.targetingVirtualNetworkIds.length >= 2) return [];
  const existing = record.record;
  const desired = record.expectedIps;
  const findingIds = dnsFindingIds(record, observations);
  const common = { remediation: "dns-record" as const, instanceId, zoneId: record.zone.zoneId, recordName: record.recordName, findingIds };
  if (existing === undefined) {
    if (desired.length === 0) return [];
    return [{
      kind: "put-a-record", ...common, ipv4Addresses: desired, previousIpv4Addresses: undefined, ifMatch: undefined, ifNoneMatch: "*",
      ttl: CREATED_RECORD_TTL, metadata: { [OWNER_METADATA_KEY]: OWNER_METADATA_VALUE },
    }];
  }
  if (record.ownership.kind !== "ours" || existing.etag === undefined) return [];
  if (desired.length === 0) {
    return [{ kind: "delete-a-record", ...common, previousIpv4Addresses: record.actualIps, ifMatch: existing.etag }];
  }
  if (sameIps(desired, record.actualIps)) return [];
  return [{
    kind: "put-a-record", ...common, ipv4Addresses: desired, previousIpv4Addresses: record.actualIps, ifMatch: existing.etag, ifNoneMatch: undefined,
    ttl: existing.ttl ?? CREATED_RECORD_TTL, metadata: { ...existing.metadata },
  }];
}

/** Every change that would repair what this instance's observations report, within what Portcullis may touch. */
export function planRemediation(snapshot: InstanceSnapshot, dns: InstanceDnsAnalysis, observations: readonly Observation[]): PlannedChange[] {
  const { provider } = snapshot;
  if (snapshot.failure !== undefined || snapshot.resource === undefined || provider === undefined) return [];
  const changes: PlannedChange[] = [];
  const publicAccessFinding = findingId("public-network-access", snapshot.instanceId, "enabled");
  const shape = provider.publicNetworkAccess;
  if (shape !== undefined && publicAccessWritable(snapshot) && observations.some((o) => o.id === publicAccessFinding)) {
    changes.push({ kind: "disable-public-network-access", remediation: "public-network-access", instanceId: snapshot.instanceId, value: shape.disabled, findingIds: [publicAccessFinding] });
  }
  if (dns.complete) {
    for (const record of dns.records) changes.push(...planRecord(snapshot.instanceId, record, observations));
  }
  return changes;
}

/**
 * Whether Azure would accept closing public access: an APIM instance must not be VNet-injected (and, where the type
 * needs it, have an approved connection: the "enabled" finding is only raised then). Unknown APIM facts: no write.
 */
function publicAccessWritable(snapshot: InstanceSnapshot): boolean {
  if (!hasApimFacts(snapshot.provider)) return true;
  return snapshot.service?.virtualNetworkType?.toLowerCase() === "none";
}

/** Keeps only the changes whose remediation is switched on (modes and settings filter plans; adapters never look). */
export function selectEnabledChanges(plan: readonly PlannedChange[], enabled: readonly RemediationName[]): PlannedChange[] {
  return plan.filter((change) => enabled.includes(change.remediation));
}
