/**
 * Microsoft.Network: private endpoints, their NICs and private DNS zone groups (privateEndpoint.json,
 * networkInterface.json). PUTs answer 200/201 with `Azure-AsyncOperation` (final-state-via azure-async-operation);
 * DELETE answers 202 with `Location` and `Azure-AsyncOperation`, 204 when there is nothing to delete.
 */
import { z } from "zod";
import { providerOf } from "../../../src/domain/providers/registry.ts";
import { ArmError } from "../errors.ts";
import { operationStatusBody, type Operation } from "../lro.ts";
import {
  defineRoute,
  pageOf,
  param,
  parseBody,
  pollingHeaders,
  publishActivity,
  type ArmRequest,
  type ArmResponse,
  type EmulatorEnv,
  type Route,
} from "../routing.ts";
import type { DnsZoneGroupRecord, EndpointLinkRecord, NetworkInterfaceRecord, PrivateEndpointRecord, VirtualNetworkRecord } from "../state.ts";

const RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network";
const ENDPOINT = `${RG}/privateEndpoints/{privateEndpointName}`;
const OPERATIONS = "/subscriptions/{subscriptionId}/providers/Microsoft.Network/locations/{location}";

function linkView(link: EndpointLinkRecord): unknown {
  return {
    id: link.id,
    name: link.name,
    etag: `W/"${guidFrom(`${link.id}/${link.status}`)}"`,
    type: `Microsoft.Network/privateEndpoints/${link.manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections"}`,
    properties: {
      provisioningState: "Succeeded",
      privateLinkServiceId: link.privateLinkServiceId,
      groupIds: [...link.groupIds],
      requestMessage: link.requestMessage,
      privateLinkServiceConnectionState: { status: link.status, description: link.description, actionsRequired: link.actionsRequired },
    },
  };
}

/** The JSON of a private endpoint as GET privateEndpoints/{name} returns it. */
export function privateEndpointView(pe: PrivateEndpointRecord): unknown {
  return {
    name: pe.name,
    id: pe.id,
    etag: pe.etag,
    type: "Microsoft.Network/privateEndpoints",
    location: pe.location,
    tags: { ...pe.tags },
    properties: {
      provisioningState: pe.provisioningState,
      resourceGuid: guidFrom(pe.id),
      privateLinkServiceConnections: pe.links.filter((l) => !l.manual).map(linkView),
      manualPrivateLinkServiceConnections: pe.links.filter((l) => l.manual).map(linkView),
      subnet: { id: pe.subnetId },
      networkInterfaces: [{ id: pe.networkInterfaceId }],
      customDnsConfigs: pe.fqdn === undefined ? [] : [{ fqdn: pe.fqdn, ipAddresses: [pe.privateIpAddress] }],
      applicationSecurityGroups: [],
      ipConfigurations: pe.ipConfigurations.map((c) => ({
        name: c.name,
        id: `${pe.id}/ipConfigurations/${c.name}`,
        etag: pe.etag,
        type: "Microsoft.Network/privateEndpoints/ipConfigurations",
        properties: { groupId: c.groupId, memberName: c.memberName, privateIPAddress: c.privateIPAddress },
      })),
      customNetworkInterfaceName: pe.customNetworkInterfaceName ?? "",
      ipVersionType: "IPv4",
    },
  };
}

