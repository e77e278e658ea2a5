/**
 * The seed an emulator starts from: tenants, subscriptions, resource groups and the resources in them. Parsed with zod
 * so a broken topology file stops the emulator with a message naming the bad field instead of serving odd state.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { providerOf } from "../../src/domain/providers/registry.ts";

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

const Zones = z.array(z.enum(["1", "2", "3"])).default([]);
const Tags = z.record(z.string(), z.string()).default({});

/** CertificateInformation (apimanagement.json): what APIM shows of a certificate, never the key. */
export const CertificateInformationSchema = z.object({ expiry: z.string().min(1), thumbprint: z.string().min(1), subject: z.string().min(1) });

/**
 * ApiManagementServiceIdentity (apimanagement.json 2024-05-01; ApiManagementCreateServiceWithSystemCertificates,
 * ApiManagementCreateServiceWithUserAssignedIdentity examples): principal ids are generated when not given.
 */
export const ManagedIdentitySchema = z.object({
  type: z.enum(["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"]),
  principalId: Guid.optional(),
  tenantId: Guid.optional(),
  userAssignedIdentities: z.record(z.string().min(1), z.object({ principalId: Guid.optional(), clientId: Guid.optional() })).default({}),
});

/** HostnameConfiguration (ApiManagementCreateMultiRegionServiceWithCustomHostname, ...WithKeyVault examples). */
export const HostnameConfigurationSchema = z.object({
  type: z.enum(["Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi"]),
  hostName: z.string().min(1),
  keyVaultId: z.string().optional(),
  identityClientId: z.string().optional(),
  negotiateClientCertificate: z.boolean().default(false),
  defaultSslBinding: z.boolean().default(false),
  certificateSource: z.enum(["Managed", "KeyVault", "Custom", "BuiltIn"]).default("Custom"),
  certificateStatus: z.enum(["Completed", "Failed", "InProgress"]).optional(),
  certificate: CertificateInformationSchema.optional(),
});

/** VirtualNetworkConfiguration (ApiManagementCreateServiceInVnetWithPublicIP example). */
export const VirtualNetworkConfigurationSchema = z.object({
  subnetResourceId: z.string().min(1),
  vnetid: z.string().optional(),
  subnetname: z.string().optional(),
});

/** AdditionalLocation (ApiManagementCreateMultiRegionServiceWithCustomHostname, ...InZones examples). */
export const AdditionalLocationSchema = z.object({
  location: z.string().min(1),
  sku: z.object({ name: z.string().min(1), capacity: z.number().int().min(0).default(1) }),
  zones: Zones,
  publicIPAddresses: z.array(Ipv4).default([]),
  privateIPAddresses: z.array(Ipv4).default([]),
  publicIpAddressId: z.string().optional(),
  virtualNetworkConfiguration: VirtualNetworkConfigurationSchema.optional(),
  disableGateway: z.boolean().default(false),
  platformVersion: z.string().optional(),
  natGatewayState: z.enum(["Enabled", "Disabled"]).default("Disabled"),
});

export const ApimServiceSchema = z.object({
  name: Name,
  location: z.string().min(1),
  sku: z.object({ name: z.string().min(1), capacity: z.number().int().min(0).default(1) }),
  platformVersion: z.string().default("stv2"),
  virtualNetworkType: z.enum(["None", "External", "Internal"]).default("None"),
  virtualNetworkConfiguration: VirtualNetworkConfigurationSchema.optional(),
  publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
  publisherEmail: z.string().default("apim-admin@contoso.example"),
  publisherName: z.string().default("Contoso"),
  notificationSenderEmail: z.string().default("apimgmt-noreply@mail.windowsazure.com"),
  tags: Tags,
  identity: ManagedIdentitySchema.optional(),
  zones: Zones,
  /** Custom hostnames besides the default `<name>.azure-api.net` Proxy hostname, which is always there. */
  hostnameConfigurations: z.array(HostnameConfigurationSchema).default([]),
  /** CA / root certificates uploaded to the service (CertificateConfiguration). */
  certificates: z.array(z.object({ storeName: z.enum(["CertificateAuthority", "Root"]), certificate: CertificateInformationSchema })).default([]),
  additionalLocations: z.array(AdditionalLocationSchema).default([]),
  publicIpAddressId: z.string().optional(),
  privateEndpointConnections: z.array(ExistingConnectionSchema).default([]),
});

export const SubnetSchema = z.object({ name: Name, addressPrefix: Cidr });

export const VirtualNetworkSchema = z.object({
  name: Name,
  location: z.string().min(1),
  addressPrefixes: z.array(Cidr).min(1),
  subnets: z.array(SubnetSchema).default([]),
  tags: Tags,
});

/**
 * A static IP configuration of a private endpoint (PrivateEndpointIPConfiguration; privateEndpoint.json,
 * PrivateEndpointCreateWithASG / PrivateEndpointCreate examples): the endpoint takes this address instead of the
 * subnet's next free one, and its NIC shows it as Static.
 */
export const PrivateEndpointIpConfigurationSchema = z.object({
  name: Name,
  groupId: z.string().min(1).default("Gateway"),
  memberName: z.string().min(1).default("Gateway"),
  privateIPAddress: Ipv4,
});

