/** The rules half of the approval engine: schema, evaluation and what-if. Pure; import from here. */
export { CONDITION_KEYS, CONDITIONS, conditionsSchema, type ConditionKey, type Conditions } from "./conditions.ts";
export {
  byPriorityThenId,
  compileRuleSet,
  evaluateRules,
  type AuditMatch,
  type CompiledRuleSet,
  type DecidedBy,
  type DefaultAction,
  type EvaluateOptions,
  type RuleEvaluation,
} from "./evaluate.ts";
export { connectionFacts, type ConnectionFacts } from "./facts.ts";
export { compileGlob, foldCase, MAX_PATTERN_LENGTH, type GlobMatcher } from "./glob.ts";
export { historyEntrySchema, type RuleChange, type RuleHistoryEntry } from "./history.ts";
export { parseRuleRows, proposedRuleSet, ruleSetOf, type RuleRow, type RuleSetProblem, type RuleSetSnapshot } from "./rule-set.ts";
export {
  actorSchema,
  fieldProblems,
  MAX_REASON_LENGTH,
  parseRuleDraft,
  ruleDraftSchema,
  ruleIdSchema,
  ruleSchema,
  type Actor,
  type FieldProblem,
  type Rule,
  type RuleAction,
  type RuleDraft,
  type RuleInput,
} from "./schema.ts";
export { WHAT_IF_NOTE, whatIf, type ConnectionWhatIf, type RuleWhatIf, type WhatIfConnection, type WhatIfOutcome, type WhatIfResult } from "./what-if.ts";