/** The JSON of a private endpoint's NIC as GET networkInterfaces/{name} returns it. */
export function networkInterfaceView(nic: NetworkInterfaceRecord): unknown {
  const ipConfigName = nic.ipConfigurationName ?? `privateEndpointIpConfig.${guidFrom(nic.id)}`;
  return {
    name: nic.name,
    id: nic.id,
    etag: nic.etag,
    type: "Microsoft.Network/networkInterfaces",
    location: nic.location,
    kind: "Regular",
    properties: {
      provisioningState: "Succeeded",
      resourceGuid: guidFrom(`${nic.id}/guid`),
      ipConfigurations: [
        {
          name: ipConfigName,
          id: `${nic.id}/ipConfigurations/${ipConfigName}`,
          etag: nic.etag,
          type: "Microsoft.Network/networkInterfaces/ipConfigurations",
          properties: {
            provisioningState: "Succeeded",
            privateIPAddress: nic.privateIpAddress,
            privateIPAllocationMethod: nic.privateIPAllocationMethod,
            subnet: { id: nic.subnetId },
            primary: true,
            privateIPAddressVersion: "IPv4",
            privateLinkConnectionProperties: { groupId: nic.groupId, requiredMemberName: nic.groupId, fqdns: nic.fqdn === undefined ? [] : [nic.fqdn] },
          },
        },
      ],
      dnsSettings: { dnsServers: [], appliedDnsServers: [] },
      macAddress: "",
      enableAcceleratedNetworking: false,
      vnetEncryptionSupported: false,
      enableIPForwarding: false,
      disableTcpStateTracking: false,
      hostedWorkloads: [],
      tapConfigurations: [],
      privateEndpoint: { id: nic.privateEndpointId },
      nicType: "Standard",
      allowPort25Out: true,
      auxiliaryMode: "None",
      auxiliarySku: "None",
    },
  };
}

/**
 * A virtual network as GET virtualNetworks/{name} returns it (virtualNetwork.json, VirtualNetworkGet example): address
 * space, tags and subnets with the private endpoints in each.
 */
export function virtualNetworkView(env: EmulatorEnv, vnet: VirtualNetworkRecord): unknown {
  const endpoints = [...env.state.privateEndpoints.values()];
  return {
    name: vnet.name,
    id: vnet.id,
    etag: `W/"${guidFrom(`${vnet.id}/etag`)}"`,
    type: "Microsoft.Network/virtualNetworks",
    location: vnet.location,
    tags: { ...vnet.tags },
    properties: {
      provisioningState: "Succeeded",
      resourceGuid: guidFrom(vnet.id),
      addressSpace: { addressPrefixes: [...vnet.addressPrefixes] },
      subnets: [...vnet.subnets.values()].map((subnet) => ({
        name: subnet.name,
        id: subnet.id,
        etag: `W/"${guidFrom(`${subnet.id}/etag`)}"`,
        type: "Microsoft.Network/virtualNetworks/subnets",
        properties: {
          provisioningState: "Succeeded",
          addressPrefix: subnet.addressPrefix,
          privateEndpoints: endpoints.filter((pe) => pe.subnetId.toLowerCase() === subnet.id.toLowerCase()).map((pe) => ({ id: pe.id })),
          privateEndpointNetworkPolicies: "Disabled",
          privateLinkServiceNetworkPolicies: "Enabled",
          delegations: [],
        },
      })),
      virtualNetworkPeerings: [],
      enableDdosProtection: false,
    },
  };
}

function zoneGroupView(env: EmulatorEnv, pe: PrivateEndpointRecord, group: DnsZoneGroupRecord): unknown {
  const recordName = env.state.recordNameFor(pe);
  return {
    name: group.name,
    id: group.id,
    etag: `W/"${guidFrom(`${group.id}/${group.provisioningState}`)}"`,
    properties: {
      provisioningState: group.provisioningState,
      privateDnsZoneConfigs: group.privateDnsZoneIds.map((zoneId) => {
        const zoneName = zoneId.split("/").pop() ?? "";
        const configName = zoneName.replace(/\./g, "-");
        return {
          name: configName,
          id: `${group.id}/privateDnsZoneConfigs/${configName}`,
          properties: {
            privateDnsZoneId: zoneId,
            recordSets: [
              { recordType: "A", recordSetName: recordName, fqdn: `${recordName}.${zoneName}`, ttl: 10, ipAddresses: [pe.privateIpAddress], provisioningState: "Succeeded" },
            ],
          },
        };
      }),
    },
  };
}

/** A GUID-shaped string derived from a seed, so a resource's resourceGuid is stable across GETs. */
function guidFrom(seed: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const ch of seed.toLowerCase()) {
    h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16777619) >>> 0;
    h2 = Math.imul(h2 + ch.charCodeAt(0), 2246822519) >>> 0;
  }
  const hex = (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).repeat(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function endpointOf(request: ArmRequest, env: EmulatorEnv): PrivateEndpointRecord {
  return env.state.requirePrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "privateEndpointName"));
}

