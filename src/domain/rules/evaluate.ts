/**
 * Rule evaluation: a chain of pure checks run in order, stopping at the first enforce rule that matches.
 *
 *   unusable rule set ─────────────────────────────────────────────► manual (fail-closed)
 *   for each rule by (priority, id):
 *     disabled / not yet valid / expired ──► skip (explained)
 *     a condition fails or its fact is unknown ──► no match (explained)
 *     matches, mode audit ──► record an audit match, continue
 *     matches, mode enforce ──► decides: its action and reason
 *   no enforce rule matched ──────────────────────────────────────► defaultAction
 *
 * Pure and deterministic: time comes in as `options.now`. A rule set is compiled once (patterns, validity windows,
 * sorted order and every explanation sentence that does not depend on the connection), so evaluating one
 * connection only runs cheap comparisons.
 */
import { compileConditions, type CompiledCondition } from "./conditions.ts";
import { prepareFacts, type ConnectionFacts, type PreparedFacts } from "./facts.ts";
import type { RuleSetProblem, RuleSetSnapshot } from "./rule-set.ts";
import type { Rule, RuleAction } from "./schema.ts";

export type DefaultAction = "manual" | "reject";

export interface EvaluateOptions {
  readonly now: Date;
  /** What happens when no enforce rule matches (the PORTCULLIS_DEFAULT_ACTION setting). */
  readonly defaultAction: DefaultAction;
}

export type DecidedBy =
  | { readonly kind: "rule"; readonly ruleId: string; readonly ruleVersion: number }
  | { readonly kind: "default" }
  | { readonly kind: "fail-closed"; readonly problems: readonly RuleSetProblem[] };

/** An audit-mode rule that matched: what it would have done had it been enforced. */
export interface AuditMatch {
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly action: RuleAction;
}

export interface RuleEvaluation {
  readonly action: RuleAction;
  readonly decidedBy: DecidedBy;
  /** Text for the connection's description. */
  readonly reason: string;
  /** The facts, then one sentence per rule considered, then the outcome. */
  readonly explanation: readonly string[];
  readonly auditMatches: readonly AuditMatch[];
  /** The version of the rule set evaluated (for the decision log). */
  readonly ruleSetVersion: string;
}

/** One rule with everything that does not depend on the connection worked out in advance. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly enabled: boolean;
  readonly audit: boolean;
  readonly validFromMs: number;
  readonly validUntilMs: number;
  /** Its first condition is target-instances with exact IDs only, so the set's target index answers it. */
  readonly targetIndexed: boolean;
  readonly conditions: readonly CompiledCondition[];
  readonly decidedBy: DecidedBy;
  readonly auditMatch: AuditMatch;
  readonly lines: {
    readonly disabled: string;
    readonly notYetValid: string;
    readonly expired: string;
    readonly matched: string;
    /** Per condition, in `conditions` order. */
    readonly fails: readonly string[];
    readonly unknown: readonly string[];
  };
}

/** A rule set ready for fast evaluation; build it with `compileRuleSet` (memoized per snapshot). */
export interface CompiledRuleSet {
  readonly snapshot: RuleSetSnapshot;
  /** Sorted by priority, then id. Empty when the snapshot is unusable. */
  readonly compiledRules: readonly CompiledRule[];
  /**
   * Folded instance ID -> ascending positions (in compiledRules) of the target-indexed rules that name it, so a
   * connection skips the rules for other instances with one map lookup instead of one comparison per rule.
   */
  readonly targetIndex: ReadonlyMap<string, readonly number[]>;
}

const compiledSnapshots = new WeakMap<RuleSetSnapshot, CompiledRuleSet>();

