/**
 * What-if: evaluate a proposed rule set and the stored one against current connections and say what would change,
 * writing nothing. Pure: the caller reads the connections (and their facts) and both rule sets first.
 *
 * The facts are what the engine can read (never the requester's tenant), so a rule that needs an unknown fact shows
 * as an "unknown-fact" outcome, exactly as the sweep would decide it. Connections of every governed type go through
 * the same evaluation; each rule's resource-types (API Management only without it) decides which it considers.
 *
 * Only Pending connections are ever decided; for Approved or Rejected connections a different outcome is shown
 * for information and would not change them (Portcullis never overturns a decision).
 */
import type { ConnectionStatus } from "../model.ts";
import { compileRuleSet, evaluateRules, type DecidedBy, type EvaluateOptions } from "./evaluate.ts";
import { resourceTypeOfFacts, type ConnectionFacts } from "./facts.ts";
import type { RuleSetProblem, RuleSetSnapshot } from "./rule-set.ts";
import type { RuleAction } from "./schema.ts";

export interface WhatIfConnection {
  readonly facts: ConnectionFacts;
  readonly currentStatus: ConnectionStatus;
}

export interface WhatIfOutcome {
  readonly action: RuleAction;
  readonly decidedBy: DecidedBy;
  readonly reason: string;
}

export interface ConnectionWhatIf {
  readonly connectionId: string;
  readonly resourceId: string;
  /** The ARM type of the resource, from its ID ("" when the ID names none), so a mixed estate can be read by type. */
  readonly resourceType: string;
  readonly currentStatus: ConnectionStatus;
  readonly stored: WhatIfOutcome;
  readonly proposed: WhatIfOutcome;
  /** The proposed rules reach a different action, or the same action through a different rule. */
  readonly changes: boolean;
  /** True only when it changes AND the connection is Pending: the only case the engine would act differently. */
  readonly wouldTakeEffect: boolean;
  /** How the proposed rules reached their outcome; present only when the outcome changes. */
  readonly proposedExplanation?: readonly string[];
}

/** What one proposed rule would do: the connections it would decide, by action, and those it audit-matches. */
export interface RuleWhatIf {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly mode: "enforce" | "audit";
  readonly approve: readonly string[];
  readonly reject: readonly string[];
  readonly manual: readonly string[];
  readonly auditMatches: readonly string[];
}

export interface WhatIfResult {
  readonly storedVersion: string;
  readonly proposedVersion: string;
  /** Problems that make the proposed set unusable (then every proposed outcome is manual, fail-closed). */
  readonly proposedProblems: readonly RuleSetProblem[];
  readonly connections: readonly ConnectionWhatIf[];
  readonly rules: readonly RuleWhatIf[];
  readonly summary: { readonly connections: number; readonly pending: number; readonly changed: number; readonly changedPending: number };
  readonly note: string;
}

export const WHAT_IF_NOTE =
  "Only Pending connections can change: Portcullis decides Pending connections and never overturns an approval or rejection, so differences on other connections are informational.";

/** Compares stored and proposed outcomes per connection, and lists what each proposed rule would decide. */
export function whatIf(
  connections: readonly WhatIfConnection[],
  proposed: RuleSetSnapshot,
  stored: RuleSetSnapshot,
  options: EvaluateOptions,
): WhatIfResult {
  const proposedCompiled = compileRuleSet(proposed);
  const storedCompiled = compileRuleSet(stored);
  const perRule = new Map(
    proposedCompiled.compiledRules.map(({ rule }) => [
      rule.id,
      { ruleId: rule.id, ruleVersion: rule.version, mode: rule.mode, approve: [] as string[], reject: [] as string[], manual: [] as string[], auditMatches: [] as string[] },
    ]),
  );
  const results = connections.map(({ facts, currentStatus }): ConnectionWhatIf => {
    const before = evaluateRules(facts, storedCompiled, options);
    const after = evaluateRules(facts, proposedCompiled, options);
    // An unknown-fact outcome is listed under the rule that could not decide: it would leave the connection manual.
    if (after.decidedBy.kind === "rule" || after.decidedBy.kind === "unknown-fact") perRule.get(after.decidedBy.ruleId)![after.action].push(facts.connectionId);
    for (const match of after.auditMatches) perRule.get(match.ruleId)!.auditMatches.push(facts.connectionId);
    const changes = before.action !== after.action || deciderKey(before.decidedBy) !== deciderKey(after.decidedBy);
    return {
      connectionId: facts.connectionId,
      resourceId: facts.resourceId,
      resourceType: resourceTypeOfFacts(facts) ?? "",
      currentStatus,
      stored: { action: before.action, decidedBy: before.decidedBy, reason: before.reason },
      proposed: { action: after.action, decidedBy: after.decidedBy, reason: after.reason },
      changes,
      wouldTakeEffect: changes && currentStatus === "Pending",
      ...(changes ? { proposedExplanation: after.explanation } : {}),
    };
  });
  return {
    storedVersion: stored.version,
    proposedVersion: proposed.version,
    proposedProblems: proposed.status === "unusable" ? proposed.problems : [],
    connections: results,
    rules: [...perRule.values()],
    summary: {
      connections: results.length,
      pending: results.filter((r) => r.currentStatus === "Pending").length,
      changed: results.filter((r) => r.changes).length,
      changedPending: results.filter((r) => r.wouldTakeEffect).length,
    },
    note: WHAT_IF_NOTE,
  };
}

/** Who decided, as compared between the two sets: a rule matching and the same rule stopping on an unknown fact differ. */
function deciderKey(decidedBy: DecidedBy): string {
  switch (decidedBy.kind) {
    case "rule":
      return `rule:${decidedBy.ruleId}`;
    case "unknown-fact":
      return `unknown-fact:${decidedBy.ruleId}:${decidedBy.missingFacts.join(",")}`;
    case "default":
    case "fail-closed":
      return decidedBy.kind;
  }
}
