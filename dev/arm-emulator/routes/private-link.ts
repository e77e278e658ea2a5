/**
 * Every registered Private Link type other than API Management, from one module parameterised by the registry
 * (src/domain/providers/registry.ts) and the emulation profiles (../private-link-types.ts, which cite the spec file and
 * examples each behaviour follows):
 *
 * - the resource: GET (the examples' shape: sku, kind, properties.publicNetworkAccess, the embedded
 *   privateEndpointConnections where the spec embeds them), lists by subscription and resource group, PATCH of
 *   publicNetworkAccess where the spec's update model has it (its enum only);
 * - its private endpoint connections: list (nextLink pages where the spec pages), GET, PUT approve / reject (synchronous
 *   200, or long-running exactly as the spec and examples say: 201 / 202 + Azure-AsyncOperation [+ Location], polled
 *   at URLs ARM authorizes by their own action), DELETE; 409 on a write while an operation on the connection runs;
 *   400 on bodies the spec refuses. The consumer's private endpoint shows the same status (state.ts mirrors it).
 * - provider-side events: `{type}/privateEndpointConnections/write|delete` in the resource's subscription when the
 *   write completes, as for API Management.
 */
import { z } from "zod";
import { emulatedType } from "../api-versions.ts";
import { ArmError } from "../errors.ts";
import { idKey } from "../ids.ts";
import { operationStatusBody, type Operation } from "../lro.ts";
import { connectionTypeOf, PRIVATE_LINK_TYPE_PROFILES, type LongRunningWrite, type PrivateLinkTypeProfile } from "../private-link-types.ts";
import { defineRoute, pageOf, param, pollingHeaders, publishActivity, type ArmRequest, type ArmResponse, type EmulatorEnv, type Route } from "../routing.ts";
import type { ConnectionRecord, LinkStatus, PrivateLinkResourceRecord } from "../state.ts";

const DEFAULT_KIND: Readonly<Record<string, string>> = {
  "Microsoft.Storage/storageAccounts": "StorageV2",
  "Microsoft.Web/sites": "app",
  "Microsoft.DocumentDB/databaseAccounts": "GlobalDocumentDB",
  "Microsoft.Sql/servers": "v12.0",
};

const PRIVATE_LINK_SERVICE = "Microsoft.Network/privateLinkServices";

