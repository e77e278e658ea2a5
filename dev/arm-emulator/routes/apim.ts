/**
 * Microsoft.ApiManagement (2024-05-01): services, their private endpoint connections and private link resources.
 * Shapes follow the published examples (apimanagement.json, apimprivatelink.json); approve/reject, delete and the
 * service PATCH are long-running with `202 + Location`, the Location answering 202 until done and then the result
 * (with lroDelayMs 0 they complete synchronously: 200 + the result, or 204).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ArmError } from "../errors.ts";
import { idKey } from "../ids.ts";
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
import { APIM_GROUP_ID, type ApimServiceRecord, type ConnectionRecord } from "../state.ts";

const SERVICE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}";
const SERVICE_TYPE = "Microsoft.ApiManagement/service";
const CONNECTION_TYPE = "Microsoft.ApiManagement/service/privateEndpointConnections";
const PRIVATE_LINK_RESOURCE_TYPE = "Microsoft.ApiManagement/service/privateLinkResources";

/** The JSON of a connection as GET privateEndpointConnections/{name} returns it. */
export function connectionView(conn: ConnectionRecord): unknown {
  return {
    id: conn.id,
    name: conn.name,
    type: CONNECTION_TYPE,
    properties: {
      privateEndpoint: { id: conn.privateEndpointId },
      privateLinkServiceConnectionState: { status: conn.status, description: conn.description, actionsRequired: conn.actionsRequired },
      provisioningState: conn.provisioningState,
      groupIds: [...conn.groupIds],
    },
  };
}

/** ApiManagementServiceIdentity as GET returns it (ApiManagementCreateServiceWithUserAssignedIdentity example). */
function identityView(identity: NonNullable<ApimServiceRecord["identity"]>): unknown {
  const assigned = Object.entries(identity.userAssignedIdentities);
  return {
    type: identity.type,
    ...(identity.principalId === undefined ? {} : { principalId: identity.principalId }),
    ...(identity.tenantId === undefined ? {} : { tenantId: identity.tenantId }),
    ...(assigned.length === 0 ? {} : { userAssignedIdentities: Object.fromEntries(assigned.map(([id, v]) => [id, { ...v }])) }),
  };
}

function hostnameView(h: ApimServiceRecord["hostnameConfigurations"][number]): unknown {
  return {
    type: h.type,
    hostName: h.hostName,
    ...(h.keyVaultId === undefined ? {} : { keyVaultId: h.keyVaultId }),
    ...(h.identityClientId === undefined ? {} : { identityClientId: h.identityClientId }),
    negotiateClientCertificate: h.negotiateClientCertificate,
    defaultSslBinding: h.defaultSslBinding,
    certificateSource: h.certificateSource,
    ...(h.certificateStatus === undefined ? {} : { certificateStatus: h.certificateStatus }),
    ...(h.certificate === undefined ? {} : { certificate: { ...h.certificate } }),
  };
}

/** VirtualNetworkConfiguration: vnetid and subnetname are read-only and derived from the subnet id when not seeded. */
function virtualNetworkConfigurationView(c: NonNullable<ApimServiceRecord["virtualNetworkConfiguration"]>): unknown {
  const subnetName = /\/subnets\/([^/]+)$/i.exec(c.subnetResourceId)?.[1];
  return {
    subnetResourceId: c.subnetResourceId,
    vnetid: c.vnetid ?? "00000000-0000-0000-0000-000000000000",
    ...(c.subnetname ?? subnetName ? { subnetname: c.subnetname ?? subnetName } : {}),
  };
}

/** Stable fake public IP per service, so repeated GETs agree. */
function publicIpFor(name: string): string {
  const digest = createHash("sha256").update(name.toLowerCase()).digest();
  return `20.${digest[0]! % 200}.${digest[1]!}.${1 + (digest[2]! % 250)}`;
}

/** APIM etags look like `AAAAAAAWN/4=`: a base64 64-bit version counter. */
function serviceEtag(svc: ApimServiceRecord): string {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(svc.etagCounter));
  return buffer.toString("base64");
}

