/**
 * The `warnings` array the rule-writing API responses carry (PUT /api/rules/{ruleId}, POST /api/what-if): valid
 * rules that approve too much, or use a deprecated key (src/domain/rules/lint.ts). A warning never refuses the request; it is there so a
 * pipeline or a portal can say it loudly, as the CLI does.
 */
import { z } from "zod";
import { lintRules, RULE_WARNING_CODES, type LintableRule } from "../domain/rules/lint.ts";

export const ruleWarningsSchema = z
  .array(
    z.object({
      ruleId: z.string(),
      code: z.enum(RULE_WARNING_CODES).meta({
        description:
          "approves-everything: an enforcing approve rule with no condition besides resource-types and group-ids; wildcards-only: every condition matches everything (e.g. `*`); any-requester: no condition on who asks (requester-subscriptions, requester-tenants, private-endpoint-ids); deprecated-key: the rule uses a deprecated condition key (target-instances: use target-resources).",
      }),
      field: z.string().meta({ description: "The rule field the warning is about, e.g. `conditions.private-endpoint-ids`." }),
      message: z.string(),
    }),
  )
  .meta({ description: "Valid rules that approve too much (see docs/rules.md). Empty when there is nothing to warn about; never a reason the request failed." });

export type RuleWarningsView = z.output<typeof ruleWarningsSchema>;

export function ruleWarningsView(rules: readonly LintableRule[]): RuleWarningsView {
  return lintRules(rules).map((w) => ({ ruleId: w.ruleId, code: w.code, field: w.field, message: w.message }));
}
