/**
 * The ARM operations whose Microsoft.Resources.* events Portcullis acts on, from the provider registry: the consumer's
 * private endpoint writes and deletes, and for each governed type its provider-side connection writes and deletes
 * (registry `connectionEventOperations`), plus API Management's connection proxies (APIM writes them when a consumer
 * asks, before the connection exists). The Event Grid subscription filter in infra/ lists exactly the operations of the
 * governed types (a test checks it), so no event is paid for and then ignored.
 */
import { connectionEventOperations, PRIVATE_LINK_PROVIDERS, providerOf, type PrivateLinkProvider } from "../providers/registry.ts";

export const CONSUMER_ENDPOINT_WRITE = "Microsoft.Network/privateEndpoints/write";
export const CONSUMER_ENDPOINT_DELETE = "Microsoft.Network/privateEndpoints/delete";
export const PROVIDER_CONNECTION_PROXY_WRITE = "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write";
export const PROVIDER_CONNECTION_PROXY_DELETE = "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete";
export const PROVIDER_CONNECTION_WRITE = "Microsoft.ApiManagement/service/privateEndpointConnections/write";
export const PROVIDER_CONNECTION_DELETE = "Microsoft.ApiManagement/service/privateEndpointConnections/delete";

/**
 * Operations of a type beyond its connection writes and deletes that the engine acts on. Only APIM's proxies: every
 * other provider's proxy events would double the filter (Event Grid allows 25 values in one subscription's advanced
 * filters) for nothing the connection events and the sweep do not already cover.
 */
const EXTRA_OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  "microsoft.apimanagement/service": [PROVIDER_CONNECTION_PROXY_WRITE, PROVIDER_CONNECTION_PROXY_DELETE],
};

/** The provider-side operations the engine acts on for one type: connection write/delete (and APIM's proxies). */
export function providerEventOperations(provider: PrivateLinkProvider): readonly string[] {
  return [...(EXTRA_OPERATIONS[provider.resourceType.toLowerCase()] ?? []), ...connectionEventOperations(provider)];
}

/** The operations to deliver for a set of governed types: the consumer's endpoint operations, then each type's. */
export function handledOperationNames(resourceTypes: readonly string[]): readonly string[] {
  const names = [CONSUMER_ENDPOINT_WRITE, CONSUMER_ENDPOINT_DELETE];
  for (const type of resourceTypes) {
    const provider = providerOf(type);
    if (provider !== undefined) for (const op of providerEventOperations(provider)) if (!names.includes(op)) names.push(op);
  }
  return names;
}

/** The operations for the default governed type (API Management), which is what Portcullis delivered before other types. */
export const HANDLED_OPERATION_NAMES: readonly string[] = handledOperationNames(["Microsoft.ApiManagement/service"]);

/** Every operation the event parser routes, whatever is governed (scope is the engine's to check, not the parser's). */
export const ROUTED_OPERATION_NAMES: readonly string[] = handledOperationNames(PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType));

export const HANDLED_EVENT_TYPES: readonly string[] = [
  "Microsoft.Resources.ResourceWriteSuccess",
  "Microsoft.Resources.ResourceDeleteSuccess",
];