/** A stable GUID-shaped string from a seed (etags, aliases), so repeated GETs agree. */
function stableGuid(seed: string): string {
  let h = 2166136261;
  const bytes: number[] = [];
  for (let i = 0; i < 16; i += 1) {
    for (const c of `${seed}/${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    bytes.push(h & 0xff);
  }
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** SQL names its connection provisioning states its own way (PrivateEndpointProvisioningState, PrivateEndpointConnections.json). */
function provisioningStateOf(profile: PrivateLinkTypeProfile, conn: ConnectionRecord): string {
  if (profile.provider.resourceType !== "Microsoft.Sql/servers") return conn.provisioningState;
  if (conn.provisioningState === "Deleting") return "Dropping";
  if (conn.provisioningState === "Updating") return conn.status === "Rejected" ? "Rejecting" : "Approving";
  return conn.provisioningState === "Succeeded" ? "Ready" : conn.provisioningState;
}

/** A connection as the type's GET privateEndpointConnections/{name} returns it. */
export function connectionView(profile: PrivateLinkTypeProfile, conn: ConnectionRecord): unknown {
  const group =
    profile.groupField === "groupIds" ? { groupIds: [...conn.groupIds] } : profile.groupField === "groupId" ? { groupId: conn.groupIds[0] ?? "" } : {};
  const isPls = profile.provider.resourceType === PRIVATE_LINK_SERVICE;
  return {
    id: conn.id,
    name: conn.name,
    type: connectionTypeOf(profile),
    ...(profile.connectionEtag ? { etag: `W/"${stableGuid(`${conn.id}/${conn.status}/${conn.description}`)}"` } : {}),
    properties: {
      privateEndpoint: { id: conn.privateEndpointId },
      privateLinkServiceConnectionState: { status: conn.status, description: conn.description, [profile.actionsKey]: conn.actionsRequired },
      provisioningState: provisioningStateOf(profile, conn),
      ...group,
      ...(isPls ? { linkIdentifier: String(Number.parseInt(stableGuid(conn.id).slice(0, 8), 16)) } : {}),
    },
  };
}

/** A connection as the resource's GET embeds it (Key Vault: PrivateEndpointConnectionItem, without name and type). */
function embeddedConnectionView(profile: PrivateLinkTypeProfile, conn: ConnectionRecord): unknown {
  const view = connectionView(profile, conn) as Record<string, unknown>;
  if (profile.embeddedItem !== "id-etag-properties") return view;
  const { name: _name, type: _type, ...item } = view;
  return item;
}

/** A resource as the type's GET returns it (the published GET example's members). */
export function resourceView(resource: PrivateLinkResourceRecord): unknown {
  const profile = resource.profile;
  const type = profile.provider.resourceType;
  const sku = resource.sku === undefined ? undefined : profile.skuView(resource.sku);
  const kind = resource.kind ?? DEFAULT_KIND[type];
  return {
    id: resource.id,
    name: resource.name,
    type,
    location: resource.location,
    tags: { ...resource.tags },
    ...(kind === undefined ? {} : { kind }),
    ...(sku === undefined ? {} : { sku }),
    properties: {
      provisioningState: resource.provisioningState,
      ...profile.properties(resource),
      ...(resource.publicNetworkAccess === undefined ? {} : { publicNetworkAccess: resource.publicNetworkAccess }),
      ...(type === PRIVATE_LINK_SERVICE
        ? {
            visibility: { subscriptions: [...resource.visibilitySubscriptions] },
            autoApproval: { subscriptions: [...resource.autoApprovalSubscriptions] },
            alias: `${resource.name}.${stableGuid(resource.id)}.${resource.location}.azure.privatelinkservice`,
          }
        : {}),
      ...(profile.embedsConnections ? { privateEndpointConnections: [...resource.connections.values()].map((c) => embeddedConnectionView(profile, c)) } : {}),
    },
  };
}

/** The item of a list (GenericResourceExpanded without $expand: no properties), shared with routes/resources.ts. */
export function resourceListItem(resource: PrivateLinkResourceRecord): Record<string, unknown> {
  const view = resourceView(resource) as Record<string, unknown>;
  const { properties: _omitted, ...item } = view;
  return item;
}

function resourceOf(profile: PrivateLinkTypeProfile, request: ArmRequest, env: EmulatorEnv): PrivateLinkResourceRecord {
  return env.state.requirePrivateLinkResource(profile, param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "resourceName"));
}

function connectionOf(profile: PrivateLinkTypeProfile, request: ArmRequest, env: EmulatorEnv): { resource: PrivateLinkResourceRecord; conn: ConnectionRecord } {
  const resource = resourceOf(profile, request, env);
  return { resource, conn: env.state.requireOwnedConnection(resource, param(request, "privateEndpointConnectionName")) };
}

function badRequest(profile: PrivateLinkTypeProfile, message: string, target?: string, code = profile.badRequestCode): ArmError {
  return new ArmError(400, code, message, target === undefined ? {} : { target });
}

/** 409 while an operation on the connection runs: the providers serialize writes per resource. */
function refuseWhileRunning(env: EmulatorEnv, conn: ConnectionRecord): void {
  const running = env.operations.inFlightOn(conn.id);
  if (!running) return;
  throw new ArmError(
    409,
    "AnotherOperationInProgress",
    `Another operation (${running.id}, started ${running.startTime}) is in progress on private endpoint connection '${conn.name}'. Retry after it completes.`,
  );
}

// ---- request bodies ----

const ReadOnly = z.unknown().optional();

/**
 * PrivateEndpointConnection as each spec defines it: `properties.privateLinkServiceConnectionState` {status,
 * description, actionsRequired (Storage: actionRequired)}; the read-only members a client echoes from a GET
 * (id, name, type, etag, privateEndpoint, provisioningState, groupIds / groupId, linkIdentifier) are accepted and
 * ignored; any other member is refused.
 */
const ConnectionPutSchema = z
  .object({
    id: ReadOnly,
    name: ReadOnly,
    type: ReadOnly,
    etag: ReadOnly,
    properties: z
      .object({
        privateEndpoint: ReadOnly,
        privateLinkServiceConnectionState: z
          .object({
            status: z.string().optional(),
            description: z.string().max(1024).optional(),
            actionsRequired: z.string().optional(),
            actionRequired: z.string().optional(),
          })
          .strict()
          .optional(),
        provisioningState: ReadOnly,
        groupIds: ReadOnly,
        groupId: ReadOnly,
        linkIdentifier: ReadOnly,
        privateEndpointLocation: ReadOnly,
        ipAddresses: ReadOnly,
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * The status a PUT sets, or the 400 the provider answers. SQL documents its codes in the PUT's error list
 * (NullPrivateEndpointConnectionProperties, NullRemotePrivateLinkServiceConnectionState,
 * NullRemotePrivateLinkServiceConnectionStateStatus, IncorrectPrivateLinkServiceConnectionStateStatus); the others
 * answer their generic bad-request code.
 */
function requestedState(profile: PrivateLinkTypeProfile, request: ArmRequest): { status: "Approved" | "Rejected"; description: string } {
  if (request.body === undefined) {
    throw new ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the request body is empty.");
  }
  const parsed = ConnectionPutSchema.safeParse(request.body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `'${issue.path.join(".") || "(body)"}': ${issue.message}`).join("; ");
    throw badRequest(profile, `The request body is invalid: ${problems}`, parsed.error.issues[0]?.path.join("."), "InvalidRequestContent");
  }
  const sql = profile.provider.resourceType === "Microsoft.Sql/servers";
  const properties = parsed.data.properties;
  if (properties === undefined) throw badRequest(profile, "Private Endpoint Connection Properties is Null", "properties", sql ? "NullPrivateEndpointConnectionProperties" : undefined);
  const state = properties.privateLinkServiceConnectionState;
  const target = "properties.privateLinkServiceConnectionState";
  if (state === undefined) throw badRequest(profile, "Remote Private Link Service Connection State is Null", target, sql ? "NullRemotePrivateLinkServiceConnectionState" : undefined);
  if (state.status === undefined) {
    throw badRequest(profile, "Remote Private Link Service Connection State Status is Null", `${target}.status`, sql ? "NullRemotePrivateLinkServiceConnectionStateStatus" : undefined);
  }
  const status = profile.settableStatuses.find((s) => s.toLowerCase() === state.status!.toLowerCase());
  if (status === undefined || (status !== "Approved" && status !== "Rejected")) {
    throw badRequest(
      profile,
      `Private Link Service Connection State Status must be "Approved" or "Rejected", not "${state.status}".`,
      `${target}.status`,
      sql ? "IncorrectPrivateLinkServiceConnectionStateStatus" : undefined,
    );
  }
  if (profile.descriptionRequired && state.description === undefined) {
    throw badRequest(profile, "The private link service connection description is required.", `${target}.description`);
  }
  return { status, description: state.description ?? "" };
}

/** PATCH body: publicNetworkAccess and tags are applied; any other writable member is refused, never dropped. */
const ResourcePatchSchema = z
  .object({
    id: ReadOnly,
    name: ReadOnly,
    type: ReadOnly,
    location: ReadOnly,
    tags: z.record(z.string(), z.string()).optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

function patchResource(profile: PrivateLinkTypeProfile, request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const resource = resourceOf(profile, request, env);
  if (request.body === undefined) {
    throw new ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the request body is empty.");
  }
  const parsed = ResourcePatchSchema.safeParse(request.body);
  if (!parsed.success) throw badRequest(profile, `The request body is invalid: ${parsed.error.issues.map((i) => i.message).join("; ")}`, undefined, "InvalidRequestContent");
  const { id: _i, name: _n, type: _t, location: _l, tags, properties = {}, ...topLevel } = parsed.data;
  const shape = profile.provider.publicNetworkAccess;
  const others = [...Object.keys(topLevel), ...Object.keys(properties).filter((k) => k !== "publicNetworkAccess").map((k) => `properties.${k}`)];
  if (others.length > 0) {
    throw new ArmError(
      400,
      "PropertyChangeNotEmulated",
      `The ARM emulator does not model changing ${others.map((k) => `'${k}'`).join(", ")} of a ${profile.provider.displayName}; Azure would apply it. Refused rather than accepted and dropped.`,
      { target: others[0]! },
    );
  }
  const requested = properties["publicNetworkAccess"];
  if (requested !== undefined) {
    if (shape === undefined) throw badRequest(profile, `${profile.provider.resourceType} has no property 'publicNetworkAccess'.`, "properties.publicNetworkAccess");
    if (!shape.patchable) {
      throw badRequest(
        profile,
        `publicNetworkAccess is not a member of ${profile.provider.resourceType}'s update model (${profile.provider.spec}); change it with a PUT of the resource.`,
        "properties.publicNetworkAccess",
      );
    }
    const value = typeof requested === "string" ? shape.values.find((v) => v.toLowerCase() === requested.toLowerCase()) : undefined;
    if (value === undefined) {
      throw badRequest(profile, `The value '${String(requested)}' of publicNetworkAccess is invalid; allowed values: ${shape.values.join(", ")}.`, "properties.publicNetworkAccess");
    }
    resource.publicNetworkAccess = value;
  }
  if (tags !== undefined) resource.tags = { ...tags };
  publishActivity(env, request, { operationName: `${profile.provider.resourceType}/write`, resourceId: resource.id, kind: "write", created: false });
  return { status: 200, body: resourceView(resource) };
}

