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
  PublicNetworkAccess,
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

export interface ApimPort {
  getService(serviceId: string, options?: OperationOptions): Promise<ApimService | undefined>;
  listServicesBySubscription(subscriptionId: string, options?: OperationOptions): AsyncIterable<ApimService>;
  listConnections(serviceId: string, options?: OperationOptions): AsyncIterable<PrivateEndpointConnection>;
  getConnection(connectionId: string, options?: OperationOptions): Promise<PrivateEndpointConnection | undefined>;
  /**
   * Starts approving or rejecting a connection (PUT privateEndpointConnections/{name}); the description is
   * written into privateLinkServiceConnectionState.description.
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
  /** PATCH publicNetworkAccess and wait. Azure refuses Disabled without an approved connection (invalid-input). */
  setPublicNetworkAccess(serviceId: string, value: PublicNetworkAccess, options?: OperationOptions): Promise<ApimService>;
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
  readonly network: NetworkPort;
  readonly privateDns: PrivateDnsPort;
}
