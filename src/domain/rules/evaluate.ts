/**
 * Rule evaluation: a chain of pure checks run in order, stopping at the first enforce rule that decides.
 *
 *   unusable rule set ─────────────────────────────────────────────► manual (fail-closed)
 *   rules that do not cover the connection's resource type ──► not considered (one line each, then a count)
 *     (resource-types; a rule without it covers API Management only)
 *   rules whose target-resources (or deprecated target-instances) exclude this resource ──► not considered (counted)
 *   for each remaining rule by (priority, id):
 *     disabled / not yet valid / expired ──► skip (explained)
 *     no match (a known fact fails a condition) ──► continue (explained)
 *     unknown (no condition fails, one reads an unknown fact):
 *       mode audit ──► nothing recorded, continue (explained)
 *       enforce approve ──► does not approve; remembered as "could approve", continue (explained)
 *       enforce reject / manual ──► STOP: manual, decided by unknown-fact (the rule and its missing facts)
 *     matches, mode audit ──► record an audit match, continue
 *     matches, enforce reject, after a "could approve" rule ──► manual, decided by unknown-fact (that approve rule)
 *     matches, mode enforce ──► decides: its action and reason
 *   no enforce rule decided: defaultAction (a default reject after a "could approve" rule ──► manual, unknown-fact)
 *
 * Three values. A condition is match / no match / unknown; a rule combines its conditions like Kleene's AND:
 *
 *   | its conditions                                  | the rule   | why                                          |
 *   |-------------------------------------------------|------------|----------------------------------------------|
 *   | all match                                       | match      |                                              |
 *   | at least one fails on a known fact              | no match   | it cannot match whatever the unknown facts   |
 *   |                                                 |            | are, so "no match beats unknown"             |
 *   | none fails, at least one reads an unknown fact  | unknown    | it would match for some values, not others   |
 *
 * The goal is that revealing a fact (the sweep does not know the requester's tenant, a consumer-side event does;
 * a 403 on the consumer's endpoint hides the request message) can turn a manual outcome into approve or reject but
 * never an approve into a reject or back, so the event path, the sweep and the API never contradict each other:
 *   - an unknown enforce reject/manual rule stops: once the fact is known it might decide, and a lower approve
 *     rule must not approve meanwhile (fail closed);
 *   - an unknown approve rule never approves, but a reject below it (or a default reject) would turn into an
 *     approve once the fact is known and the rule matches, so such a reject becomes manual too. A lower approve
 *     or manual rule still decides: with more facts the outcome is still approve (possibly by the higher rule)
 *     or at most turns from manual into approve;
 *   - audit rules never decide, so an unknown one is only explained.
 * test/domain/rules/evaluate.property.test.ts checks these properties against a plain reference evaluator.
 *
 * The resource type is never unknown: it is read from the connection's own resource ID, so filtering rules by it
 * is a plain match / no match and the three values above are untouched.
 *
 * Pure and deterministic: time comes in as `options.now`. A rule set is compiled once: sorted order, patterns,
 * validity windows and every explanation sentence that does not depend on the connection. Because resource-types
 * and target-resources depend on nothing but the resource (its ID, and the type in it), the rules that can apply to
 * a resource are worked out on its first connection and remembered with the compiled set; later connections to it
 * walk only those rules.
 */