// ---- connection writes ----

function pollingHeadersFor(write: LongRunningWrite, resource: PrivateLinkResourceRecord, conn: ConnectionRecord, operation: Operation, request: ArmRequest, env: EmulatorEnv): Record<string, string> {
  const urls = write.urls({ subscriptionId: resource.subscriptionId, location: resource.location, connectionId: conn.id, operationId: operation.id });
  const query = `?api-version=${encodeURIComponent(request.apiVersion)}`;
  return pollingHeaders(env, {
    "Azure-AsyncOperation": `${env.baseUrl}${urls.asyncOperation}${query}`,
    ...(urls.location === undefined ? {} : { Location: `${env.baseUrl}${urls.location}${query}` }),
  });
}

function putConnection(profile: PrivateLinkTypeProfile, request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const { resource, conn } = connectionOf(profile, request, env);
  const { status, description } = requestedState(profile, request);
  refuseWhileRunning(env, conn);
  env.state.checkConnectionTransition(conn, status as LinkStatus);
  const apply = () => {
    if (!resource.connections.has(conn.name.toLowerCase())) {
      throw new ArmError(404, "PrivateEndpointConnectionNotFound", `Private endpoint connection '${conn.name}' was deleted while it was being updated.`);
    }
    env.state.setConnectionStatus(conn, status, description, "None");
    publishActivity(env, request, { operationName: `${connectionTypeOf(profile)}/write`, resourceId: conn.id, kind: "write", created: false });
  };
  const write = profile.write;
  if (write.kind === "synchronous") {
    apply();
    return { status: 200, body: connectionView(profile, conn) };
  }
  const previous = conn.provisioningState;
  conn.provisioningState = "Updating";
  const operation = env.operations.start(
    conn.id,
    () => {
      try {
        apply();
      } catch (error) {
        conn.provisioningState = previous;
        throw error;
      }
    },
    () => ({ status: 200, body: connectionView(profile, conn) }),
  );
  const current = env.operations.get(operation.id);
  // Done at once (no injected latency): answered the way ARM answers a write that completed synchronously.
  if (current?.status === "Succeeded") return current.finalResult();
  if (current?.status === "Failed") throw current.error!;
  // The spec's transient state on the accepted answer, as the examples show it (the status requested, in progress).
  const acceptedView = write.acceptedBody ? connectionView(profile, conn) : undefined;
  return {
    status: write.acceptedStatus,
    ...(acceptedView === undefined ? {} : { body: acceptedView }),
    headers: pollingHeadersFor(write, resource, conn, operation, request, env),
  };
}

