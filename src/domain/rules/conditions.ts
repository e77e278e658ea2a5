/**
 * Rule conditions: kebab-case keys in ONE explicit map (no registries, no import side effects). Each entry holds
 * the zod schema of its value, a one-line description for documentation, and a compiler that turns the value into
 * data for a pure check (which fact; exact values or patterns) plus the sentences that explain a miss. An unknown
 * key fails at parse time with a message listing the valid keys.
 *
 * Every value is a list: the condition holds when the fact matches ANY entry; a rule matches when ALL of its
 * conditions hold. A condition on a fact that is unknown for this connection is unknown: it neither holds nor
 * fails, even when its pattern is `*` (the engine cannot tell what the requester wrote, or whether it could read
 * it), and evaluate.ts decides what an unknown condition means for each kind of rule.
 */
import { z } from "zod";
import { foldResourceId, type FactName } from "./facts.ts";
import { compileGlob, foldCase, MAX_PATTERN_LENGTH, type GlobMatcher } from "./glob.ts";

export type { FactName } from "./facts.ts";

/** What a map entry compiles its value into: data only, so one class evaluates every condition. */
interface ConditionSpec {
  readonly fact: FactName;
  /** Exact values (folded): the fact must equal one of them. */
  readonly values?: ReadonlySet<string>;
  /** Patterns: the fact must match one of them. */
  readonly matchers?: readonly GlobMatcher[];
  readonly failsBecause: string;
  /** The fact in words, for "the requester tenant is not known". */
  readonly subject: string;
}

/**
 * One condition of one rule, ready to evaluate: exact values or patterns. A single class of plain data keeps the
 * evaluation loop's calls monomorphic, which matters at 1,000 rules per connection.
 */
export class CompiledCondition {
  readonly key: ConditionKey;
  readonly fact: FactName;
  /** Folded exact values; also used when every pattern of a pattern condition is free of wildcards. */
  readonly values: ReadonlySet<string> | undefined;
  /** The value when `values` holds exactly one: a plain comparison is several times cheaper than a set lookup. */
  readonly onlyValue: string | undefined;
  readonly matchers: readonly GlobMatcher[];
  /** Completes "did not match: …" when the check fails. */
  readonly failsBecause: string;
  /** The fact in words ("the requester tenant"), for the sentences about an unknown fact. */
  readonly subject: string;

  constructor(key: ConditionKey, spec: ConditionSpec) {
    this.key = key;
    this.fact = spec.fact;
    const exact = spec.matchers?.every((m) => m.exact !== undefined) ?? false;
    this.values = spec.values ?? (exact ? new Set(spec.matchers!.map((m) => m.exact!)) : undefined);
    this.onlyValue = this.values?.size === 1 ? [...this.values][0] : undefined;
    this.matchers = this.values === undefined ? (spec.matchers ?? []) : [];
    this.failsBecause = spec.failsBecause;
    this.subject = spec.subject;
  }

  /** Whether the folded fact equals one of the exact values or matches one of the patterns. */
  holdsFor(foldedValue: string): boolean {
    if (this.onlyValue !== undefined) return foldedValue === this.onlyValue;
    if (this.values !== undefined) return this.values.has(foldedValue);
    for (const m of this.matchers) if (m.matches(foldedValue)) return true;
    return false;
  }
}

interface ConditionDefinition<S extends z.ZodType> {
  readonly schema: S;
  readonly description: string;
  compile(value: z.output<S>): ConditionSpec;
}

const MAX_LIST = 100;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

const pattern = z
  .string()
  .min(1, "a pattern cannot be empty")
  .max(MAX_PATTERN_LENGTH, `a pattern has at most ${MAX_PATTERN_LENGTH} characters`)
  .regex(NO_CONTROL_CHARACTERS, "a pattern cannot contain control characters");

const resourceIdPattern = pattern.refine(
  (p) => p.startsWith("*") || p.toLowerCase().startsWith("/subscriptions/"),
  "a resource ID pattern starts with /subscriptions/ or *",
);

const guid = z.string().regex(GUID, "expected a GUID");

function listOf<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, "list at least one value, or leave the condition out").max(MAX_LIST, `at most ${MAX_LIST} values`);
}

/** "a, b, c and 2 more": keeps explanation lines short whatever the rule holds. */
function quoteSome(values: readonly string[]): string {
  const shown = values.slice(0, 3).map((v) => JSON.stringify(v));
  return values.length > 3 ? `${shown.join(", ")} and ${values.length - 3} more` : shown.join(", ");
}