import { providerOf } from "../providers/registry.ts";
import { compileConditions, type CompiledCondition, type Coverage } from "./conditions.ts";
import { prepareFacts, resourceTypeOfFacts, type ConnectionFacts, type FactName, type PreparedFacts } from "./facts.ts";
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
  | { readonly kind: "fail-closed"; readonly problems: readonly RuleSetProblem[] }
  /**
   * Left for a person because a fact is unknown: `ruleId` is the rule that could not be evaluated (an enforcing
   * reject or manual rule, or an approve rule whose possible match forbids a lower reject), `missingFacts` the
   * ConnectionFacts fields it needs. The action is always "manual".
   */
  | { readonly kind: "unknown-fact"; readonly ruleId: string; readonly ruleVersion: number; readonly missingFacts: readonly string[] };

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
  /** The facts; which rules cover other types and how many target other resources; one sentence per rule considered; the outcome. */
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
  /** The resource types it covers (its resource-types, or API Management only). */
  readonly coverage: Coverage;
  /** Its target-resources (or target-instances) condition, if it has one. */
  readonly target: CompiledCondition | undefined;
  /** `conditions` from this index on are checked per connection; those before it are scope conditions. */
  readonly firstChecked: number;
  readonly decidedBy: DecidedBy;
  readonly auditMatch: AuditMatch;
  readonly lines: {
    readonly disabled: string;
    readonly notYetValid: string;
    readonly expired: string;
    readonly matched: string;
    /** Per condition, in `conditions` order (for group-ids: the line for a type it does not cover). */
    readonly fails: readonly string[];
    /** group-ids' failure line per folded resource type (it names the groups of that type). */
    readonly groupFails: ReadonlyMap<string, string>;
  };
  /** "Rule "x" v1 (priority 10, enforce, reject)": the start of the sentences built when a fact is unknown. */
  readonly name: string;
}

/** A rule set ready for fast evaluation; build it with `compileRuleSet` (memoized per snapshot). */
export interface CompiledRuleSet {
  readonly snapshot: RuleSetSnapshot;
  /** Sorted by priority, then id. Empty when the snapshot is unusable. */
  readonly compiledRules: readonly CompiledRule[];
  /**
   * Folded resource ID -> the rules that can apply to it (they cover its type, and their target-resources hold for
   * it or they have none), and the lines saying which did not. Filled on a resource's first connection: a cache of a
   * pure function of the resource ID, so results never depend on it.
   */
  readonly candidatesByResource: Map<string, Candidates>;
}

/** The rules that can apply to one resource, by ascending position, and why the others cannot. */
export interface Candidates {
  readonly positions: readonly number[];
  /** The explanation lines for the rules left out (type first, then one count of target-resources misses). */
  readonly lines: readonly string[];
}

/** Bounds the per-resource cache; resources beyond it are still evaluated correctly, just without the shortcut. */
const MAX_CACHED_RESOURCES = 10_000;

/** Rules left out for their type are named one by one up to this many, then counted, so explanations stay short. */
const MAX_TYPE_LINES = 10;

const compiledSnapshots = new WeakMap<RuleSetSnapshot, CompiledRuleSet>();

/** Compiles a snapshot once; the same snapshot object always yields the same compiled set. */
export function compileRuleSet(snapshot: RuleSetSnapshot): CompiledRuleSet {
  const cached = compiledSnapshots.get(snapshot);
  if (cached) return cached;
  const compiledRules = snapshot.status === "usable" ? [...snapshot.rules].sort(byPriorityThenId).map(compileRule) : [];
  const compiled: CompiledRuleSet = Object.freeze({ snapshot, compiledRules: Object.freeze(compiledRules), candidatesByResource: new Map() });
  compiledSnapshots.set(snapshot, compiled);
  return compiled;
}

/** The rules that can apply to a resource: they cover its type, and have no target-resources or one that holds. */
function candidatesFor(compiled: CompiledRuleSet, facts: PreparedFacts, typeWords: string): Candidates {
  const known = compiled.candidatesByResource.get(facts.resourceId);
  if (known) return known;
  const positions: number[] = [];
  const lines: string[] = [];
  let otherTypes = 0;
  let elsewhere = 0;
  compiled.compiledRules.forEach((r, position) => {
    if (!r.coverage.types.has(facts.resourceType)) {
      if (++otherTypes <= MAX_TYPE_LINES) lines.push(`${r.name} was not considered: the connection is on ${typeWords}; the rule covers ${r.coverage.words}.`);
    } else if (r.target !== undefined && !r.target.holdsFor(facts.resourceId)) elsewhere++;
    else positions.push(position);
  });
  if (otherTypes > MAX_TYPE_LINES) lines.push(`${otherTypes - MAX_TYPE_LINES} more rule(s) do not cover ${typeWords} (resource-types), so they were not considered.`);
  if (elsewhere > 0) lines.push(`${elsewhere} rule(s) do not target this resource (target-resources), so they were not considered.`);
  const candidates = Object.freeze({ positions: Object.freeze(positions), lines: Object.freeze(lines) });
  if (compiled.candidatesByResource.size < MAX_CACHED_RESOURCES) compiled.candidatesByResource.set(facts.resourceId, candidates);
  return candidates;
}