function deleteConnection(profile: PrivateLinkTypeProfile, request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const resource = resourceOf(profile, request, env);
  const conn = resource.connections.get(param(request, "privateEndpointConnectionName").toLowerCase());
  if (!conn) return { status: 204 };
  refuseWhileRunning(env, conn);
  const apply = () => {
    if (!resource.connections.has(conn.name.toLowerCase())) return;
    env.state.deleteConnection(resource, conn);
    publishActivity(env, request, { operationName: `${connectionTypeOf(profile)}/delete`, resourceId: conn.id, kind: "delete" });
  };
  const write = profile.write;
  if (write.kind === "synchronous") {
    apply();
    return { status: 200 };
  }
  conn.provisioningState = "Deleting";
  const operation = env.operations.start(conn.id, apply, () => ({ status: 204 }));
  const current = env.operations.get(operation.id);
  if (current?.status === "Succeeded") return { status: 200 };
  return { status: 202, headers: pollingHeadersFor(write, resource, conn, operation, request, env) };
}

// ---- polling ----

/** The operation a polling URL names, if it belongs to the URL's subscription (and connection, where the URL has one). */
function operationOf(request: ArmRequest, env: EmulatorEnv, operationId: string, within: string): Operation {
  const operation = env.operations.get(operationId);
  if (!operation || !idKey(operation.resourceId).startsWith(`${idKey(within)}/`) && idKey(operation.resourceId) !== idKey(within)) {
    throw new ArmError(404, "OperationNotFound", `The operation '${operationId}' was not found.`);
  }
  return operation;
}

