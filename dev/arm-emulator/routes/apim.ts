/**
 * Microsoft.ApiManagement (2024-05-01): services, their private endpoint connections and private link resources.
 * Shapes follow the published examples (apimanagement.json, apimprivatelink.json); approve/reject, delete and the
 * service PATCH are long-running with `202 + Location`, the Location answering 202 until done and then the result
 * (with lroDelayMs 0 they complete synchronously: 200 + the result, or 204).
 */
import { createHash } from "node:crypto";
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
    properties: {
      publisherEmail: svc.publisherEmail,
      publisherName: svc.publisherName,
      notificationSenderEmail: "apimgmt-noreply@mail.windowsazure.com",
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
        { type: "Proxy", hostName: host, negotiateClientCertificate: false, defaultSslBinding: true, certificateSource: "BuiltIn" },
      ],
      publicIPAddresses: [publicIpFor(svc.name)],
      customProperties: {
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "false",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "false",
      },
      virtualNetworkType: svc.virtualNetworkType,
      certificates: [],
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

/**
 * `202 + Location` pointing at the service's operationresults URL for this operation. With no injected latency
 * (lroDelayMs 0) the operation is over at once, and the write is answered the way ARM answers one that completed
 * synchronously: the final result itself (200 + the resource, or 204).
 */
function accepted(svc: ApimServiceRecord, operation: Operation, request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const current = env.operations.get(operation.id);
  if (current?.status === "Succeeded") return current.finalResult();
  if (current?.status === "Failed") throw current.error!;
  const location = `${env.baseUrl}${svc.id}/operationresults/${operation.id}?api-version=${request.apiVersion}`;
  return { status: 202, headers: pollingHeaders(env, { Location: location }) };
}

const ServicePatchSchema = z
  .object({
    tags: z.record(z.string(), z.string()).optional(),
    properties: z
      .object({
        publicNetworkAccess: z.enum(["Enabled", "Disabled"]).optional(),
        publisherEmail: z.string().email().optional(),
        publisherName: z.string().min(1).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

function patchService(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const patch = parseBody(ServicePatchSchema, request, "apim");
  const requested = patch.properties?.publicNetworkAccess;
  if (requested !== undefined) env.state.checkPublicNetworkAccessChange(svc, requested);
  svc.provisioningState = "Updating";
  const operation = env.operations.start(
    () => {
      svc.provisioningState = "Succeeded";
      if (requested !== undefined) {
        env.state.checkPublicNetworkAccessChange(svc, requested);
        svc.publicNetworkAccess = requested;
      }
      if (patch.properties?.publisherEmail !== undefined) svc.publisherEmail = patch.properties.publisherEmail;
      if (patch.properties?.publisherName !== undefined) svc.publisherName = patch.properties.publisherName;
      if (patch.tags !== undefined) svc.tags = { ...patch.tags };
      svc.etagCounter += 1;
      publishActivity(env, request, { operationName: "Microsoft.ApiManagement/service/write", resourceId: svc.id, kind: "write", created: false });
    },
    () => ({ status: 200, body: serviceView(svc) }),
  );
  return accepted(svc, operation, request, env);
}

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
          .passthrough(),
      })
      .passthrough(),
  })
  .passthrough();

function putConnection(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const svc = serviceOf(request, env);
  const conn = env.state.requireConnection(svc, param(request, "privateEndpointConnectionName"));
  const { status, description, actionsRequired } = parseBody(ConnectionPutSchema, request, "apim").properties.privateLinkServiceConnectionState;
  if (status === "Pending") {
    throw new ArmError(400, "ValidationError", "A private endpoint connection can only be set to 'Approved' or 'Rejected'.", {
      target: "privateLinkServiceConnectionState.status",
    });
  }
  conn.provisioningState = "Updating";
  const operation = env.operations.start(
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
  conn.provisioningState = "Deleting";
  const operation = env.operations.start(
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
  if (operation.status === "InProgress") return accepted(svc, operation, request, env);
  if (operation.status === "Failed") throw operation.error!;
  return operation.finalResult();
}

/** Every APIM route the emulator serves. */
export const apimRoutes: readonly Route[] = [
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.ApiManagement/service", "apim", {
    GET: (request, env) => ({ status: 200, body: pageOf(env.state.listApimServices(param(request, "subscriptionId")).map(serviceView), request, env) }),
  }),
  defineRoute("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service", "apim", {
    GET: (request, env) => ({
      status: 200,
      body: pageOf(env.state.listApimServices(param(request, "subscriptionId"), param(request, "resourceGroupName")).map(serviceView), request, env),
    }),
  }),
  defineRoute(SERVICE, "apim", {
    GET: (request, env) => ({ status: 200, body: serviceView(serviceOf(request, env)) }),
    PATCH: patchService,
  }),
  defineRoute(`${SERVICE}/operationresults/{operationId}`, "apim", { GET: pollOperation }),
  defineRoute(`${SERVICE}/privateEndpointConnections`, "apim", {
    // x-ms-pageable with nextLinkName null: one page holding every connection.
    GET: (request, env) => ({ status: 200, body: { value: [...serviceOf(request, env).connections.values()].map(connectionView) } }),
  }),
  defineRoute(`${SERVICE}/privateEndpointConnections/{privateEndpointConnectionName}`, "apim", {
    GET: (request, env) => ({
      status: 200,
      body: connectionView(env.state.requireConnection(serviceOf(request, env), param(request, "privateEndpointConnectionName"))),
    }),
    PUT: putConnection,
    DELETE: deleteConnection,
  }),
  defineRoute(`${SERVICE}/privateLinkResources`, "apim", {
    GET: (request, env) => ({ status: 200, body: { value: [privateLinkResourceView(serviceOf(request, env))] } }),
  }),
  defineRoute(`${SERVICE}/privateLinkResources/{privateLinkSubResourceName}`, "apim", {
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
