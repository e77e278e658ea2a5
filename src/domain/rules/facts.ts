/**
 * What the rules are evaluated against: one connection as the engine read it from ARM. Every field that can be
 * unknown (the consumer's endpoint may sit in another tenant we cannot read) is optional. A condition on an unknown
 * fact is neither a match nor a miss: it is unknown (see the truth table in evaluate.ts).
 */
import type { PrivateEndpoint, PrivateEndpointConnection } from "../model.ts";
import { providerOf } from "../providers/registry.ts";
import { parsePrivateEndpointId, resourceTypeOf, sameResourceId } from "../resource-id.ts";
import { foldCase } from "./glob.ts";

export interface ConnectionFacts {
  /** ARM ID of the private endpoint connection on the governed resource. */
  readonly connectionId: string;
  /**
   * ARM ID of the resource the connection is on (an APIM instance, a storage account, a vault…). Its resource type
   * (`resourceTypeOf`) is a fact too, derived here and nowhere else, so it is always known.
   */
  readonly resourceId: string;
  readonly privateEndpointId?: string | undefined;
  /** The subscription in the private endpoint's resource ID. */
  readonly requesterSubscriptionId?: string | undefined;
  /**
   * From a consumer-side event's data, or (a hint) from ARM's 401 challenge for the requester subscription; ARM reads
   * of the connection and endpoint do not reveal it.
   */
  readonly requesterTenantId?: string | undefined;
  /** Where requesterTenantId came from: "event" (data.tenantId) or "arm-challenge" (a hint). */
  readonly requesterTenantSource?: "event" | "arm-challenge" | undefined;
  /**
   * Free text written by the requester (untrusted). Known only when the consumer's endpoint could be read; a link
   * without a message has the known value "".
   */
  readonly requestMessage?: string | undefined;
  readonly groupIds: readonly string[];
}

/** Builds the facts from what ARM returned, so every caller derives them the same way. */
export function connectionFacts(
  connection: PrivateEndpointConnection,
  context: {
    readonly endpoint?: PrivateEndpoint | undefined;
    readonly requesterTenantId?: string | undefined;
    readonly requesterTenantSource?: "event" | "arm-challenge" | undefined;
  } = {},
): ConnectionFacts {
  const privateEndpointId = connection.privateEndpointId;
  const link = context.endpoint?.connections.find((c) => sameResourceId(c.privateLinkServiceId, connection.resourceId));
  return {
    connectionId: connection.id,
    resourceId: connection.resourceId,
    privateEndpointId,
    requesterSubscriptionId: privateEndpointId === undefined ? undefined : parsePrivateEndpointId(privateEndpointId)?.subscriptionId,
    requesterTenantId: context.requesterTenantId,
    requesterTenantSource: context.requesterTenantId === undefined ? undefined : context.requesterTenantSource,
    requestMessage: link === undefined ? undefined : (link.requestMessage ?? ""),
    groupIds: connection.groupIds,
  };
}

/** The facts a condition can read, by the names ConnectionFacts gives them (and `missingFacts` reports). */
export type FactName = keyof PreparedFacts;

/** Facts folded once per evaluation (case, trailing slashes) so that each condition compares plain strings. */
export interface PreparedFacts {
  readonly resourceId: string;
  /**
   * Folded ARM type of the resource, from its ID: always known (the connection ID names it). "" when the ID is not a
   * top-level resource ID, which no rule covers.
   */
  readonly resourceType: string;
  readonly privateEndpointId: string | undefined;
  readonly requesterSubscriptionId: string | undefined;
  readonly requesterTenantId: string | undefined;
  readonly requestMessage: string | undefined;
  readonly groupIds: readonly string[];
}

/** Canonical form of a resource ID or resource ID pattern: folded case, no trailing slash. */
export function foldResourceId(id: string): string {
  return foldCase(id.replace(/\/+$/, ""));
}

/** Folds every fact once; blank optional values count as unknown. */
export function prepareFacts(facts: ConnectionFacts): PreparedFacts {
  const known = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);
  const pe = known(facts.privateEndpointId);
  const subscription = known(facts.requesterSubscriptionId);
  const tenant = known(facts.requesterTenantId);
  return {
    resourceId: foldResourceId(facts.resourceId),
    resourceType: foldCase(resourceTypeOfFacts(facts) ?? ""),
    privateEndpointId: pe === undefined ? undefined : foldResourceId(pe),
    requesterSubscriptionId: subscription === undefined ? undefined : foldCase(subscription.trim()),
    requesterTenantId: tenant === undefined ? undefined : foldCase(tenant.trim()),
    requestMessage: facts.requestMessage === undefined ? undefined : foldCase(facts.requestMessage),
    groupIds: facts.groupIds.map(foldCase),
  };
}

/**
 * The ARM type of the resource a connection is on, in the registry's casing when it is registered (else as the ID
 * spells it); undefined when the ID is not a top-level resource ID.
 */
export function resourceTypeOfFacts(facts: Pick<ConnectionFacts, "resourceId">): string | undefined {
  const type = resourceTypeOf(facts.resourceId.replace(/\/+$/, ""));
  return type === undefined ? undefined : (providerOf(type)?.resourceType ?? type);
}