/** The JSON of a service as GET service/{name} returns it. */
export function serviceView(svc: ApimServiceRecord): unknown {
  const host = `${svc.name.toLowerCase()}.azure-api.net`;
  const regionSuffix = svc.location.toLowerCase().replace(/\s+/g, "");
  return {
    id: svc.id,
    name: svc.name,
    type: SERVICE_TYPE,
    tags: { ...svc.tags },
    location: svc.location,
    etag: serviceEtag(svc),
    ...(svc.identity === undefined ? {} : { identity: identityView(svc.identity) }),
    ...(svc.zones.length === 0 ? {} : { zones: [...svc.zones] }),
    properties: {
      publisherEmail: svc.publisherEmail,
      publisherName: svc.publisherName,
      notificationSenderEmail: svc.notificationSenderEmail,
      provisioningState: svc.provisioningState,
      targetProvisioningState: svc.provisioningState === "Succeeded" ? "" : "Succeeded",
      createdAtUtc: svc.createdAtUtc,
      gatewayUrl: `https://${host}`,
      gatewayRegionalUrl: `https://${svc.name.toLowerCase()}-${regionSuffix}-01.regional.azure-api.net`,
      portalUrl: `https://${svc.name.toLowerCase()}.portal.azure-api.net`,
      developerPortalUrl: `https://${svc.name.toLowerCase()}.developer.azure-api.net`,
      managementApiUrl: `https://${svc.name.toLowerCase()}.management.azure-api.net`,
      scmUrl: `https://${svc.name.toLowerCase()}.scm.azure-api.net`,
      hostnameConfigurations: [
        {
          type: "Proxy",
          hostName: host,
          negotiateClientCertificate: false,
          defaultSslBinding: !svc.hostnameConfigurations.some((h) => h.type === "Proxy" && h.defaultSslBinding),
          certificateSource: "BuiltIn",
        },
        ...svc.hostnameConfigurations.map(hostnameView),
      ],
      publicIPAddresses: [publicIpFor(svc.name)],
      ...(svc.publicIpAddressId === undefined ? {} : { publicIpAddressId: svc.publicIpAddressId }),
      ...(svc.virtualNetworkConfiguration === undefined ? {} : { virtualNetworkConfiguration: virtualNetworkConfigurationView(svc.virtualNetworkConfiguration) }),
      additionalLocations: svc.additionalLocations.map((l) => ({
        location: l.location,
        sku: { name: l.sku.name, capacity: l.sku.capacity },
        ...(l.zones.length === 0 ? {} : { zones: [...l.zones] }),
        publicIPAddresses: l.publicIPAddresses.length > 0 ? [...l.publicIPAddresses] : [publicIpFor(`${svc.name}/${l.location}`)],
        ...(l.privateIPAddresses.length === 0 ? {} : { privateIPAddresses: [...l.privateIPAddresses] }),
        ...(l.publicIpAddressId === undefined ? {} : { publicIpAddressId: l.publicIpAddressId }),
        ...(l.virtualNetworkConfiguration === undefined ? {} : { virtualNetworkConfiguration: virtualNetworkConfigurationView(l.virtualNetworkConfiguration) }),
        gatewayRegionalUrl: `https://${svc.name.toLowerCase()}-${l.location.toLowerCase().replace(/\s+/g, "")}-01.regional.azure-api.net`,
        disableGateway: l.disableGateway,
        platformVersion: l.platformVersion ?? svc.platformVersion,
        natGatewayState: l.natGatewayState,
        outboundPublicIPAddresses: [],
      })),
      customProperties: {
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "false",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "false",
      },
      virtualNetworkType: svc.virtualNetworkType,
      certificates: svc.certificates.map((c) => ({ storeName: c.storeName, certificate: { ...c.certificate } })),
      disableGateway: false,
      apiVersionConstraint: {},
      publicNetworkAccess: svc.publicNetworkAccess,
      privateEndpointConnections: [...svc.connections.values()].map(connectionView),
      platformVersion: svc.platformVersion,
      natGatewayState: "Disabled",
    },
    sku: { name: svc.skuName, capacity: svc.skuCapacity },
    systemData: {
      createdBy: "portcullis-emulator",
      createdByType: "Application",
      createdAt: svc.createdAtUtc,
      lastModifiedBy: "portcullis-emulator",
      lastModifiedByType: "Application",
      lastModifiedAt: svc.createdAtUtc,
    },
  };
}