function asyncOperationUrl(request: ArmRequest, env: EmulatorEnv, location: string, operation: Operation): string {
  return `${env.baseUrl}/subscriptions/${param(request, "subscriptionId")}/providers/Microsoft.Network/locations/${encodeURIComponent(location)}/operations/${operation.id}?api-version=${request.apiVersion}`;
}

function operationResultUrl(request: ArmRequest, env: EmulatorEnv, location: string, operation: Operation): string {
  return `${env.baseUrl}/subscriptions/${param(request, "subscriptionId")}/providers/Microsoft.Network/locations/${encodeURIComponent(location)}/operationResults/${operation.id}?api-version=${request.apiVersion}`;
}

const ReadOnly = z.unknown().optional();

/**
 * PrivateLinkServiceConnection (privateEndpoint.json): name, id and properties {privateLinkServiceId, groupIds,
 * requestMessage, privateLinkServiceConnectionState}; type, etag and provisioningState are read-only. The Network RP
 * refuses members it does not know (400 InvalidRequestFormat, "Could not find member ...").
 */
const LinkRequestSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().min(1).optional(),
    type: ReadOnly,
    etag: ReadOnly,
    properties: z
      .object({
        privateLinkServiceId: z.string().min(1),
        // Required for every target but a Private Link Service, which takes none (checked against the target).
        groupIds: z.array(z.string().min(1)).optional(),
        requestMessage: z.string().max(140).optional(),
        privateLinkServiceConnectionState: z
          .object({ status: z.string().optional(), description: z.string().optional(), actionsRequired: z.string().optional() })
          .strict()
          .optional(),
        provisioningState: ReadOnly,
      })
      .strict(),
  })
  .strict();

/** PrivateEndpointIPConfiguration (privateEndpoint.json; PrivateEndpointCreateWithASG example): a static address. */
const IpConfigurationSchema = z
  .object({
    name: z.string().min(1).max(80),
    type: ReadOnly,
    etag: ReadOnly,
    properties: z
      .object({
        groupId: z.string().min(1),
        memberName: z.string().min(1),
        privateIPAddress: z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/, "must be an IPv4 address"),
      })
      .strict(),
  })
  .strict();

/**
 * PrivateEndpoint (privateEndpoint.json 2026-01-01 and PrivateEndpointCreate* examples). Read-only members a client
 * may echo from a GET are accepted and ignored; writable members the emulator does not model (customDnsConfigs,
 * applicationSecurityGroups, extendedLocation) are refused when non-empty rather than accepted and dropped.
 */
const PrivateEndpointPutSchema = z
  .object({
    id: z.string().optional(),
    name: ReadOnly,
    type: ReadOnly,
    etag: ReadOnly,
    location: z.string().min(1).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    extendedLocation: z.unknown().optional(),
    properties: z
      .object({
        subnet: z.object({ id: z.string().min(1) }).passthrough(),
        privateLinkServiceConnections: z.array(LinkRequestSchema).optional(),
        manualPrivateLinkServiceConnections: z.array(LinkRequestSchema).optional(),
        customNetworkInterfaceName: z.string().min(1).max(80).optional(),
        ipConfigurations: z.array(IpConfigurationSchema).max(1, "API Management's Gateway group has one member: at most one IP configuration").optional(),
        ipVersionType: z.enum(["IPv4", "IPv6", "DualStack"]).optional(),
        customDnsConfigs: z.array(z.unknown()).optional(),
        applicationSecurityGroups: z.array(z.unknown()).optional(),
        networkInterfaces: ReadOnly,
        provisioningState: ReadOnly,
        resourceGuid: ReadOnly,
        privateEndpointLocation: ReadOnly,
      })
      .strict(),
  })
  .strict();

