/**
 * Connections of the managed resources (every governed type): list and read them (Reader), approve or reject a Pending
 * one (Approver), revoke an Approved one (Admin, reason required). A decision answers 200 with the final state when ARM
 * finishes within PORTCULLIS_APPROVAL_WAIT_MS, else 202 with `Location: /api/operations/{id}`. Every POST takes an
 * Idempotency-Key. Anything outside the managed resources is 404, whether or not it exists.
 *
 * A connection is addressed as `resources/{subscriptionId}/{resourceGroup}/{providerNamespace}/{resourceType}/
 * {resourceName}/connections/{connectionName}`; API Management's `instances/{subscriptionId}/{resourceGroup}/
 * {serviceName}/connections/{connectionName}` stays as it was.
 */
import { z } from "zod";
import type { ManualAction } from "../workflows/decide-manually.ts";
import { getManagedConnection, listManagedConnections } from "../workflows/manual-connections.ts";
import { startManualDecision } from "../workflows/manual-operations.ts";
import { providerOf, REGISTERED_RESOURCE_TYPES } from "../domain/providers/registry.ts";
import { connectionId, resourceTypeOf } from "../domain/resource-id.ts";
import type { ApiRole } from "../http/auth.ts";
import { problemResponse, type ApiResponse } from "../http/problem.ts";
import type { ApiRoute } from "../http/route.ts";
import { connectionPathSchema, resourceConnectionPathSchema, type ConnectionPath, type ResourceConnectionPath } from "../http/segments.ts";
import { apiRoute, requireTicketPattern, type ApiServices } from "./api-runtime.ts";
import {
  connectionDetailSchema,
  connectionListSchema,
  connectionView,
  decisionResultSchema,
  decisionView,
  manualDecisionBodySchema,
  operationSchema,
} from "./api-views.ts";
import { decisionResultOf, operationView } from "./api-operations.ts";

const CONNECTION_ROUTE = "instances/{subscriptionId}/{resourceGroup}/{serviceName}/connections/{connectionName}";
const RESOURCE_CONNECTION_ROUTE = "resources/{subscriptionId}/{resourceGroup}/{providerNamespace}/{resourceType}/{resourceName}/connections/{connectionName}";

const apimResourceId = z
  .string()
  .max(1024)
  .regex(
    /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/\u0000-\u001f]{1,90}\/providers\/Microsoft\.ApiManagement\/service\/[A-Za-z0-9-]{1,50}$/i,
    "an API Management resource ID: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}",
  );

/** The ID of a top-level resource of a registered type (whether it is managed is the workflow's question: 404 if not). */
export const privateLinkResourceId = z
  .string()
  .max(1024)
  .regex(/^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/\u0000-\u001f]{1,90}\/providers\/[^/\u0000-\u001f]{1,64}\/[^/\u0000-\u001f]{1,64}\/[^/\u0000-\u001f]{1,260}$/i, "a resource ID: /subscriptions/{id}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}")
  .refine((id) => providerOf(resourceTypeOf(id) ?? "") !== undefined, `the resource ID of a registered type (${REGISTERED_RESOURCE_TYPES.join(", ")})`);

function connectionIdOf(path: ConnectionPath | ResourceConnectionPath): string {
  if ("serviceName" in path) {
    return connectionId({ subscriptionId: path.subscriptionId, resourceGroup: path.resourceGroup, serviceName: path.serviceName, connectionName: path.connectionName });
  }
  return `/subscriptions/${path.subscriptionId}/resourceGroups/${path.resourceGroup}/providers/${path.providerNamespace}/${path.resourceType}/${path.resourceName}/privateEndpointConnections/${path.connectionName}`;
}

export const listConnections = apiRoute({
  name: "listConnections",
  method: "GET",
  route: "connections",
  summary: "List the connections of every managed resource, each with its latest decision",
  tags: ["connections"],
  role: "Portcullis.Reader",
  query: z
    .strictObject({
      status: z.enum(["Pending", "Approved", "Rejected"]).optional().meta({ description: "Only connections in this status." }),
      resourceId: privateLinkResourceId.optional().meta({ description: "Only this managed resource (its resource ID, of any governed type)." }),
      instanceId: apimResourceId.optional().meta({ description: "Deprecated: use resourceId. Only this managed API Management instance.", deprecated: true }),
    })
    .refine((q) => q.resourceId === undefined || q.instanceId === undefined || q.resourceId.toLowerCase() === q.instanceId.toLowerCase(), {
      message: "resourceId and its deprecated alias instanceId name different resources",
      path: ["instanceId"],
    }),
  responses: {
    200: { description: "The connections.", schema: connectionListSchema },
    404: { description: "resourceId (or instanceId) is not a managed resource (or does not exist)." },
  },
  async handle({ query }, context) {
    const engine = await context.services.engineDeps(context.log);
    const listing = await listManagedConnections({ status: query.status, resourceId: query.resourceId ?? query.instanceId }, engine);
    return {
      status: 200,
      body: {
        items: listing.items.map(({ connection, latestDecision }) => connectionView(connection, latestDecision)),
        unreadable: listing.unreadable,
      },
    };
  },
});

/** The two ways a connection is addressed: API Management's instance path, and any registered type's resource path. */
type Addressing = "instance" | "resource";

const ADDRESSING = {
  instance: { route: CONNECTION_ROUTE, params: connectionPathSchema, suffix: "", where: "a managed API Management instance" },
  resource: { route: RESOURCE_CONNECTION_ROUTE, params: resourceConnectionPathSchema, suffix: "OnResource", where: "a managed resource (any governed type)" },
} as const;

