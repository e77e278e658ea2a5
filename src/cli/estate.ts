/**
 * The short names people type instead of full resource IDs: an instance by name, a connection as
 * `instance/connection`, resolved among the managed instances (explicit IDs, then every instance of each managed
 * subscription, each once).
 */
import type { ManagedScope } from "../domain/decisions/decision-scope.ts";
import { parseApimServiceId, parseConnectionId, resourceIdKey } from "../domain/resource-id.ts";
import type { PrivateLinkPort } from "../ports/arm.ts";
import { CliError, EXIT } from "./exit-codes.ts";

/** Managed instance IDs in scope order, each once (a subscription that cannot be listed fails the lookup). */
async function* listManagedInstanceIds(scope: ManagedScope, privateLink: PrivateLinkPort): AsyncGenerator<string> {
  const seen = new Set<string>();
  const isNew = (id: string) => !seen.has(resourceIdKey(id)) && seen.add(resourceIdKey(id)) !== undefined;
  for (const id of scope.instanceIds) if (isNew(id)) yield id;
  for (const subscriptionId of scope.subscriptionIds) {
    for await (const service of privateLink.listResourcesBySubscription(subscriptionId, "Microsoft.ApiManagement/service")) if (isNew(service.id)) yield service.id;
  }
}

/**
 * An instance reference as typed: its resource ID, or its name looked up among the managed instances. An unknown or
 * ambiguous name is a usage error listing what it could mean.
 */
export async function resolveInstanceId(reference: string, scope: ManagedScope, privateLink: PrivateLinkPort): Promise<string> {
  if (reference.startsWith("/")) {
    if (parseApimServiceId(reference) === undefined) throw new CliError(EXIT.usage, `"${reference}" is not an API Management resource ID.`);
    return reference;
  }
  const matches: string[] = [];
  for await (const id of listManagedInstanceIds(scope, privateLink)) {
    if (parseApimServiceId(id)?.serviceName.toLowerCase() === reference.toLowerCase()) matches.push(id);
  }
  if (matches.length === 0) throw new CliError(EXIT.usage, `No managed instance is named "${reference}".`);
  if (matches.length > 1) throw new CliError(EXIT.usage, `"${reference}" names ${matches.length} managed instances; use a resource ID:\n${matches.map((m) => `  ${m}`).join("\n")}`);
  return matches[0]!;
}

/**
 * A connection reference as typed: a full connection resource ID, or `instance-name/connection-name` looked up
 * among the managed instances. An ambiguous or unknown name is a usage error listing what it could mean.
 */
export async function resolveConnectionId(reference: string, scope: ManagedScope, privateLink: PrivateLinkPort): Promise<string> {
  if (reference.startsWith("/")) {
    if (parseConnectionId(reference) === undefined) {
      throw new CliError(EXIT.usage, `"${reference}" is not a private endpoint connection ID (…/providers/Microsoft.ApiManagement/service/NAME/privateEndpointConnections/NAME).`);
    }
    return reference;
  }
  const parts = reference.split("/");
  if (parts.length !== 2 || parts.some((p) => p === "")) {
    throw new CliError(EXIT.usage, `"${reference}" is neither a connection resource ID nor INSTANCE/CONNECTION (e.g. contoso-apim-prod/pe-fabrikam-to-prod.f8d144bc-…).`);
  }
  const [instanceName, connectionName] = parts as [string, string];
  return `${await resolveInstanceId(instanceName, scope, privateLink)}/privateEndpointConnections/${connectionName}`;
}

/** `instance/connection`: the short name tables show and commands accept. */
export function shortConnectionName(connectionId: string): string {
  const ref = parseConnectionId(connectionId);
  return ref ? `${ref.serviceName}/${ref.connectionName}` : connectionId;
}
