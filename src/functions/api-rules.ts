/**
 * Rules over HTTP: read them (Reader), create, update and delete them (Admin) with optimistic concurrency, and read
 * a rule's history. Writes are conditional, as HTTP says: create needs `If-None-Match: *`, update and delete need
 * `If-Match` with the ETag from GET (428 without the header, 412 when it is stale), so two editors cannot silently
 * overwrite each other. Every change records the caller (from the token) and the `Portcullis-Ticket` header.
 */
import { z } from "zod";
import { PortcullisError } from "../domain/errors.ts";
import { ruleDraftSchema, ruleSchema } from "../domain/rules/schema.ts";
import type { Principal } from "../http/auth.ts";
import { ProblemError } from "../http/problem.ts";
import type { ApiRoute } from "../http/route.ts";
import { ruleIdSegment } from "../http/segments.ts";
import { apiRoute, requireTicketPattern, type ApiServices } from "./api-runtime.ts";
import { ruleWarningsSchema, ruleWarningsView } from "./api-rule-warnings.ts";
import { ruleHistorySchema, ruleResponseSchema, ruleSetSchema, ruleSetView, ticketSchema } from "./api-views.ts";

/** What a PUT answers: the stored rule, plus the warnings about it (valid, but it approves too much). */
const ruleWrittenSchema = z.object({ ...ruleSchema.shape, warnings: ruleWarningsSchema }).meta({ description: "The stored rule, with `warnings` about it." });

const TICKET_HEADER = "portcullis-ticket";
const ruleParams = z.strictObject({ ruleId: ruleIdSegment });
const etagText = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\u0020-\u007e]+$/, "an entity tag is printable ASCII");

const writeHeaders = {
  [TICKET_HEADER]: ticketSchema.meta({ description: "Change ticket for this rule change (recorded in the rule's history)." }),
};

function actorOf(principal: Principal) {
  return {
    objectId: principal.objectId,
    ...(principal.appId !== undefined ? { appId: principal.appId } : {}),
    ...(principal.name !== undefined ? { name: principal.name } : {}),
  };
}

function ruleLocation(ruleId: string): string {
  return `/api/rules/${ruleId}`;
}

export const listRules = apiRoute({
  name: "listRules",
  method: "GET",
  route: "rules",
  summary: "Read the stored rule set",
  description: "status unusable means a stored rule does not parse: the engine then decides nothing automatically (fail closed) and problems says which row.",
  tags: ["rules"],
  role: "Portcullis.Reader",
  responses: { 200: { description: "The rule set.", schema: ruleSetSchema } },
  async handle(_input, context) {
    const engine = await context.services.engineDeps(context.log);
    return { status: 200, body: ruleSetView(await engine.ruleStore.getRuleSet()) };
  },
});

export const getRule = apiRoute({
  name: "getRule",
  method: "GET",
  route: "rules/{ruleId}",
  summary: "Read one rule and its ETag",
  tags: ["rules"],
  role: "Portcullis.Reader",
  params: ruleParams,
  responses: {
    200: { description: "The rule.", schema: ruleResponseSchema, headers: { etag: "Send it as If-Match to update or delete the rule." } },
    404: { description: "No such rule." },
  },
  async handle({ params }, context) {
    const engine = await context.services.engineDeps(context.log);
    const found = await engine.ruleStore.getRule(params.ruleId);
    if (found === undefined) throw new PortcullisError("not-found", "No such rule.");
    return { status: 200, headers: { etag: found.etag }, body: found.rule };
  },
});

