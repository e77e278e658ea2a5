/**
 * The inventory by ARM listing: for each subscription and governed type, list the resources, then each resource's
 * connections; endpoints and NICs are read one by one. Today's way, kept for small estates and for tenants where
 * Resource Graph is not allowed. Costs 1 + (resources) list calls per subscription and type, bounded by ARM's read
 * throttle per subscription (250 burst, 25/s: DOMAIN.md, "ARM conventions"). Same contract as the Resource Graph
 * adapter (src/ports/inventory.ts): candidates only, streamed, types in the registry's spelling.
 *
 * Over the existing ARM ports: API Management through ApimPort (it carries the prerequisite facts), every other
 * registered type through PrivateLinkPort.
 */
import { PortcullisError } from "../../domain/errors.ts";
import type { ApimService, NetworkInterface, PrivateEndpoint, PrivateLinkResource } from "../../domain/model.ts";
import { providerOf } from "../../domain/providers/registry.ts";
import type { ApimPort, NetworkPort, OperationOptions, PrivateLinkPort } from "../../ports/arm.ts";
import type { ConnectionCandidate, InventoryPort, InventoryResource, InventoryScope } from "../../ports/inventory.ts";

const APIM_TYPE = "Microsoft.ApiManagement/service";

export interface ArmListingDependencies {
  /** APIM's services (with their prerequisite facts); their connections come from privateLink, like every type's. */
  readonly apim?: Pick<ApimPort, "listServicesBySubscription">;
  readonly privateLink?: Pick<PrivateLinkPort, "listResourcesBySubscription" | "listConnections">;
  readonly network: Pick<NetworkPort, "getPrivateEndpoint" | "getNetworkInterface">;
  /** Endpoint and NIC reads in flight at once (default 8). */
  readonly readConcurrency?: number;
}

/** ARM spells a location as the user gave it ("West Europe"); Resource Graph by its short name ("westeurope"). One form here. */
export function normalizeLocation(location: string | undefined): string | undefined {
  return location?.toLowerCase().replace(/\s+/g, "");
}

function apimAsResource(service: ApimService): PrivateLinkResource {
  return {
    id: service.id,
    name: service.name,
    type: APIM_TYPE,
    location: normalizeLocation(service.location),
    publicNetworkAccess: service.publicNetworkAccess,
    skuName: service.skuName,
    provisioningState: service.provisioningState,
  };
}

export function createArmListingInventory(deps: ArmListingDependencies): InventoryPort {
  const subscriptionsOf = (scope: InventoryScope): readonly string[] => {
    if (scope.managementGroups !== undefined) {
      throw new PortcullisError("invalid-input", "The ARM-listing inventory takes subscriptions; management groups need the Resource Graph inventory.", {
        code: "ManagementGroupScopeUnsupported",
      });
    }
    return scope.subscriptions;
  };

  async function* resourcesOf(subscriptionId: string, resourceType: string, opts: OperationOptions | undefined): AsyncGenerator<InventoryResource> {
    const provider = providerOf(resourceType);
    if (provider === undefined) throw new PortcullisError("invalid-input", `${resourceType} is not a registered Private Link provider.`, { code: "UnregisteredResourceType" });
    if (deps.privateLink === undefined) {
      throw new PortcullisError("invalid-input", `No ARM lister for ${provider.resourceType} (PrivateLinkPort not wired).`, { code: "ListerMissing" });
    }
    const privateLink = deps.privateLink;
    if (provider.resourceType === APIM_TYPE && deps.apim !== undefined) {
      for await (const service of deps.apim.listServicesBySubscription(subscriptionId, opts)) {
        const connections = [];
        for await (const c of privateLink.listConnections(service.id, opts)) connections.push(c);
        yield {
          resource: apimAsResource(service),
          subscriptionId,
          connections,
          apim: { platformVersion: service.platformVersion, virtualNetworkType: service.virtualNetworkType },
        };
      }
      return;
    }
    for await (const resource of privateLink.listResourcesBySubscription(subscriptionId, provider.resourceType, opts)) {
      const connections = [];
      for await (const c of privateLink.listConnections(resource.id, opts)) connections.push(c);
      yield { resource: { ...resource, type: provider.resourceType, location: normalizeLocation(resource.location) }, subscriptionId, connections };
    }
  }

  const concurrency = Math.max(1, deps.readConcurrency ?? 8);

  /**
   * Reads each ID, `readConcurrency` at a time, in the given order; a missing or unreadable one is absent (the
   * caller decides what absence means). The SDK's retry policy waits out ARM's 429s (Retry-After).
   */
  async function* readEach<T>(ids: readonly string[], read: (id: string) => Promise<T | undefined>): AsyncGenerator<T> {
    const unique = [...new Map(ids.map((id) => [id.toLowerCase(), id])).values()];
    const readOne = async (id: string): Promise<T | undefined> => {
      try {
        return await read(id);
      } catch (error) {
        if (error instanceof PortcullisError && error.kind === "forbidden") return undefined;
        throw error;
      }
    };
    for (let i = 0; i < unique.length; i += concurrency) {
      for (const item of await Promise.all(unique.slice(i, i + concurrency).map(readOne))) if (item !== undefined) yield item;
    }
  }

  return {
    source: "arm-listing",

    async *pendingConnections(scope, resourceTypes, opts): AsyncGenerator<ConnectionCandidate> {
      for (const subscriptionId of subscriptionsOf(scope)) {
        for (const type of resourceTypes) {
          for await (const item of resourcesOf(subscriptionId, type, opts)) {
            for (const connection of item.connections) {
              if (connection.status === "Pending") yield { connection, resourceType: item.resource.type, subscriptionId };
            }
          }
        }
      }
    },

    async *resources(scope, resourceTypes, opts) {
      for (const subscriptionId of subscriptionsOf(scope)) for (const type of resourceTypes) yield* resourcesOf(subscriptionId, type, opts);
    },

    privateEndpoints(ids, opts): AsyncGenerator<PrivateEndpoint> {
      return readEach(ids, (id) => deps.network.getPrivateEndpoint(id, opts));
    },

    networkInterfaces(ids, opts): AsyncGenerator<NetworkInterface> {
      return readEach(ids, (id) => deps.network.getNetworkInterface(id, opts));
    },
  };
}