/** Compiles a snapshot once; the same snapshot object always yields the same compiled set. */
export function compileRuleSet(snapshot: RuleSetSnapshot): CompiledRuleSet {
  const cached = compiledSnapshots.get(snapshot);
  if (cached) return cached;
  const compiledRules = snapshot.status === "usable" ? [...snapshot.rules].sort(byPriorityThenId).map(compileRule) : [];
  const targetIndex = new Map<string, number[]>();
  compiledRules.forEach((r, position) => {
    if (!r.targetIndexed) return;
    for (const id of r.conditions[0]!.values!) {
      const positions = targetIndex.get(id) ?? [];
      positions.push(position);
      targetIndex.set(id, positions);
    }
  });
  const compiled: CompiledRuleSet = Object.freeze({ snapshot, compiledRules: Object.freeze(compiledRules), targetIndex });
  compiledSnapshots.set(snapshot, compiled);
  return compiled;
}

/** The evaluation order: lower priority first, ties broken by id. */
export function byPriorityThenId(a: Rule, b: Rule): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function compileRule(rule: Rule): CompiledRule {
  const conditions = compileConditions(rule.conditions);
  const name = `Rule "${rule.id}" v${rule.version} (priority ${rule.priority}, ${rule.mode}, ${rule.action})`;
  const keys = conditions.map((c) => c.key).join(", ");
  const held = conditions.length === 0 ? "it has no conditions" : `${keys} ${conditions.length === 1 ? "holds" : "all hold"}`;
  return {
    rule,
    enabled: rule.enabled,
    audit: rule.mode === "audit",
    validFromMs: rule.validFrom === undefined ? Number.NEGATIVE_INFINITY : Date.parse(rule.validFrom),
    validUntilMs: rule.validUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(rule.validUntil),
    targetIndexed: conditions[0]?.key === "target-instances" && conditions[0].values !== undefined,
    conditions,
    decidedBy: Object.freeze({ kind: "rule", ruleId: rule.id, ruleVersion: rule.version }),
    auditMatch: Object.freeze({ ruleId: rule.id, ruleVersion: rule.version, action: rule.action }),
    lines: {
      disabled: `${name} is disabled, so it was skipped.`,
      notYetValid: `${name} is not valid until ${rule.validFrom}, so it was skipped.`,
      expired: `${name} expired at ${rule.validUntil}, so it was skipped.`,
      matched:
        rule.mode === "audit"
          ? `${name} matched (${held}); it is in audit mode, so it is recorded as an audit match and evaluation continues.`
          : `${name} matched (${held}), so it decides: ${rule.action}.`,
      fails: conditions.map((c) => `${name} did not match: ${c.failsBecause}.`),
      unknown: conditions.map((c) => `${name} did not match: ${c.unknownBecause}.`),
    },
  };
}

function isCompiled(ruleSet: RuleSetSnapshot | CompiledRuleSet): ruleSet is CompiledRuleSet {
  return "compiledRules" in ruleSet;
}

/** Evaluates the rules for one connection. Never throws for any facts; an unusable set yields manual. */
export function evaluateRules(facts: ConnectionFacts, ruleSet: RuleSetSnapshot | CompiledRuleSet, options: EvaluateOptions): RuleEvaluation {
  const compiled = isCompiled(ruleSet) ? ruleSet : compileRuleSet(ruleSet);
  const { snapshot } = compiled;
  const explanation: string[] = [describeFacts(facts)];
  if (snapshot.status === "unusable") return failClosed(snapshot.problems, snapshot.version, explanation);

  const prepared = prepareFacts(facts);
  const now = options.now.getTime();
  const rules = compiled.compiledRules;
  const hits = compiled.targetIndex.get(prepared.serviceId) ?? NO_HITS;
  let nextHit = 0;
  const auditMatches: AuditMatch[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    // Target-indexed rules for this instance come up in ascending order: walk the hit list alongside.
    let targetHolds = false;
    if (r.targetIndexed) {
      targetHolds = hits[nextHit] === i;
      if (targetHolds) nextHit++;
    }
    if (!r.enabled) {
      explanation.push(r.lines.disabled);
      continue;
    }
    if (now < r.validFromMs) {
      explanation.push(r.lines.notYetValid);
      continue;
    }
    if (now >= r.validUntilMs) {
      explanation.push(r.lines.expired);
      continue;
    }
    if (r.targetIndexed && !targetHolds) {
      explanation.push(r.lines.fails[0]!);
      continue;
    }
    const miss = firstMiss(r, prepared, targetHolds ? 1 : 0);
    if (miss !== undefined) {
      explanation.push(miss);
      continue;
    }
    explanation.push(r.lines.matched);
    if (r.audit) {
      auditMatches.push(r.auditMatch);
      continue;
    }
    const skipped = rules.length - i - 1;
    if (skipped > 0) explanation.push(`${skipped} lower-priority rule(s) were not considered.`);
    return { action: r.rule.action, decidedBy: r.decidedBy, reason: r.rule.reason, explanation, auditMatches, ruleSetVersion: snapshot.version };
  }
  explanation.push(DEFAULT_LINES[options.defaultAction]);
  return {
    action: options.defaultAction,
    decidedBy: DEFAULT_DECIDER,
    reason: DEFAULT_REASONS[options.defaultAction],
    explanation,
    auditMatches,
    ruleSetVersion: snapshot.version,
  };
}

