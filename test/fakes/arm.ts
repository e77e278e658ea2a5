/**
 * In-memory ARM: the ARM ports (src/ports/arm.ts) over plain maps, for fast unit tests of workflows.
 *
 * Resources of every registered Private Link type (src/domain/providers/registry.ts) with their connections,
 * publicNetworkAccess, SKU and (Private Link Services) visibility / auto-approval lists; API Management instances
 * carry their APIM-only facts too (`addService`). Faithful to the ports' contracts, not to every Azure detail:
 * `get…` returns undefined for missing resources, `list…` on a missing parent throws not-found, an ID of an
 * unregistered type is invalid-input, the resource list carries no properties (publicNetworkAccess undefined), a
 * long-running set-status operation completes after a set number of polls (state changes only then) while a
 * synchronous type's (registry connectionWrite.longRunning false) is done at once, A records carry ETags honouring
 * If-Match / If-None-Match, and APIM refuses publicNetworkAccess `Disabled` without an Approved connection. Every port
 * call is counted in `calls`; `failNext` makes the next call(s) of a method throw a PortcullisError.
 */
import type {
  ApimPort,
  ArmPorts,
  LongRunningOperation,
  NetworkPort,
  OperationOptions,
  PrivateDnsPort,
  PrivateLinkPort,
  TenantPort,
  PutARecordOptions,
} from "../../src/ports/arm.ts";
import type {
  ApimService,
  ARecordSet,
  ConnectionStatus,
  NetworkInterface,
  PrivateDnsZone,
  PrivateDnsZoneGroup,
  PrivateEndpoint,
  PrivateEndpointConnection,
  PrivateLinkResource,
  VirtualNetworkLink,
} from "../../src/domain/model.ts";
import { PortcullisError, toPortcullisError, type ErrorKind } from "../../src/domain/errors.ts";
import { providerOf, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";
import { parseApimServiceId, parseProviderConnectionId, parseResourceId, resourceIdKey, resourceTypeOf } from "../../src/domain/resource-id.ts";

/** Every counted method: the port methods plus `poll` (one per LRO poll request). */
export type FakeArmMethod = keyof ApimPort | keyof PrivateLinkPort | keyof NetworkPort | keyof PrivateDnsPort | keyof TenantPort | "poll";

const APIM_TYPE = "Microsoft.ApiManagement/service";

const METHODS: readonly FakeArmMethod[] = [
  "getService",
  "listServicesBySubscription",
  "getResource",
  "listResourcesBySubscription",
  "listConnections",
  "getConnection",
  "beginSetConnectionStatus",
  "resumeSetConnectionStatus",
  "deleteConnection",
  "setPublicNetworkAccess",
  "getPrivateEndpoint",
  "getNetworkInterface",
  "listPrivateDnsZoneGroups",
  "getZone",
  "listARecords",
  "getARecord",
  "putARecord",
  "deleteARecord",
  "listVirtualNetworkLinks",
  "discoverSubscriptionTenant",
  "poll",
];

/** A set-connection-status operation as the "server" keeps it; shared by every handle that resumed it. */
export interface FakeOperation {
  readonly id: string;
  readonly connectionId: string;
  readonly status: Exclude<ConnectionStatus, "Pending">;
  readonly description: string;
  pollsRemaining: number;
  outcome: { readonly connection: PrivateEndpointConnection } | { readonly error: PortcullisError } | undefined;
}

/** The fake's storage; maps are keyed by resourceIdKey (lower-case ID). Mutate only through the helpers. */
export interface FakeArmState {
  /** API Management instances (their generic view is derived from these). */
  readonly services: Map<string, ApimService>;
  /** Resources of every other registered type. */
  readonly resources: Map<string, PrivateLinkResource>;
  readonly connections: Map<string, PrivateEndpointConnection>;
  readonly privateEndpoints: Map<string, PrivateEndpoint>;
  readonly networkInterfaces: Map<string, NetworkInterface>;
  /** Keyed by the owning private endpoint's ID key. */
  readonly privateDnsZoneGroups: Map<string, PrivateDnsZoneGroup[]>;
  readonly zones: Map<string, PrivateDnsZone>;
  /** Keyed by the record set's ID key (`{zoneId}/A/{name}`). */
  readonly aRecords: Map<string, ARecordSet>;
  readonly virtualNetworkLinks: Map<string, VirtualNetworkLink>;
  readonly operations: Map<string, FakeOperation>;
  /** The tenant ARM's 401 challenge names per subscription (lower-case subscription ID); absent: names none. */
  readonly subscriptionTenants: Map<string, string>;
}

export type ServiceInit = Partial<ApimService> & { readonly id: string };
/** A resource of any registered type (its type is read from the ID); an APIM ID is added as a service. */
export type ResourceInit = Partial<Omit<PrivateLinkResource, "id" | "type">> & { readonly id: string };
export type ConnectionInit = Partial<Omit<PrivateEndpointConnection, "id" | "resourceId" | "name">> & {
  readonly resourceId: string;
  readonly name: string;
};
export type PrivateEndpointInit = Partial<PrivateEndpoint> & { readonly id: string };
export type ZoneInit = Partial<PrivateDnsZone> & { readonly id: string };

export interface RequestConnectionInit {
  readonly resourceId: string;
  readonly privateEndpointId: string;
  /** true (default): manualPrivateLinkServiceConnections, arrives Pending; false: approved at once. */
  readonly manual?: boolean;
  readonly requestMessage?: string;
  readonly privateIpAddress?: string;
  readonly groupIds?: readonly string[];
}

export interface FakeArmSeed {
  readonly services?: readonly ServiceInit[];
  readonly resources?: readonly ResourceInit[];
  readonly connections?: readonly ConnectionInit[];
  readonly privateEndpoints?: readonly PrivateEndpointInit[];
  readonly networkInterfaces?: readonly NetworkInterface[];
  readonly zones?: readonly ZoneInit[];
  /** Polls a set-connection-status operation needs before it is done; 0 = done when begun. Default 1. */
  readonly lroPollsToComplete?: number;
}

export interface FailNextOptions {
  /** How many consecutive calls fail (default 1). */
  readonly times?: number;
  readonly message?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly retryAfterSeconds?: number;
}

export interface FakeArm {
  readonly ports: ArmPorts;
  readonly state: FakeArmState;
  /** Calls per method, counted when the call is made (list methods: when iteration starts). */
  readonly calls: Record<FakeArmMethod, number>;
  /** Polls that later-begun set-connection-status operations need; changeable between steps of a test. */
  lroPollsToComplete: number;
  addService(init: ServiceInit): ApimService;
  addResource(init: ResourceInit): PrivateLinkResource;
  addConnection(init: ConnectionInit): PrivateEndpointConnection;
  addPrivateEndpoint(init: PrivateEndpointInit): PrivateEndpoint;
  addNetworkInterface(nic: NetworkInterface): NetworkInterface;
  addPrivateDnsZoneGroup(privateEndpointId: string, init: { readonly name: string; readonly privateDnsZoneIds: readonly string[] }): PrivateDnsZoneGroup;
  addZone(init: ZoneInit): PrivateDnsZone;
  addARecord(zoneId: string, name: string, ipv4Addresses: readonly string[], init?: { readonly ttl?: number; readonly metadata?: Record<string, string> }): ARecordSet;
  addVirtualNetworkLink(zoneId: string, init: { readonly name: string; readonly virtualNetworkId?: string; readonly registrationEnabled?: boolean }): VirtualNetworkLink;
  /**
   * What Azure does when a consumer creates a private endpoint to a resource (default group: the type's first, e.g. an
   * instance's Gateway): a private endpoint, its NIC with one private IP, and the provider-side connection (Pending
   * when manual, Approved otherwise).
   */
  requestConnection(init: RequestConnectionInit): { connection: PrivateEndpointConnection; privateEndpoint: PrivateEndpoint; networkInterface: NetworkInterface };
  /** Changes a connection as someone outside Portcullis would (portal, CLI); the endpoint's view follows. */
  updateConnection(connectionId: string, changes: Partial<Pick<PrivateEndpointConnection, "status" | "description" | "provisioningState">>): PrivateEndpointConnection;
  /** The next `times` calls of `method` throw a PortcullisError of `kind`. */
  failNext(method: FakeArmMethod, kind: ErrorKind, options?: FailNextOptions): void;
}

const DEFAULT_STATUS_CODE: Record<ErrorKind, number | undefined> = {
  transient: 503,
  "not-found": 404,
  conflict: 409,
  "precondition-failed": 412,
  forbidden: 403,
  unauthenticated: 401,
  "invalid-input": 400,
  internal: undefined,
};

function lastSegment(id: string): string {
  return id.replace(/\/+$/, "").split("/").at(-1) ?? id;
}

function notFound(what: string, id: string): PortcullisError {
  return new PortcullisError("not-found", `${what} '${id}' was not found.`, { code: "ResourceNotFound", statusCode: 404 });
}

function invalidId(what: string, id: string): PortcullisError {
  return new PortcullisError("invalid-input", `'${id}' is not a valid ${what} resource ID.`, { code: "InvalidResourceId", statusCode: 400 });
}

function preconditionFailed(message: string): PortcullisError {
  return new PortcullisError("precondition-failed", message, { code: "PreconditionFailed", statusCode: 412 });
}

function requireServiceId(id: string): string {
  if (!parseApimServiceId(id)) throw invalidId("API Management service", id);
  return id;
}

function unregistered(resourceType: string): PortcullisError {
  return new PortcullisError("invalid-input", `${resourceType} is not a registered Private Link provider type.`, { code: "UnregisteredResourceType", statusCode: 400 });
}

/** A top-level ID of a registered type and its registry entry (invalid-input otherwise). */
function requireResourceId(id: string): PrivateLinkProvider {
  const type = resourceTypeOf(id);
  if (type === undefined) throw invalidId("Private Link resource", id);
  const provider = providerOf(type);
  if (provider === undefined) throw unregistered(type);
  return provider;
}

/** A connection ID on a resource of a registered type, and that type's registry entry (invalid-input otherwise). */
function requireConnectionId(id: string): { readonly resourceId: string; readonly provider: PrivateLinkProvider } {
  const ref = parseProviderConnectionId(id, () => true);
  if (ref === undefined) throw invalidId("private endpoint connection", id);
  const provider = providerOf(ref.resourceType);
  if (provider === undefined) throw unregistered(ref.resourceType);
  return { resourceId: ref.resourceId, provider };
}

const isApim = (provider: PrivateLinkProvider): boolean => provider.resourceType === APIM_TYPE;

/** The generic view of an APIM instance. */
function resourceOfService(service: ApimService): PrivateLinkResource {
  return {
    id: service.id,
    name: service.name,
    type: APIM_TYPE,
    location: service.location,
    publicNetworkAccess: service.publicNetworkAccess,
    skuName: service.skuName,
    provisioningState: service.provisioningState,
  };
}

function recordSetId(zoneId: string, name: string): string {
  return `${zoneId.replace(/\/+$/, "")}/A/${name}`;
}

/** Builds an in-memory ARM with the given seed; see the module comment for what it models. */
export function createFakeArm(seed: FakeArmSeed = {}): FakeArm {
  const state: FakeArmState = {
    services: new Map(),
    resources: new Map(),
    connections: new Map(),
    privateEndpoints: new Map(),
    networkInterfaces: new Map(),
    privateDnsZoneGroups: new Map(),
    zones: new Map(),
    aRecords: new Map(),
    virtualNetworkLinks: new Map(),
    operations: new Map(),
    subscriptionTenants: new Map(),
  };
  const calls = Object.fromEntries(METHODS.map((m) => [m, 0])) as Record<FakeArmMethod, number>;
  const failures = new Map<FakeArmMethod, { kind: ErrorKind; options: FailNextOptions; remaining: number }>();
  let sequence = 0;
  const nextSequence = (): number => ++sequence;
  const nextEtag = (): string => `W/"fake-${nextSequence()}"`;

  /** Counts a call and throws an injected failure or an abort, as a real call would. */
  function enter(method: FakeArmMethod, options: OperationOptions | undefined): void {
    calls[method] += 1;
    if (options?.abortSignal?.aborted) throw toPortcullisError(options.abortSignal.reason ?? new DOMException("aborted", "AbortError"));
    const failure = failures.get(method);
    if (!failure) return;
    failure.remaining -= 1;
    if (failure.remaining <= 0) failures.delete(method);
    const statusCode = failure.options.statusCode ?? DEFAULT_STATUS_CODE[failure.kind];
    throw new PortcullisError(failure.kind, failure.options.message ?? `Injected ${failure.kind} failure of ${method}.`, {
      code: failure.options.code ?? "InjectedFailure",
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(failure.options.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.options.retryAfterSeconds } : {}),
    });
  }

  /** An async iterable that counts and checks failures when iteration starts, then yields a snapshot. */
  function listing<T>(method: FakeArmMethod, options: OperationOptions | undefined, items: () => readonly T[]): AsyncIterable<T> {
    return {
      async *[Symbol.asyncIterator]() {
        enter(method, options);
        yield* items();
      },
    };
  }

  /** Mirrors a provider-side status onto the consumer's endpoint; undefined = Disconnected (unknown to the domain). */
  function syncEndpointView(connection: PrivateEndpointConnection, status: ConnectionStatus | undefined = connection.status): void {
    if (!connection.privateEndpointId) return;
    const key = resourceIdKey(connection.privateEndpointId);
    const endpoint = state.privateEndpoints.get(key);
    if (!endpoint) return;
    state.privateEndpoints.set(key, {
      ...endpoint,
      connections: endpoint.connections.map((link) =>
        resourceIdKey(link.privateLinkServiceId) === resourceIdKey(connection.resourceId) ? { ...link, status } : link,
      ),
    });
  }

  function addService(init: ServiceInit): ApimService {
    requireServiceId(init.id);
    const service: ApimService = {
      name: lastSegment(init.id),
      location: "westeurope",
      skuName: "Developer",
      platformVersion: "stv2",
      virtualNetworkType: "None",
      publicNetworkAccess: "Enabled",
      provisioningState: "Succeeded",
      ...init,
    };
    state.services.set(resourceIdKey(init.id), service);
    return service;
  }

  function addResource(init: ResourceInit): PrivateLinkResource {
    const provider = requireResourceId(init.id);
    if (isApim(provider)) {
      const { privateLinkService: _ignored, type: _type, ...apim } = init as ResourceInit & { type?: string };
      return resourceOfService(addService({ ...apim, publicNetworkAccess: apim.publicNetworkAccess === "Disabled" ? "Disabled" : "Enabled" }));
    }
    const resource: PrivateLinkResource = {
      name: lastSegment(init.id),
      location: "westeurope",
      publicNetworkAccess: provider.publicNetworkAccess?.values[0],
      skuName: provider.prerequisites.includes("premium-sku") ? "Premium" : "Standard",
      provisioningState: "Succeeded",
      ...(provider.resourceType === "Microsoft.Network/privateLinkServices" ? { privateLinkService: { visibilitySubscriptions: [], autoApprovalSubscriptions: [] } } : {}),
      ...init,
      type: provider.resourceType,
    };
    state.resources.set(resourceIdKey(init.id), resource);
    return resource;
  }

  /** Any registered resource by ID (an APIM instance in its generic view), or undefined. */
  function resourceAt(resourceId: string): PrivateLinkResource | undefined {
    const key = resourceIdKey(resourceId);
    const service = state.services.get(key);
    return service !== undefined ? resourceOfService(service) : state.resources.get(key);
  }

  function addConnection(init: ConnectionInit): PrivateEndpointConnection {
    const provider = requireResourceId(init.resourceId);
    const connection: PrivateEndpointConnection = {
      privateEndpointId: undefined,
      status: "Pending",
      description: undefined,
      actionsRequired: "None",
      provisioningState: "Succeeded",
      groupIds: provider.groups.length === 1 ? [provider.groups[0]!.groupId] : [],
      ...init,
      id: `${init.resourceId}/privateEndpointConnections/${init.name}`,
    };
    state.connections.set(resourceIdKey(connection.id), connection);
    syncEndpointView(connection);
    return connection;
  }

  function addPrivateEndpoint(init: PrivateEndpointInit): PrivateEndpoint {
    const endpoint: PrivateEndpoint = {
      name: lastSegment(init.id),
      location: "westeurope",
      subnetId: undefined,
      networkInterfaceIds: [],
      customDnsConfigs: [],
      connections: [],
      provisioningState: "Succeeded",
      ...init,
    };
    state.privateEndpoints.set(resourceIdKey(init.id), endpoint);
    return endpoint;
  }

  function addNetworkInterface(nic: NetworkInterface): NetworkInterface {
    state.networkInterfaces.set(resourceIdKey(nic.id), nic);
    return nic;
  }

  function addPrivateDnsZoneGroup(privateEndpointId: string, init: { readonly name: string; readonly privateDnsZoneIds: readonly string[] }): PrivateDnsZoneGroup {
    const group: PrivateDnsZoneGroup = { id: `${privateEndpointId}/privateDnsZoneGroups/${init.name}`, ...init };
    const key = resourceIdKey(privateEndpointId);
    const others = (state.privateDnsZoneGroups.get(key) ?? []).filter((g) => g.name.toLowerCase() !== init.name.toLowerCase());
    state.privateDnsZoneGroups.set(key, [...others, group]);
    return group;
  }

  function addZone(init: ZoneInit): PrivateDnsZone {
    const zone: PrivateDnsZone = { name: lastSegment(init.id), ...init };
    state.zones.set(resourceIdKey(init.id), zone);
    return zone;
  }

  function addARecord(zoneId: string, name: string, ipv4Addresses: readonly string[], init: { ttl?: number; metadata?: Record<string, string> } = {}): ARecordSet {
    const record: ARecordSet = {
      id: recordSetId(zoneId, name),
      name,
      zoneId,
      ipv4Addresses: [...ipv4Addresses],
      ttl: init.ttl ?? 3600,
      etag: nextEtag(),
      metadata: { ...init.metadata },
    };
    state.aRecords.set(resourceIdKey(record.id), record);
    return record;
  }

  function addVirtualNetworkLink(zoneId: string, init: { readonly name: string; readonly virtualNetworkId?: string; readonly registrationEnabled?: boolean }): VirtualNetworkLink {
    const link: VirtualNetworkLink = {
      id: `${zoneId}/virtualNetworkLinks/${init.name}`,
      name: init.name,
      zoneId,
      virtualNetworkId: init.virtualNetworkId,
      registrationEnabled: init.registrationEnabled ?? false,
    };
    state.virtualNetworkLinks.set(resourceIdKey(link.id), link);
    return link;
  }

  function requestConnection(init: RequestConnectionInit) {
    const endpointRef = parseResourceId(init.privateEndpointId);
    if (!endpointRef?.resourceGroup) throw invalidId("private endpoint", init.privateEndpointId);
    const n = nextSequence();
    const manual = init.manual ?? true;
    const provider = requireResourceId(init.resourceId);
    const groupIds = init.groupIds ?? (provider.groups[0] !== undefined ? [provider.groups[0].groupId] : []);
    const suffix = provider.groups.find((g) => groupIds.some((id) => id.toLowerCase() === g.groupId.toLowerCase()))?.dnsZones[0]?.publicSuffix;
    const status: ConnectionStatus = manual ? "Pending" : "Approved";
    const endpointName = lastSegment(init.privateEndpointId);
    const networkInterface = addNetworkInterface({
      id: `/subscriptions/${endpointRef.subscriptionId}/resourceGroups/${endpointRef.resourceGroup}/providers/Microsoft.Network/networkInterfaces/${endpointName}.nic.${n}`,
      privateIpAddresses: [init.privateIpAddress ?? `10.0.0.${(n % 250) + 4}`],
    });
    const privateEndpoint = addPrivateEndpoint({
      id: init.privateEndpointId,
      networkInterfaceIds: [networkInterface.id],
      customDnsConfigs: suffix !== undefined ? [{ fqdn: `${lastSegment(init.resourceId)}.${suffix}`, ipAddresses: networkInterface.privateIpAddresses }] : [],
      connections: [
        { name: endpointName, privateLinkServiceId: init.resourceId, groupIds, requestMessage: init.requestMessage, status, manual },
      ],
    });
    const connection = addConnection({
      resourceId: init.resourceId,
      name: `${endpointName}.${n.toString(16).padStart(8, "0")}`,
      privateEndpointId: init.privateEndpointId,
      status,
      description: manual ? init.requestMessage : "Auto-approved",
      // As ARM: most providers' connection resources name no group (APIM, Storage, Key Vault, ...); a type with one
      // group reads as that group, one with several as none (the consumer's endpoint names it).
      groupIds: provider.groups.length === 1 ? [provider.groups[0]!.groupId] : [],
    });
    return { connection, privateEndpoint, networkInterface };
  }

  function updateConnection(connectionId: string, changes: Partial<Pick<PrivateEndpointConnection, "status" | "description" | "provisioningState">>): PrivateEndpointConnection {
    const existing = state.connections.get(resourceIdKey(connectionId));
    if (!existing) throw notFound("Private endpoint connection", connectionId);
    const updated = { ...existing, ...changes };
    state.connections.set(resourceIdKey(connectionId), updated);
    syncEndpointView(updated);
    return updated;
  }

  function failNext(method: FakeArmMethod, kind: ErrorKind, options: FailNextOptions = {}): void {
    failures.set(method, { kind, options, remaining: options.times ?? 1 });
  }

  /** Advances a server-side operation by one poll; applies the status change when it reaches zero. */
  function advance(operation: FakeOperation): void {
    if (operation.outcome) return;
    operation.pollsRemaining = Math.max(0, operation.pollsRemaining - 1);
    if (operation.pollsRemaining > 0) return;
    const key = resourceIdKey(operation.connectionId);
    if (!state.connections.has(key)) {
      operation.outcome = { error: notFound("Private endpoint connection", operation.connectionId) };
      return;
    }
    const connection = updateConnection(operation.connectionId, {
      status: operation.status,
      description: operation.description,
      provisioningState: "Succeeded",
    });
    operation.outcome = { connection };
  }

  function handle(operation: FakeOperation): LongRunningOperation<PrivateEndpointConnection> {
    const lro: LongRunningOperation<PrivateEndpointConnection> = {
      async poll(options) {
        if (operation.outcome) return;
        enter("poll", options);
        advance(operation);
      },
      isDone: () => operation.outcome !== undefined,
      result() {
        if (!operation.outcome) return undefined;
        if ("error" in operation.outcome) throw operation.outcome.error;
        return operation.outcome.connection;
      },
      async pollUntilDone(options) {
        while (!lro.isDone()) await lro.poll(options);
        return lro.result()!;
      },
      serialize: () => JSON.stringify({ fakeOperationId: operation.id }),
    };
    return lro;
  }

  const apim: ApimPort = {
    async getService(resourceId, options) {
      enter("getService", options);
      return state.services.get(resourceIdKey(requireServiceId(resourceId)));
    },
    listServicesBySubscription(subscriptionId, options) {
      return listing("listServicesBySubscription", options, () =>
        [...state.services.values()].filter((s) => parseApimServiceId(s.id)?.subscriptionId.toLowerCase() === subscriptionId.toLowerCase()),
      );
    },
  };

  const privateLink: PrivateLinkPort = {
    async getResource(resourceId, options) {
      enter("getResource", options);
      requireResourceId(resourceId);
      return resourceAt(resourceId);
    },
    listResourcesBySubscription(subscriptionId, resourceType, options) {
      const provider = providerOf(resourceType);
      if (provider === undefined) throw unregistered(resourceType);
      return listing("listResourcesBySubscription", options, () => {
        const all = isApim(provider) ? [...state.services.values()].map(resourceOfService) : [...state.resources.values()];
        // As ARM's resource list: no properties, so neither publicNetworkAccess nor the Private Link Service lists.
        return all
          .filter((r) => r.type.toLowerCase() === provider.resourceType.toLowerCase() && parseResourceId(r.id)?.subscriptionId.toLowerCase() === subscriptionId.toLowerCase())
          .map(({ privateLinkService: _lists, ...r }) => ({ ...r, publicNetworkAccess: undefined }));
      });
    },
    listConnections(resourceId, options) {
      return listing("listConnections", options, () => {
        const provider = requireResourceId(resourceId);
        if (resourceAt(resourceId) === undefined) throw notFound(provider.displayName, resourceId);
        return [...state.connections.values()].filter((c) => resourceIdKey(c.resourceId) === resourceIdKey(resourceId));
      });
    },
    async getConnection(connectionId, options) {
      enter("getConnection", options);
      requireConnectionId(connectionId);
      return state.connections.get(resourceIdKey(connectionId));
    },
    async beginSetConnectionStatus(connectionId, status, description, options) {
      enter("beginSetConnectionStatus", options);
      const { provider } = requireConnectionId(connectionId);
      if (!state.connections.has(resourceIdKey(connectionId))) throw notFound("Private endpoint connection", connectionId);
      const operation: FakeOperation = {
        id: `op-${nextSequence()}`,
        connectionId,
        status,
        description,
        // A synchronous type's PUT is the whole operation.
        pollsRemaining: provider.connectionWrite.longRunning ? fake.lroPollsToComplete + 1 : 1,
        outcome: undefined,
      };
      state.operations.set(operation.id, operation);
      advance(operation);
      return handle(operation);
    },
    async resumeSetConnectionStatus(serializedState, options) {
      enter("resumeSetConnectionStatus", options);
      let operationId: unknown;
      try {
        operationId = (JSON.parse(serializedState) as { fakeOperationId?: unknown }).fakeOperationId;
      } catch {
        operationId = undefined;
      }
      const operation = typeof operationId === "string" ? state.operations.get(operationId) : undefined;
      if (!operation) throw new PortcullisError("invalid-input", "The serialized operation state is not one this fake issued.", { code: "InvalidOperationState" });
      // As the real adapter (and the SDK's resumeFrom): resuming asks ARM at once whether the operation has finished.
      const resumed = handle(operation);
      await resumed.poll(options);
      return resumed;
    },
    async deleteConnection(connectionId, options) {
      enter("deleteConnection", options);
      requireConnectionId(connectionId);
      const existing = state.connections.get(resourceIdKey(connectionId));
      if (!existing) return;
      state.connections.delete(resourceIdKey(connectionId));
      syncEndpointView(existing, undefined);
    },
    async setPublicNetworkAccess(resourceId, value, options) {
      enter("setPublicNetworkAccess", options);
      const provider = requireResourceId(resourceId);
      if (provider.publicNetworkAccess?.patchable === false) {
        throw new PortcullisError("invalid-input", `${provider.resourceType}'s update does not carry publicNetworkAccess.`, { code: "PublicNetworkAccessNotPatchable", statusCode: 400 });
      }
      const canonical = provider.publicNetworkAccess?.values.find((v) => v.toLowerCase() === value.toLowerCase());
      if (canonical === undefined) {
        throw new PortcullisError("invalid-input", `'${value}' is not a publicNetworkAccess value of ${provider.resourceType}.`, { code: "InvalidPublicNetworkAccess", statusCode: 400 });
      }
      const key = resourceIdKey(resourceId);
      const existing = resourceAt(resourceId);
      if (!existing) throw notFound(provider.displayName, resourceId);
      if (isApim(provider)) {
        const hasApproved = [...state.connections.values()].some((c) => resourceIdKey(c.resourceId) === key && c.status === "Approved");
        if (canonical === "Disabled" && !hasApproved) {
          throw new PortcullisError(
            "invalid-input",
            "Public network access can be disabled only when the service has at least one approved private endpoint connection.",
            { code: "InvalidParameters", statusCode: 400 },
          );
        }
        const service = state.services.get(key)!;
        const updated = { ...service, publicNetworkAccess: canonical as "Enabled" | "Disabled" };
        state.services.set(key, updated);
        return resourceOfService(updated);
      }
      const updated = { ...existing, publicNetworkAccess: canonical };
      state.resources.set(key, updated);
      return updated;
    },
  };

  const network: NetworkPort = {
    async getPrivateEndpoint(privateEndpointId, options) {
      enter("getPrivateEndpoint", options);
      return state.privateEndpoints.get(resourceIdKey(privateEndpointId));
    },
    async getNetworkInterface(networkInterfaceId, options) {
      enter("getNetworkInterface", options);
      return state.networkInterfaces.get(resourceIdKey(networkInterfaceId));
    },
    listPrivateDnsZoneGroups(privateEndpointId, options) {
      return listing("listPrivateDnsZoneGroups", options, () => {
        if (!state.privateEndpoints.has(resourceIdKey(privateEndpointId))) throw notFound("Private endpoint", privateEndpointId);
        return state.privateDnsZoneGroups.get(resourceIdKey(privateEndpointId)) ?? [];
      });
    },
  };

  function requireZone(zoneId: string): void {
    if (!state.zones.has(resourceIdKey(zoneId))) throw notFound("Private DNS zone", zoneId);
  }

  const privateDns: PrivateDnsPort = {
    async getZone(zoneId, options) {
      enter("getZone", options);
      return state.zones.get(resourceIdKey(zoneId));
    },
    listARecords(zoneId, options) {
      return listing("listARecords", options, () => {
        requireZone(zoneId);
        return [...state.aRecords.values()].filter((r) => resourceIdKey(r.zoneId) === resourceIdKey(zoneId));
      });
    },
    async getARecord(zoneId, recordName, options) {
      enter("getARecord", options);
      requireZone(zoneId);
      return state.aRecords.get(resourceIdKey(recordSetId(zoneId, recordName)));
    },
    async putARecord(zoneId, recordName, ipv4Addresses, options: PutARecordOptions = {}) {
      enter("putARecord", options);
      requireZone(zoneId);
      const existing = state.aRecords.get(resourceIdKey(recordSetId(zoneId, recordName)));
      if (options.ifNoneMatch === "*" && existing) throw preconditionFailed(`The A record '${recordName}' already exists.`);
      if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) {
        throw preconditionFailed(`The A record '${recordName}' has changed (ETag does not match).`);
      }
      return addARecord(zoneId, recordName, ipv4Addresses, {
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
        ...(options.metadata !== undefined ? { metadata: { ...options.metadata } } : {}),
      });
    },
    async deleteARecord(zoneId, recordName, options = {}) {
      enter("deleteARecord", options);
      requireZone(zoneId);
      const key = resourceIdKey(recordSetId(zoneId, recordName));
      const existing = state.aRecords.get(key);
      if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) {
        throw preconditionFailed(`The A record '${recordName}' has changed (ETag does not match).`);
      }
      state.aRecords.delete(key);
    },
    listVirtualNetworkLinks(zoneId, options) {
      return listing("listVirtualNetworkLinks", options, () => {
        requireZone(zoneId);
        return [...state.virtualNetworkLinks.values()].filter((l) => resourceIdKey(l.zoneId) === resourceIdKey(zoneId));
      });
    },
  };

  const tenants: TenantPort = {
    async discoverSubscriptionTenant(subscriptionId, options) {
      enter("discoverSubscriptionTenant", options);
      return state.subscriptionTenants.get(subscriptionId.toLowerCase());
    },
  };

  const fake: FakeArm = {
    ports: { apim, privateLink, network, privateDns, tenants },
    state,
    calls,
    lroPollsToComplete: seed.lroPollsToComplete ?? 1,
    addService,
    addResource,
    addConnection,
    addPrivateEndpoint,
    addNetworkInterface,
    addPrivateDnsZoneGroup,
    addZone,
    addARecord,
    addVirtualNetworkLink,
    requestConnection,
    updateConnection,
    failNext,
  };
  for (const service of seed.services ?? []) addService(service);
  for (const resource of seed.resources ?? []) addResource(resource);
  for (const endpoint of seed.privateEndpoints ?? []) addPrivateEndpoint(endpoint);
  for (const nic of seed.networkInterfaces ?? []) addNetworkInterface(nic);
  for (const connection of seed.connections ?? []) addConnection(connection);
  for (const zone of seed.zones ?? []) addZone(zone);
  return fake;
}
