/**
 * Which APIM instances Portcullis governs: explicit instance IDs and/or whole subscriptions
 * (PORTCULLIS_MANAGED_INSTANCES / PORTCULLIS_MANAGED_SUBSCRIPTIONS). Everything else is unmanaged:
 * ignored by the engine, never written to. Pure.
 */
import { apimServiceId, parseApimServiceId, resourceIdKey } from "../resource-id.ts";

export interface ManagedScope {
  readonly instanceIds: readonly string[];
  readonly subscriptionIds: readonly string[];
}

/** True when `resourceId` is an APIM instance inside the scope (case-insensitive). */
export function isManagedInstance(scope: ManagedScope, resourceId: string): boolean {
  const ref = parseApimServiceId(resourceId);
  if (!ref) return false;
  const key = resourceIdKey(apimServiceId(ref));
  return (
    scope.instanceIds.some((id) => resourceIdKey(id) === key) ||
    scope.subscriptionIds.some((s) => s.toLowerCase() === ref.subscriptionId.toLowerCase())
  );
}