const NO_HITS: readonly number[] = [];

/** The explanation line of the first condition (from `start`) that does not hold, or undefined when all hold. */
function firstMiss(rule: CompiledRule, facts: PreparedFacts, start: number): string | undefined {
  const conditions = rule.conditions;
  for (let c = start; c < conditions.length; c++) {
    const outcome = conditions[c]!.check(facts);
    if (outcome === "fails") return rule.lines.fails[c];
    if (outcome === "unknown") return rule.lines.unknown[c];
  }
  return undefined;
}

const DEFAULT_DECIDER: DecidedBy = Object.freeze({ kind: "default" });

const DEFAULT_LINES: Readonly<Record<DefaultAction, string>> = {
  manual: "No enforce rule matched, so the default action applies: manual (the connection stays Pending for a person).",
  reject: "No enforce rule matched, so the default action applies: reject.",
};

const DEFAULT_REASONS: Readonly<Record<DefaultAction, string>> = {
  manual: "No Portcullis rule matched; left for manual review.",
  reject: "No Portcullis rule matched; rejected by the default action.",
};

function failClosed(problems: readonly RuleSetProblem[], version: string, explanation: string[]): RuleEvaluation {
  for (const p of problems) explanation.push(`Stored rule row "${p.rowKey}" is unusable: ${p.message}.`);
  explanation.push(
    `The rule set is unusable (${problems.length} broken row(s)), so no automatic decision is made: skipping a broken rule could let a lower-priority approve rule through.`,
  );
  return {
    action: "manual",
    decidedBy: { kind: "fail-closed", problems },
    reason: "Portcullis rules are unusable (a stored rule does not parse); left for manual review.",
    explanation,
    auditMatches: [],
    ruleSetVersion: version,
  };
}

const MAX_SHOWN_MESSAGE = 200;

/** The facts as one sentence. The request message is untrusted: quoted, escaped and shortened. */
function describeFacts(facts: ConnectionFacts): string {
  const known = (value: string | undefined) => (value === undefined || value.trim() === "" ? "unknown" : value);
  const message =
    facts.requestMessage === undefined
      ? "unknown"
      : JSON.stringify(facts.requestMessage.length > MAX_SHOWN_MESSAGE ? `${facts.requestMessage.slice(0, MAX_SHOWN_MESSAGE)}…` : facts.requestMessage);
  return (
    `Connection ${facts.connectionId} to ${facts.serviceId}: private endpoint ${known(facts.privateEndpointId)}, ` +
    `requester subscription ${known(facts.requesterSubscriptionId)}, requester tenant ${known(facts.requesterTenantId)}, ` +
    `group IDs ${facts.groupIds.length === 0 ? "none" : facts.groupIds.join(", ")}, request message ${message}.`
  );
}
