/**
 * The audit's read step: turns ARM state into the plain snapshots the checks take, one instance at a time.
 *
 * - Instances come from the explicit list and from each managed subscription's listing (streamed, each
 *   instance once even when named both ways); a listed instance is not fetched again.
 * - Each private DNS zone is read once per run (its A records and VNet links, cached as a promise so
 *   concurrent instances share one read); `cacheZones: false` gives the naive behaviour for the benchmark.
 * - Only Approved connections' endpoints are read (the DNS checks need them); the NIC is read only when the
 *   endpoint's customDnsConfigs carry no IP.
 * - A read that fails becomes a ReadFailure in the snapshot, never an exception: one bad instance, endpoint
 *   or zone must not stop the run.
 * - With each readable zone comes what Portcullis last wrote to its records (the DNS ownership store, one
 *   query per zone per run). That is storage, not ARM: its failure throws and stops the run, like the audit
 *   store's, rather than be mistaken for "Portcullis wrote nothing here".
 */
import { toPortcullisError } from "../domain/errors.ts";
import type { ApimService, ARecordSet, PrivateEndpointConnection, VirtualNetworkLink } from "../domain/model.ts";
import { parseResourceId, resourceIdKey } from "../domain/resource-id.ts";
import { normalizeIps } from "../domain/audit/dns.ts";
import {
  recordNameForInstance,
  virtualNetworkIdOfSubnet,
  type ConnectionSnapshot,
  type EndpointSnapshot,
  type InstanceSnapshot,
  type ReadFailure,
  type ZoneSnapshot,
} from "../domain/audit/snapshot.ts";
import type { WrittenRecord } from "../domain/audit/ownership.ts";
import type { ArmPorts } from "../ports/arm.ts";
import type { DnsOwnershipStore } from "../ports/dns-ownership-store.ts";
import type { ArmCallLimiter } from "./audit-limiter.ts";

/** An instance to audit: its ID, with the service when the subscription listing already returned it. */
export interface AuditTarget {
  readonly instanceId: string;
  readonly service?: ApimService;
  /** Set when the target could not even be enumerated (its subscription's listing failed). */
  readonly failure?: ReadFailure;
}

/** An instance as read from ARM; the workflow adds each connection's history from the decision log. */
export interface GatheredInstance extends Omit<InstanceSnapshot, "connections"> {
  readonly connections: readonly Omit<ConnectionSnapshot, "history">[];
}

export interface AuditGathererOptions {
  readonly arm: ArmPorts;
  readonly limiter: ArmCallLimiter;
  /** What Portcullis wrote to which A record (only records that still match are repaired). */
  readonly dnsOwnership: Pick<DnsOwnershipStore, "listWrittenRecords">;
  /** PORTCULLIS_DNS_ZONE_IDS: zones every approved endpoint's record must be in. */
  readonly configuredZoneIds: readonly string[];
  /** Read each zone once per run (default true). */
  readonly cacheZones?: boolean;
  readonly abortSignal?: AbortSignal;
}

export interface AuditGatherer {
  /** Every managed instance, each once, streamed (subscription listings are paged, not collected). */
  listTargets(managedInstanceIds: readonly string[], managedSubscriptionIds: readonly string[]): AsyncIterable<AuditTarget>;
  readInstance(target: AuditTarget): Promise<GatheredInstance>;
  /** Zones whose read failed so far in this run, each once. */
  unreadableZones(): { zoneId: string; failure: ReadFailure }[];
  /** Zones this run tried to read so far (read or failed), each once. */
  examinedZoneIds(): string[];
  /** Managed subscriptions whose instance listing failed so far in this run. */
  unlistedSubscriptionIds(): string[];
}

interface ZoneContents {
  readonly recordsByName: ReadonlyMap<string, ARecordSet>;
  readonly linkedVirtualNetworkIds: readonly string[];
  readonly writtenByName: ReadonlyMap<string, WrittenRecord>;
}

/** A failure as data: kind, code and message of the PortcullisError it converts to. */
export function readFailureOf(error: unknown): ReadFailure {
  const e = toPortcullisError(error);
  return { kind: e.kind, code: e.code, message: e.message };
}

