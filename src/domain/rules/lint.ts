/**
 * Warnings about rules that are valid but approve too much. The schema accepts them (a platform team may mean it),
 * so they are not errors; but an enforcing approve rule that every requester matches turns Portcullis into an
 * "approve all" button, and that should be said loudly wherever a rule is written or tried: `rules validate`,
 * `what-if`, `rules put`/`import`, `rules list`, and the API's rule PUT and what-if responses.
 *
 * Pure: a rule (draft or stored) in, warnings out. A condition "narrows" only if it can fail for some connection:
 * `resource-types` and `group-ids` only say which resources and sub-resources the rule is about, never who asks, and
 * a pattern list narrows nothing when one of its patterns matches every value (lists combine with OR), such as `*`
 * or `/subscriptions/*`.
 *
 * Besides, every rule (whatever its action) that uses a deprecated key is told the key that replaces it.
 */
import { PRIVATE_LINK_PROVIDERS } from "../providers/registry.ts";
import { coverageOf, DEPRECATED_KEYS, type ConditionKey, type Conditions } from "./conditions.ts";
import type { RuleAction } from "./schema.ts";

/** Every code lint can raise (the API's warnings schema lists them). */
export const RULE_WARNING_CODES = ["approves-everything", "wildcards-only", "any-requester", "deprecated-key"] as const;
export type RuleWarningCode = (typeof RULE_WARNING_CODES)[number];

export interface RuleWarning {
  readonly ruleId: string;
  readonly code: RuleWarningCode;
  /** The condition the warning is about, when one is (for pointing at a line of a file). */
  readonly field: "conditions" | `conditions.${ConditionKey}`;
  readonly message: string;
}

/** What lint reads of a rule: drafts and stored rules both have it. */
export interface LintableRule {
  readonly id: string;
  readonly action: RuleAction;
  readonly mode?: "enforce" | "audit" | undefined;
  readonly enabled?: boolean | undefined;
  readonly conditions?: Partial<Conditions> | undefined;
}

/** Conditions on who asks: at least one of them must narrow for an approve rule not to approve any requester. */
const REQUESTER_CONDITIONS: readonly ConditionKey[] = ["requester-subscriptions", "requester-tenants", "private-endpoint-ids"];

/** Conditions that only say which resources and sub-resources a rule is about. */
const SCOPE_ONLY: readonly ConditionKey[] = ["resource-types", "group-ids"];

/**
 * Fixed words of the resource IDs the pattern conditions match. A resource ID pattern whose every `/`-separated
 * segment is one of them or wildcards only, ending in a wildcard (`/subscriptions/` then `*`, `resourceGroups`, `*`,
 * `providers`, `Microsoft.Network`, `privateEndpoints`, `*`), matches every ID of its kind, so it narrows nothing.
 * The registered types' namespaces and type names are such words too (`…/Microsoft.Storage/storageAccounts/*`).
 */
const STRUCTURAL_SEGMENTS = new Set([
  "",
  "subscriptions",
  "resourcegroups",
  "providers",
  "microsoft.network",
  "privateendpoints",
  ...PRIVATE_LINK_PROVIDERS.flatMap((p) => p.resourceType.toLowerCase().split("/")),
]);

const onlyWildcards = (text: string) => /^[*?]*$/.test(text) && text.includes("*");

/** True when the pattern matches every value of its condition's fact. */
export function matchesEverything(key: ConditionKey, pattern: string): boolean {
  if (onlyWildcards(pattern)) return true;
  if (key !== "target-resources" && key !== "target-instances" && key !== "private-endpoint-ids") return false;
  const segments = pattern.toLowerCase().split("/");
  // The last segment must be able to absorb the rest of any ID: `*` at the end does, a fixed word does not.
  return segments.every((s) => STRUCTURAL_SEGMENTS.has(s) || onlyWildcards(s)) && onlyWildcards(segments.at(-1) ?? "");
}

/**
 * Whether a private endpoint ID pattern fixes the endpoint's subscription (`/subscriptions/{a GUID, no wildcard}/…`).
 * Only the subscription says who created an endpoint: its name is whatever its creator typed, so a pattern that
 * fixes only the name (a wildcard subscription, then `…/privateEndpoints/adf-prod.*`) matches endpoints anyone can
 * create.
 */
export function pinsSubscription(pattern: string): boolean {
  const [root, subscriptions, subscription] = pattern.split("/");
  return root === "" && subscriptions?.toLowerCase() === "subscriptions" && subscription !== undefined && subscription !== "" && !/[*?]/.test(subscription);
}

