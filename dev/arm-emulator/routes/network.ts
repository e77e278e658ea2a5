/**
 * Microsoft.Network: private endpoints, their NICs and private DNS zone groups (privateEndpoint.json,
 * networkInterface.json). PUTs answer 200/201 with `Azure-AsyncOperation` (final-state-via azure-async-operation);
 * DELETE answers 202 with `Location` and `Azure-AsyncOperation`, 204 when there is nothing to delete.
 */
import { z } from "zod";
import { ArmError } from "../errors.ts";
import type { Operation } from "../lro.ts";
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
import type { DnsZoneGroupRecord, EndpointLinkRecord, NetworkInterfaceRecord, PrivateEndpointRecord } from "../state.ts";

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
      ipConfigurations: [],
      customNetworkInterfaceName: pe.customNetworkInterfaceName ?? "",
      ipVersionType: "IPv4",
    },
  };
}

/** The JSON of a private endpoint's NIC as GET networkInterfaces/{name} returns it. */
export function networkInterfaceView(nic: NetworkInterfaceRecord): unknown {
  const ipConfigName = `privateEndpointIpConfig.${guidFrom(nic.id)}`;
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
            privateIPAllocationMethod: "Dynamic",
            subnet: { id: nic.subnetId },
            primary: true,
            privateIPAddressVersion: "IPv4",
            privateLinkConnectionProperties: { groupId: "Gateway", requiredMemberName: "Gateway", fqdns: nic.fqdn === undefined ? [] : [nic.fqdn] },
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

const LinkRequestSchema = z
  .object({
    name: z.string().min(1).optional(),
    properties: z
      .object({
        privateLinkServiceId: z.string().min(1),
        groupIds: z.array(z.string().min(1)).min(1),
        requestMessage: z.string().max(140).optional(),
      })
      .passthrough(),
  })
  .passthrough();

const PrivateEndpointPutSchema = z
  .object({
    location: z.string().min(1).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    properties: z
      .object({
        subnet: z.object({ id: z.string().min(1) }).passthrough(),
        privateLinkServiceConnections: z.array(LinkRequestSchema).optional(),
        manualPrivateLinkServiceConnections: z.array(LinkRequestSchema).optional(),
        customNetworkInterfaceName: z.string().min(1).max(80).optional(),
      })
      .passthrough(),
  })
  .passthrough();

function putPrivateEndpoint(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const body = parseBody(PrivateEndpointPutSchema, request, "network");
  if (body.location === undefined) throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
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
    groupIds: link.properties.groupIds,
    requestMessage: link.properties.requestMessage ?? "",
  }));
  const { pe, created } = env.state.putPrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), name, {
    location: body.location,
    subnetId: body.properties.subnet.id,
    manual: manual.length > 0,
    connections: requests,
    tags: body.tags ?? {},
    customNetworkInterfaceName: body.properties.customNetworkInterfaceName,
  });
  const operation = env.operations.start(
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
    if (!link.apimConnectionId) continue;
    const proxyId = link.apimConnectionId.replace(/\/privateEndpointConnections\//i, "/privateEndpointConnectionProxies/");
    publishActivity(env, request, {
      operationName: `Microsoft.ApiManagement/service/privateEndpointConnectionProxies/${verb}`,
      resourceId: proxyId,
      kind: verb,
      ...(verb === "write" ? { created: true } : {}),
    });
  }
}

function deletePrivateEndpoint(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const pe = env.state.findPrivateEndpoint(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "privateEndpointName"));
  if (!pe) return { status: 204 };
  pe.provisioningState = "Deleting";
  const operation = env.operations.start(
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

const ZoneGroupPutSchema = z
  .object({
    properties: z
      .object({
        privateDnsZoneConfigs: z
          .array(z.object({ name: z.string().optional(), properties: z.object({ privateDnsZoneId: z.string().min(1) }).passthrough() }).passthrough())
          .min(1),
      })
      .passthrough(),
  })
  .passthrough();

function putZoneGroup(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const pe = endpointOf(request, env);
  const body = parseBody(ZoneGroupPutSchema, request, "network");
  const zoneIds = body.properties.privateDnsZoneConfigs.map((c) => c.properties.privateDnsZoneId);
  const { group, created } = env.state.putDnsZoneGroup(pe, param(request, "privateDnsZoneGroupName"), zoneIds);
  const operation = env.operations.start(
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

/** Azure-AsyncOperation polling: always 200 with `{status}`; a failed operation carries its error. */
function pollAsyncOperation(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const operation = env.operations.get(param(request, "operationId"));
  if (!operation) throw new ArmError(404, "NotFound", `Operation ${param(request, "operationId")} was not found.`);
  if (operation.status === "InProgress") return { status: 200, body: { status: "InProgress" }, headers: pollingHeaders(env, {}) };
  if (operation.status === "Failed") return { status: 200, body: { status: "Failed", error: operation.error!.toBody().error } };
  return { status: 200, body: { status: "Succeeded" } };
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
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateEndpoints", "network", {
    GET: (request, env) => ({ status: 200, body: pageOf(env.state.listPrivateEndpoints(param(request, "subscriptionId")).map(privateEndpointView), request, env) }),
  }),
  defineRoute(`${RG}/privateEndpoints`, "network", {
    GET: (request, env) => ({
      status: 200,
      body: pageOf(env.state.listPrivateEndpoints(param(request, "subscriptionId"), param(request, "resourceGroupName")).map(privateEndpointView), request, env),
    }),
  }),
  defineRoute(ENDPOINT, "network", {
    GET: (request, env) => ({ status: 200, body: privateEndpointView(endpointOf(request, env)) }),
    PUT: putPrivateEndpoint,
    DELETE: deletePrivateEndpoint,
  }),
  defineRoute(`${ENDPOINT}/privateDnsZoneGroups`, "network", {
    GET: (request, env) => {
      const pe = endpointOf(request, env);
      return { status: 200, body: pageOf([...pe.dnsZoneGroups.values()].map((g) => zoneGroupView(env, pe, g)), request, env) };
    },
  }),
  defineRoute(`${ENDPOINT}/privateDnsZoneGroups/{privateDnsZoneGroupName}`, "network", { GET: getZoneGroup, PUT: putZoneGroup }),
  defineRoute(`${RG}/networkInterfaces/{networkInterfaceName}`, "network", {
    GET: (request, env) => ({
      status: 200,
      body: networkInterfaceView(env.state.requireNetworkInterface(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "networkInterfaceName"))),
    }),
  }),
  defineRoute(`${OPERATIONS}/operations/{operationId}`, "network", { GET: pollAsyncOperation }),
  defineRoute(`${OPERATIONS}/operationResults/{operationId}`, "network", { GET: pollOperationResult }),
];
