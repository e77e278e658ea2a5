/**
 * Resource Graph rows -> domain types. A `resources` row carries the resource as its provider's GET returns it on the
 * wire (`properties` nested, not flattened as the SDK models are), plus subscriptionId and a lower-cased `type`
 * (azure-rest-api-specs resourcegraph stable/2024-04-01 examples). Each row is lifted into the SDK model's shape and
 * parsed by the same converters the ARM adapters use (./convert.ts), so an inventory row and an ARM read can never
 * disagree on what a field means, and a malformed row fails the same way (InvalidArmResponse), never half-filled.
 */
import { z } from "zod";
import type { NetworkInterface, PrivateEndpoint, PrivateEndpointConnection, PrivateLinkResource } from "../../domain/model.ts";
import { providerOf } from "../../domain/providers/registry.ts";
import type { InventoryResource } from "../../ports/inventory.ts";
import { malformed, toNetworkInterface, toPrivateLinkResource, toPrivateEndpoint, toPrivateEndpointConnectionFromWire } from "./convert.ts";

const bag = z.record(z.string(), z.unknown());
const rowSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  type: z.string().min(1),
  location: z.string().nullish(),
  subscriptionId: z.string().min(1),
  sku: z.object({ name: z.string().nullish() }).passthrough().nullish(),
  properties: bag.nullish(),
});

type Row = z.output<typeof rowSchema>;

function parseRow(row: unknown): Row {
  const result = rowSchema.safeParse(row);
  if (result.success) return result.data;
  const id = (row as { id?: unknown } | null)?.id;
  throw malformed("Resource Graph row", typeof id === "string" ? id : undefined, result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const array = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const properties = (value: unknown): Record<string, unknown> => {
  const p = (value as { properties?: unknown } | null)?.properties;
  return p !== null && typeof p === "object" && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
};

/** The registry's spelling of a type (Resource Graph lower-cases types), or the row's own for unregistered ones. */
export function registryType(type: string): string {
  return providerOf(type)?.resourceType ?? type;
}

/**
 * Key Vault embeds its connections as PrivateEndpointConnectionItem (keyvault openapi.json: id, etag, properties; no
 * name): the name is the ID's last segment, as on every connection resource.
 */
function withNameFromId(connection: unknown): unknown {
  if (connection === null || typeof connection !== "object" || Array.isArray(connection)) return connection;
  const c = connection as Record<string, unknown>;
  if (typeof c["name"] === "string" && c["name"] !== "") return c;
  return typeof c["id"] === "string" ? { ...c, name: c["id"].split("/").at(-1) } : c;
}

/** A governed resource's row -> the resource, its connections and (APIM) prerequisite facts. */
export function inventoryResourceFromRow(raw: unknown): InventoryResource {
  const row = parseRow(raw);
  const props = row.properties ?? {};
  const type = registryType(row.type);
  // The ARM adapter's converter: publicNetworkAccess in the registry's spelling, a Private Link Service's lists.
  const resource: PrivateLinkResource = toPrivateLinkResource(
    { id: row.id, name: row.name ?? row.id.split("/").at(-1) ?? "", type, location: row.location, sku: row.sku, properties: row.properties },
    type,
  );
  const connections = array(props["privateEndpointConnections"]).map((c) => toPrivateEndpointConnectionFromWire(withNameFromId(c), row.id));
  const apim =
    type === "Microsoft.ApiManagement/service"
      ? { platformVersion: str(props["platformVersion"]), virtualNetworkType: str(props["virtualNetworkType"]) }
      : undefined;
  return { resource, subscriptionId: row.subscriptionId, connections, ...(apim === undefined ? {} : { apim }) };
}

/** One expanded connection (the `connection` column of the pending query) -> PrivateEndpointConnection. */
export function connectionFromWire(connection: unknown, resourceId: string): PrivateEndpointConnection {
  return toPrivateEndpointConnectionFromWire(connection, resourceId);
}

/** A private endpoint's row -> PrivateEndpoint (its (manual)PrivateLinkServiceConnections lifted as the SDK flattens them). */
export function privateEndpointFromRow(raw: unknown): PrivateEndpoint {
  const row = parseRow(raw);
  const props = row.properties ?? {};
  const link = (c: unknown) => {
    const p = properties(c);
    return {
      name: (c as { name?: unknown } | null)?.name,
      privateLinkServiceId: p["privateLinkServiceId"],
      groupIds: p["groupIds"],
      requestMessage: p["requestMessage"],
      privateLinkServiceConnectionState: p["privateLinkServiceConnectionState"],
    };
  };
  return toPrivateEndpoint({
    id: row.id,
    name: row.name,
    location: row.location,
    subnet: props["subnet"],
    networkInterfaces: props["networkInterfaces"],
    customDnsConfigs: props["customDnsConfigs"],
    privateLinkServiceConnections: array(props["privateLinkServiceConnections"]).map(link),
    manualPrivateLinkServiceConnections: array(props["manualPrivateLinkServiceConnections"]).map(link),
    provisioningState: props["provisioningState"],
  });
}

/** A NIC's row -> NetworkInterface. */
export function networkInterfaceFromRow(raw: unknown): NetworkInterface {
  const row = parseRow(raw);
  const props = row.properties ?? {};
  return toNetworkInterface({
    id: row.id,
    ipConfigurations: array(props["ipConfigurations"]).map((c) => ({ privateIPAddress: properties(c)["privateIPAddress"] })),
  });
}