/** Azure-AsyncOperation: 200 + {status} (InProgress, then Succeeded or Failed with the error). */
function pollAsyncOperation(request: ArmRequest, env: EmulatorEnv, operationId: string, within: string): ArmResponse {
  const operation = operationOf(request, env, operationId, within);
  const body = operationStatusBody(operation, request.path);
  return { status: 200, body, ...(operation.status === "InProgress" ? { headers: pollingHeaders(env, {}) } : {}) };
}

/** Location: 202 while running, then the operation's result. */
function pollLocation(request: ArmRequest, env: EmulatorEnv, operationId: string, within: string): ArmResponse {
  const operation = operationOf(request, env, operationId, within);
  if (operation.status === "InProgress") return { status: 202, headers: pollingHeaders(env, { Location: `${env.baseUrl}${request.path}?api-version=${encodeURIComponent(request.apiVersion)}` }) };
  if (operation.status === "Failed") throw operation.error!;
  return operation.finalResult();
}

function pollingRoutes(profile: PrivateLinkTypeProfile): Route[] {
  const write = profile.write;
  if (write.kind === "synchronous") return [];
  const connectionType = emulatedType(connectionTypeOf(profile));
  const subscriptionScope = (request: ArmRequest) => `/subscriptions/${param(request, "subscriptionId")}`;
  const connectionScope = (request: ArmRequest) =>
    `/subscriptions/${param(request, "subscriptionId")}/resourceGroups/${param(request, "resourceGroupName")}/providers/${profile.namespace}/${profile.typeName}/${param(request, "resourceName")}/privateEndpointConnections/${param(request, "privateEndpointConnectionName")}`;
  const scopeOf = write.asyncOperationTemplate.includes("{privateEndpointConnectionName}") ? connectionScope : subscriptionScope;
  // Container Registry prefixes its operation ids (privateendpointconnections-{guid}).
  const operationIdOf = (request: ArmRequest) => param(request, "operationId").replace(/^privateendpointconnections-/i, "");
  const routes = [
    defineRoute(write.asyncOperationTemplate, connectionType, { GET: (request, env) => pollAsyncOperation(request, env, operationIdOf(request), scopeOf(request)) }),
  ];
  if (write.locationTemplate !== undefined) {
    routes.push(defineRoute(write.locationTemplate, connectionType, { GET: (request, env) => pollLocation(request, env, operationIdOf(request), subscriptionScope(request)) }));
  }
  return routes;
}