/** Network's answer to a second write while an operation on the endpoint runs: retry later (429, Retry-After). */
function refuseWhileEndpointBusy(env: EmulatorEnv, pe: PrivateEndpointRecord, verb: "PUT" | "DELETE"): void {
  const running = env.operations.inFlightOn(pe.id, { includeChildren: true });
  if (!running) return;
  const retryAfter = Math.max(1, Math.ceil((running.dueAt - Date.now()) / 1000));
  if (verb === "PUT") {
    throw new ArmError(
      429,
      "RetryableErrorDueToAnotherOperation",
      `Operation PutPrivateEndpoint on ${pe.id} cannot be performed because another operation (${running.id}) is updating the resource. The call can be retried in ${retryAfter} seconds.`,
      { headers: { "Retry-After": String(retryAfter) } },
    );
  }
  throw new ArmError(
    409,
    "AnotherOperationInProgress",
    `Operation DeletePrivateEndpoint on ${pe.id} failed: another operation (${running.id}) on this or a dependent resource is in progress.`,
  );
}

function putPrivateEndpoint(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const body = parseBody(PrivateEndpointPutSchema, request, "network");
  if (body.location === undefined) throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
  const unmodelled = [
    ...(body.extendedLocation !== undefined ? ["extendedLocation"] : []),
    ...((body.properties.customDnsConfigs ?? []).length > 0 ? ["properties.customDnsConfigs"] : []),
    ...((body.properties.applicationSecurityGroups ?? []).length > 0 ? ["properties.applicationSecurityGroups"] : []),
  ];
  if (unmodelled.length > 0) {
    throw new ArmError(
      400,
      "PropertyChangeNotEmulated",
      `The ARM emulator does not model ${unmodelled.map((k) => `'${k}'`).join(", ")} of a private endpoint; Azure would apply it. Refused rather than accepted and dropped.`,
      { target: unmodelled[0]! },
    );
  }
  const existing = env.state.findPrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "privateEndpointName"));
  if (existing) refuseWhileEndpointBusy(env, existing, "PUT");
  const auto = body.properties.privateLinkServiceConnections ?? [];
  const manual = body.properties.manualPrivateLinkServiceConnections ?? [];
  if (auto.length > 0 && manual.length > 0) {
    throw new ArmError(
      400,
      "PrivateEndpointCannotHaveBothManualAndAutoConnections",
      "A private endpoint can have either privateLinkServiceConnections or manualPrivateLinkServiceConnections, not both.",
    );
  }
  const name = param(request, "privateEndpointName");
  const requests = (manual.length > 0 ? manual : auto).map((link) => ({
    name: link.name ?? name,
    privateLinkServiceId: link.properties.privateLinkServiceId,
    groupIds: link.properties.groupIds ?? [],
    requestMessage: link.properties.requestMessage ?? "",
  }));
  const { pe, created } = env.state.putPrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), name, {
    location: body.location,
    subnetId: body.properties.subnet.id,
    manual: manual.length > 0,
    connections: requests,
    tags: body.tags ?? {},
    customNetworkInterfaceName: body.properties.customNetworkInterfaceName,
    ipConfigurations: (body.properties.ipConfigurations ?? []).map((c) => ({ name: c.name, ...c.properties })),
  });
  const operation = env.operations.start(
    pe.id,
    () => {
      pe.provisioningState = "Succeeded";
      publishActivity(env, request, { operationName: "Microsoft.Network/privateEndpoints/write", resourceId: pe.id, kind: "write", created });
      if (!created) return;
      publishActivity(env, request, { operationName: "Microsoft.Network/networkInterfaces/write", resourceId: pe.networkInterfaceId, kind: "write", created });
      if (env.options.providerProxyEvents) publishProxyEvents(env, request, pe, "write");
    },
    () => ({ status: 200, body: privateEndpointView(pe) }),
  );
  return {
    status: created ? 201 : 200,
    body: privateEndpointView(pe),
    headers: pollingHeaders(env, { "Azure-AsyncOperation": asyncOperationUrl(request, env, pe.location, operation) }),
  };
}