function privateLinkResourceView(svc: ApimServiceRecord): unknown {
  return {
    id: `${svc.id}/privateLinkResources/${APIM_GROUP_ID}`,
    name: APIM_GROUP_ID,
    type: PRIVATE_LINK_RESOURCE_TYPE,
    properties: { groupId: APIM_GROUP_ID, requiredMembers: [APIM_GROUP_ID], requiredZoneNames: ["privatelink.azure-api.net"] },
  };
}

function serviceOf(request: ArmRequest, env: EmulatorEnv): ApimServiceRecord {
  return env.state.requireApimService(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "serviceName"));
}

/** The service's operationresults URL for an operation (the URL APIM's 202s name, per its examples). */
function operationResultsUrl(svc: ApimServiceRecord, operation: Operation, request: ArmRequest, env: EmulatorEnv): string {
  return `${env.baseUrl}${svc.id}/operationresults/${operation.id}?api-version=${request.apiVersion}`;
}

/**
 * `202 + Location` pointing at the service's operationresults URL for this operation (ApiManagementApproveOrReject
 * PrivateEndpointConnection.json, ApiManagementDeletePrivateEndpointConnection.json); the service PATCH also sends
 * `Azure-AsyncOperation` with the same URL (ApiManagementUpdateServicePublisherDetails.json). With no injected
 * latency (lroDelayMs 0, not held) the operation is over at once, and the write is answered the way ARM answers one
 * that completed synchronously: the final result itself (200 + the resource, or 204).
 */
function accepted(
  svc: ApimServiceRecord,
  operation: Operation,
  request: ArmRequest,
  env: EmulatorEnv,
  options: { asyncOperationHeader?: boolean } = {},
): ArmResponse {
  const current = env.operations.get(operation.id);
  if (current?.status === "Succeeded") return current.finalResult();
  if (current?.status === "Failed") throw current.error!;
  const url = operationResultsUrl(svc, operation, request, env);
  const headers: Record<string, string> = { Location: url, ...(options.asyncOperationHeader === true ? { "Azure-AsyncOperation": url } : {}) };
  return { status: 202, body: operationStatusBody(operation, new URL(url).pathname), headers: pollingHeaders(env, headers) };
}

/** 409 while an operation on the same resource runs: APIM serializes writes per resource (DOMAIN.md corrections). */
function refuseWhileRunning(env: EmulatorEnv, resourceId: string, what: string): void {
  const running = env.operations.inFlightOn(resourceId);
  if (!running) return;
  throw new ArmError(
    409,
    "Conflict",
    `Another operation (${running.id}, started ${running.startTime}) is in progress on ${what}. Retry after it completes.`,
  );
}

const Tags = z.record(z.string(), z.string());
const CertificateInfo = z.object({ expiry: z.string(), thumbprint: z.string(), subject: z.string() }).strict();
const HostnameConfiguration = z
  .object({
    type: z.enum(["Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi"]),
    hostName: z.string().min(1),
    keyVaultId: z.string().optional(),
    identityClientId: z.string().optional(),
    encodedCertificate: z.string().optional(),
    certificatePassword: z.string().optional(),
    defaultSslBinding: z.boolean().optional(),
    negotiateClientCertificate: z.boolean().optional(),
    certificate: CertificateInfo.optional(),
    certificateSource: z.enum(["Managed", "KeyVault", "Custom", "BuiltIn"]).optional(),
    certificateStatus: z.enum(["Completed", "Failed", "InProgress"]).optional(),
  })
  .strict();
const Identity = z
  .object({
    type: z.enum(["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"]),
    principalId: z.string().optional(),
    tenantId: z.string().optional(),
    userAssignedIdentities: z.record(z.string(), z.object({ principalId: z.string().optional(), clientId: z.string().optional() }).strict()).optional(),
  })
  .strict();

/** Properties of ApiManagementServiceUpdateProperties (apimanagement.json 2024-05-01) the emulator applies on PATCH. */
const APPLIED_SERVICE_PROPERTIES = {
  publisherEmail: z.string().email().max(100),
  publisherName: z.string().min(1).max(100),
  notificationSenderEmail: z.string().max(100),
  publicNetworkAccess: z.enum(["Enabled", "Disabled"]),
  hostnameConfigurations: z.array(HostnameConfiguration),
} as const;

