/**
 * Rule conditions: kebab-case keys in ONE explicit map (no registries, no import side effects). Each entry holds
 * the zod schema of its value, a one-line description for documentation, and a compiler that turns the value into
 * data for a pure check (which fact; exact values or patterns) plus the sentences that explain a miss. An unknown
 * key fails at parse time with a message listing the valid keys.
 *
 * Every value is a list (`group-ids` may also be a list per resource type): the condition holds when the fact
 * matches ANY entry; a rule matches when ALL of its conditions hold.
 *
 * Coverage: `resource-types` says which registered ARM types a rule is about. A rule without it covers API
 * Management only: every rule set written before Portcullis governed other types was written for APIM (its
 * `group-ids` defaulted to `Gateway`), so an upgrade never lets an old approve rule approve a storage account. A condition on a fact that is unknown for this connection is unknown: it neither holds nor
 * fails, even when its pattern is `*` (the engine cannot tell what the requester wrote, or whether it could read
 * it), and evaluate.ts decides what an unknown condition means for each kind of rule.
 */
import { z } from "zod";
import { PRIVATE_LINK_PROVIDERS, providerOf, REGISTERED_RESOURCE_TYPES, type PrivateLinkProvider } from "../providers/registry.ts";
import { foldResourceId, type FactName } from "./facts.ts";
import { compileGlob, foldCase, MAX_PATTERN_LENGTH, type GlobMatcher } from "./glob.ts";

export type { FactName } from "./facts.ts";

/** What a map entry compiles its value into: data only, so one class evaluates every condition. */
interface ConditionSpec {
  readonly fact: FactName;
  /**
   * group-ids only: folded resource type -> the folded group ids that hold for it, or `null` when any group holds
   * (a type whose connections carry no group id, such as a Private Link Service, under the default). A type
   * missing from the map is not covered, so nothing holds for it.
   */
  readonly groupsByType?: ReadonlyMap<string, ReadonlySet<string> | null>;
  /** group-ids only: per folded type, the sentence completing "did not match: …". */
  readonly groupFailsByType?: ReadonlyMap<string, string>;
  /** Folded types that have no groups at all (Private Link Services): a connection naming none is known to have none. */
  readonly grouplessTypes?: ReadonlySet<string>;
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
  readonly groupsByType: ReadonlyMap<string, ReadonlySet<string> | null> | undefined;
  readonly groupFailsByType: ReadonlyMap<string, string> | undefined;
  readonly grouplessTypes: ReadonlySet<string> | undefined;
  /** Not written in the rule: the default this condition takes when it is left out (group-ids). */
  readonly implicit: boolean;