function getConnectionRoute(addressing: Addressing): ApiRoute<ApiServices> {
  const how = ADDRESSING[addressing];
  return apiRoute({
    name: `getConnection${how.suffix}`,
    method: "GET",
    route: how.route,
    summary: `Read one connection of ${how.where} with its decision log`,
    tags: ["connections"],
    role: "Portcullis.Reader",
    params: how.params as z.ZodType<ConnectionPath | ResourceConnectionPath>,
    responses: {
      200: { description: "The connection.", schema: connectionDetailSchema },
      404: { description: `No such connection on ${how.where}.` },
    },
    async handle({ params }, context) {
      const engine = await context.services.engineDeps(context.log);
      const { connection, decisions } = await getManagedConnection(connectionIdOf(params), engine);
      return { status: 200, body: { ...connectionView(connection, decisions.at(-1)), decisions: decisions.map(decisionView) } };
    },
  });
}

export const getConnection = getConnectionRoute("instance");
export const getConnectionOnResource = getConnectionRoute("resource");

const ACTION_TEXT: Record<ManualAction, { summary: string; description: string; role: ApiRole }> = {
  approve: {
    summary: "Approve a Pending connection",
    description: "Only a Pending connection can be approved (409 otherwise).",
    role: "Portcullis.Approver",
  },
  reject: {
    summary: "Reject a Pending connection",
    description: "Only a Pending connection can be rejected (409 otherwise); use revoke for an Approved one.",
    role: "Portcullis.Approver",
  },
  revoke: {
    summary: "Revoke an Approved connection (reject it)",
    description: "Only an Approved connection can be revoked (409 otherwise). Needs the Admin role and a reason.",
    role: "Portcullis.Admin",
  },
};

/** Runs a manual decision and maps its outcome: 200 final state, 202 operation, 502 when ARM refused. */
async function decide(action: ManualAction, input: { params: ConnectionPath | ResourceConnectionPath; body: z.output<typeof manualDecisionBodySchema>; principal: { objectId: string; appId: string | undefined; name: string | undefined } }, context: Parameters<ApiRoute<ApiServices>["handle"]>[1]): Promise<ApiResponse> {
  const { services } = context;
  const outcome = await startManualDecision(
    {
      connectionId: connectionIdOf(input.params),
      action,
      ticket: input.body.ticket,
      reason: input.body.reason,
      requestedBy: input.body.requestedBy,
      actor: { objectId: input.principal.objectId, appId: input.principal.appId, name: input.principal.name },
      correlationId: context.correlationId,
    },
    { engine: await services.engineDeps(context.log), operations: services.operations, newOperationId: services.newOperationId },
    { waitInMs: services.approvalWaitInMs },
  );
  switch (outcome.kind) {
    case "completed":
      return { status: 200, body: decisionResultOf(outcome.decision) };
    case "refused":
      // decision.error carries ARM's status and code only (refusalText): ARM's message names our identity and scope.
      return problemResponse("upstream-refused", `Azure Resource Manager refused to ${action} the connection: ${outcome.decision.error ?? "no reason given"} (recorded as decision ${outcome.decision.id}).`, {
        correlationId: context.correlationId,
      });
    case "accepted": {
      const location = `/api/operations/${outcome.operation.id}`;
      return { status: 202, headers: { location, "retry-after": "1" }, body: operationView(outcome.operation) };
    }
  }
}

function manualDecisionRoute(action: ManualAction, addressing: Addressing): ApiRoute<ApiServices> {
  const text = ACTION_TEXT[action];
  const how = ADDRESSING[addressing];
  return apiRoute({
    name: `${action}Connection${how.suffix}`,
    method: "POST",
    route: `${how.route}/${action}`,
    summary: text.summary,
    description: `${text.description} Answers 200 with the final state when ARM finishes within the approval wait, else 202 with Location of an operation to poll. The caller's identity (from the token) is recorded as the actor; requestedBy only as the ticket's claimed requester.`,
    tags: ["connections"],
    role: text.role,
    params: how.params as z.ZodType<ConnectionPath | ResourceConnectionPath>,
    body: manualDecisionBodySchema,
    idempotent: true,
    check: ({ body }, services) => requireTicketPattern(body.ticket, services, "body", "ticket"),
    responses: {
      200: { description: "Decided: the connection's final state and the decision record.", schema: decisionResultSchema },
      202: {
        description: "ARM is still working: poll the operation.",
        schema: operationSchema,
        headers: { location: "/api/operations/{id}", "retry-after": "Seconds to wait before polling." },
      },
      404: { description: `No such connection on ${how.where}.` },
      409: { description: `The connection is not ${action === "revoke" ? "Approved" : "Pending"}, or another decision on it is in progress.` },
      502: {
        description:
          "ARM refused the change (e.g. 409 another operation in progress, 400, 403 missing permission): the refusal is recorded in the decision log, the claim on the connection ends at once (a retry may follow immediately), and `detail` names ARM's status and error code, never ARM's message text.",
      },
    },
    handle: (input, context) => decide(action, input, context),
  });
}

export const approveConnection = manualDecisionRoute("approve", "instance");
export const rejectConnection = manualDecisionRoute("reject", "instance");
export const revokeConnection = manualDecisionRoute("revoke", "instance");
export const approveConnectionOnResource = manualDecisionRoute("approve", "resource");
export const rejectConnectionOnResource = manualDecisionRoute("reject", "resource");
export const revokeConnectionOnResource = manualDecisionRoute("revoke", "resource");

/** The connection routes, in registry order. */
export const connectionRoutes: readonly ApiRoute<ApiServices>[] = [
  listConnections,
  getConnection,
  approveConnection,
  rejectConnection,
  revokeConnection,
  getConnectionOnResource,
  approveConnectionOnResource,
  rejectConnectionOnResource,
  revokeConnectionOnResource,
];

