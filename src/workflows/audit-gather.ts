/**
 * The audit's read step: turns ARM state into the plain snapshots the checks take, one instance (governed resource, of
 * any registered type) at a time.
 *
 * - Instances come from the explicit list and from each managed subscription's listing of each managed type
 *   (streamed, each instance once even when named both ways). A listed APIM instance is not fetched again (its listing
 *   carries its properties); any other type's is read with getResource, since ARM's generic resource list carries no
 *   properties (no publicNetworkAccess, no Private Link Service lists).
 * - Connections and the generic resource view come from PrivateLinkPort for every type; ApimPort adds APIM's own facts
 *   (platform, VNet type), which its prerequisite checks need.
 * - Only the zones of the instance's type are read for it: configured zones whose name is one of the type's
 *   `privatelink.*` zones, and those its approved endpoints' DNS zone groups name.
 * - Each private DNS zone is read once per run (its A records and VNet links, cached as a promise so
 *   concurrent instances share one read); `cacheZones: false` gives the naive behaviour for the benchmark.
 * - Only Approved connections' endpoints are read (the DNS checks need them); the NIC is read only when the
 *   endpoint's customDnsConfigs carry no IP.
 * - A read that fails becomes a ReadFailure in the snapshot, never an exception: one bad instance, endpoint
 *   or zone must not stop the run.
 * - With an inventory (PORTCULLIS_INVENTORY=resource-graph), the managed subscriptions' instances, their connections,
 *   the approved connections' endpoints and those endpoints' NICs come from a few Resource Graph queries per batch of
 *   instances instead of ARM reads per instance; DNS zone groups (an endpoint's child resources), zones and records
 *   still come from ARM. An endpoint or NIC the inventory does not show is read from ARM (absence is never evidence).
 *   The audit re-reads an instance from ARM before it opens a high-severity finding or plans a change on it
 *   (audit-estate.ts): Resource Graph can lag ARM.
 * - With each readable zone comes what Portcullis last wrote to its records (the DNS ownership store, one
 *   query per zone per run). That is storage, not ARM: its failure throws and stops the run, like the audit
 *   store's, rather than be mistaken for "Portcullis wrote nothing here".
 */
