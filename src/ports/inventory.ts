/**
 * The inventory: which governed resources, connections, private endpoints and NICs exist across a scope, found in as
 * few calls as the estate allows. Its adapter is Azure Resource Graph (src/adapters/arm/resource-graph.ts: a handful of
 * paged queries for a whole tenant or management group), chosen with PORTCULLIS_INVENTORY=resource-graph. The other
 * choice, `arm-listing` (the default, for small estates and where Resource Graph is not allowed), is no adapter of its
 * own: the sweep and the audit then walk the ARM ports themselves (src/workflows/managed-resources.ts, audit-gather.ts),
 * which also gives them every connection's state and per-subscription failures.
 *
 * CANDIDATES ONLY. Resource Graph is eventually consistent (Microsoft Learn, "Overview of Azure Resource Graph": ARM
 * notifies it of changes and it rescans regularly, so its data can lag ARM by seconds to minutes), and even an ARM
 * listing is stale by the time a decision is made. Nothing is decided from the inventory alone: the sweep claims a
 * candidate and re-reads the connection from ARM before it plans or writes; the audit re-reads from ARM before it opens
 * a high-severity finding or repairs anything. A candidate that is gone or changed on re-read is simply dropped.
 *
 * Conventions (as src/ports/arm.ts): every method streams, page by page, only as the caller iterates; callers never
 * collect the estate. Failures leave as PortcullisError (transient for throttling that outlasted the adapter's own
 * back-off). Resource types come back in the registry's spelling (src/domain/providers/registry.ts), IDs as ARM
 * spells them (compare case-insensitively).
 */
import type { NetworkInterface, PrivateEndpoint, PrivateEndpointConnection, PrivateLinkResource } from "../domain/model.ts";
import type { PortcullisError } from "../domain/errors.ts";
import type { OperationOptions } from "./arm.ts";

/** Where to look: subscriptions, or management groups (the tenant root group's name is the tenant ID). */
export type InventoryScope =
  | { readonly subscriptions: readonly string[]; readonly managementGroups?: undefined }
  | { readonly managementGroups: readonly string[]; readonly subscriptions?: undefined };

/** A connection the inventory saw, with where it lives. A hint: re-read it from ARM before acting. */
export interface ConnectionCandidate {
  readonly connection: PrivateEndpointConnection;
  /** The owning resource's type, in the registry's spelling. */
  readonly resourceType: string;
  readonly subscriptionId: string;
}

/** A governed resource with the connections it had when the inventory saw it (the audit's service view). */
export interface InventoryResource {
  readonly resource: PrivateLinkResource;
  readonly subscriptionId: string;
  readonly connections: readonly PrivateEndpointConnection[];
  /** API Management only: the facts its prerequisite checks read (stv2, not VNet-injected). */
  readonly apim?: { readonly platformVersion: string | undefined; readonly virtualNetworkType: string | undefined };
}

/** A row the inventory returned that does not parse (Resource Graph's copy of a resource Portcullis cannot read). */
export interface UnreadableRow {
  /** The row's resource ID, when it has one. */
  readonly resourceId: string | undefined;
  readonly error: PortcullisError;
}

export interface InventoryOptions extends OperationOptions {
  /**
   * Called for each row that does not parse, and the listing goes on with the next: one odd resource must not hide
   * the rest of a tenant. Without it, such a row ends the listing with its error (InvalidArmResponse). Callers decide
   * what the row means (the audit: that instance is unreadable), never "nothing there".
   */
  readonly onUnreadableRow?: (row: UnreadableRow) => void;
}

export interface InventoryPort {
  /** Which adapter answers ("arm-listing" | "resource-graph"), for telemetry and reports. */
  readonly source: "arm-listing" | "resource-graph";
  /** Pending connections on resources of the given types (registered types; case-insensitive) across the scope. */
  pendingConnections(scope: InventoryScope, resourceTypes: readonly string[], options?: InventoryOptions): AsyncIterable<ConnectionCandidate>;
  /** Resources of the given types across the scope, each with all its connections. */
  resources(scope: InventoryScope, resourceTypes: readonly string[], options?: InventoryOptions): AsyncIterable<InventoryResource>;
  /**
   * The private endpoints with these IDs that the inventory can see (consumer endpoints may sit in subscriptions or
   * tenants the caller cannot read: those are simply absent; callers decide what absence means, never "approved").
   * Pass IDs in batches (e.g. per page of resources), not the estate.
   */
  privateEndpoints(ids: readonly string[], options?: OperationOptions): AsyncIterable<PrivateEndpoint>;
  /** The NICs with these IDs that the inventory can see; same rules as privateEndpoints. */
  networkInterfaces(ids: readonly string[], options?: OperationOptions): AsyncIterable<NetworkInterface>;
}