/** The private link resources (group ids and their zones) of a resource, as GET {resource}/privateLinkResources lists them. */
function privateLinkResourcesView(resource: PrivateLinkResourceRecord): unknown {
  return {
    value: resource.profile.provider.groups.map((g) => ({
      id: `${resource.id}/privateLinkResources/${g.groupId}`,
      name: g.groupId,
      type: `${resource.profile.provider.resourceType}/privateLinkResources`,
      properties: { groupId: g.groupId, requiredMembers: [g.groupId], requiredZoneNames: g.dnsZones.map((z) => z.zone) },
    })),
  };
}

function routesOf(profile: PrivateLinkTypeProfile): Route[] {
  const resourceType = emulatedType(profile.provider.resourceType);
  const connectionType = emulatedType(connectionTypeOf(profile));
  const collection = `/subscriptions/{subscriptionId}/providers/${profile.namespace}/${profile.typeName}`;
  const rgCollection = `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/${profile.namespace}/${profile.typeName}`;
  const connections = `${profile.resourceTemplate}/privateEndpointConnections`;
  const routes: Route[] = [
    defineRoute(collection, resourceType, {
      GET: (request, env) => ({
        status: 200,
        body: pageOf(env.state.listPrivateLinkResources(profile, param(request, "subscriptionId")).map(resourceView), request, env),
      }),
    }),
    defineRoute(rgCollection, resourceType, {
      GET: (request, env) => ({
        status: 200,
        body: pageOf(env.state.listPrivateLinkResources(profile, param(request, "subscriptionId"), param(request, "resourceGroupName")).map(resourceView), request, env),
      }),
    }),
    defineRoute(profile.resourceTemplate, resourceType, {
      GET: (request, env) => ({ status: 200, body: resourceView(resourceOf(profile, request, env)) }),
      PATCH: (request, env) => patchResource(profile, request, env),
    }),
    defineRoute(connections, connectionType, {
      GET: (request, env) => {
        const views = [...resourceOf(profile, request, env).connections.values()].map((c) => connectionView(profile, c));
        // Lists whose spec has no nextLink answer one page holding everything.
        return { status: 200, body: profile.listPaged ? pageOf(views, request, env) : { value: views } };
      },
    }),
    defineRoute(`${connections}/{privateEndpointConnectionName}`, connectionType, {
      GET: (request, env) => ({ status: 200, body: connectionView(profile, connectionOf(profile, request, env).conn) }),
      PUT: (request, env) => putConnection(profile, request, env),
      DELETE: (request, env) => deleteConnection(profile, request, env),
    }),
    ...pollingRoutes(profile),
  ];
  if (profile.provider.groups.length > 0) {
    routes.push(
      defineRoute(`${profile.resourceTemplate}/privateLinkResources`, resourceType, {
        GET: (request, env) => ({ status: 200, body: privateLinkResourcesView(resourceOf(profile, request, env)) }),
      }),
    );
  }
  return routes;
}

/** Every route of every registered non-APIM type. */
export const privateLinkRoutes: readonly Route[] = PRIVATE_LINK_TYPE_PROFILES.flatMap(routesOf);
