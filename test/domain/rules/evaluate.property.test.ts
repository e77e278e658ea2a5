import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileRuleSet, evaluateRules, type DecidedBy, type RuleEvaluation } from "../../../src/domain/rules/evaluate.ts";
import type { ConnectionFacts } from "../../../src/domain/rules/facts.ts";
import { parseRuleRows, ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import type { Rule } from "../../../src/domain/rules/schema.ts";
import { PRIVATE_LINK_PROVIDERS } from "../../../src/domain/providers/registry.ts";
import { NOW, rule } from "./fixtures.ts";

const PROVIDER = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers";
const APIM_T = "Microsoft.ApiManagement/service";
const STORAGE_T = "Microsoft.Storage/storageAccounts";
const VAULT_T = "Microsoft.KeyVault/vaults";
const PLS_T = "Microsoft.Network/privateLinkServices";
/** Several governed types (one without group ids), several resources of some, in the casing ARM may return. */
const RESOURCES: readonly { readonly id: string; readonly groups: readonly (readonly string[])[] }[] = [
  ...["a", "b", "c"].map((n) => ({ id: `${PROVIDER}/Microsoft.ApiManagement/service/apim-${n}`, groups: [["Gateway"]] })),
  { id: `${PROVIDER}/Microsoft.Storage/storageAccounts/sta`, groups: [["blob"], ["dfs"], ["queue"], ["Gateway"], []] },
  { id: `${PROVIDER}/microsoft.storage/STORAGEACCOUNTS/stb`, groups: [["BLOB"], ["table_secondary"]] },
  { id: `${PROVIDER}/Microsoft.KeyVault/vaults/kva`, groups: [["vault"], ["blob"]] },
  { id: `${PROVIDER}/Microsoft.Network/privateLinkServices/plsa`, groups: [[]] },
];
const SUBS = ["22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"];
const TENANTS = ["44444444-4444-4444-4444-444444444444", "55555555-5555-5555-5555-555555555555"];
const MESSAGES = ["orders team", "payments", ""];
const HOUR = 3_600_000;

type Window = "always" | "expired" | "future" | "current";

const windowArb = fc.constantFrom<Window>("always", "expired", "future", "current");
const windowFields = (w: Window) =>
  w === "expired"
    ? { validUntil: new Date(NOW.getTime() - HOUR).toISOString() }
    : w === "future"
      ? { validFrom: new Date(NOW.getTime() + HOUR).toISOString() }
      : w === "current"
        ? { validFrom: new Date(NOW.getTime() - HOUR).toISOString(), validUntil: new Date(NOW.getTime() + HOUR).toISOString() }
        : {};

/**
 * Conditions over every key. Stored rules are not re-checked against the registry, so combinations a write would
 * refuse (a group the covered types lack) are generated too: evaluation must stay right for them.
 */
const conditionsArb = fc
  .record(
    {
      "resource-types": fc.constantFrom<string | string[]>("*", ["*"], [STORAGE_T], [STORAGE_T.toLowerCase(), VAULT_T], [APIM_T, PLS_T], [VAULT_T]),
      target: fc.constantFrom([RESOURCES[0]!.id], [RESOURCES[1]!.id, RESOURCES[2]!.id], ["*apim-?"], ["*/service/apim-b"], ["*/st?"], ["*/rg/providers/*"], [RESOURCES[3]!.id.toUpperCase()]),
      /** Write the target under the deprecated key: it must behave the same. */
      alias: fc.boolean(),
      "group-ids": fc.constantFrom<string[] | Record<string, string[]>>(
        ["Gateway"],
        ["blob"],
        ["blob", "vault"],
        { [STORAGE_T]: ["dfs"] },
        { [STORAGE_T.toUpperCase()]: ["blob"], [VAULT_T]: ["vault"] },
        { [APIM_T]: ["Gateway"] },
      ),
      "requester-subscriptions": fc.subarray(SUBS, { minLength: 1 }),
      "requester-tenants": fc.subarray(TENANTS, { minLength: 1 }),
      "request-message": fc.constantFrom(["orders*"], ["*"], ["pay?ents"]),
    },
    { requiredKeys: [] },
  )
  .map(({ target, alias, ...rest }) => (target === undefined ? rest : { ...rest, [alias ? "target-instances" : "target-resources"]: target }));

const rulesArb = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[a-e][0-9]?$/),
      priority: fc.integer({ min: 0, max: 4 }),
      enabled: fc.boolean(),
      mode: fc.constantFrom("enforce" as const, "audit" as const),
      action: fc.constantFrom("approve" as const, "reject" as const, "manual" as const),
      window: windowArb,
      conditions: conditionsArb,
    }),
    { selector: (r) => r.id, maxLength: 12 },
  )
  .map((specs) => specs.map(({ window, ...spec }) => rule({ ...spec, ...windowFields(window) })));