/**
 * The provider-side proxy events Azure may emit in the APIM subscription (undocumented: an inference, off by default
 * so that the engine's sweep is what finds new Pending connections).
 */
function publishProxyEvents(env: EmulatorEnv, request: ArmRequest, pe: PrivateEndpointRecord, verb: "write" | "delete"): void {
  for (const link of pe.links) {
    if (!link.providerConnectionId) continue;
    const proxyId = link.providerConnectionId.replace(/\/privateEndpointConnections\//i, "/privateEndpointConnectionProxies/");
    const ownerType = /\/providers\/([^/]+\/[^/]+)\/[^/]+\/privateEndpointConnections\//i.exec(link.providerConnectionId)?.[1] ?? "Microsoft.ApiManagement/service";
    publishActivity(env, request, {
      operationName: `${providerOf(ownerType)?.resourceType ?? ownerType}/privateEndpointConnectionProxies/${verb}`,
      resourceId: proxyId,
      kind: verb,
      ...(verb === "write" ? { created: true } : {}),
    });
  }
}

function deletePrivateEndpoint(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const pe = env.state.findPrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "privateEndpointName"));
  if (!pe) return { status: 204 };
  refuseWhileEndpointBusy(env, pe, "DELETE");
  pe.provisioningState = "Deleting";
  const operation = env.operations.start(
    pe.id,
    () => {
      if (!env.state.privateEndpoints.has(pe.id.toLowerCase())) return;
      env.state.deletePrivateEndpoint(pe);
      publishActivity(env, request, { operationName: "Microsoft.Network/privateEndpoints/delete", resourceId: pe.id, kind: "delete" });
      publishActivity(env, request, { operationName: "Microsoft.Network/networkInterfaces/delete", resourceId: pe.networkInterfaceId, kind: "delete" });
      if (env.options.providerProxyEvents) publishProxyEvents(env, request, pe, "delete");
    },
    () => ({ status: 204 }),
  );
  return {
    status: 202,
    headers: pollingHeaders(env, {
      Location: operationResultUrl(request, env, pe.location, operation),
      "Azure-AsyncOperation": asyncOperationUrl(request, env, pe.location, operation),
    }),
  };
}

/** PrivateDnsZoneGroup (privateEndpoint.json; PrivateEndpointDnsZoneGroupCreate example); unknown members refused. */
const ZoneGroupPutSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    etag: z.unknown().optional(),
    properties: z
      .object({
        privateDnsZoneConfigs: z
          .array(
            z
              .object({
                id: z.unknown().optional(),
                name: z.string().optional(),
                properties: z.object({ privateDnsZoneId: z.string().min(1), recordSets: z.unknown().optional() }).strict(),
              })
              .strict(),
          )
          .min(1),
        provisioningState: z.unknown().optional(),
      })
      .strict(),
  })
  .strict();