  constructor(key: ConditionKey, spec: ConditionSpec, implicit = false) {
    this.key = key;
    this.implicit = implicit;
    this.groupsByType = spec.groupsByType;
    this.groupFailsByType = spec.groupFailsByType;
    this.grouplessTypes = spec.grouplessTypes;
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

  /** group-ids: whether one of the connection's folded group ids holds for its folded resource type. */
  /**
   * true / false, or undefined when the rule names groups but nobody knows the connection's: the provider side of most
   * types names none and the consumer's endpoint (which would) could not be read. Unknown, never "does not match":
   * a reject rule on `blob` must not let an unknown-group connection fall through to a lower approve rule.
   */
  holdsForGroups(foldedType: string, foldedGroupIds: readonly string[]): boolean | undefined {
    const allowed = this.groupsByType?.get(foldedType);
    if (allowed === undefined) return false;
    if (allowed === null) return true;
    if (foldedGroupIds.length === 0) return this.grouplessTypes?.has(foldedType) ? false : undefined;
    for (let i = 0; i < foldedGroupIds.length; i++) if (allowed.has(foldedGroupIds[i]!)) return true;
    return false;
  }

  /** The sentence completing "did not match: …" for a connection of this (folded) type. */
  failsBecauseFor(foldedType: string): string {
    return this.groupFailsByType?.get(foldedType) ?? this.failsBecause;
  }
}

interface ConditionDefinition<S extends z.ZodType> {
  readonly schema: S;
  readonly description: string;
  /** `coverage`: the types the rule covers (its resource-types, or the default), for conditions that depend on it. */
  compile(value: z.output<S>, coverage: Coverage): ConditionSpec;
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
  fact: Exclude<FactName, "groupIds" | "resourceType">,
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

function guidCondition(guids: readonly string[], fact: Exclude<FactName, "groupIds" | "resourceType">, subject: string, key: string): ConditionSpec {
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

/** The type a rule without `resource-types` covers: the one every rule set was written for before issue 12. */
export const DEFAULT_RESOURCE_TYPE = "Microsoft.ApiManagement/service";

/** What a rule covers: the registered resource types its other conditions apply to. */
export interface Coverage {
  /** `default`: no resource-types (API Management only); `all`: `"*"`; `listed`: the types it names. */
  readonly kind: "default" | "all" | "listed";
  /** The covered registry entries, in registry order. */
  readonly providers: readonly PrivateLinkProvider[];
  /** Folded ARM types of `providers`. */
  readonly types: ReadonlySet<string>;
  /** Completes "the rule covers …": "API Management only (it has no resource-types)". */
  readonly words: string;
}

/** A `resource-types` value: `"*"`, or a list of ARM types (or `["*"]`). */
export type ResourceTypesValue = "*" | readonly string[];

const isEveryType = (value: ResourceTypesValue | undefined) => value === "*" || (Array.isArray(value) && value.includes("*"));

/**
 * The coverage of a resource-types value. Names the registry does not know cover nothing: the draft schema refuses
 * them on every write, and a stored rule naming a type a later registry dropped must still parse (one unparseable
 * row makes the whole rule set unusable), and that type is no longer governed anyway.
 */
export function coverageOf(resourceTypes: ResourceTypesValue | undefined): Coverage {
  if (resourceTypes === undefined) {
    const providers = [providerOf(DEFAULT_RESOURCE_TYPE)!];
    return coverage("default", providers, `${providers[0]!.displayName} only (it has no resource-types)`);
  }
  if (isEveryType(resourceTypes)) return coverage("all", PRIVATE_LINK_PROVIDERS, "every registered resource type (resource-types \"*\")");
  const wanted = new Set((resourceTypes as readonly string[]).map(foldCase));
  const providers = PRIVATE_LINK_PROVIDERS.filter((p) => wanted.has(foldCase(p.resourceType)));
  return coverage("listed", providers, `${providers.length === 0 ? "no registered type" : providers.map((p) => p.resourceType).join(", ")} (resource-types)`);
}

function coverage(kind: Coverage["kind"], providers: readonly PrivateLinkProvider[], words: string): Coverage {
  return { kind, providers, types: new Set(providers.map((p) => foldCase(p.resourceType))), words };
}

const resourceTypeName = z.string().min(1, "a resource type cannot be empty").max(200, "a resource type has at most 200 characters").regex(NO_CONTROL_CHARACTERS, "a resource type cannot contain control characters");

const groupIdName = z.string().min(1).max(80).regex(NO_CONTROL_CHARACTERS);

/** group-ids: one list for every covered type, or a list per resource type. */
const groupIdsSchema = z.union(
  [
    listOf(groupIdName),
    z
      .record(resourceTypeName, listOf(groupIdName))
      .refine((byType) => Object.keys(byType).length > 0, "name at least one resource type, or leave group-ids out"),
  ],
  { error: 'expected a list of group ids, or an object of lists keyed by resource type ({"Microsoft.Storage/storageAccounts": ["blob"]})' },
);

export type GroupIdsValue = z.output<typeof groupIdsSchema>;

/** The folded groups of a registry entry. */
const groupsOf = (provider: PrivateLinkProvider) => provider.groups.map((g) => g.groupId);

/** Per covered type, the groups that hold; the default is every group of the type (any, for a type without groups). */
function compileGroups(value: GroupIdsValue | undefined, covered: Coverage): ConditionSpec {
  const groupsByType = new Map<string, ReadonlySet<string> | null>();
  const groupFailsByType = new Map<string, string>();
  const grouplessTypes = new Set<string>();
  const byType = value === undefined || Array.isArray(value) ? undefined : new Map(Object.entries(value).map(([type, groups]) => [foldCase(type), groups]));
  for (const provider of covered.providers) {
    const type = foldCase(provider.resourceType);
    const stated = Array.isArray(value) ? (value as readonly string[]) : byType?.get(type);
    if (provider.groups.length === 0) grouplessTypes.add(type);
    if (stated !== undefined) {
      groupsByType.set(type, new Set(stated.map(foldCase)));
      groupFailsByType.set(type, `the connection's group IDs include none of its group-ids for a ${provider.resourceType} (${quoteSome(stated)})`);
    } else {
      // The default is every group of the type, and Azure accepts a connection only on one of them: it holds whatever
      // the group, also when nobody can say which (a storage connection names none; a Microsoft-managed endpoint that
      // would name it cannot be read).
      groupsByType.set(type, null);
    }
  }
  return {
    fact: "groupIds",
    groupsByType,
    groupFailsByType,
    grouplessTypes,
    failsBecause: "the connection's resource type is not one the rule covers",
    subject: "the connection's group IDs",
  };
}

/** The one map of condition keys. Order here is the order conditions are checked and explained. */
export const CONDITIONS = {
  "resource-types": defineCondition({
    schema: z.union([z.literal("*"), listOf(resourceTypeName)], { error: 'expected a list of ARM resource types, or "*" for every registered type' }),
    description:
      "ARM resource types the rule covers (case-insensitive), each registered in the provider registry, or `\"*\"` for every registered type. **Defaults to API Management only.**",
    compile: (_value, covered) => ({
      fact: "resourceType",
      values: covered.types,
      failsBecause: `the connection's resource type is not one it covers (${covered.words})`,
      subject: "the connection's resource type",
    }),
  }),
  "target-resources": defineCondition({
    schema: listOf(resourceIdPattern),
    description: "Resource ID patterns of the resource the connection is on, of any governed type (`*` and `?` wildcards, case-insensitive).",
    compile: (patterns) => patternCondition(patterns, foldResourceId, "resourceId", "the target resource", "target-resources"),
  }),
  "target-instances": defineCondition({
    schema: listOf(resourceIdPattern),
    description: "Deprecated: the old name of `target-resources` (same patterns, same meaning). Lint warns; a rule cannot have both.",
    compile: (patterns) => patternCondition(patterns, foldResourceId, "resourceId", "the target resource", "target-instances"),
  }),
  "group-ids": defineCondition({
    schema: groupIdsSchema,
    description:
      "Private link group (sub-resource) IDs: a list (any of these), or lists keyed by resource type. Defaults to every group of the covered types (`Gateway` for API Management).",
    compile: (groupIds, covered) => compileGroups(groupIds, covered),
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

/** Conditions that depend on nothing but the resource the connection is on: evaluate.ts filters rules by them once per resource. */
export const SCOPE_KEYS: readonly ConditionKey[] = ["resource-types", "target-resources", "target-instances"];

/** The deprecated condition keys and the key that replaces each. */
export const DEPRECATED_KEYS: Readonly<Partial<Record<ConditionKey, ConditionKey>>> = { "target-instances": "target-resources" };

/** All conditions of a rule; absent keys restrict nothing, except that coverage and group-ids have defaults. */
export const conditionsSchema = z
  .strictObject(
    {
      "resource-types": CONDITIONS["resource-types"].schema.optional(),
      "target-resources": CONDITIONS["target-resources"].schema.optional(),
      "target-instances": CONDITIONS["target-instances"].schema.optional(),
      "group-ids": CONDITIONS["group-ids"].schema.optional(),
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
  )
  .refine((c) => c["target-resources"] === undefined || c["target-instances"] === undefined, {
    message: "target-instances is the deprecated name of target-resources; a rule cannot have both: keep target-resources",
    path: ["target-instances"],
  });

export type Conditions = z.output<typeof conditionsSchema>;

/** One problem of a rule's conditions against the provider registry; `path` is under `conditions`. */
export interface RegistryProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const REGISTERED = `registered types are ${REGISTERED_RESOURCE_TYPES.join(", ")}`;

function groupWords(provider: PrivateLinkProvider): string {
  return provider.groups.length === 0 ? "it has none: its connections carry no group id" : `its groups: ${groupsOf(provider).join(", ")}`;
}

/**
 * The write-time checks of conditions against the provider registry (the draft schema runs them; stored rules are
 * not re-checked, so a registry change never makes a stored rule set unusable). Errors rather than warnings: the
 * registry's group ids are the sub-resources Azure accepts for each type, so a group id outside them can never be
 * on a connection, and a rule holding one silently never matches: for a reject or manual rule that is a deny that
 * never fires, and the connections it was meant to stop fall through to a lower approve rule.
 */
export function registryProblems(conditions: Conditions): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const types = conditions["resource-types"];
  if (Array.isArray(types)) {
    types.forEach((type, i) => {
      if (type === "*") {
        if (types.length > 1) problems.push({ path: ["resource-types", i], message: '"*" covers every registered type: list it alone' });
      } else if (providerOf(type) === undefined) {
        problems.push({ path: ["resource-types", i], message: `unknown resource type ${JSON.stringify(type)}; ${REGISTERED}` });
      }
    });
  }
  if (problems.length > 0) return problems;
  const covered = coverageOf(types);
  const groupIds = conditions["group-ids"];
  if (Array.isArray(groupIds)) {
    const known = new Set(covered.providers.flatMap((p) => groupsOf(p).map(foldCase)));
    (groupIds as readonly string[]).forEach((group, i) => {
      if (!known.has(foldCase(group))) {
        problems.push({
          path: ["group-ids", i],
          message: `${JSON.stringify(group)} is not a group id of the types this rule covers (${covered.providers.map((p) => `${p.displayName}: ${groupsOf(p).join(", ") || "none"}`).join("; ")})`,
        });
      }
    });
    if (covered.kind !== "all" && problems.length === 0) {
      const listed = new Set((groupIds as readonly string[]).map(foldCase));
      for (const provider of covered.providers) {
        if (groupsOf(provider).some((g) => listed.has(foldCase(g)))) continue;
        problems.push({
          path: ["group-ids"],
          message: `group-ids names no group of ${provider.resourceType} (${groupWords(provider)}), so the rule would never match its connections: key group-ids by resource type to restrict only some types, or drop it from resource-types`,
        });
      }
    }
  } else if (groupIds !== undefined) {
    for (const [type, groups] of Object.entries(groupIds)) {
      const provider = providerOf(type);
      if (provider === undefined) {
        problems.push({ path: ["group-ids", type], message: `unknown resource type ${JSON.stringify(type)}; ${REGISTERED}` });
        continue;
      }
      if (!covered.types.has(foldCase(provider.resourceType))) {
        problems.push({ path: ["group-ids", type], message: `the rule does not cover ${provider.resourceType}: it covers ${covered.words}; add the type to resource-types` });
        continue;
      }
      const known = new Set(groupsOf(provider).map(foldCase));
      groups.forEach((group, i) => {
        if (!known.has(foldCase(group))) problems.push({ path: ["group-ids", type, i], message: `${JSON.stringify(group)} is not a group id of ${provider.resourceType} (${groupWords(provider)})` });
      });
    }
  }
  for (const key of ["target-resources", "target-instances"] as const) {
    conditions[key]?.forEach((p, i) => {
      const type = literalTypeOf(p);
      if (type === undefined) return;
      const provider = providerOf(type);
      if (provider === undefined) problems.push({ path: [key, i], message: `the pattern names resource type ${type}, which is not registered; ${REGISTERED}` });
      else if (!covered.types.has(foldCase(provider.resourceType))) {
        problems.push({ path: [key, i], message: `the pattern names a ${provider.resourceType}, which the rule does not cover: it covers ${covered.words}; add the type to resource-types` });
      }
    });
  }
  return problems;
}

/**
 * The ARM type a resource ID pattern spells out without wildcards (`…/providers/Microsoft.KeyVault/vaults/…`), or
 * undefined when its type part holds a wildcard or it has none: only a spelled-out type can be checked.
 */
export function literalTypeOf(pattern: string): string | undefined {
  const segments = pattern.replace(/\/+$/, "").split("/");
  const at = segments.findIndex((s) => s.toLowerCase() === "providers");
  if (at < 0 || segments.length < at + 4) return undefined;
  const [namespace, type] = [segments[at + 1]!, segments[at + 2]!];
  return /[*?]/.test(namespace + type) || namespace === "" || type === "" ? undefined : `${namespace}/${type}`;
}

/** What a compiled rule needs of its conditions: its coverage, and its conditions in map order. */
export interface CompiledConditions {
  readonly coverage: Coverage;
  /** In map order; the scope conditions (SCOPE_KEYS) that are present come first. group-ids is always there. */
  readonly conditions: readonly CompiledCondition[];
  /** How many of `conditions` are scope conditions (checked once per resource, not per connection). */
  readonly scopeCount: number;
}

/** Compiles a rule's conditions in map order; absent ones are not checked, except group-ids, whose default is. */
export function compileConditions(conditions: Conditions): CompiledConditions {
  const covered = coverageOf(conditions["resource-types"]);
  const compiled: CompiledCondition[] = [];
  let scopeCount = 0;
  for (const key of CONDITION_KEYS) {
    const value = conditions[key];
    const definition = CONDITIONS[key] as ConditionDefinition<z.ZodType>;
    if (value === undefined) {
      if (key === "group-ids") compiled.push(new CompiledCondition(key, compileGroups(undefined, covered), true));
      continue;
    }
    compiled.push(new CompiledCondition(key, definition.compile(value, covered)));
    if (SCOPE_KEYS.includes(key)) scopeCount++;
  }
  return { coverage: covered, conditions: compiled, scopeCount };
}
