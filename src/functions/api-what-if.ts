/**
 * POST /api/what-if (Admin): compare a proposed rule set with the stored one against every current connection of
 * the managed instances. Writes nothing (the Idempotency-Key every POST takes only makes a replay answer the same).
 */
import { ProblemError, type FieldError } from "../http/problem.ts";
import { whatIfRules } from "../workflows/what-if-rules.ts";
import { apiRoute } from "./api-runtime.ts";
import { ruleWarningsSchema, ruleWarningsView } from "./api-rule-warnings.ts";
import { whatIfBodySchema, whatIfResultSchema, whatIfView } from "./api-views.ts";

/** The comparison, plus the warnings about the proposed rules (valid, but approving too much). */
const whatIfResponseSchema = whatIfResultSchema.extend({ warnings: ruleWarningsSchema });

export const whatIf = apiRoute({
  name: "whatIf",
  method: "POST",
  route: "what-if",
  summary: "Show what a proposed rule set would approve, reject or leave, compared with the stored rules",
  tags: ["rules"],
  role: "Portcullis.Admin",
  body: whatIfBodySchema,
  idempotent: true,
  check({ body }) {
    const seen = new Set<string>();
    const duplicates: FieldError[] = [];
    body.rules.forEach((rule, index) => {
      if (seen.has(rule.id)) duplicates.push({ in: "body", field: `rules.${index}.id`, detail: `the id "${rule.id}" appears more than once` });
      seen.add(rule.id);
    });
    if (duplicates.length > 0) throw new ProblemError("validation", "Each rule id may appear once.", { errors: duplicates });
  },
  responses: { 200: { description: "The comparison; nothing was written. `warnings` lists proposed rules that approve too much.", schema: whatIfResponseSchema } },
  async handle({ body, principal }, context) {
    const engine = await context.services.engineDeps(context.log);
    const actor = {
      objectId: principal.objectId,
      ...(principal.appId !== undefined ? { appId: principal.appId } : {}),
      ...(principal.name !== undefined ? { name: principal.name } : {}),
    };
    return { status: 200, body: { ...whatIfView(await whatIfRules(body.rules, actor, engine)), warnings: ruleWarningsView(body.rules) } };
  },
});