import { toPortcullisError } from "../domain/errors.ts";
import type { ApimService, ARecordSet, NetworkInterface, PrivateEndpoint, PrivateEndpointConnection, PrivateLinkResource, VirtualNetworkLink } from "../domain/model.ts";
import { providerOf, type PrivateLinkProvider } from "../domain/providers/registry.ts";
import { parseResourceId, resourceIdKey, resourceTypeOf, sameResourceId } from "../domain/resource-id.ts";
import { normalizeIps, zoneNameOf, zoneNamesOfProvider } from "../domain/audit/dns.ts";
import {
  hasApimFacts,
  listingScopeId,
  resourceOfApimService,
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
import type { InventoryPort, InventoryResource, UnreadableRow } from "../ports/inventory.ts";
import type { ArmCallLimiter } from "./audit-limiter.ts";

/** An instance to audit: its ID and type, with the APIM service when the subscription listing already returned it. */
export interface AuditTarget {
  readonly instanceId: string;
  /** undefined for an ID of a type Portcullis does not govern (reported as unreadable). */
  readonly provider: PrivateLinkProvider | undefined;
  readonly service?: ApimService;
  /** Set when the target could not even be enumerated (its subscription's listing of the type failed). */
  readonly failure?: ReadFailure;
  /** Set when the inventory found it: the instance, its connections, endpoints and NICs as the inventory saw them. */
  readonly inventory?: InventoryView;
}

/** What the inventory showed of one instance (possibly behind ARM). */
export interface InventoryView {
  readonly item: InventoryResource;
  /** The approved connections' endpoints the inventory shows, by resourceIdKey. */
  readonly endpoints: ReadonlyMap<string, PrivateEndpoint>;
  /** Their NICs the inventory shows, by resourceIdKey. */
  readonly networkInterfaces: ReadonlyMap<string, NetworkInterface>;
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
  /** Where the managed subscriptions' instances come from (Resource Graph); absent: ARM listings. */
  readonly inventory?: InventoryPort | undefined;
  /** Instances per inventory batch: one endpoint and one NIC query per batch (default 100). */
  readonly inventoryBatchSize?: number;
  readonly abortSignal?: AbortSignal;
}

export interface AuditGatherer {
  /** Every managed instance, each once, streamed (subscription listings are paged, not collected), per managed type. */
  listTargets(managedInstanceIds: readonly string[], managedSubscriptionIds: readonly string[], managedResourceTypes: readonly string[]): AsyncIterable<AuditTarget>;
  /** The target's snapshot: from its inventory view (plus zone groups and zones from ARM) when it has one, else from ARM. */
  readInstance(target: AuditTarget): Promise<GatheredInstance>;
  /** Zones whose read failed so far in this run, each once. */
  unreadableZones(): { zoneId: string; failure: ReadFailure }[];
  /** Zones this run tried to read so far (read or failed), each once. */
  examinedZoneIds(): string[];
  /** Listings (listingScopeId of subscription and type) that failed so far in this run. */
  unlistedScopeIds(): string[];
}

interface ZoneContents {
  readonly recordsByName: ReadonlyMap<string, ARecordSet>;
  readonly linkedVirtualNetworkIds: readonly string[];
  readonly writtenByName: ReadonlyMap<string, WrittenRecord>;
}

/** The APIM facts of an inventory row, as ApimPort gives them (public access only when Enabled or Disabled). */
function apimServiceOf(item: InventoryResource): ApimService {
  const { resource } = item;
  const access = resource.publicNetworkAccess;
  return {
    id: resource.id,
    name: resource.name,
    location: resource.location,
    skuName: resource.skuName,
    platformVersion: item.apim?.platformVersion,
    virtualNetworkType: item.apim?.virtualNetworkType,
    publicNetworkAccess: access === "Enabled" || access === "Disabled" ? access : undefined,
    provisioningState: resource.provisioningState,
  };
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
  const unlistedScopes = new Map<string, string>();

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

  async function zoneSnapshot(zoneId: string, configured: boolean): Promise<ZoneSnapshot> {
    const contents = await zoneContents(zoneId);
    if ("kind" in contents) return { zoneId, configured, recordsByName: new Map(), writtenByName: new Map(), linkedVirtualNetworkIds: [], failure: contents };
    return { zoneId, configured, ...contents, failure: undefined };
  }

  const zoneGroupsOf = (privateEndpointId: string) =>
    limiter.read(subscriptionOf(privateEndpointId), () => collect(arm.network.listPrivateDnsZoneGroups(privateEndpointId, signal))).catch((error: unknown) => {
      // The endpoint's own 404 is reported from the GET; a missing zone-group collection is just "none".
      if (toPortcullisError(error).kind === "not-found") return [];
      throw error;
    });

  /**
   * An approved connection's endpoint: from ARM, or as the inventory showed it (`known`, its NICs in `knownNics`;
   * a NIC the inventory does not show is read from ARM). Its DNS zone groups always come from ARM.
   */
  async function readEndpoint(
    privateEndpointId: string,
    resourceId: string,
    known?: PrivateEndpoint,
    knownNics?: ReadonlyMap<string, NetworkInterface>,
  ): Promise<EndpointSnapshot | ReadFailure> {
    const subscription = subscriptionOf(privateEndpointId);
    try {
      const [endpoint, zoneGroups] = await Promise.all([
        known ?? limiter.read(subscription, () => arm.network.getPrivateEndpoint(privateEndpointId, signal)),
        zoneGroupsOf(privateEndpointId),
      ]);
      if (endpoint === undefined) return { kind: "not-found", code: "NotFound", message: `private endpoint ${privateEndpointId} does not exist` };
      let ips = endpoint.customDnsConfigs.flatMap((c) => c.ipAddresses);
      // The FQDNs say which record each IP belongs to; IPs read from the NIC belong to the resource's own name.
      let customDnsConfigs = endpoint.customDnsConfigs;
      if (ips.length === 0) {
        customDnsConfigs = [];
        const nics = await Promise.all(
          endpoint.networkInterfaceIds.map(
            (nicId) => knownNics?.get(resourceIdKey(nicId)) ?? limiter.read(subscriptionOf(nicId), () => arm.network.getNetworkInterface(nicId, signal)),
          ),
        );
        ips = nics.flatMap((nic) => nic?.privateIpAddresses ?? []);
      }
      return {
        endpointId: endpoint.id,
        virtualNetworkId: virtualNetworkIdOfSubnet(endpoint.subnetId),
        privateIps: normalizeIps(ips),
        dnsZoneIds: zoneGroups.flatMap((g) => g.privateDnsZoneIds),
        customDnsConfigs,
        groupIds: endpoint.connections.find((link) => sameResourceId(link.privateLinkServiceId, resourceId))?.groupIds ?? [],
      };
    } catch (error) {
      return readFailureOf(error);
    }
  }

  async function readConnection(connection: PrivateEndpointConnection, view?: InventoryView): Promise<Omit<ConnectionSnapshot, "history">> {
    if (connection.status !== "Approved") return { connection, endpoint: undefined, endpointFailure: undefined };
    if (connection.privateEndpointId === undefined) {
      return { connection, endpoint: undefined, endpointFailure: { kind: "not-found", code: undefined, message: "the connection names no private endpoint" } };
    }
    const known = view?.endpoints.get(resourceIdKey(connection.privateEndpointId));
    const endpoint = await readEndpoint(connection.privateEndpointId, connection.resourceId, known, view?.networkInterfaces);
    return "kind" in endpoint ? { connection, endpoint: undefined, endpointFailure: endpoint } : { connection, endpoint, endpointFailure: undefined };
  }

  /** The zones of the instance's type: configured ones with a name of the type, and those its endpoints' zone groups name. */
  function zoneIdsFor(provider: PrivateLinkProvider, connections: readonly Omit<ConnectionSnapshot, "history">[]): { zoneId: string; configured: boolean }[] {
    const names = zoneNamesOfProvider(provider);
    const zones = new Map<string, { zoneId: string; configured: boolean }>();
    for (const zoneId of options.configuredZoneIds) if (names.has(zoneNameOf(zoneId))) zones.set(resourceIdKey(zoneId), { zoneId, configured: true });
    for (const c of connections) {
      for (const zoneId of c.endpoint?.dnsZoneIds ?? []) {
        if (names.has(zoneNameOf(zoneId)) && !zones.has(resourceIdKey(zoneId))) zones.set(resourceIdKey(zoneId), { zoneId, configured: false });
      }
    }
    return [...zones.values()];
  }

  /** One subscription's instances of one type, streamed; a failed listing becomes one unreadable target. */
  async function* listSubscription(subscriptionId: string, provider: PrivateLinkProvider, seen: Set<string>): AsyncIterable<AuditTarget> {
    const apim = hasApimFacts(provider);
    const items: AsyncIterable<ApimService | PrivateLinkResource> = apim
      ? arm.apim.listServicesBySubscription(subscriptionId, signal)
      : arm.privateLink.listResourcesBySubscription(subscriptionId, provider.resourceType, signal);
    const iterator = items[Symbol.asyncIterator]();
    while (true) {
      let step: IteratorResult<ApimService | PrivateLinkResource>;
      try {
        // Not paced per item: most steps are served from a page already fetched.
        step = await iterator.next();
      } catch (error) {
        const scopeId = listingScopeId(subscriptionId, provider.resourceType);
        unlistedScopes.set(resourceIdKey(scopeId), scopeId);
        yield { instanceId: scopeId, provider, failure: readFailureOf(error) };
        return;
      }
      if (step.done) return;
      if (seen.has(resourceIdKey(step.value.id))) continue;
      seen.add(resourceIdKey(step.value.id));
      // An APIM listing carries the service's properties; the generic list does not, so readInstance reads the resource.
      yield apim ? { instanceId: step.value.id, provider, service: step.value as ApimService } : { instanceId: step.value.id, provider };
    }
  }

  const batchSize = Math.max(1, options.inventoryBatchSize ?? 100);

  /** The inventory's endpoints and NICs for one batch of instances; a failed query leaves them to ARM reads. */
  async function viewsOf(items: readonly InventoryResource[], inventory: InventoryPort): Promise<InventoryView[]> {
    const endpointIds = items.flatMap((item) => item.connections.flatMap((c) => (c.status === "Approved" && c.privateEndpointId !== undefined ? [c.privateEndpointId] : [])));
    const endpoints = new Map<string, PrivateEndpoint>();
    const networkInterfaces = new Map<string, NetworkInterface>();
    try {
      if (endpointIds.length > 0) for await (const e of inventory.privateEndpoints(endpointIds, signal)) endpoints.set(resourceIdKey(e.id), e);
      const nicIds = [...endpoints.values()].filter((e) => e.customDnsConfigs.every((c) => c.ipAddresses.length === 0)).flatMap((e) => e.networkInterfaceIds);
      if (nicIds.length > 0) for await (const nic of inventory.networkInterfaces(nicIds, signal)) networkInterfaces.set(resourceIdKey(nic.id), nic);
    } catch {
      // Not a finding: every endpoint and NIC the inventory did not give is read from ARM instead.
    }
    return items.map((item) => ({ item, endpoints, networkInterfaces }));
  }

  /**
   * The managed subscriptions' instances from the inventory, in batches. A failed query makes every subscription and
   * type of the scope unlisted (their instances not yet audited are carried, not resolved), as a failed ARM listing does.
   */
  async function* listFromInventory(inventory: InventoryPort, subscriptionIds: readonly string[], providers: readonly PrivateLinkProvider[], seen: Set<string>): AsyncIterable<AuditTarget> {
    if (subscriptionIds.length === 0 || providers.length === 0) return;
    const unreadable: UnreadableRow[] = [];
    const iterator = inventory
      .resources({ subscriptions: subscriptionIds }, providers.map((p) => p.resourceType), { ...signal, onUnreadableRow: (row) => unreadable.push(row) })
      [Symbol.asyncIterator]();
    let batch: InventoryResource[] = [];
    let unlisted = false;
    const unlistAll = function* (failure: ReadFailure): Iterable<AuditTarget> {
      if (unlisted) return;
      unlisted = true;
      for (const subscriptionId of subscriptionIds) {
        for (const provider of providers) {
          const scopeId = listingScopeId(subscriptionId, provider.resourceType);
          unlistedScopes.set(resourceIdKey(scopeId), scopeId);
          yield { instanceId: scopeId, provider, failure };
        }
      }
    };
    /** Rows that did not parse: that instance is unreadable; a row without an ID leaves every scope unlisted. */
    const drainUnreadable = function* (): Iterable<AuditTarget> {
      for (const row of unreadable.splice(0)) {
        const provider = row.resourceId === undefined ? undefined : providerOf(resourceTypeOf(row.resourceId) ?? "");
        if (row.resourceId === undefined || provider === undefined) {
          yield* unlistAll(readFailureOf(row.error));
          continue;
        }
        if (seen.has(resourceIdKey(row.resourceId))) continue;
        seen.add(resourceIdKey(row.resourceId));
        yield { instanceId: row.resourceId, provider, failure: readFailureOf(row.error) };
      }
    };
    const flush = async function* (): AsyncIterable<AuditTarget> {
      const views = await viewsOf(batch, inventory);
      batch = [];
      for (const view of views) yield { instanceId: view.item.resource.id, provider: providerOf(view.item.resource.type), inventory: view };
    };
    while (true) {
      let step: IteratorResult<InventoryResource>;
      try {
        step = await iterator.next();
      } catch (error) {
        yield* flush();
        yield* drainUnreadable();
        yield* unlistAll(readFailureOf(error));
        return;
      }
      yield* drainUnreadable();
      if (step.done) break;
      if (seen.has(resourceIdKey(step.value.resource.id))) continue;
      seen.add(resourceIdKey(step.value.resource.id));
      batch.push(step.value);
      if (batch.length >= batchSize) yield* flush();
    }
    if (batch.length > 0) yield* flush();
  }

  async function* listTargets(managedInstanceIds: readonly string[], managedSubscriptionIds: readonly string[], managedResourceTypes: readonly string[]): AsyncIterable<AuditTarget> {
    const seen = new Set<string>();
    for (const instanceId of managedInstanceIds) {
      if (seen.has(resourceIdKey(instanceId))) continue;
      seen.add(resourceIdKey(instanceId));
      const type = resourceTypeOf(instanceId);
      yield { instanceId, provider: type === undefined ? undefined : providerOf(type) };
    }
    const providers = managedResourceTypes.flatMap((type) => providerOf(type) ?? []);
    if (options.inventory !== undefined) {
      yield* listFromInventory(options.inventory, managedSubscriptionIds, providers, seen);
      return;
    }
    for (const subscriptionId of managedSubscriptionIds) {
      for (const provider of providers) yield* listSubscription(subscriptionId, provider, seen);
    }
  }

  async function readInstance(target: AuditTarget): Promise<GatheredInstance> {
    const { provider } = target;
    const unreadable = (failure: ReadFailure): GatheredInstance => ({
      instanceId: target.instanceId,
      provider,
      resource: target.service === undefined ? undefined : resourceOfApimService(target.service),
      service: target.service,
      failure,
      connections: [],
      zones: [],
    });
    if (target.failure) return unreadable(target.failure);
    if (provider === undefined) {
      return unreadable({ kind: "invalid-input", code: "UnregisteredResourceType", message: `${target.instanceId} is not a resource of a registered Private Link provider type` });
    }
    if (target.inventory !== undefined) return readFromInventory(target.inventory, provider);
    const subscription = subscriptionOf(target.instanceId);
    let service = target.service;
    let resource: PrivateLinkResource | undefined;
    let connections: PrivateEndpointConnection[];
    try {
      if (hasApimFacts(provider)) {
        service ??= await limiter.read(subscription, () => arm.apim.getService(target.instanceId, signal));
        resource = service === undefined ? undefined : resourceOfApimService(service);
      } else {
        resource = await limiter.read(subscription, () => arm.privateLink.getResource(target.instanceId, signal));
      }
      if (resource === undefined) return unreadable({ kind: "not-found", code: "ResourceNotFound", message: `${target.instanceId} does not exist` });
      connections = await limiter.read(subscription, () => collect(arm.privateLink.listConnections(target.instanceId, signal)));
    } catch (error) {
      return unreadable(readFailureOf(error));
    }
    const read = await Promise.all(connections.map((c) => readConnection(c)));
    const zones = await Promise.all(zoneIdsFor(provider, read).map(({ zoneId, configured }) => zoneSnapshot(zoneId, configured)));
    return { instanceId: target.instanceId, provider, resource, service, failure: undefined, connections: read, zones };
  }

  /** An instance as the inventory showed it; endpoints it did not show, zone groups and zones from ARM. */
  async function readFromInventory(view: InventoryView, provider: PrivateLinkProvider): Promise<GatheredInstance> {
    const { resource } = view.item;
    const service = hasApimFacts(provider) ? apimServiceOf(view.item) : undefined;
    const read = await Promise.all(view.item.connections.map((c) => readConnection(c, view)));
    const zones = await Promise.all(zoneIdsFor(provider, read).map(({ zoneId, configured }) => zoneSnapshot(zoneId, configured)));
    return { instanceId: resource.id, provider, resource, service, failure: undefined, connections: read, zones };
  }

  return {
    listTargets,
    readInstance,
    unreadableZones: () => [...zoneFailures.values()],
    examinedZoneIds: () => [...examinedZones.values()],
    unlistedScopeIds: () => [...unlistedScopes.values()],
  };
}
