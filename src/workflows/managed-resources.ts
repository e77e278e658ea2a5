/**
 * The managed resources in scope order, each once: the listed IDs, then, per managed subscription, every resource of
 * each governed type (one list call per subscription and type, walked page by page). The sweep, the connection API and
 * the CLI's name lookup all walk this one listing.
 */
import type { ManagedScope } from "../domain/decisions/decision-scope.ts";
import { resourceIdKey } from "../domain/resource-id.ts";
import type { PrivateLinkPort } from "../ports/arm.ts";

/** A subscription (and type) whose listing failed; by default the failure ends the walk. */
export type SubscriptionListingFailure = (subscriptionId: string, resourceType: string, error: unknown) => void;

export async function* listManagedResourceIds(
  scope: ManagedScope,
  privateLink: Pick<PrivateLinkPort, "listResourcesBySubscription">,
  onFailure: SubscriptionListingFailure = (_s, _t, error) => {
    throw error;
  },
): AsyncGenerator<string> {
  const seen = new Set<string>();
  const isNew = (id: string): boolean => {
    const key = resourceIdKey(id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  for (const id of scope.resourceIds) if (isNew(id)) yield id;
  for (const subscriptionId of scope.subscriptionIds) {
    for (const resourceType of scope.resourceTypes) {
      try {
        for await (const resource of privateLink.listResourcesBySubscription(subscriptionId, resourceType)) if (isNew(resource.id)) yield resource.id;
      } catch (error) {
        onFailure(subscriptionId, resourceType, error);
      }
    }
  }
}
