/**
 * GET /api/decisions: the decision log, filtered by connection, instance, actor and time range, paged with
 * continuation tokens. Connections and instances outside the managed scope are 404, as everywhere in the API.
 */
import { z } from "zod";
import { isManagedResource, managedResourceOfConnection } from "../domain/decisions/decision-scope.ts";
import { PortcullisError } from "../domain/errors.ts";
import { parseApimServiceId, resourceIdOfConnection } from "../domain/resource-id.ts";
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
        .refine((id) => resourceIdOfConnection(id) !== undefined, "a private endpoint connection resource ID")
        .optional()
        .meta({ description: "Only this connection (its resource ID)." }),
      instanceId: resourceIdText
        .refine((id) => parseApimServiceId(id) !== undefined, "an API Management resource ID")
        .optional()
        .meta({ description: "Only this managed instance (its resource ID)." }),
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
    .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["to"] }),
  responses: {
    200: { description: "One page of decisions.", schema: decisionPageSchema },
    404: { description: "connectionId or instanceId is not part of a managed instance." },
  },
  async handle({ query }, context) {
    const engine = await context.services.engineDeps(context.log);
    const unmanaged =
      (query.instanceId !== undefined && !isManagedResource(engine.scope, query.instanceId)) ||
      (query.connectionId !== undefined && managedResourceOfConnection(engine.scope, query.connectionId) === undefined);
    if (unmanaged) throw new PortcullisError("not-found", "No such managed resource.");
    const page = await engine.decisionLog.query(
      {
        ...(query.connectionId !== undefined ? { connectionId: query.connectionId } : {}),
        ...(query.instanceId !== undefined ? { resourceId: query.instanceId } : {}),
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