function subscriptionOf(resourceId: string): string {
  return parseResourceId(resourceId)?.subscriptionId ?? "unknown";
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** Creates the gatherer for one audit run (its zone cache lives as long as the run). */
export function createAuditGatherer(options: AuditGathererOptions): AuditGatherer {
  const { arm, limiter } = options;
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const cacheZones = options.cacheZones ?? true;
  const zoneCache = new Map<string, Promise<ZoneContents | ReadFailure>>();
  const zoneFailures = new Map<string, { zoneId: string; failure: ReadFailure }>();
  const examinedZones = new Map<string, string>();
  const unlistedSubscriptions = new Set<string>();

  async function readZone(zoneId: string): Promise<ZoneContents | ReadFailure> {
    examinedZones.set(resourceIdKey(zoneId), zoneId);
    const subscription = subscriptionOf(zoneId);
    const written = options.dnsOwnership.listWrittenRecords(zoneId, signal);
    let records: ARecordSet[];
    let links: VirtualNetworkLink[];
    try {
      [records, links] = await Promise.all([
        limiter.read(subscription, () => collect(arm.privateDns.listARecords(zoneId, signal))),
        limiter.read(subscription, () => collect(arm.privateDns.listVirtualNetworkLinks(zoneId, signal))),
      ]);
    } catch (error) {
      written.catch(() => {});
      const failure = readFailureOf(error);
      zoneFailures.set(resourceIdKey(zoneId), { zoneId, failure });
      return failure;
    }
    return {
      recordsByName: new Map(records.map((r) => [r.name.toLowerCase(), r])),
      linkedVirtualNetworkIds: links.flatMap((l) => (l.virtualNetworkId ? [l.virtualNetworkId] : [])),
      writtenByName: new Map((await written).map((w) => [w.recordName.toLowerCase(), w])),
    };
  }

  function zoneContents(zoneId: string): Promise<ZoneContents | ReadFailure> {
    if (!cacheZones) return readZone(zoneId);
    const key = resourceIdKey(zoneId);
    let cached = zoneCache.get(key);
    if (!cached) {
      cached = readZone(zoneId);
      zoneCache.set(key, cached);
    }
    return cached;
  }

  async function zoneSnapshot(zoneId: string, configured: boolean, recordName: string): Promise<ZoneSnapshot> {
    const contents = await zoneContents(zoneId);
    if ("kind" in contents) return { zoneId, configured, record: undefined, written: undefined, linkedVirtualNetworkIds: [], failure: contents };
    return {
      zoneId,
      configured,
      record: contents.recordsByName.get(recordName),
      written: contents.writtenByName.get(recordName),
      linkedVirtualNetworkIds: contents.linkedVirtualNetworkIds,
      failure: undefined,
    };
  }

  async function readEndpoint(privateEndpointId: string): Promise<EndpointSnapshot | ReadFailure> {
    const subscription = subscriptionOf(privateEndpointId);
    try {
      const [endpoint, zoneGroups] = await Promise.all([
        limiter.read(subscription, () => arm.network.getPrivateEndpoint(privateEndpointId, signal)),
        limiter.read(subscription, () => collect(arm.network.listPrivateDnsZoneGroups(privateEndpointId, signal))).catch((error: unknown) => {
          // The endpoint's own 404 is reported from the GET; a missing zone-group collection is just "none".
          if (toPortcullisError(error).kind === "not-found") return [];
          throw error;
        }),
      ]);
      if (endpoint === undefined) return { kind: "not-found", code: "NotFound", message: `private endpoint ${privateEndpointId} does not exist` };
      let ips = endpoint.customDnsConfigs.flatMap((c) => c.ipAddresses);
      if (ips.length === 0) {
        const nics = await Promise.all(
          endpoint.networkInterfaceIds.map((nicId) => limiter.read(subscriptionOf(nicId), () => arm.network.getNetworkInterface(nicId, signal))),
        );
        ips = nics.flatMap((nic) => nic?.privateIpAddresses ?? []);
      }
      return {
        endpointId: endpoint.id,
        virtualNetworkId: virtualNetworkIdOfSubnet(endpoint.subnetId),
        privateIps: normalizeIps(ips),
        dnsZoneIds: zoneGroups.flatMap((g) => g.privateDnsZoneIds),
      };
    } catch (error) {
      return readFailureOf(error);
    }
  }

  async function readConnection(connection: PrivateEndpointConnection): Promise<Omit<ConnectionSnapshot, "history">> {
    if (connection.status !== "Approved") return { connection, endpoint: undefined, endpointFailure: undefined };
    if (connection.privateEndpointId === undefined) {
      return { connection, endpoint: undefined, endpointFailure: { kind: "not-found", code: undefined, message: "the connection names no private endpoint" } };
    }
    const endpoint = await readEndpoint(connection.privateEndpointId);
    return "kind" in endpoint ? { connection, endpoint: undefined, endpointFailure: endpoint } : { connection, endpoint, endpointFailure: undefined };
  }

  function zoneIdsFor(connections: readonly Omit<ConnectionSnapshot, "history">[]): { zoneId: string; configured: boolean }[] {
    const zones = new Map<string, { zoneId: string; configured: boolean }>();
    for (const zoneId of options.configuredZoneIds) zones.set(resourceIdKey(zoneId), { zoneId, configured: true });
    for (const c of connections) {
      for (const zoneId of c.endpoint?.dnsZoneIds ?? []) {
        if (!zones.has(resourceIdKey(zoneId))) zones.set(resourceIdKey(zoneId), { zoneId, configured: false });
      }
    }
    return [...zones.values()];
  }

  async function* listTargets(managedInstanceIds: readonly string[], managedSubscriptionIds: readonly string[]): AsyncIterable<AuditTarget> {
    const seen = new Set<string>();
    for (const instanceId of managedInstanceIds) {
      if (seen.has(resourceIdKey(instanceId))) continue;
      seen.add(resourceIdKey(instanceId));
      yield { instanceId };
    }
    for (const subscriptionId of managedSubscriptionIds) {
      const iterator = arm.apim.listServicesBySubscription(subscriptionId, signal)[Symbol.asyncIterator]();
      while (true) {
        let step: IteratorResult<ApimService>;
        try {
          // Not paced per item: most steps are served from a page already fetched.
          step = await iterator.next();
        } catch (error) {
          unlistedSubscriptions.add(subscriptionId);
          yield { instanceId: `/subscriptions/${subscriptionId}`, failure: readFailureOf(error) };
          break;
        }
        if (step.done) break;
        if (seen.has(resourceIdKey(step.value.id))) continue;
        seen.add(resourceIdKey(step.value.id));
        yield { instanceId: step.value.id, service: step.value };
      }
    }
  }

  async function readInstance(target: AuditTarget): Promise<GatheredInstance> {
    const unreadable = (failure: ReadFailure): GatheredInstance => ({ instanceId: target.instanceId, service: target.service, failure, connections: [], zones: [] });
    if (target.failure) return unreadable(target.failure);
    const subscription = subscriptionOf(target.instanceId);
    let service = target.service;
    let connections: PrivateEndpointConnection[];
    try {
      service ??= await limiter.read(subscription, () => arm.apim.getService(target.instanceId, signal));
      if (service === undefined) return unreadable({ kind: "not-found", code: "ResourceNotFound", message: `${target.instanceId} does not exist` });
      connections = await limiter.read(subscription, () => collect(arm.privateLink.listConnections(target.instanceId, signal)));
    } catch (error) {
      return unreadable(readFailureOf(error));
    }
    const read = await Promise.all(connections.map(readConnection));
    const recordName = recordNameForInstance(target.instanceId);
    const zones = await Promise.all(zoneIdsFor(read).map(({ zoneId, configured }) => zoneSnapshot(zoneId, configured, recordName)));
    return { instanceId: target.instanceId, service, failure: undefined, connections: read, zones };
  }

  return {
    listTargets,
    readInstance,
    unreadableZones: () => [...zoneFailures.values()],
    examinedZoneIds: () => [...examinedZones.values()],
    unlistedSubscriptionIds: () => [...unlistedSubscriptions],
  };
}