/** A private endpoint that exists at start; it gets its NIC, IP and (if the target is in the topology) its connection. */
export const ExistingPrivateEndpointSchema = z.object({
  name: Name,
  location: z.string().min(1),
  subnetId: z.string().min(1),
  privateLinkServiceId: z.string().min(1),
  /** Default Gateway (API Management); [] for a Private Link Service. */
  groupIds: z.array(z.string()).default(["Gateway"]),
  manual: z.boolean().default(true),
  requestMessage: z.string().default(""),
  connectionName: Name.optional(),
  status: ConnectionStatus.optional(),
  description: z.string().optional(),
  tags: Tags,
  ipConfigurations: z.array(PrivateEndpointIpConfigurationSchema).max(1).default([]),
  customNetworkInterfaceName: Name.optional(),
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
  /** virtualNetworkLinkState (privatedns.json 2024-06-01): InProgress while Azure is still linking. */
  virtualNetworkLinkState: z.enum(["InProgress", "Completed"]).default("Completed"),
  tags: Tags,
});

export const PrivateDnsZoneSchema = z.object({
  name: Name,
  tags: Tags,
  aRecords: z.array(ARecordSetSchema).default([]),
  virtualNetworkLinks: z.array(VirtualNetworkLinkSchema).default([]),
});

/**
 * A resource of a registered Private Link type other than API Management (src/domain/providers/registry.ts): a storage
 * account, key vault, SQL server, ... or a Private Link Service. Its shape on GET comes from the type's profile
 * (dev/arm-emulator/private-link-types.ts); the seed names only what differs between resources.
 */
export const PrivateLinkResourceSchema = z
  .object({
    /** ARM type, e.g. "Microsoft.Storage/storageAccounts" (any case; must be registered and not API Management). */
    type: z.string().refine((t) => providerOf(t) !== undefined && providerOf(t)!.resourceType !== "Microsoft.ApiManagement/service", {
      message: "must be a registered Private Link type other than Microsoft.ApiManagement/service (those go in apimServices)",
    }),
    name: Name,
    location: z.string().min(1),
    /** sku.name (Premium for Service Bus and Container Registry, whose private endpoints need it). */
    sku: z.string().min(1).optional(),
    /** Storage: kind (StorageV2, ...); sites: app, functionapp, ... */
    kind: z.string().min(1).optional(),
    /** One of the type's publicNetworkAccess values (default: the type's first, Enabled); not for Private Link Services. */
    publicNetworkAccess: z.string().optional(),
    tags: Tags,
    /** Private Link Service only: properties.visibility.subscriptions ("*" for everyone) and autoApproval.subscriptions. */
    visibility: z.array(z.string()).default([]),
    autoApproval: z.array(z.string()).default([]),
    privateEndpointConnections: z.array(ExistingConnectionSchema.extend({ groupIds: z.array(z.string()).default([]) })).default([]),
  })
  .superRefine((seed, ctx) => {
    const provider = providerOf(seed.type);
    if (provider === undefined) return;
    const shape = provider.publicNetworkAccess;
    if (seed.publicNetworkAccess !== undefined && (shape === undefined || !shape.values.includes(seed.publicNetworkAccess))) {
      ctx.addIssue({
        code: "custom",
        path: ["publicNetworkAccess"],
        message: shape === undefined ? `${provider.resourceType} has no publicNetworkAccess` : `must be one of ${shape.values.join(", ")}`,
      });
    }
    if (provider.resourceType !== "Microsoft.Network/privateLinkServices" && (seed.visibility.length > 0 || seed.autoApproval.length > 0)) {
      ctx.addIssue({ code: "custom", path: ["visibility"], message: "visibility and autoApproval belong to Microsoft.Network/privateLinkServices only" });
    }
  });

export const ResourceGroupSchema = z.object({
  name: Name,
  location: z.string().min(1),
  apimServices: z.array(ApimServiceSchema).default([]),
  virtualNetworks: z.array(VirtualNetworkSchema).default([]),
  privateEndpoints: z.array(ExistingPrivateEndpointSchema).default([]),
  privateDnsZones: z.array(PrivateDnsZoneSchema).default([]),
  /** Resources of the other registered Private Link types (storage accounts, key vaults, ... Private Link Services). */
  privateLinkResources: z.array(PrivateLinkResourceSchema).default([]),
});

export const SubscriptionSchema = z.object({
  id: Guid,
  tenantId: Guid,
  displayName: z.string().default(""),
  /**
   * A subscription Microsoft owns (a Data Factory / Synapse managed virtual network's): its resources exist, but no
   * caller's role assignment reaches it — they are in the customer's tenant, the subscription in Microsoft's — so every
   * request into it is 403 AuthorizationFailed, as a customer sees when reading a managed private endpoint.
   */
  microsoftManaged: z.boolean().default(false),
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
export type PrivateLinkResourceSeed = z.output<typeof PrivateLinkResourceSchema>;
/** A managed identity as a topology or a PATCH gives it (principal ids optional). */
export type TopologyIdentity = {
  readonly type: "SystemAssigned" | "UserAssigned" | "SystemAssigned, UserAssigned" | "None";
  readonly principalId?: string | undefined;
  readonly tenantId?: string | undefined;
  readonly userAssignedIdentities?: Readonly<Record<string, { readonly principalId?: string | undefined; readonly clientId?: string | undefined }>> | undefined;
};

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
