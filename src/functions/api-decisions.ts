/**
 * GET /api/decisions: the decision log, filtered by connection, instance, actor and time range, paged with
 * continuation tokens. Connections and resources outside the managed scope are 404, as everywhere in the API.
 */
import { z } from "zod";
import { isManagedResource, managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import { PortcullisError } from "../domain/errors.ts";
import { providerOf } from "../domain/providers/registry.ts";
import { parseApimServiceId, parseProviderConnectionId } from "../domain/resource-id.ts";
import { privateLinkResourceId } from "./api-connections.ts";
import { apiRoute } from "./api-runtime.ts";
import { decisionPageSchema, decisionView } from "./api-views.ts";

const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;
const resourceIdText = z.string().min(1).max(1024).regex(NO_CONTROL_CHARACTERS, "control characters are not allowed");

/** A token the decision log issued: base64 of {"nextPartitionKey": ..., "nextRowKey"?: ...}; anything else is refused. */
function isIssuedToken(token: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    return z.strictObject({ nextPartitionKey: z.string().min(1).max(1024), nextRowKey: z.string().min(1).max(1024).optional() }).safeParse(decoded).success;
  } catch {
    return false;
  }
}

export const listDecisions = apiRoute({
  name: "listDecisions",
  method: "GET",
  route: "decisions",
  summary: "Read the decision log",
  description: "Filters combine (all must hold). Pages are at most pageSize records; pass continuationToken from a page to get the next.",
  tags: ["decisions"],
  role: "Portcullis.Reader",
  query: z
    .strictObject({
      connectionId: resourceIdText
        .refine((id) => parseProviderConnectionId(id, (t) => providerOf(t) !== undefined) !== undefined, "a private endpoint connection resource ID of a registered type")
        .optional()
        .meta({ description: "Only this connection (its resource ID)." }),
      resourceId: privateLinkResourceId.optional().meta({ description: "Only this managed resource (its resource ID, of any governed type)." }),
      instanceId: resourceIdText
        .refine((id) => parseApimServiceId(id) !== undefined, "an API Management resource ID")
        .optional()
        .meta({ description: "Deprecated: use resourceId. Only this managed API Management instance.", deprecated: true }),
      actor: z
        .string()
        .min(1)
        .max(256)
        .regex(NO_CONTROL_CHARACTERS, "control characters are not allowed")
        .optional()
        .meta({ description: "Only this actor, e.g. principal:OBJECT-ID or rule:RULE-ID." }),
      from: z.iso.datetime({ offset: true }).optional().meta({ description: "Decisions started at or after this time." }),
      to: z.iso.datetime({ offset: true }).optional().meta({ description: "Decisions started before this time." }),
      pageSize: z
        .string()
        .regex(/^[0-9]{1,4}$/, "a whole number")
        .transform(Number)
        .pipe(z.int().min(1).max(1000))
        .optional()
        .meta({ description: "Records per page, 1-1000 (default 100)." }),
      continuationToken: z
        .string()
        .max(4096)
        .refine(isIssuedToken, "not a continuation token this API issued")
        .optional()
        .meta({ description: "From the previous page." }),
    })
    .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["to"] })
    .refine((q) => q.resourceId === undefined || q.instanceId === undefined || q.resourceId.toLowerCase() === q.instanceId.toLowerCase(), {
      message: "resourceId and its deprecated alias instanceId name different resources",
      path: ["instanceId"],
    }),
  responses: {
    200: { description: "One page of decisions.", schema: decisionPageSchema },
    404: { description: "connectionId or resourceId (instanceId) is not part of a managed resource." },
  },
  async handle({ query }, context) {
    const engine = await context.services.engineDeps(context.log);
    const resourceId = query.resourceId ?? query.instanceId;
    const unmanaged =
      (resourceId !== undefined && !isManagedResource(engine.scope, resourceId)) ||
      (query.connectionId !== undefined && managedResourceOfConnection(engine.scope, query.connectionId) === undefined);
    if (unmanaged) throw new PortcullisError("not-found", "No such managed resource.");
    const page = await engine.decisionLog.query(
      {
        ...(query.connectionId !== undefined ? { connectionId: query.connectionId } : {}),
        ...(resourceId !== undefined ? { resourceId } : {}),
        ...(query.actor !== undefined ? { actor: query.actor } : {}),
        ...(query.from !== undefined ? { from: new Date(query.from) } : {}),
        ...(query.to !== undefined ? { to: new Date(query.to) } : {}),
      },
      {
        ...(query.pageSize !== undefined ? { pageSize: query.pageSize } : {}),
        ...(query.continuationToken !== undefined ? { continuationToken: query.continuationToken } : {}),
      },
    );
    return {
      status: 200,
      body: { items: page.items.map(decisionView), ...(page.continuationToken !== undefined ? { continuationToken: page.continuationToken } : {}) },
    };
  },
});
