/**
 * ARM resource IDs: parsing, formatting and case-insensitive comparison.
 *
 * ARM compares names case-insensitively, so every comparison of IDs in Portcullis goes through
 * `sameResourceId` / `resourceIdKey` rather than `===`.
 */

export interface ApimServiceRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly serviceName: string;
}

export interface ConnectionRef extends ApimServiceRef {
  readonly connectionName: string;
}

export interface PrivateEndpointRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly privateEndpointName: string;
}

/** A parsed resource ID: subscription, resource group and the provider type/name pairs. */
export interface ParsedResourceId {
  readonly subscriptionId: string;
  readonly resourceGroup: string | undefined;
  /** e.g. "Microsoft.ApiManagement" */
  readonly provider: string | undefined;
  /** [type, name] pairs after the provider, e.g. [["service","apim1"],["privateEndpointConnections","c1"]] */
  readonly segments: readonly (readonly [string, string])[];
}

const NAME_SEGMENT = /^[^/\u0000-\u001f]{1,260}$/;

/** Parses `/subscriptions/{id}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]*`. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  if (typeof id !== "string" || !id.startsWith("/")) return undefined;
  const parts = id.split("/").slice(1);
  if (parts.some((p) => !NAME_SEGMENT.test(p) || p === "." || p === "..")) return undefined;
  if (parts.length < 2 || parts[0]!.toLowerCase() !== "subscriptions") return undefined;
  const subscriptionId = parts[1]!;
  if (parts.length === 2) return { subscriptionId, resourceGroup: undefined, provider: undefined, segments: [] };
  if (parts[2]!.toLowerCase() !== "resourcegroups" || parts.length < 4) return undefined;
  const resourceGroup = parts[3]!;
  if (parts.length === 4) return { subscriptionId, resourceGroup, provider: undefined, segments: [] };
  if (parts[4]!.toLowerCase() !== "providers" || parts.length < 6) return undefined;
  const provider = parts[5]!;
  const rest = parts.slice(6);
  if (rest.length === 0 || rest.length % 2 !== 0) return undefined;
  const segments: (readonly [string, string])[] = [];
  for (let i = 0; i < rest.length; i += 2) segments.push([rest[i]!, rest[i + 1]!]);
  return { subscriptionId, resourceGroup, provider, segments };
}

function matchesType(parsed: ParsedResourceId, provider: string, types: readonly string[]): boolean {
  return (
    parsed.resourceGroup !== undefined &&
    parsed.provider?.toLowerCase() === provider.toLowerCase() &&
    parsed.segments.length === types.length &&
    parsed.segments.every(([type], i) => type.toLowerCase() === types[i]!.toLowerCase())
  );
}

/** A top-level resource of one type, e.g. ("Microsoft.Network", "networkInterfaces"): the parts an SDK get call takes. */
export function parseTopLevelResourceId(
  id: string,
  provider: string,
  type: string,
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const p = parseResourceId(id);
  if (!p || !matchesType(p, provider, [type])) return undefined;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup!, name: p.segments[0]![1] };
}

export function parseApimServiceId(id: string): ApimServiceRef | undefined {
  const p = parseResourceId(id);
  if (!p || !matchesType(p, "Microsoft.ApiManagement", ["service"])) return undefined;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup!, serviceName: p.segments[0]![1] };
}

export function parsePrivateEndpointId(id: string): PrivateEndpointRef | undefined {
  const p = parseResourceId(id);
  if (!p || !matchesType(p, "Microsoft.Network", ["privateEndpoints"])) return undefined;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup!, privateEndpointName: p.segments[0]![1] };
}

export function apimServiceId(ref: ApimServiceRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.ApiManagement/service/${ref.serviceName}`;
}

export function connectionId(ref: ConnectionRef): string {
  return `${apimServiceId(ref)}/privateEndpointConnections/${ref.connectionName}`;
}

export function privateEndpointId(ref: PrivateEndpointRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Network/privateEndpoints/${ref.privateEndpointName}`;
}

/** The canonical form used as a map key and in Table Storage keys: lower-case, no trailing slash. */
export function resourceIdKey(id: string): string {
  return id.replace(/\/+$/, "").toLowerCase();
}

export function sameResourceId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && resourceIdKey(a) === resourceIdKey(b);
}


/** A private endpoint connection on any registered provider type, e.g. a storage account's or a vault's. */
export interface ProviderConnectionRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** ARM type of the owning resource as the ID spells it, e.g. "Microsoft.Storage/storageAccounts". */
  readonly resourceType: string;
  /** ARM ID of the owning resource. */
  readonly resourceId: string;
  readonly connectionName: string;
}

/** The ARM type of a top-level resource ID ("{provider}/{type}"), or undefined for anything else. */
export function resourceTypeOf(id: string): string | undefined {
  const p = parseResourceId(id);
  if (!p || p.resourceGroup === undefined || p.provider === undefined || p.segments.length !== 1) return undefined;
  return `${p.provider}/${p.segments[0]![0]}`;
}

/**
 * `{resourceId}/privateEndpointConnections/{name}` where the resource is top-level and of a type `isGoverned` accepts
 * (pass the registry's lookup). Undefined for any other ID.
 */
export function parseProviderConnectionId(id: string, isGoverned: (resourceType: string) => boolean): ProviderConnectionRef | undefined {
  const p = parseResourceId(id);
  if (!p || p.resourceGroup === undefined || p.provider === undefined || p.segments.length !== 2) return undefined;
  const [[type, name], [child, connectionName]] = p.segments as readonly [readonly [string, string], readonly [string, string]];
  if (child.toLowerCase() !== "privateendpointconnections") return undefined;
  const resourceType = `${p.provider}/${type}`;
  if (!isGoverned(resourceType)) return undefined;
  const resourceId = `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/${p.provider}/${type}/${name}`;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, resourceType, resourceId, connectionName };
}