/** "a Microsoft.Storage/storageAccounts" in the registry's casing, for explanations. */
function typeInWords(facts: ConnectionFacts): string {
  const type = resourceTypeOfFacts(facts);
  if (type === undefined) return "a resource ID that names no resource type";
  return providerOf(type) === undefined ? `a ${type} (not a registered type)` : `a ${type}`;
}

/** The evaluation order: lower priority first, ties broken by id. */
export function byPriorityThenId(a: Rule, b: Rule): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function compileRule(rule: Rule): CompiledRule {
  const { conditions, coverage, scopeCount } = compileConditions(rule.conditions);
  const name = `Rule "${rule.id}" v${rule.version} (priority ${rule.priority}, ${rule.mode}, ${rule.action})`;
  const keys = conditions.map((c) => c.key).join(", ");
  const held = conditions.length === 0 ? "it has no conditions" : `${keys} ${conditions.length === 1 ? "holds" : "all hold"}`;
  const groups = conditions.find((c) => c.key === "group-ids");
  const groupFails = new Map([...(groups?.groupFailsByType ?? new Map<string, string>())].map(([type, why]) => [type, `${name} did not match: ${why}.`]));
  return {
    rule,
    enabled: rule.enabled,
    audit: rule.mode === "audit",
    validFromMs: rule.validFrom === undefined ? Number.NEGATIVE_INFINITY : Date.parse(rule.validFrom),
    validUntilMs: rule.validUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(rule.validUntil),
    conditions,
    coverage,
    target: conditions.find((c) => c.key === "target-resources" || c.key === "target-instances"),
    firstChecked: scopeCount,
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
      groupFails,
    },
    name,
  };
}

function isCompiled(ruleSet: RuleSetSnapshot | CompiledRuleSet): ruleSet is CompiledRuleSet {
  return "compiledRules" in ruleSet;
}