/** A resource of some governed type and one of the group ids its connections may carry. */
const targetArb = fc.constantFrom(...RESOURCES).chain((r) => fc.record({ resourceId: fc.constant(r.id), groupIds: fc.constantFrom(...r.groups) }));

const factsArb: fc.Arbitrary<ConnectionFacts> = fc
  .record({
    target: targetArb,
    requesterSubscriptionId: fc.option(fc.constantFrom(...SUBS), { nil: undefined }),
    requesterTenantId: fc.option(fc.constantFrom(...TENANTS), { nil: undefined }),
    requestMessage: fc.option(fc.constantFrom(...MESSAGES), { nil: undefined }),
  })
  .map(({ target, ...rest }) => ({ connectionId: `${target.resourceId}/privateEndpointConnections/c`, ...target, ...rest }));

/** A connection with every fact known, as a path that can read everything would see it. */
const knownFactsArb: fc.Arbitrary<ConnectionFacts> = fc
  .record({
    target: targetArb,
    requesterSubscriptionId: fc.constantFrom(...SUBS),
    requesterTenantId: fc.constantFrom(...TENANTS),
    requestMessage: fc.constantFrom(...MESSAGES),
  })
  .map(({ target, ...rest }) => ({ connectionId: `${target.resourceId}/privateEndpointConnections/c`, ...target, ...rest }));

/** Which facts a path does not know (the sweep never knows the tenant; a 403 hides the message). */
const maskArb = fc.record({ requesterSubscriptionId: fc.boolean(), requesterTenantId: fc.boolean(), requestMessage: fc.boolean() });
type Mask = { requesterSubscriptionId: boolean; requesterTenantId: boolean; requestMessage: boolean };

function hide(f: ConnectionFacts, mask: Mask): ConnectionFacts {
  return {
    ...f,
    requesterSubscriptionId: mask.requesterSubscriptionId ? undefined : f.requesterSubscriptionId,
    requesterTenantId: mask.requesterTenantId ? undefined : f.requesterTenantId,
    requestMessage: mask.requestMessage ? undefined : f.requestMessage,
  };
}

/** Whether the evaluation explained that rule `id` could not match because a fact was unknown. */
function couldNotMatch(evaluation: RuleEvaluation, id: string): boolean {
  return evaluation.explanation.some((line) => line.startsWith(`Rule "${id}" `) && line.includes("could not match"));
}