function putZoneGroup(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const pe = endpointOf(request, env);
  const body = parseBody(ZoneGroupPutSchema, request, "network");
  const running = env.operations.inFlightOn(pe.id, { includeChildren: true });
  if (running) {
    throw new ArmError(
      409,
      "AnotherOperationInProgress",
      `Operation PutPrivateDnsZoneGroup on ${pe.id}/privateDnsZoneGroups/${param(request, "privateDnsZoneGroupName")} failed: another operation (${running.id}) on this or a dependent resource is in progress.`,
    );
  }
  const zoneIds = body.properties.privateDnsZoneConfigs.map((c) => c.properties.privateDnsZoneId);
  const { group, created } = env.state.putDnsZoneGroup(pe, param(request, "privateDnsZoneGroupName"), zoneIds);
  const operation = env.operations.start(
    group.id,
    () => {
      group.provisioningState = "Succeeded";
      publishActivity(env, request, { operationName: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/write", resourceId: group.id, kind: "write", created });
    },
    () => ({ status: 200, body: zoneGroupView(env, pe, group) }),
  );
  return {
    status: created ? 201 : 200,
    body: zoneGroupView(env, pe, group),
    headers: pollingHeaders(env, { "Azure-AsyncOperation": asyncOperationUrl(request, env, pe.location, operation) }),
  };
}

function getZoneGroup(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const pe = endpointOf(request, env);
  const name = param(request, "privateDnsZoneGroupName");
  const group = pe.dnsZoneGroups.get(name.toLowerCase());
  if (!group) throw new ArmError(404, "NotFound", `Resource ${pe.id}/privateDnsZoneGroups/${name} not found.`);
  return { status: 200, body: zoneGroupView(env, pe, group) };
}

/**
 * Azure-AsyncOperation polling: always 200 with the operation status (ARM RPC async operations: id, name, status,
 * startTime, endTime once over; a failed operation carries its error).
 */
function pollAsyncOperation(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const operation = env.operations.get(param(request, "operationId"));
  if (!operation) throw new ArmError(404, "NotFound", `Operation ${param(request, "operationId")} was not found.`);
  const body = operationStatusBody(operation, request.path);
  return { status: 200, body, headers: operation.status === "InProgress" ? pollingHeaders(env, {}) : {} };
}

/** Location polling: 202 while running, then the final result (204 for deletes). */
function pollOperationResult(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const operation = env.operations.get(param(request, "operationId"));
  if (!operation) throw new ArmError(404, "NotFound", `Operation ${param(request, "operationId")} was not found.`);
  if (operation.status === "InProgress") {
    const self = `${env.baseUrl}${request.path}?api-version=${request.apiVersion}`;
    return { status: 202, headers: pollingHeaders(env, { Location: self }) };
  }
  if (operation.status === "Failed") throw operation.error!;
  return operation.finalResult();
}

/** Every Microsoft.Network route the emulator serves (Private DNS lives in private-dns.ts). */
export const networkRoutes: readonly Route[] = [
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateEndpoints", "Microsoft.Network/privateEndpoints", {
    GET: (request, env) => ({ status: 200, body: pageOf(env.state.listPrivateEndpoints(param(request, "subscriptionId")).map(privateEndpointView), request, env) }),
  }),
  defineRoute(`${RG}/privateEndpoints`, "Microsoft.Network/privateEndpoints", {
    GET: (request, env) => ({
      status: 200,
      body: pageOf(env.state.listPrivateEndpoints(param(request, "subscriptionId"), param(request, "resourceGroupName")).map(privateEndpointView), request, env),
    }),
  }),
  defineRoute(ENDPOINT, "Microsoft.Network/privateEndpoints", {
    GET: (request, env) => ({ status: 200, body: privateEndpointView(endpointOf(request, env)) }),
    PUT: putPrivateEndpoint,
    DELETE: deletePrivateEndpoint,
  }),
  defineRoute(`${ENDPOINT}/privateDnsZoneGroups`, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", {
    GET: (request, env) => {
      const pe = endpointOf(request, env);
      return { status: 200, body: pageOf([...pe.dnsZoneGroups.values()].map((g) => zoneGroupView(env, pe, g)), request, env) };
    },
  }),
  defineRoute(`${ENDPOINT}/privateDnsZoneGroups/{privateDnsZoneGroupName}`, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", { GET: getZoneGroup, PUT: putZoneGroup }),
  defineRoute(`${RG}/virtualNetworks/{virtualNetworkName}`, "Microsoft.Network/virtualNetworks", {
    GET: (request, env) => ({
      status: 200,
      body: virtualNetworkView(env, env.state.requireVirtualNetwork(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "virtualNetworkName"))),
    }),
  }),
  defineRoute(`${RG}/networkInterfaces/{networkInterfaceName}`, "Microsoft.Network/networkInterfaces", {
    GET: (request, env) => ({
      status: 200,
      body: networkInterfaceView(env.state.requireNetworkInterface(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "networkInterfaceName"))),
    }),
  }),
  defineRoute(`${OPERATIONS}/operations/{operationId}`, "Microsoft.Network/locations/operations", { GET: pollAsyncOperation }),
  defineRoute(`${OPERATIONS}/operationResults/{operationId}`, "Microsoft.Network/locations/operations", { GET: pollOperationResult }),
];
