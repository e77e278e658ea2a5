/**
 * The seed an emulator starts from: tenants, subscriptions, resource groups and the resources in them. Parsed with zod
 * so a broken topology file stops the emulator with a message naming the bad field instead of serving odd state.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const Name = z.string().min(1).max(260).regex(/^[^/?#\u0000-\u001f]+$/, "must not contain / ? # or control characters");
const Guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a GUID");
const Ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, "must be an IPv4 address");
const Cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, "must be an IPv4 CIDR prefix");
const ConnectionStatus = z.enum(["Pending", "Approved", "Rejected", "Disconnected"]);

/** A connection that already exists on an APIM instance (its endpoint may live outside the topology). */
export const ExistingConnectionSchema = z.object({
  name: Name,
  privateEndpointId: z.string().min(1),
  status: ConnectionStatus.default("Pending"),
  description: z.string().default(""),
  actionsRequired: z.string().default("None"),
  groupIds: z.array(z.string()).default(["Gateway"]),
});

export const ApimServiceSchema = z.object({
  name: Name,
  location: z.string().min(1),
  sku: z.object({ name: z.string().min(1), capacity: z.number().int().min(0).default(1) }),
  platformVersion: z.string().default("stv2"),
  virtualNetworkType: z.enum(["None", "External", "Internal"]).default("None"),
  publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
  publisherEmail: z.string().default("apim-admin@contoso.example"),
  publisherName: z.string().default("Contoso"),
  tags: z.record(z.string(), z.string()).default({}),
  privateEndpointConnections: z.array(ExistingConnectionSchema).default([]),
});

export const SubnetSchema = z.object({ name: Name, addressPrefix: Cidr });

export const VirtualNetworkSchema = z.object({
  name: Name,
  location: z.string().min(1),
  addressPrefixes: z.array(Cidr).min(1),
  subnets: z.array(SubnetSchema).default([]),
});

/** A private endpoint that exists at start; it gets its NIC, IP and (if the target is in the topology) its connection. */
export const ExistingPrivateEndpointSchema = z.object({
  name: Name,
  location: z.string().min(1),
  subnetId: z.string().min(1),
  privateLinkServiceId: z.string().min(1),
  groupIds: z.array(z.string()).default(["Gateway"]),
  manual: z.boolean().default(true),
  requestMessage: z.string().default(""),
  connectionName: Name.optional(),
  status: ConnectionStatus.optional(),
  description: z.string().optional(),
});

export const ARecordSetSchema = z.object({
  name: Name,
  ttl: z.number().int().min(0).default(3600),
  ipv4Addresses: z.array(Ipv4).default([]),
  metadata: z.record(z.string(), z.string()).default({}),
});

export const VirtualNetworkLinkSchema = z.object({
  name: Name,
  virtualNetworkId: z.string().min(1),
  registrationEnabled: z.boolean().default(false),
});

export const PrivateDnsZoneSchema = z.object({
  name: Name,
  aRecords: z.array(ARecordSetSchema).default([]),
  virtualNetworkLinks: z.array(VirtualNetworkLinkSchema).default([]),
});

export const ResourceGroupSchema = z.object({
  name: Name,
  location: z.string().min(1),
  apimServices: z.array(ApimServiceSchema).default([]),
  virtualNetworks: z.array(VirtualNetworkSchema).default([]),
  privateEndpoints: z.array(ExistingPrivateEndpointSchema).default([]),
  privateDnsZones: z.array(PrivateDnsZoneSchema).default([]),
});

export const SubscriptionSchema = z.object({
  id: Guid,
  tenantId: Guid,
  displayName: z.string().default(""),
  resourceGroups: z.array(ResourceGroupSchema).default([]),
});

export const TopologySchema = z.object({
  tenants: z.array(z.object({ id: Guid, displayName: z.string().default("") })).default([]),
  subscriptions: z.array(SubscriptionSchema).default([]),
});

/** A parsed topology (defaults filled in). */
export type Topology = z.output<typeof TopologySchema>;
/** What a topology file may contain (defaults optional). */
export type TopologyInput = z.input<typeof TopologySchema>;
export type ApimServiceSeed = z.output<typeof ApimServiceSchema>;
export type ExistingPrivateEndpointSeed = z.output<typeof ExistingPrivateEndpointSchema>;
export type PrivateDnsZoneSeed = z.output<typeof PrivateDnsZoneSchema>;
export type VirtualNetworkSeed = z.output<typeof VirtualNetworkSchema>;

/** A topology that fails validation; the message lists every problem with its JSON path. */
export class TopologyError extends Error {
  override readonly name = "TopologyError";
}

/** Validates a topology object; throws one TopologyError listing every problem with its JSON path. */
export function parseTopology(input: unknown): Topology {
  const result = TopologySchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new TopologyError(`Invalid ARM emulator topology:\n${problems.join("\n")}`);
  }
  return result.data;
}

/** Reads and validates a topology JSON file. */
export function loadTopologyFile(path: string): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new TopologyError(`Cannot read ARM emulator topology ${path}: ${(error as Error).message}`);
  }
  return parseTopology(raw);
}