/** Reference semantics, written plainly and independently of the compiled evaluator. */
function globRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.split("?").map((s) => s.replace(/[.+^${}()|[\]\\/]/g, "\\$&")).join(".")).join(".*")}$`, "is");
}
type Tri = "match" | "no-match" | "unknown";
function condition(values: readonly string[] | undefined, fact: string | undefined, glob: boolean): Tri {
  if (values === undefined) return "match";
  if (fact === undefined) return "unknown";
  return values.some((v) => (glob ? globRegex(v).test(fact) : v.toLowerCase() === fact.toLowerCase())) ? "match" : "no-match";
}
/** The type a resource ID names, folded (the reference reads it its own way: the segment pair after "providers"). */
function typeOf(resourceId: string): string {
  const parts = resourceId.toLowerCase().split("/");
  const at = parts.indexOf("providers");
  return `${parts[at + 1]}/${parts[at + 2]}`;
}
/** resource-types: API Management only when absent; "*" every registered type. */
function covers(r: Rule, type: string): boolean {
  const types = r.conditions["resource-types"];
  if (types === undefined) return type === APIM_T.toLowerCase();
  if (types === "*" || types.includes("*")) return PRIVATE_LINK_PROVIDERS.some((p) => p.resourceType.toLowerCase() === type);
  return types.some((t) => t.toLowerCase() === type);
}
/**
 * group-ids: a list for every type, or a list per type; absent (or no key for the type) it holds whatever the group.
 * Groups named but none known for the connection (storage's provider side names none; its endpoint unreadable): unknown.
 */
function groupsHold(r: Rule, type: string, groupIds: readonly string[]): Tri {
  const stated = r.conditions["group-ids"];
  const forType = Array.isArray(stated) ? stated : Object.entries(stated ?? {}).find(([t]) => t.toLowerCase() === type)?.[1];
  if (forType === undefined) return "match";
  const groupless = PRIVATE_LINK_PROVIDERS.find((p) => p.resourceType.toLowerCase() === type)!.groups.length === 0;
  if (groupIds.length === 0) return groupless ? "no-match" : "unknown";
  return groupIds.some((g) => forType.some((a) => a.toLowerCase() === g.toLowerCase())) ? "match" : "no-match";
}
/** Kleene AND: any definite no-match wins, then any unknown, else match. The resource's type is always known. */
function referenceMatch(r: Rule, f: ConnectionFacts): Tri {
  const c = r.conditions;
  const type = typeOf(f.resourceId);
  if (!covers(r, type)) return "no-match";
  const results = [
    condition(c["target-resources"] ?? c["target-instances"], f.resourceId, true),
    condition(c["requester-subscriptions"], f.requesterSubscriptionId, false),
    condition(c["requester-tenants"], f.requesterTenantId, false),
    condition(c["request-message"], f.requestMessage, true),
    groupsHold(r, type, f.groupIds),
  ];
  return results.includes("no-match") ? "no-match" : results.includes("unknown") ? "unknown" : "match";
}
interface ReferenceOutcome {
  readonly action: "approve" | "reject" | "manual";
  /** rule:ID, unknown-fact:ID or default */
  readonly decider: string;
  readonly audits: readonly string[];
}
/**
 * Walk the live rules in order: an enforce reject/manual rule that is unknown stops with manual; an unknown approve
 * rule is passed over but remembered, and turns a later reject (or a default reject) into manual.
 */
function referenceEvaluate(rules: readonly Rule[], f: ConnectionFacts, defaultAction: "manual" | "reject"): ReferenceOutcome {
  const audits: string[] = [];
  let couldApprove: Rule | undefined;
  for (const r of inOrder(rules).filter((r) => r.enabled && inWindow(r))) {
    const m = referenceMatch(r, f);
    if (r.mode === "audit") {
      if (m === "match") audits.push(r.id);
      continue;
    }
    if (m === "no-match") continue;
    if (m === "unknown") {
      if (r.action === "approve") {
        couldApprove ??= r;
        continue;
      }
      return { action: "manual", decider: `unknown-fact:${r.id}`, audits };
    }
    if (r.action === "reject" && couldApprove) return { action: "manual", decider: `unknown-fact:${couldApprove.id}`, audits };
    return { action: r.action, decider: `rule:${r.id}`, audits };
  }
  if (defaultAction === "reject" && couldApprove) return { action: "manual", decider: `unknown-fact:${couldApprove.id}`, audits };
  return { action: defaultAction, decider: "default", audits };
}
function deciderOf(decidedBy: DecidedBy): string {
  return decidedBy.kind === "rule" || decidedBy.kind === "unknown-fact" ? `${decidedBy.kind}:${decidedBy.ruleId}` : decidedBy.kind;
}
function inWindow(r: Rule): boolean {
  return (r.validFrom === undefined || Date.parse(r.validFrom) <= NOW.getTime()) && (r.validUntil === undefined || NOW.getTime() < Date.parse(r.validUntil));
}
function inOrder(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => (a.priority !== b.priority ? a.priority - b.priority : a.id < b.id ? -1 : 1));
}

const options = { now: NOW, defaultAction: "manual" as const };

describe("evaluateRules properties", () => {
  test("the first enforce rule by (priority, id) that matches or cannot be evaluated decides, as the three-valued reference says", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, fc.constantFrom("manual" as const, "reject" as const), (rules, f, defaultAction) => {
        const expected = referenceEvaluate(rules, f, defaultAction);
        const result = evaluateRules(f, ruleSetOf(rules), { now: NOW, defaultAction });
        assert.equal(deciderOf(result.decidedBy), expected.decider);
        assert.equal(result.action, expected.action);
        if (result.decidedBy.kind === "rule") assert.equal(result.reason, rules.find((r) => r.id === expected.decider.slice(5))!.reason);
        if (result.decidedBy.kind === "unknown-fact") {
          assert.ok(result.decidedBy.missingFacts.length > 0);
          assert.ok(result.reason.includes(result.decidedBy.ruleId));
          assert.ok(result.reason.length < 140);
        }
        assert.deepEqual(result.auditMatches.map((m) => m.ruleId), expected.audits);
      }),
      { numRuns: 800 },
    );
  });

  test("a disabled, expired or not-yet-valid rule never decides and is never recorded as an audit match", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, f) => {
        const result = evaluateRules(f, ruleSetOf(rules), options);
        const dormant = new Set(rules.filter((r) => !r.enabled || !inWindow(r)).map((r) => r.id));
        if (result.decidedBy.kind === "rule") assert.ok(!dormant.has(result.decidedBy.ruleId));
        for (const m of result.auditMatches) assert.ok(!dormant.has(m.ruleId));
      }),
      { numRuns: 600 },
    );
  });

  test("the order rules are stored in does not change the outcome", () => {
    fc.assert(
      fc.property(rulesArb.chain((rules) => fc.tuple(fc.constant(rules), fc.shuffledSubarray(rules, { minLength: rules.length }))), factsArb, ([rules, shuffled], f) => {
        const a = evaluateRules(f, ruleSetOf(rules), options);
        const b = evaluateRules(f, ruleSetOf(shuffled), options);
        assert.deepEqual({ ...a, ruleSetVersion: "" }, { ...b, ruleSetVersion: "" });
        assert.equal(a.ruleSetVersion, b.ruleSetVersion);
      }),
      { numRuns: 500 },
    );
  });

  test("remembering the rules per resource never changes a result", () => {
    fc.assert(
      fc.property(rulesArb, fc.array(factsArb, { minLength: 1, maxLength: 8 }), (rules, connections) => {
        const shared = compileRuleSet(ruleSetOf(rules));
        for (const f of connections) {
          assert.deepEqual(evaluateRules(f, shared, options), evaluateRules(f, compileRuleSet(ruleSetOf(rules)), options));
        }
      }),
      { numRuns: 300 },
    );
  });

  test("one unparseable row makes every evaluation manual and fail-closed, whatever the other rules say", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, fc.constantFrom("{", "{}", '"text"', "null"), fc.constantFrom("manual" as const, "reject" as const), (rules, f, broken, defaultAction) => {
        const rows = rules.map((r) => ({ rowKey: `rule:${r.id}`, id: r.id, json: JSON.stringify(r) }));
        const snapshot = parseRuleRows([...rows, { rowKey: "rule:zz-broken", id: "zz-broken", json: broken }]);
        const result = evaluateRules(f, snapshot, { now: NOW, defaultAction });
        assert.equal(result.action, "manual");
        assert.equal(result.decidedBy.kind, "fail-closed");
      }),
      { numRuns: 300 },
    );
  });

  test("revealing facts never turns an approve into a reject or a reject into an approve", () => {
    fc.assert(
      fc.property(rulesArb, knownFactsArb, maskArb, maskArb, fc.constantFrom("manual" as const, "reject" as const), (rules, full, hidden, alsoHidden, defaultAction) => {
        const fewer = hide(full, hidden);
        const more = hide(full, {
          requesterSubscriptionId: hidden.requesterSubscriptionId && alsoHidden.requesterSubscriptionId,
          requesterTenantId: hidden.requesterTenantId && alsoHidden.requesterTenantId,
          requestMessage: hidden.requestMessage && alsoHidden.requestMessage,
        });
        const set = ruleSetOf(rules);
        const before = evaluateRules(fewer, set, { now: NOW, defaultAction });
        const after = evaluateRules(more, set, { now: NOW, defaultAction });
        if (before.action === "reject") assert.deepEqual(after.decidedBy, before.decidedBy, "a reject stays the same reject");
        if (before.action === "approve") assert.equal(after.action, "approve");
        if (after.action === "reject") assert.notEqual(before.action, "approve");
      }),
      { numRuns: 1000 },
    );
  });

  test("an approve stays the same approve with more facts, unless a higher-priority approve rule that could not be evaluated now matches", () => {
    fc.assert(
      fc.property(rulesArb, knownFactsArb, maskArb, (rules, full, hidden) => {
        const set = ruleSetOf(rules);
        const before = evaluateRules(hide(full, hidden), set, options);
        if (before.action !== "approve" || before.decidedBy.kind !== "rule") return;
        const after = evaluateRules(full, set, options);
        assert.equal(after.action, "approve");
        if (after.decidedBy.kind !== "rule") assert.fail("an approve is decided by a rule");
        if (after.decidedBy.ruleId !== before.decidedBy.ruleId) {
          const earlier = after.decidedBy.ruleId;
          assert.ok(couldNotMatch(before, earlier), `${earlier} decided with more facts, so it must have been an approve rule that could not be evaluated`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("two paths that know different facts of one connection never approve on one and reject on the other", () => {
    fc.assert(
      fc.property(rulesArb, knownFactsArb, maskArb, maskArb, fc.constantFrom("manual" as const, "reject" as const), (rules, full, sweepHides, eventHides, defaultAction) => {
        const set = ruleSetOf(rules);
        const actions = new Set([evaluateRules(hide(full, sweepHides), set, { now: NOW, defaultAction }).action, evaluateRules(hide(full, eventHides), set, { now: NOW, defaultAction }).action]);
        assert.ok(!(actions.has("approve") && actions.has("reject")), [...actions].join(" vs "));
      }),
      { numRuns: 1000 },
    );
  });

  test("the resource type is never an unknown fact, and group ids only when the connection names none: an unknown-fact outcome names only consumer-side facts", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, fc.constantFrom("manual" as const, "reject" as const), (rules, f, defaultAction) => {
        const result = evaluateRules(f, ruleSetOf(rules), { now: NOW, defaultAction });
        if (result.decidedBy.kind !== "unknown-fact") return;
        for (const fact of result.decidedBy.missingFacts) {
          if (fact === "groupIds") assert.equal(f.groupIds.length, 0, "group ids are unknown only when the connection names none");
          else assert.ok(["requesterSubscriptionId", "requesterTenantId", "requestMessage", "privateEndpointId"].includes(fact), fact);
        }
      }),
      { numRuns: 600 },
    );
  });

  test("a rule never decides, or is recorded as an audit match, for a connection on a type it does not cover", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, f) => {
        const result = evaluateRules(f, ruleSetOf(rules), options);
        const type = typeOf(f.resourceId);
        const byId = new Map(rules.map((r) => [r.id, r]));
        if (result.decidedBy.kind === "rule" || result.decidedBy.kind === "unknown-fact") assert.ok(covers(byId.get(result.decidedBy.ruleId)!, type));
        for (const m of result.auditMatches) assert.ok(covers(byId.get(m.ruleId)!, type));
      }),
      { numRuns: 600 },
    );
  });

  test("target-instances and target-resources are the same condition", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, f) => {
        const renamed = rules.map((r) => {
          const { "target-instances": old, ...conditions } = r.conditions;
          return old === undefined ? r : { ...r, conditions: { ...conditions, "target-resources": old } };
        });
        const a = evaluateRules(f, ruleSetOf(rules), options);
        const b = evaluateRules(f, ruleSetOf(renamed), options);
        assert.equal(a.action, b.action);
        assert.deepEqual(a.decidedBy, b.decidedBy);
        assert.deepEqual(a.auditMatches, b.auditMatches);
      }),
      { numRuns: 500 },
    );
  });
});
