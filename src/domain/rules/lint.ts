/**
 * Warnings about rules that are valid but approve too much. The schema accepts them (a platform team may mean it),
 * so they are not errors; but an enforcing approve rule that every requester matches turns Portcullis into an
 * "approve all" button, and that should be said loudly wherever a rule is written or tried: `rules validate`,
 * `what-if`, `rules put`/`import`, `rules list`, and the API's rule PUT and what-if responses.
 *
 * Pure: a rule (draft or stored) in, warnings out. A condition "narrows" only if it can fail for some connection:
 * `group-ids` never does on APIM (Gateway is its only group), and a pattern list narrows nothing when one of its
 * patterns matches every value (lists combine with OR), such as `*` or `/subscriptions/*`.
 */
import type { ConditionKey, Conditions } from "./conditions.ts";
import type { RuleAction } from "./schema.ts";

export type RuleWarningCode = "approves-everything" | "wildcards-only" | "any-requester";

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

/**
 * Fixed words of the resource IDs the pattern conditions match. A resource ID pattern whose every `/`-separated
 * segment is one of them or wildcards only, ending in a wildcard (`/subscriptions/` then `*`, `resourceGroups`, `*`,
 * `providers`, `Microsoft.Network`, `privateEndpoints`, `*`), matches every ID of its kind, so it narrows nothing.
 */
const STRUCTURAL_SEGMENTS = new Set(["", "subscriptions", "resourcegroups", "providers", "microsoft.network", "privateendpoints", "microsoft.apimanagement", "service"]);

const onlyWildcards = (text: string) => /^[*?]*$/.test(text) && text.includes("*");

/** True when the pattern matches every value of its condition's fact. */
export function matchesEverything(key: ConditionKey, pattern: string): boolean {
  if (onlyWildcards(pattern)) return true;
  if (key !== "target-instances" && key !== "private-endpoint-ids") return false;
  const segments = pattern.toLowerCase().split("/");
  // The last segment must be able to absorb the rest of any ID: `*` at the end does, a fixed word does not.
  return segments.every((s) => STRUCTURAL_SEGMENTS.has(s) || onlyWildcards(s)) && onlyWildcards(segments.at(-1) ?? "");
}

/** The condition keys (other than group-ids) that can fail for some connection. */
function narrowingKeys(conditions: Partial<Conditions>): ConditionKey[] {
  const keys: ConditionKey[] = [];
  for (const [key, values] of Object.entries(conditions) as [ConditionKey, readonly string[] | undefined][]) {
    if (key === "group-ids" || values === undefined || values.length === 0) continue;
    if (values.some((value) => matchesEverything(key, value))) continue;
    keys.push(key);
  }
  return keys;
}

/** The warnings for one rule; none for audit-mode rules and for reject or manual rules. */
export function lintRule(rule: LintableRule): RuleWarning[] {
  if (rule.action !== "approve" || (rule.mode ?? "enforce") !== "enforce") return [];
  const conditions = rule.conditions ?? {};
  const disabled = rule.enabled === false ? " (it is disabled now: this is what enabling it would do)" : "";
  const stated = (Object.keys(conditions) as ConditionKey[]).filter((k) => k !== "group-ids" && conditions[k] !== undefined);
  const narrowing = narrowingKeys(conditions);
  if (stated.length === 0) {
    return [
      {
        ruleId: rule.id,
        code: "approves-everything",
        field: "conditions",
        message: `enforcing approve rule "${rule.id}" has no condition besides group-ids, so it approves every connection to every managed instance${disabled}; add requester-subscriptions, requester-tenants or private-endpoint-ids`,
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
  if (!narrowing.some((k) => REQUESTER_CONDITIONS.includes(k))) {
    const messageOnly = narrowing.includes("request-message") ? "; the request message is free text the requester writes, so it proves nothing about who asks" : "";
    return [
      {
        ruleId: rule.id,
        code: "any-requester",
        field: `conditions.${narrowing[0]!}`,
        message: `enforcing approve rule "${rule.id}" narrows only ${narrowing.join(", ")}, not who asks: any subscription in any tenant that names the instance is approved${messageOnly}${disabled}; add requester-subscriptions, requester-tenants or private-endpoint-ids`,
      },
    ];
  }
  return [];
}

/** The warnings for every rule of a set, in the set's order. */
export function lintRules(rules: readonly LintableRule[]): RuleWarning[] {
  return rules.flatMap(lintRule);
}