export const putRule = apiRoute({
  name: "putRule",
  method: "PUT",
  route: "rules/{ruleId}",
  summary: "Create (If-None-Match: *) or update (If-Match: ETag) a rule",
  description: "The body is the rule as an editor writes it; its id must equal the path's. Version, updatedAt and updatedBy are set by Portcullis.",
  tags: ["rules"],
  role: "Portcullis.Admin",
  params: ruleParams,
  headers: z.object({
    ...writeHeaders,
    "if-match": etagText.optional().meta({ description: "Update: the ETag from GET /rules/{ruleId}." }),
    "if-none-match": z.literal("*", { error: "If-None-Match must be *" }).optional().meta({ description: "Create: `*` (fails with 412 if the rule exists)." }),
  }),
  body: ruleDraftSchema,
  check({ params, headers, body }, services) {
    requireTicketPattern(headers[TICKET_HEADER], services, "header", "Portcullis-Ticket");
    if (body.id !== params.ruleId) {
      throw new ProblemError("validation", "The rule's id must equal the id in the path.", { errors: [{ in: "body", field: "id", detail: `must be "${params.ruleId}"` }] });
    }
    if (headers["if-match"] !== undefined && headers["if-none-match"] !== undefined) {
      throw new ProblemError("validation", "Send If-None-Match: * to create or If-Match to update, not both.", { errors: [{ in: "header", field: "If-Match", detail: "not with If-None-Match" }] });
    }
    if (headers["if-match"] === "*") {
      throw new ProblemError("validation", "If-Match must be the rule's ETag (from GET), not *: an update must name the version it replaces.", { errors: [{ in: "header", field: "If-Match", detail: "must be an ETag" }] });
    }
    if (headers["if-match"] === undefined && headers["if-none-match"] === undefined) {
      throw new ProblemError("precondition-required", "Send If-None-Match: * to create the rule, or If-Match with its ETag to update it.");
    }
  },
  responses: {
    200: { description: "Updated. `warnings` says if the rule approves too much.", schema: ruleWrittenSchema, headers: { etag: "The new ETag." } },
    201: { description: "Created. `warnings` says if the rule approves too much.", schema: ruleWrittenSchema, headers: { etag: "The new ETag.", location: "/api/rules/{ruleId}" } },
    412: { description: "Create: the rule exists. Update: the ETag is stale (or the rule was deleted)." },
    428: { description: "Neither If-None-Match: * nor If-Match was sent." },
  },
  async handle({ params, headers, body, principal }, context) {
    const engine = await context.services.engineDeps(context.log);
    const creating = headers["if-none-match"] === "*";
    const written = await engine.ruleStore.putRule(body, {
      ...(creating ? { ifNoneMatch: "*" as const } : { ifMatch: headers["if-match"]! }),
      actor: actorOf(principal),
      ticket: headers[TICKET_HEADER],
    });
    const locationHeader: Record<string, string> = creating ? { location: ruleLocation(params.ruleId) } : {};
    return { status: creating ? 201 : 200, headers: { etag: written.etag, ...locationHeader }, body: { ...written.rule, warnings: ruleWarningsView([written.rule]) } };
  },
});

export const deleteRule = apiRoute({
  name: "deleteRule",
  method: "DELETE",
  route: "rules/{ruleId}",
  summary: "Delete a rule (If-Match: ETag)",
  tags: ["rules"],
  role: "Portcullis.Admin",
  params: ruleParams,
  headers: z.object({ ...writeHeaders, "if-match": etagText.optional().meta({ description: "The ETag from GET /rules/{ruleId}." }) }),
  check({ headers }, services) {
    requireTicketPattern(headers[TICKET_HEADER], services, "header", "Portcullis-Ticket");
    if (headers["if-match"] === undefined) throw new ProblemError("precondition-required", "Send If-Match with the rule's ETag to delete it.");
    if (headers["if-match"] === "*") {
      throw new ProblemError("validation", "If-Match must be the rule's ETag (from GET), not *.", { errors: [{ in: "header", field: "If-Match", detail: "must be an ETag" }] });
    }
  },
  responses: {
    204: { description: "Deleted (the rule's history keeps it)." },
    404: { description: "No such rule." },
    412: { description: "The ETag is stale." },
    428: { description: "If-Match was not sent." },
  },
  async handle({ params, headers, principal }, context) {
    const engine = await context.services.engineDeps(context.log);
    await engine.ruleStore.deleteRule(params.ruleId, { ifMatch: headers["if-match"]!, actor: actorOf(principal), ticket: headers[TICKET_HEADER] });
    return { status: 204 };
  },
});

export const listRuleHistory = apiRoute({
  name: "listRuleHistory",
  method: "GET",
  route: "rules/{ruleId}/history",
  summary: "Read every version of a rule, newest first",
  tags: ["rules"],
  role: "Portcullis.Reader",
  params: ruleParams,
  responses: {
    200: { description: "The history.", schema: ruleHistorySchema },
    404: { description: "No rule with this id ever existed." },
  },
  async handle({ params }, context) {
    const engine = await context.services.engineDeps(context.log);
    const items = await engine.ruleStore.listHistory(params.ruleId);
    if (items.length === 0) throw new PortcullisError("not-found", "No such rule.");
    return { status: 200, body: { items } };
  },
});

/** The rule routes, in registry order. */
export const ruleRoutes: readonly ApiRoute<ApiServices>[] = [listRules, getRule, putRule, deleteRule, listRuleHistory];