/** Writable properties the spec lets a PATCH change that the emulator does not model: refused, never dropped. */
const UNMODELLED_SERVICE_PROPERTIES = [
  "publicIpAddressId",
  "configurationApi",
  "virtualNetworkConfiguration",
  "additionalLocations",
  "customProperties",
  "certificates",
  "enableClientCertificate",
  "natGatewayState",
  "disableGateway",
  "virtualNetworkType",
  "apiVersionConstraint",
  "restore",
  "privateEndpointConnections",
  "developerPortalStatus",
  "legacyPortalStatus",
] as const;

/** Read-only properties: a client may send a GET body back; ARM RPC says read-only properties in a request are ignored. */
const READ_ONLY_SERVICE_PROPERTIES = [
  "provisioningState",
  "targetProvisioningState",
  "createdAtUtc",
  "gatewayUrl",
  "gatewayRegionalUrl",
  "portalUrl",
  "developerPortalUrl",
  "managementApiUrl",
  "scmUrl",
  "publicIPAddresses",
  "privateIPAddresses",
  "outboundPublicIPAddresses",
  "platformVersion",
] as const;

const ServicePatchSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    type: z.string().optional(),
    etag: z.string().optional(),
    tags: Tags.optional(),
    identity: Identity.optional(),
    zones: z.array(z.string().regex(/^[1-3]$/, "must be an availability zone '1', '2' or '3'")).optional(),
    sku: z.object({ name: z.enum(["Developer", "Standard", "Premium", "Basic", "Consumption", "Isolated", "BasicV2", "StandardV2", "PremiumV2"]), capacity: z.number().int().min(0) }).strict().optional(),
    properties: z
      .object({
        ...Object.fromEntries(Object.entries(APPLIED_SERVICE_PROPERTIES).map(([k, v]) => [k, v.optional()])),
        ...Object.fromEntries(UNMODELLED_SERVICE_PROPERTIES.map((k) => [k, z.unknown().optional()])),
        ...Object.fromEntries(READ_ONLY_SERVICE_PROPERTIES.map((k) => [k, z.unknown().optional()])),
      })
      .strict()
      .optional(),
  })
  .strict();

type ServicePatch = {
  tags?: Record<string, string>;
  identity?: z.output<typeof Identity>;
  zones?: string[];
  sku?: unknown;
  properties?: {
    publisherEmail?: string;
    publisherName?: string;
    notificationSenderEmail?: string;
    publicNetworkAccess?: "Enabled" | "Disabled";
    hostnameConfigurations?: z.output<typeof HostnameConfiguration>[];
  } & Record<string, unknown>;
};

/** A PATCH never accepts a change and drops it: a writable property the emulator does not model is refused. */
function refuseUnmodelled(patch: ServicePatch): void {
  const unmodelled = [
    ...(patch.sku !== undefined ? ["sku"] : []),
    ...UNMODELLED_SERVICE_PROPERTIES.filter((k) => patch.properties?.[k] !== undefined).map((k) => `properties.${k}`),
  ];
  if (unmodelled.length === 0) return;
  throw new ArmError(
    400,
    "PropertyChangeNotEmulated",
    `The ARM emulator does not model changing ${unmodelled.map((k) => `'${k}'`).join(", ")} of an API Management service; ` +
      "Azure would apply it. Refused rather than accepted and dropped.",
    { target: unmodelled[0]! },
  );
}

function patchService(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const patch = parseBody(ServicePatchSchema, request, "apim") as ServicePatch;
  refuseUnmodelled(patch);
  refuseWhileRunning(env, svc.id, `API Management service '${svc.name}'`);
  const props = patch.properties ?? {};
  const requested = props.publicNetworkAccess;
  if (requested !== undefined) env.state.checkPublicNetworkAccessChange(svc, requested);
  svc.provisioningState = "Updating";
  const operation = env.operations.start(
    svc.id,
    () => {
      svc.provisioningState = "Succeeded";
      if (requested !== undefined) {
        env.state.checkPublicNetworkAccessChange(svc, requested);
        svc.publicNetworkAccess = requested;
      }
      if (props.publisherEmail !== undefined) svc.publisherEmail = props.publisherEmail;
      if (props.publisherName !== undefined) svc.publisherName = props.publisherName;
      if (props.notificationSenderEmail !== undefined) svc.notificationSenderEmail = props.notificationSenderEmail;
      if (props.hostnameConfigurations !== undefined) svc.hostnameConfigurations = props.hostnameConfigurations.map(seedHostname);
      if (patch.tags !== undefined) svc.tags = { ...patch.tags };
      if (patch.zones !== undefined) svc.zones = [...patch.zones];
      if (patch.identity !== undefined) svc.identity = env.state.resolveIdentity(svc.subscriptionId, patch.identity, svc.identity);
      svc.etagCounter += 1;
      publishActivity(env, request, { operationName: "Microsoft.ApiManagement/service/write", resourceId: svc.id, kind: "write", created: false });
    },
    () => ({ status: 200, body: serviceView(svc) }),
  );
  return accepted(svc, operation, request, env, { asyncOperationHeader: true });
}

