/**
 * Narrow ports over Azure Resource Manager, named in the Azure SDK's vocabulary. Implemented by
 * src/adapters/arm/* (the only code that imports the ARM SDKs) and by in-memory fakes in test/fakes.
 *
 * Conventions:
 * - `get…` returns undefined when ARM answers 404; every other failure throws a PortcullisError
 *   (src/domain/errors.ts) whose kind says whether a retry can help.
 * - `list…` returns an async iterable walked page by page; callers never collect an estate into one array
 *   unless they need to.
 * - IDs are full ARM resource IDs; comparisons are case-insensitive (src/domain/resource-id.ts).
 */
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
} from "../domain/model.ts";

export interface OperationOptions {
  readonly abortSignal?: AbortSignal;
}

/** A started ARM long-running operation that can be polled, awaited, or serialized and resumed later. */
export interface LongRunningOperation<T> {
  /** Sends one poll request (no-op once done). */
  poll(options?: OperationOptions): Promise<void>;
  isDone(): boolean;
  /** The final result once done, else undefined. Throws the operation's error if it failed. */
  result(): T | undefined;
  pollUntilDone(options?: OperationOptions): Promise<T>;
  /** Opaque state that `resume…` accepts to continue polling from another process. */
  serialize(): string;
}

/**
 * What only API Management has beyond the generic resource: its platform, VNet mode and SKU, which the audit's
 * prerequisite and capacity checks read. Connections and public access go through PrivateLinkPort like every type's.
 */
export interface ApimPort {
  getService(resourceId: string, options?: OperationOptions): Promise<ApimService | undefined>;
  listServicesBySubscription(subscriptionId: string, options?: OperationOptions): AsyncIterable<ApimService>;
}

/**
 * Connections and public access on any registered Private Link provider (src/domain/providers/registry.ts), over ARM's
 * generic resource operations with each type's api-version. Same conventions as above; an ID of an unregistered type
 * throws kind "invalid-input" before any request is sent.
 */
export interface PrivateLinkPort {
  getResource(resourceId: string, options?: OperationOptions): Promise<PrivateLinkResource | undefined>;
  /**
   * The subscription's resources of one registered type. ARM's resource list carries no `properties`: its items have
   * publicNetworkAccess and privateLinkService undefined (read getResource for those).
   */
  listResourcesBySubscription(subscriptionId: string, resourceType: string, options?: OperationOptions): AsyncIterable<PrivateLinkResource>;
  listConnections(resourceId: string, options?: OperationOptions): AsyncIterable<PrivateEndpointConnection>;
  getConnection(connectionId: string, options?: OperationOptions): Promise<PrivateEndpointConnection | undefined>;
  /**
   * Starts approving or rejecting (PUT privateEndpointConnections/{name}; the description is written into
   * privateLinkServiceConnectionState.description); a synchronous type's operation is done at once.
   */
  beginSetConnectionStatus(
    connectionId: string,
    status: Exclude<ConnectionStatus, "Pending">,
    description: string,
    options?: OperationOptions,
  ): Promise<LongRunningOperation<PrivateEndpointConnection>>;
  /** Continues an operation from its serialized state with one poll at once (whether ARM finished meanwhile). */
  resumeSetConnectionStatus(serializedState: string, options?: OperationOptions): Promise<LongRunningOperation<PrivateEndpointConnection>>;
  /** Deletes a connection and waits for it to finish. Resolves also when it was already gone. */
  deleteConnection(connectionId: string, options?: OperationOptions): Promise<void>;
  /**
   * Sets properties.publicNetworkAccess to one of the type's values (case-insensitive) and waits. Azure refuses Disabled
   * without an approved connection on some types (APIM: 400, invalid-input). A type whose PATCH does not carry it
   * (registry publicNetworkAccess.patchable false: Service Bus) is refused with invalid-input before any request.
   */
  setPublicNetworkAccess(resourceId: string, value: string, options?: OperationOptions): Promise<PrivateLinkResource>;
}

/**
 * A subscription's home tenant as ARM reveals it to anyone: the 401 challenge of an unauthenticated
 * `GET /subscriptions/{id}` names it in WWW-Authenticate's authorization_uri. A hint (undocumented by Microsoft), never
 * proof: callers cache it with a TTL and prefer what an event or a readable endpoint says.
 */
export interface TenantPort {
  /** undefined when ARM's answer names no tenant (unknown subscription, changed behaviour). */
  discoverSubscriptionTenant(subscriptionId: string, options?: OperationOptions): Promise<string | undefined>;
}

export interface NetworkPort {
  /** Consumer endpoints may sit in other subscriptions or tenants: a 403 throws kind "forbidden". */
  getPrivateEndpoint(privateEndpointId: string, options?: OperationOptions): Promise<PrivateEndpoint | undefined>;
  getNetworkInterface(networkInterfaceId: string, options?: OperationOptions): Promise<NetworkInterface | undefined>;
  listPrivateDnsZoneGroups(privateEndpointId: string, options?: OperationOptions): AsyncIterable<PrivateDnsZoneGroup>;
}

export interface PutARecordOptions extends OperationOptions {
  /** Write only if the record still has this ETag (precondition-failed otherwise). */
  readonly ifMatch?: string;
  /** "*": create only; fail with precondition-failed if the record exists. */
  readonly ifNoneMatch?: "*";
  readonly ttl?: number;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface PrivateDnsPort {
  getZone(zoneId: string, options?: OperationOptions): Promise<PrivateDnsZone | undefined>;
  listARecords(zoneId: string, options?: OperationOptions): AsyncIterable<ARecordSet>;
  getARecord(zoneId: string, recordName: string, options?: OperationOptions): Promise<ARecordSet | undefined>;
  putARecord(zoneId: string, recordName: string, ipv4Addresses: readonly string[], options?: PutARecordOptions): Promise<ARecordSet>;
  deleteARecord(zoneId: string, recordName: string, options?: OperationOptions & { readonly ifMatch?: string }): Promise<void>;
  listVirtualNetworkLinks(zoneId: string, options?: OperationOptions): AsyncIterable<VirtualNetworkLink>;
}

export interface ArmPorts {
  readonly apim: ApimPort;
  readonly privateLink: PrivateLinkPort;
  readonly network: NetworkPort;
  readonly privateDns: PrivateDnsPort;
  readonly tenants: TenantPort;
}
