/**
 * Rule evaluation: a chain of pure checks run in order, stopping at the first enforce rule that matches.
 *
 *   unusable rule set ─────────────────────────────────────────────► manual (fail-closed)
 *   rules whose target-instances exclude this instance ──► not considered (counted in one line)
 *   for each remaining rule by (priority, id):
 *     disabled / not yet valid / expired ──► skip (explained)
 *     a condition fails or its fact is unknown ──► no match (explained)
 *     matches, mode audit ──► record an audit match, continue
 *     matches, mode enforce ──► decides: its action and reason
 *   no enforce rule matched ──────────────────────────────────────► defaultAction
 *
 * Pure and deterministic: time comes in as `options.now`. A rule set is compiled once: sorted order, patterns,
 * validity windows and every explanation sentence that does not depend on the connection. Because target-instances
 * depends on nothing but the instance, the rules that can apply to an instance are worked out on its first
 * connection and remembered with the compiled set; later connections to it walk only those rules.
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
  /** The facts; how many rules target other instances; one sentence per rule considered; the outcome. */
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
  readonly conditions: readonly CompiledCondition[];
  /** Its target-instances condition (always the first condition), if it has one. */
  readonly target: CompiledCondition | undefined;
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
   * Folded instance ID -> ascending positions of the rules whose target-instances hold for it (or that have none).
   * Filled on an instance's first connection: a cache of a pure function, so results never depend on it.
   */
  readonly candidatesByInstance: Map<string, readonly number[]>;
}

/** Bounds the per-instance cache; instances beyond it are still evaluated correctly, just without the shortcut. */
const MAX_CACHED_INSTANCES = 10_000;

const compiledSnapshots = new WeakMap<RuleSetSnapshot, CompiledRuleSet>();

/** Compiles a snapshot once; the same snapshot object always yields the same compiled set. */
export function compileRuleSet(snapshot: RuleSetSnapshot): CompiledRuleSet {
  const cached = compiledSnapshots.get(snapshot);
  if (cached) return cached;
  const compiledRules = snapshot.status === "usable" ? [...snapshot.rules].sort(byPriorityThenId).map(compileRule) : [];
  const compiled: CompiledRuleSet = Object.freeze({ snapshot, compiledRules: Object.freeze(compiledRules), candidatesByInstance: new Map() });
  compiledSnapshots.set(snapshot, compiled);
  return compiled;
}

/** Positions of the rules that can apply to an instance: no target-instances condition, or one that holds. */
function candidatesFor(compiled: CompiledRuleSet, instance: string): readonly number[] {
  const known = compiled.candidatesByInstance.get(instance);
  if (known) return known;
  const candidates: number[] = [];
  compiled.compiledRules.forEach((r, position) => {
    if (r.target === undefined || r.target.holdsFor(instance)) candidates.push(position);
  });
  if (compiled.candidatesByInstance.size < MAX_CACHED_INSTANCES) compiled.candidatesByInstance.set(instance, candidates);
  return candidates;
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
    conditions,
    target: conditions[0]?.key === "target-instances" ? conditions[0] : undefined,
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
  const candidates = candidatesFor(compiled, prepared.serviceId);
  const elsewhere = rules.length - candidates.length;
  if (elsewhere > 0) explanation.push(`${elsewhere} rule(s) do not target this instance (target-instances), so they were not considered.`);
  const auditMatches: AuditMatch[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const r = rules[candidates[k]!]!;
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
    const miss = firstMiss(r, prepared);
    if (miss !== undefined) {
      explanation.push(miss);
      continue;
    }
    explanation.push(r.lines.matched);
    if (r.audit) {
      auditMatches.push(r.auditMatch);
      continue;
    }
    const remaining = candidates.length - k - 1;
    if (remaining > 0) explanation.push(`${remaining} lower-priority rule(s) were not considered.`);
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

/**
 * The explanation line of the first condition (in map order) that does not hold, or undefined when all hold.
 * A condition on an unknown fact never holds. target-instances already holds for every candidate.
 */
function firstMiss(rule: CompiledRule, facts: PreparedFacts): string | undefined {
  const conditions = rule.conditions;
  for (let c = rule.target === undefined ? 0 : 1; c < conditions.length; c++) {
    const condition = conditions[c]!;
    if (condition.fact === "groupIds") {
      if (!anyHolds(condition, facts.groupIds)) return rule.lines.fails[c];
      continue;
    }
    const value = singleFact(facts, condition.fact);
    if (value === undefined) return rule.lines.unknown[c];
    if (!condition.holdsFor(value)) return rule.lines.fails[c];
  }
  return undefined;
}

function anyHolds(condition: CompiledCondition, values: readonly string[]): boolean {
  for (let i = 0; i < values.length; i++) if (condition.holdsFor(values[i]!)) return true;
  return false;
}

/** A switch rather than `facts[fact]`: the property read stays monomorphic in the hot loop. */
function singleFact(facts: PreparedFacts, fact: Exclude<keyof PreparedFacts, "groupIds">): string | undefined {
  switch (fact) {
    case "serviceId":
      return facts.serviceId;
    case "privateEndpointId":
      return facts.privateEndpointId;
    case "requesterSubscriptionId":
      return facts.requesterSubscriptionId;
    case "requesterTenantId":
      return facts.requesterTenantId;
    case "requestMessage":
      return facts.requestMessage;
  }
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