function patternCondition(
  patterns: readonly string[],
  fold: (p: string) => string,
  fact: Exclude<FactName, "groupIds">,
  subject: string,
  key: string,
): ConditionSpec {
  return {
    fact,
    matchers: patterns.map((p) => compileGlob(fold(p))),
    failsBecause: `${subject} matches none of its ${key} patterns (${quoteSome(patterns)})`,
    subject,
  };
}

function guidCondition(guids: readonly string[], fact: Exclude<FactName, "groupIds">, subject: string, key: string): ConditionSpec {
  return {
    fact,
    values: new Set(guids.map(foldCase)),
    failsBecause: `${subject} is not one of its ${key} (${quoteSome(guids)})`,
    subject,
  };
}

/** Keeps each entry's value type, so `compile` is checked against its own schema. */
function defineCondition<S extends z.ZodType>(definition: ConditionDefinition<S>): ConditionDefinition<S> {
  return definition;
}

/** The one map of condition keys. Order here is the order conditions are checked and explained. */
export const CONDITIONS = {
  "target-instances": defineCondition({
    schema: listOf(resourceIdPattern),
    description: "APIM instance resource ID patterns (`*` and `?` wildcards, case-insensitive).",
    compile: (patterns) => patternCondition(patterns, foldResourceId, "resourceId", "the target instance", "target-instances"),
  }),
  "group-ids": defineCondition({
    schema: listOf(z.string().min(1).max(80).regex(NO_CONTROL_CHARACTERS)).default(["Gateway"]),
    description: "Private link group (sub-resource) IDs; `Gateway` is the only one APIM accepts. Defaults to [\"Gateway\"].",
    compile: (groupIds) => ({
      fact: "groupIds",
      values: new Set(groupIds.map(foldCase)),
      failsBecause: `the connection's group IDs include none of its group-ids (${quoteSome(groupIds)})`,
      subject: "the connection's group IDs",
    }),
  }),
  "requester-subscriptions": defineCondition({
    schema: listOf(guid),
    description: "Subscription IDs taken from the private endpoint's resource ID.",
    compile: (guids) => guidCondition(guids, "requesterSubscriptionId", "the requester subscription", "requester-subscriptions"),
  }),
  "requester-tenants": defineCondition({
    schema: listOf(guid),
    description: "Entra tenant IDs of the requester: from a consumer-side event, else a hint from ARM's 401 challenge for the requester subscription. Where neither names it, an enforcing reject or manual rule with it leaves the connection for a person.",
    compile: (guids) => guidCondition(guids, "requesterTenantId", "the requester tenant", "requester-tenants"),
  }),
  "private-endpoint-ids": defineCondition({
    schema: listOf(resourceIdPattern),
    description: "Private endpoint resource ID patterns (`*` and `?` wildcards, case-insensitive).",
    compile: (patterns) => patternCondition(patterns, foldResourceId, "privateEndpointId", "the private endpoint", "private-endpoint-ids"),
  }),
  "request-message": defineCondition({
    schema: listOf(pattern),
    description: "Patterns for the consumer's request message (`*` any run, `?` one character, case-insensitive; matched in linear time, no regular expressions).",
    compile: (patterns) => patternCondition(patterns, (p) => p, "requestMessage", "the request message", "request-message"),
  }),
} as const;

export type ConditionKey = keyof typeof CONDITIONS;

export const CONDITION_KEYS = Object.keys(CONDITIONS) as ConditionKey[];

/** All conditions of a rule; absent keys match anything, except group-ids which defaults to ["Gateway"]. */
export const conditionsSchema = z.strictObject(
  {
    "target-instances": CONDITIONS["target-instances"].schema.optional(),
    "group-ids": CONDITIONS["group-ids"].schema,
    "requester-subscriptions": CONDITIONS["requester-subscriptions"].schema.optional(),
    "requester-tenants": CONDITIONS["requester-tenants"].schema.optional(),
    "private-endpoint-ids": CONDITIONS["private-endpoint-ids"].schema.optional(),
    "request-message": CONDITIONS["request-message"].schema.optional(),
  } satisfies { [K in ConditionKey]: z.ZodType },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown condition ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; valid conditions are ${CONDITION_KEYS.join(", ")}`
        : undefined,
  },
);

export type Conditions = z.output<typeof conditionsSchema>;

/** Compiles a rule's conditions in map order; absent ones are simply not checked. */
export function compileConditions(conditions: Conditions): CompiledCondition[] {
  const compiled: CompiledCondition[] = [];
  for (const key of CONDITION_KEYS) {
    const value = conditions[key];
    if (value === undefined) continue;
    const definition = CONDITIONS[key] as ConditionDefinition<z.ZodType>;
    compiled.push(new CompiledCondition(key, definition.compile(value)));
  }
  return compiled;
}