/** The condition keys (other than the scope-only ones) that can fail for some connection. */
function narrowingKeys(conditions: Partial<Conditions>): ConditionKey[] {
  const keys: ConditionKey[] = [];
  for (const [key, values] of Object.entries(conditions) as [ConditionKey, unknown][]) {
    if (SCOPE_ONLY.includes(key) || !Array.isArray(values) || values.length === 0) continue;
    if ((values as string[]).some((value) => matchesEverything(key, value))) continue;
    keys.push(key);
  }
  return keys;
}

/** The deprecation warnings: one per deprecated key the rule uses, naming the key that replaces it. */
function deprecations(rule: LintableRule): RuleWarning[] {
  const conditions = rule.conditions ?? {};
  return (Object.entries(DEPRECATED_KEYS) as [ConditionKey, ConditionKey][])
    .filter(([old]) => conditions[old] !== undefined)
    .map(([old, replacement]) => ({
      ruleId: rule.id,
      code: "deprecated-key" as const,
      field: `conditions.${old}` as const,
      message: `rule "${rule.id}" uses ${old}, which is deprecated: rename it to ${replacement} (same patterns, same meaning, for every governed resource type)`,
    }));
}

/** The warnings for one rule: deprecated keys for any rule; approving too much for enforcing approve rules. */
export function lintRule(rule: LintableRule): RuleWarning[] {
  return [...deprecations(rule), ...approvesTooMuch(rule)];
}

function approvesTooMuch(rule: LintableRule): RuleWarning[] {
  if (rule.action !== "approve" || (rule.mode ?? "enforce") !== "enforce") return [];
  const conditions = rule.conditions ?? {};
  const disabled = rule.enabled === false ? " (it is disabled now: this is what enabling it would do)" : "";
  const stated = (Object.keys(conditions) as ConditionKey[]).filter((k) => !SCOPE_ONLY.includes(k) && conditions[k] !== undefined);
  const narrowing = narrowingKeys(conditions);
  if (stated.length === 0) {
    const types = conditions["resource-types"];
    const besides = types === undefined ? "group-ids" : "resource-types and group-ids";
    const covered = coverageOf(types);
    const where = covered.kind === "default" ? "every managed API Management instance" : covered.kind === "all" ? "every managed resource of every registered type" : `every managed ${covered.providers.map((p) => p.displayName).join(", ")}`;
    return [
      {
        ruleId: rule.id,
        code: "approves-everything",
        field: "conditions",
        message: `enforcing approve rule "${rule.id}" has no condition besides ${besides}, so it approves every connection to ${where}${disabled}; add requester-subscriptions, requester-tenants or private-endpoint-ids`,
      },
    ];
  }
  if (narrowing.length === 0) {
    return [
      {
        ruleId: rule.id,
        code: "wildcards-only",
        field: `conditions.${stated[0]!}`,
        message: `enforcing approve rule "${rule.id}" has only conditions that match everything (${stated.join(", ")} hold a pattern such as "*"), so it approves every connection${disabled}`,
      },
    ];
  }
  const byName = narrowing.includes("private-endpoint-ids") && !(conditions["private-endpoint-ids"] ?? []).every(pinsSubscription);
  if (!narrowing.some((k) => REQUESTER_CONDITIONS.includes(k) && !(k === "private-endpoint-ids" && byName))) {
    if (byName) {
      return [
        {
          ruleId: rule.id,
          code: "any-requester",
          field: "conditions.private-endpoint-ids",
          message: `enforcing approve rule "${rule.id}" names private endpoints without pinning their subscription (a pattern such as "/subscriptions/*/…/privateEndpoints/adf-prod.*"): an endpoint's name is chosen by whoever creates it, so any subscription in any tenant can create one that matches${disabled}; pin the subscription in the pattern, or add requester-subscriptions`,
        },
      ];
    }
    const messageOnly = narrowing.includes("request-message") ? "; the request message is free text the requester writes, so it proves nothing about who asks" : "";
    return [
      {
        ruleId: rule.id,
        code: "any-requester",
        field: `conditions.${narrowing[0]!}`,
        message: `enforcing approve rule "${rule.id}" narrows only ${narrowing.join(", ")}, not who asks: any subscription in any tenant that names the resource is approved${messageOnly}${disabled}; add requester-subscriptions, requester-tenants or private-endpoint-ids`,
      },
    ];
  }
  return [];
}

/** The warnings for every rule of a set, in the set's order. */
export function lintRules(rules: readonly LintableRule[]): RuleWarning[] {
  return rules.flatMap(lintRule);
}
