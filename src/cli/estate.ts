/**
 * The short names people type instead of full resource IDs: a resource by name, a connection as
 * `resource/connection`, resolved among the managed resources of every governed type (listed IDs, then every resource
 * of each governed type in each managed subscription, each once).
 */
import type { ManagedScope } from "../domain/decisions/decision-scope.ts";
import { providerOf, REGISTERED_RESOURCE_TYPES } from "../domain/providers/registry.ts";
import { parseProviderConnectionId, parseResourceId, resourceTypeOf } from "../domain/resource-id.ts";
import type { PrivateLinkPort } from "../ports/arm.ts";
import { listManagedResourceIds } from "../workflows/managed-resources.ts";
import { CliError, EXIT } from "./exit-codes.ts";

const isRegistered = (type: string): boolean => providerOf(type) !== undefined;

function nameOf(resourceId: string): string {
  return parseResourceId(resourceId)?.segments[0]?.[1] ?? resourceId;
}

/**
 * A resource reference as typed: its resource ID (of a registered type), or its name looked up among the managed
 * resources (optionally only those of `resourceType`). An unknown or ambiguous name is a usage error listing what it
 * could mean.
 */
export async function resolveResourceId(reference: string, scope: ManagedScope, privateLink: PrivateLinkPort, resourceType?: string): Promise<string> {
  if (reference.startsWith("/")) {
    const type = resourceTypeOf(reference);
    if (type === undefined || !isRegistered(type)) {
      throw new CliError(EXIT.usage, `"${reference}" is not the resource ID of a registered type (${REGISTERED_RESOURCE_TYPES.join(", ")}).`);
    }
    return reference;
  }
  const narrowed = resourceType === undefined ? scope : { ...scope, resourceTypes: scope.resourceTypes.filter((t) => t.toLowerCase() === resourceType.toLowerCase()) };
  const matches: string[] = [];
  for await (const id of listManagedResourceIds(narrowed, privateLink)) {
    if (nameOf(id).toLowerCase() !== reference.toLowerCase()) continue;
    if (resourceType !== undefined && resourceTypeOf(id)?.toLowerCase() !== resourceType.toLowerCase()) continue;
    matches.push(id);
  }
  if (matches.length === 0) throw new CliError(EXIT.usage, `No managed resource is named "${reference}".`);
  if (matches.length > 1) throw new CliError(EXIT.usage, `"${reference}" names ${matches.length} managed resources; use a resource ID (or --resource-type):\n${matches.map((m) => `  ${m}`).join("\n")}`);
  return matches[0]!;
}


/**
 * A connection reference as typed: a full connection resource ID, or `resource-name/connection-name` looked up
 * among the managed resources. An ambiguous or unknown name is a usage error listing what it could mean.
 */
export async function resolveConnectionId(reference: string, scope: ManagedScope, privateLink: PrivateLinkPort, resourceType?: string): Promise<string> {
  if (reference.startsWith("/")) {
    if (parseProviderConnectionId(reference, isRegistered) === undefined) {
      throw new CliError(EXIT.usage, `"${reference}" is not a private endpoint connection ID (…/providers/{type}/NAME/privateEndpointConnections/NAME of a registered type).`);
    }
    return reference;
  }
  const parts = reference.split("/");
  if (parts.length !== 2 || parts.some((p) => p === "")) {
    throw new CliError(EXIT.usage, `"${reference}" is neither a connection resource ID nor RESOURCE/CONNECTION (e.g. contoso-apim-prod/pe-fabrikam-to-prod.f8d144bc-…).`);
  }
  const [resourceName, connectionName] = parts as [string, string];
  return `${await resolveResourceId(resourceName, scope, privateLink, resourceType)}/privateEndpointConnections/${connectionName}`;
}

/** `resource/connection`: the short name tables show and commands accept. */
export function shortConnectionName(connectionId: string): string {
  const ref = parseProviderConnectionId(connectionId, isRegistered);
  return ref ? `${nameOf(ref.resourceId)}/${ref.connectionName}` : connectionId;
}

/** The resource's type as tables show it: the registry's short name (e.g. "Storage account"), else the ARM type. */
export function resourceTypeLabel(resourceId: string): string {
  const type = resourceTypeOf(resourceId) ?? "";
  return providerOf(type)?.displayName ?? type;
}
