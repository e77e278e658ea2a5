/**
 * Which resources Portcullis governs: resources of the governed types (PORTCULLIS_MANAGED_RESOURCE_TYPES, from the
 * provider registry) that are listed by ID (PORTCULLIS_MANAGED_RESOURCES, and the deprecated
 * PORTCULLIS_MANAGED_INSTANCES) or sit in a managed subscription (PORTCULLIS_MANAGED_SUBSCRIPTIONS). Everything else is
 * unmanaged: ignored by the engine, never written to. Pure.
 */
import { providerOf } from "../providers/registry.ts";
import { parseProviderConnectionId, parseResourceId, resourceIdKey, resourceTypeOf } from "../resource-id.ts";

export interface ManagedScope {
  /** Governed ARM types, in the registry's casing. */
  readonly resourceTypes: readonly string[];
  /** Explicitly governed resources (each of a governed type; settings refuse others). */
  readonly resourceIds: readonly string[];
  /** Subscriptions in which every resource of a governed type is governed. */
  readonly subscriptionIds: readonly string[];
}

/** True when `resourceType` is registered and governed (case-insensitive). */
export function isGovernedType(scope: ManagedScope, resourceType: string): boolean {
  const provider = providerOf(resourceType);
  return provider !== undefined && scope.resourceTypes.some((t) => t.toLowerCase() === provider.resourceType.toLowerCase());
}

/** True when `resourceId` is a top-level resource of a governed type that is listed or in a managed subscription. */
export function isManagedResource(scope: ManagedScope, resourceId: string): boolean {
  const type = resourceTypeOf(resourceId);
  if (type === undefined || !isGovernedType(scope, type)) return false;
  const key = resourceIdKey(resourceId);
  const subscriptionId = parseResourceId(resourceId)!.subscriptionId.toLowerCase();
  return scope.resourceIds.some((id) => resourceIdKey(id) === key) || scope.subscriptionIds.some((s) => s.toLowerCase() === subscriptionId);
}

/** The owning resource of a connection ID on a managed resource, else undefined (malformed, unregistered, unmanaged). */
export function managedResourceOfConnection(scope: ManagedScope, connectionId: string): string | undefined {
  const ref = parseProviderConnectionId(connectionId, (t) => isGovernedType(scope, t));
  return ref !== undefined && isManagedResource(scope, ref.resourceId) ? ref.resourceId : undefined;
}
