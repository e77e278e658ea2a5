import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileRuleSet, evaluateRules } from "../../../src/domain/rules/evaluate.ts";
import type { ConnectionFacts } from "../../../src/domain/rules/facts.ts";
import { parseRuleRows, ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import type { Rule } from "../../../src/domain/rules/schema.ts";
import { NOW, rule } from "./fixtures.ts";

const SERVICES = ["a", "b", "c"].map((n) => `/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim-${n}`);
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

const conditionsArb = fc.record(
  {
    "target-instances": fc.constantFrom([SERVICES[0]!], [SERVICES[1]!, SERVICES[2]!], ["*apim-?"], ["*/service/apim-b"]),
    "requester-subscriptions": fc.subarray(SUBS, { minLength: 1 }),
    "requester-tenants": fc.subarray(TENANTS, { minLength: 1 }),
    "request-message": fc.constantFrom(["orders*"], ["*"], ["pay?ents"]),
  },
  { requiredKeys: [] },
);

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

const factsArb: fc.Arbitrary<ConnectionFacts> = fc.record({
  connectionId: fc.constant("/connection"),
  serviceId: fc.constantFrom(...SERVICES),
  requesterSubscriptionId: fc.option(fc.constantFrom(...SUBS), { nil: undefined }),
  requesterTenantId: fc.option(fc.constantFrom(...TENANTS), { nil: undefined }),
  requestMessage: fc.option(fc.constantFrom(...MESSAGES), { nil: undefined }),
  groupIds: fc.constant(["Gateway"]),
});

/** Reference semantics, written plainly and independently of the compiled evaluator. */
function globRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.split("?").map((s) => s.replace(/[.+^${}()|[\]\\/]/g, "\\$&")).join(".")).join(".*")}$`, "is");
}
function holds(values: readonly string[] | undefined, fact: string | undefined, glob: boolean): boolean {
  if (values === undefined) return true;
  if (fact === undefined) return false;
  return values.some((v) => (glob ? globRegex(v).test(fact) : v.toLowerCase() === fact.toLowerCase()));
}
function referenceMatches(r: Rule, f: ConnectionFacts): boolean {
  const c = r.conditions;
  return (
    holds(c["target-instances"], f.serviceId, true) &&
    holds(c["requester-subscriptions"], f.requesterSubscriptionId, false) &&
    holds(c["requester-tenants"], f.requesterTenantId, false) &&
    holds(c["request-message"], f.requestMessage, true) &&
    holds(c["group-ids"], f.groupIds[0], false)
  );
}
function inWindow(r: Rule): boolean {
  return (r.validFrom === undefined || Date.parse(r.validFrom) <= NOW.getTime()) && (r.validUntil === undefined || NOW.getTime() < Date.parse(r.validUntil));
}
function inOrder(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => (a.priority !== b.priority ? a.priority - b.priority : a.id < b.id ? -1 : 1));
}

const options = { now: NOW, defaultAction: "manual" as const };

describe("evaluateRules properties", () => {
  test("the first matching enforce rule by (priority, id) decides; otherwise the default action", () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, f) => {
        const live = inOrder(rules).filter((r) => r.enabled && inWindow(r) && referenceMatches(r, f));
        const winner = live.find((r) => r.mode === "enforce");
        const result = evaluateRules(f, ruleSetOf(rules), options);
        if (winner) {
          assert.deepEqual(result.decidedBy, { kind: "rule", ruleId: winner.id, ruleVersion: winner.version });
          assert.equal(result.action, winner.action);
          assert.equal(result.reason, winner.reason);
        } else {
          assert.deepEqual(result.decidedBy, { kind: "default" });
          assert.equal(result.action, "manual");
        }
        const auditsBeforeWinner = live.slice(0, winner ? live.indexOf(winner) : live.length).filter((r) => r.mode === "audit");
        assert.deepEqual(result.auditMatches.map((m) => m.ruleId), auditsBeforeWinner.map((r) => r.id));
      }),
      { numRuns: 600 },
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

  test("remembering the rules per instance never changes a result", () => {
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
});
