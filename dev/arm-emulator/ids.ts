/** Builders for the ARM resource IDs the emulator serves, so every ID is spelled one way (canonical casing). */

function resourceGroupId(sub: string, rg: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}`;
}

function providerResourceId(sub: string, rg: string, provider: string, ...typeNamePairs: string[]): string {
  return `${resourceGroupId(sub, rg)}/providers/${provider}/${typeNamePairs.join("/")}`;
}

export function apimServiceId(sub: string, rg: string, name: string): string {
  return providerResourceId(sub, rg, "Microsoft.ApiManagement", "service", name);
}

export function privateEndpointId(sub: string, rg: string, name: string): string {
  return providerResourceId(sub, rg, "Microsoft.Network", "privateEndpoints", name);
}

export function networkInterfaceId(sub: string, rg: string, name: string): string {
  return providerResourceId(sub, rg, "Microsoft.Network", "networkInterfaces", name);
}

export function virtualNetworkId(sub: string, rg: string, name: string): string {
  return providerResourceId(sub, rg, "Microsoft.Network", "virtualNetworks", name);
}

export function privateDnsZoneId(sub: string, rg: string, name: string): string {
  return providerResourceId(sub, rg, "Microsoft.Network", "privateDnsZones", name);
}

/** Lower-cased key under which a resource is stored: ARM compares IDs case-insensitively. */
export function idKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, "");
}

/** Splits `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}...` into its parts (case kept). */
export function splitResourceId(id: string): { subscriptionId: string; resourceGroup: string; provider: string; pairs: [string, string][] } | undefined {
  const parts = id.split("/");
  if (parts[0] !== "" || parts.length < 9) return undefined;
  if (parts[1]?.toLowerCase() !== "subscriptions" || parts[3]?.toLowerCase() !== "resourcegroups" || parts[5]?.toLowerCase() !== "providers") return undefined;
  const rest = parts.slice(7);
  if (rest.length % 2 !== 0 || rest.some((p) => p === "")) return undefined;
  const pairs: [string, string][] = [];
  for (let i = 0; i < rest.length; i += 2) pairs.push([rest[i]!, rest[i + 1]!]);
  return { subscriptionId: parts[2]!, resourceGroup: parts[4]!, provider: parts[6]!, pairs };
}
