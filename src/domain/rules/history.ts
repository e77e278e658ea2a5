/**
 * Rule history: every change to a rule is kept as one entry, keyed by the version it produced, so nobody can
 * change or delete a rule without a record of who did it, when, and what the rule was.
 */
import { z } from "zod";
import { actorSchema, ruleIdSchema, ruleSchema } from "./schema.ts";

export const historyEntrySchema = z.strictObject({
  ruleId: ruleIdSchema,
  /** The version this change produced (a deletion takes the next version too, so versions never repeat). */
  version: z.int().min(1),
  change: z.enum(["created", "updated", "deleted"]),
  changedAt: z.iso.datetime({ offset: true }),
  changedBy: actorSchema,
  /** Change or incident ticket the editor gave, if any. */
  ticket: z.string().min(1).max(128).optional(),
  /** The rule as written by this change; for a deletion, the rule that was removed (absent if it did not parse). */
  rule: ruleSchema.optional(),
});

export type RuleHistoryEntry = z.output<typeof historyEntrySchema>;
export type RuleChange = RuleHistoryEntry["change"];