/** A hostname configuration as PATCH or a topology gives it, in the stored shape. */
function seedHostname(h: z.output<typeof HostnameConfiguration>): ApimServiceRecord["hostnameConfigurations"][number] {
  return {
    type: h.type,
    hostName: h.hostName,
    keyVaultId: h.keyVaultId,
    identityClientId: h.identityClientId,
    negotiateClientCertificate: h.negotiateClientCertificate ?? false,
    defaultSslBinding: h.defaultSslBinding ?? false,
    certificateSource: h.certificateSource ?? (h.keyVaultId !== undefined ? "KeyVault" : "Custom"),
    certificateStatus: h.certificateStatus,
    certificate: h.certificate,
  };
}

/**
 * PrivateEndpointConnectionRequest (definitions.json 2024-05-01): `id` and
 * `properties.privateLinkServiceConnectionState` {status, description, actionsRequired}; nothing else.
 */
const ConnectionPutSchema = z
  .object({
    id: z.string().optional(),
    properties: z
      .object({
        privateLinkServiceConnectionState: z
          .object({
            status: z.enum(["Pending", "Approved", "Rejected"]),
            description: z.string().max(1024).optional(),
            actionsRequired: z.string().optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

function putConnection(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const conn = env.state.requireConnection(svc, param(request, "privateEndpointConnectionName"));
  const body = parseBody(ConnectionPutSchema, request, "apim");
  // APIM reads the connection from the body's id: without it the PUT fails (DOMAIN.md corrections). A body naming
  // another connection than the URL is refused the same way (an inference: nothing published says what APIM does).
  if (body.id === undefined || body.id.trim() === "") {
    throw new ArmError(400, "ApproveOrRejectPrivateEndpointConnectionBadRequest", "Private Endpoint Connection Request ID is unexpected null.", { target: "id" });
  }
  if (idKey(body.id) !== idKey(conn.id)) {
    throw new ArmError(
      400,
      "ApproveOrRejectPrivateEndpointConnectionBadRequest",
      `Private Endpoint Connection Request ID '${body.id}' does not match the connection '${conn.id}' of the request URL.`,
      { target: "id" },
    );
  }
  const { status, description, actionsRequired } = body.properties.privateLinkServiceConnectionState;
  if (status === "Pending") {
    throw new ArmError(400, "ValidationError", "A private endpoint connection can only be set to 'Approved' or 'Rejected'.", {
      target: "privateLinkServiceConnectionState.status",
    });
  }
  refuseWhileRunning(env, conn.id, `private endpoint connection '${conn.name}'`);
  env.state.checkConnectionTransition(conn, status);
  conn.provisioningState = "Updating";
  const operation = env.operations.start(
    conn.id,
    () => {
      if (!svc.connections.has(conn.name.toLowerCase())) {
        throw new ArmError(404, "ResourceNotFound", `Private endpoint connection '${conn.name}' was deleted while it was being updated.`);
      }
      env.state.setConnectionStatus(conn, status, description ?? "", actionsRequired ?? "None");
      publishActivity(env, request, { operationName: `${CONNECTION_TYPE}/write`, resourceId: conn.id, kind: "write", created: false });
    },
    () => ({ status: 200, body: connectionView(conn) }),
  );
  return accepted(svc, operation, request, env);
}

function deleteConnection(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const conn = svc.connections.get(param(request, "privateEndpointConnectionName").toLowerCase());
  if (!conn) return { status: 204 };
  refuseWhileRunning(env, conn.id, `private endpoint connection '${conn.name}'`);
  conn.provisioningState = "Deleting";
  const operation = env.operations.start(
    conn.id,
    () => {
      if (!svc.connections.has(conn.name.toLowerCase())) return;
      env.state.deleteConnection(svc, conn);
      publishActivity(env, request, { operationName: `${CONNECTION_TYPE}/delete`, resourceId: conn.id, kind: "delete" });
    },
    () => ({ status: 204 }),
  );
  return accepted(svc, operation, request, env);
}

/** Location polling: 202 (with the same Location) while running, then the operation's final answer. */
function pollOperation(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const operation = env.operations.get(param(request, "operationId"));
  if (!operation) throw new ArmError(404, "ResourceNotFound", `Operation '${param(request, "operationId")}' was not found.`);
  if (operation.status === "InProgress") return accepted(svc, operation, request, env, { asyncOperationHeader: idKey(operation.resourceId) === idKey(svc.id) });
  if (operation.status === "Failed") throw operation.error!;
  return operation.finalResult();
}

/** OperationStatus_Get (operationStatuses.json 2024-05-01): 200 + OperationStatusResult for any APIM operation. */
function getOperationStatus(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const operation = env.operations.get(param(request, "operationId"));
  if (!operation || !operation.resourceId.toLowerCase().startsWith(`/subscriptions/${param(request, "subscriptionId").toLowerCase()}/`)) {
    throw new ArmError(404, "ResourceNotFound", `Operation '${param(request, "operationId")}' was not found.`);
  }
  return { status: 200, body: operationStatusBody(operation, request.path) };
}

/** Every APIM route the emulator serves. */
export const apimRoutes: readonly Route[] = [
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.ApiManagement/service", "Microsoft.ApiManagement/service", {
    GET: (request, env) => ({ status: 200, body: pageOf(env.state.listApimServices(param(request, "subscriptionId")).map(serviceView), request, env) }),
  }),
  defineRoute("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service", "Microsoft.ApiManagement/service", {
    GET: (request, env) => ({
      status: 200,
      body: pageOf(env.state.listApimServices(param(request, "subscriptionId"), param(request, "resourceGroupName")).map(serviceView), request, env),
    }),
  }),
  defineRoute(SERVICE, "Microsoft.ApiManagement/service", {
    GET: (request, env) => ({ status: 200, body: serviceView(serviceOf(request, env)) }),
    PATCH: patchService,
  }),
  defineRoute(`${SERVICE}/operationresults/{operationId}`, "Microsoft.ApiManagement/service", { GET: pollOperation }),
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.ApiManagement/locations/{location}/operationStatuses/{operationId}", "Microsoft.ApiManagement/service", {
    GET: getOperationStatus,
  }),
  defineRoute(`${SERVICE}/privateEndpointConnections`, "Microsoft.ApiManagement/service/privateEndpointConnections", {
    // x-ms-pageable with nextLinkName null: one page holding every connection.
    GET: (request, env) => ({ status: 200, body: { value: [...serviceOf(request, env).connections.values()].map(connectionView) } }),
  }),
  defineRoute(`${SERVICE}/privateEndpointConnections/{privateEndpointConnectionName}`, "Microsoft.ApiManagement/service/privateEndpointConnections", {
    GET: (request, env) => ({
      status: 200,
      body: connectionView(env.state.requireConnection(serviceOf(request, env), param(request, "privateEndpointConnectionName"))),
    }),
    PUT: putConnection,
    DELETE: deleteConnection,
  }),
  defineRoute(`${SERVICE}/privateLinkResources`, "Microsoft.ApiManagement/service/privateLinkResources", {
    GET: (request, env) => ({ status: 200, body: { value: [privateLinkResourceView(serviceOf(request, env))] } }),
  }),
  defineRoute(`${SERVICE}/privateLinkResources/{privateLinkSubResourceName}`, "Microsoft.ApiManagement/service/privateLinkResources", {
    GET: (request, env) => {
      const svc = serviceOf(request, env);
      const name = param(request, "privateLinkSubResourceName");
      if (name.toLowerCase() !== APIM_GROUP_ID.toLowerCase()) {
        throw new ArmError(404, "ResourceNotFound", `Private link resource '${name}' was not found on API Management service '${svc.name}'.`);
      }
      return { status: 200, body: privateLinkResourceView(svc) };
    },
  }),
];