/** Evaluates the rules for one connection. Never throws for any facts; an unusable set yields manual. */
export function evaluateRules(facts: ConnectionFacts, ruleSet: RuleSetSnapshot | CompiledRuleSet, options: EvaluateOptions): RuleEvaluation {
  const compiled = isCompiled(ruleSet) ? ruleSet : compileRuleSet(ruleSet);
  const { snapshot } = compiled;
  const words = typeInWords(facts);
  const explanation: string[] = [describeFacts(facts, words)];
  if (snapshot.status === "unusable") return failClosed(snapshot.problems, snapshot.version, explanation);

  const prepared = prepareFacts(facts);
  const now = options.now.getTime();
  const rules = compiled.compiledRules;
  const { positions: candidates, lines: notConsidered } = candidatesFor(compiled, prepared, words);
  for (const line of notConsidered) explanation.push(line);
  const auditMatches: AuditMatch[] = [];
  /** The first enforce approve rule passed over because of an unknown fact: a later reject must not apply. */
  let couldApprove: { readonly rule: CompiledRule; readonly missing: readonly FactName[] } | undefined;
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
    const verdict = check(r, prepared);
    if (verdict >= 0) {
      explanation.push(r.conditions[verdict]!.fact === "groupIds" ? (r.lines.groupFails.get(prepared.resourceType) ?? r.lines.fails[verdict]!) : r.lines.fails[verdict]!);
      continue;
    }
    const remaining = candidates.length - k - 1;
    if (verdict === UNKNOWN) {
      const missing = missingFacts(r, prepared);
      const unknownFacts = `${factWords(missing)} ${missing.length === 1 ? "is" : "are"} not known`;
      if (r.audit) {
        explanation.push(`${r.name} could not be evaluated: ${unknownFacts}; nothing is recorded as an audit match and evaluation continues.`);
        continue;
      }
      if (r.rule.action === "approve") {
        explanation.push(`${r.name} could not match: ${unknownFacts}, and an approve rule never approves on an unknown fact, so evaluation continues.`);
        couldApprove ??= { rule: r, missing };
        continue;
      }
      explanation.push(
        `${r.name} could match, but ${unknownFacts}; an enforcing ${r.rule.action} rule that might apply stops evaluation, so the connection is left for a person.`,
      );
      if (remaining > 0) explanation.push(`${remaining} lower-priority rule(s) were not considered.`);
      return unknownFact(r, missing, stopReason(r.rule.id, missing), explanation, auditMatches, snapshot.version);
    }
    if (r.audit) {
      explanation.push(r.lines.matched);
      auditMatches.push(r.auditMatch);
      continue;
    }
    if (r.rule.action === "reject" && couldApprove !== undefined) {
      explanation.push(`${r.name} matched and would reject, but ${blockedBy(couldApprove)}, so the connection is left for a person.`);
      if (remaining > 0) explanation.push(`${remaining} lower-priority rule(s) were not considered.`);
      return unknownFact(couldApprove.rule, couldApprove.missing, couldApproveReason(couldApprove), explanation, auditMatches, snapshot.version);
    }
    explanation.push(r.lines.matched);
    if (remaining > 0) explanation.push(`${remaining} lower-priority rule(s) were not considered.`);
    return { action: r.rule.action, decidedBy: r.decidedBy, reason: r.rule.reason, explanation, auditMatches, ruleSetVersion: snapshot.version };
  }
  if (options.defaultAction === "reject" && couldApprove !== undefined) {
    explanation.push(`No enforce rule matched and the default action would reject, but ${blockedBy(couldApprove)}, so the connection is left for a person.`);
    return unknownFact(couldApprove.rule, couldApprove.missing, couldApproveReason(couldApprove), explanation, auditMatches, snapshot.version);
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

function unknownFact(
  r: CompiledRule,
  missing: readonly FactName[],
  reason: string,
  explanation: readonly string[],
  auditMatches: readonly AuditMatch[],
  ruleSetVersion: string,
): RuleEvaluation {
  return {
    action: "manual",
    decidedBy: { kind: "unknown-fact", ruleId: r.rule.id, ruleVersion: r.rule.version, missingFacts: missing },
    reason,
    explanation,
    auditMatches,
    ruleSetVersion,
  };
}

/** What a fact is called in explanations and reasons. */
const FACT_WORDS: Readonly<Record<FactName, string>> = {
  resourceId: "target resource",
  resourceType: "resource type",
  privateEndpointId: "private endpoint",
  requesterSubscriptionId: "requester subscription",
  requesterTenantId: "requester tenant",
  requestMessage: "request message",
  groupIds: "group IDs",
};

/** "the requester tenant", "the requester tenant and request message", "the a, b and c". */
function factWords(missing: readonly FactName[]): string {
  const words = missing.map((f) => FACT_WORDS[f]);
  return `the ${words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`}`;
}

function blockedBy(couldApprove: { readonly rule: CompiledRule; readonly missing: readonly FactName[] }): string {
  return `the higher-priority approve rule "${couldApprove.rule.rule.id}" could match once ${factWords(couldApprove.missing)} ${couldApprove.missing.length === 1 ? "is" : "are"} known (rejecting now could contradict it)`;
}

/**
 * The reason of an unknown-fact outcome: it may be written into the connection's description, so it names the
 * rule and the facts and stays under the description's 140 characters (MAX_REASON_LENGTH) for any rule id.
 */
function stopReason(ruleId: string, missing: readonly FactName[]): string {
  const full = `Left for manual review: rule ${ruleId} depends on ${factWords(missing)}, which ${missing.length === 1 ? "is" : "are"} unknown.`;
  return full.length < MAX_UNKNOWN_REASON ? full : `Left for manual review: rule ${ruleId} depends on facts Portcullis does not know.`;
}

function couldApproveReason(couldApprove: { readonly rule: CompiledRule; readonly missing: readonly FactName[] }): string {
  const { rule } = couldApprove.rule;
  const full = `Left for manual review: rule ${rule.id} could approve once ${factWords(couldApprove.missing)} ${couldApprove.missing.length === 1 ? "is" : "are"} known.`;
  return full.length < MAX_UNKNOWN_REASON ? full : `Left for manual review: rule ${rule.id} could approve once more facts are known.`;
}

/** Exclusive bound: ARM's description (like the request message) holds at most 140 characters. */
const MAX_UNKNOWN_REASON = 140;

/** check(): every condition holds. */
const MATCH = -1;
/** check(): no condition fails on a known fact, but at least one reads an unknown fact. */
const UNKNOWN = -2;

/**
 * A rule's verdict: MATCH, UNKNOWN, or the index of the first condition (in map order) that fails on a known fact.
 * A failing condition wins over an unknown one wherever it comes, so the loop goes on after an unknown condition.
 * The scope conditions (resource-types, target-resources) already hold for every candidate. group-ids reads the
 * resource type (always known) and the group ids, unknown when a rule names groups and the connection's are not known.
 */
function check(rule: CompiledRule, facts: PreparedFacts): number {
  const conditions = rule.conditions;
  let verdict = MATCH;
  for (let c = rule.firstChecked; c < conditions.length; c++) {
    const condition = conditions[c]!;
    if (condition.fact === "groupIds") {
      const holds = condition.holdsForGroups(facts.resourceType, facts.groupIds);
      if (holds === undefined) verdict = UNKNOWN;
      else if (!holds) return c;
      continue;
    }
    const value = singleFact(facts, condition.fact);
    if (value === undefined) verdict = UNKNOWN;
    else if (!condition.holdsFor(value)) return c;
  }
  return verdict;
}

/** The facts an UNKNOWN rule's conditions read and this connection lacks, in condition order, each once. */
function missingFacts(rule: CompiledRule, facts: PreparedFacts): FactName[] {
  const missing: FactName[] = [];
  for (const condition of rule.conditions) {
    const known =
      condition.fact === "groupIds" ? condition.holdsForGroups(facts.resourceType, facts.groupIds) !== undefined : singleFact(facts, condition.fact) !== undefined;
    if (known) continue;
    if (!missing.includes(condition.fact)) missing.push(condition.fact);
  }
  return missing;
}

/** A switch rather than `facts[fact]`: the property read stays monomorphic in the hot loop. */
function singleFact(facts: PreparedFacts, fact: Exclude<keyof PreparedFacts, "groupIds">): string | undefined {
  switch (fact) {
    case "resourceId":
      return facts.resourceId;
    case "resourceType":
      return facts.resourceType;
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
function describeFacts(facts: ConnectionFacts, typeWords: string): string {
  const known = (value: string | undefined) => (value === undefined || value.trim() === "" ? "unknown" : value);
  const message =
    facts.requestMessage === undefined
      ? "unknown"
      : JSON.stringify(facts.requestMessage.length > MAX_SHOWN_MESSAGE ? `${facts.requestMessage.slice(0, MAX_SHOWN_MESSAGE)}…` : facts.requestMessage);
  return (
    `Connection ${facts.connectionId} to ${facts.resourceId} (${typeWords}): private endpoint ${known(facts.privateEndpointId)}, ` +
    `requester subscription ${known(facts.requesterSubscriptionId)}, requester tenant ${known(facts.requesterTenantId)}, ` +
    `group IDs ${facts.groupIds.length === 0 ? "none" : facts.groupIds.join(", ")}, request message ${message}.`
  );
}
