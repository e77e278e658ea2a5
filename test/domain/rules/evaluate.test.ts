import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileRuleSet, evaluateRules, type EvaluateOptions, type RuleEvaluation } from "../../../src/domain/rules/evaluate.ts";
import type { ConnectionFacts } from "../../../src/domain/rules/facts.ts";
import { parseRuleRows, ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import type { Rule } from "../../../src/domain/rules/schema.ts";
import { CONSUMER_PE, CONSUMER_SUB, facts, NOW, OTHER_SUB, PROD_APIM, PROVIDER_SUB, rule, TENANT, TEST_APIM } from "./fixtures.ts";

const manualByDefault: EvaluateOptions = { now: NOW, defaultAction: "manual" };

interface Scenario {
  readonly name: string;
  readonly rules: readonly Rule[];
  readonly facts?: ConnectionFacts;
  readonly options?: EvaluateOptions;
  readonly action: RuleEvaluation["action"];
  /** The deciding rule id, or "default". */
  readonly decidedBy: string;
  readonly auditMatches?: readonly string[];
}

const scenarios: readonly Scenario[] = [
  { name: "leaves a connection Pending when no rule matches", rules: [rule({ id: "test-only", conditions: { "target-resources": [TEST_APIM] } })], action: "manual", decidedBy: "default" },
  { name: "rejects a connection no rule matches when the default action is reject", rules: [], options: { now: NOW, defaultAction: "reject" }, action: "reject", decidedBy: "default" },
  {
    name: "lets the lowest priority number decide",
    rules: [rule({ id: "a-reject", priority: 20, action: "reject" }), rule({ id: "z-approve", priority: 10, action: "approve" })],
    action: "approve",
    decidedBy: "z-approve",
  },
  {
    name: "breaks a priority tie by rule id",
    rules: [rule({ id: "beta", priority: 10, action: "reject" }), rule({ id: "alpha", priority: 10, action: "approve" })],
    action: "approve",
    decidedBy: "alpha",
  },
  {
    name: "skips a disabled rule even when it matches",
    rules: [rule({ id: "off", priority: 1, enabled: false, action: "reject" }), rule({ id: "on", priority: 2 })],
    action: "approve",
    decidedBy: "on",
  },
  {
    name: "skips a rule before its validFrom",
    rules: [rule({ id: "future", priority: 1, action: "reject", validFrom: "2025-06-01T12:00:01Z" })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "applies a rule from the instant of its validFrom",
    rules: [rule({ id: "starts-now", priority: 1, action: "reject", validFrom: "2025-06-01T12:00:00Z" })],
    action: "reject",
    decidedBy: "starts-now",
  },
  {
    name: "skips a rule from the instant of its validUntil",
    rules: [rule({ id: "ends-now", priority: 1, validUntil: "2025-06-01T12:00:00Z" })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "applies a rule inside its validity window (time zones honoured)",
    rules: [rule({ id: "window", validFrom: "2025-06-01T13:00:00+02:00", validUntil: "2025-06-01T14:00:01+02:00" })],
    action: "approve",
    decidedBy: "window",
  },
  {
    name: "records a matching audit rule and lets evaluation continue",
    rules: [rule({ id: "watch", priority: 1, mode: "audit", action: "reject" }), rule({ id: "decide", priority: 2, action: "approve" })],
    action: "approve",
    decidedBy: "decide",
    auditMatches: ["watch"],
  },
  {
    name: "never lets an audit rule decide, even when it is the only match",
    rules: [rule({ id: "watch", mode: "audit", action: "approve" })],
    action: "manual",
    decidedBy: "default",
    auditMatches: ["watch"],
  },
  {
    name: "does not record audit rules below the deciding rule",
    rules: [rule({ id: "decide", priority: 1 }), rule({ id: "watch", priority: 2, mode: "audit" })],
    action: "approve",
    decidedBy: "decide",
  },
  {
    name: "keeps a connection for a person when a manual rule matches above an approve rule",
    rules: [rule({ id: "needs-review", priority: 1, action: "manual" }), rule({ id: "approve-all", priority: 2 })],
    action: "manual",
    decidedBy: "needs-review",
  },
  {
    name: "matches target instances by wildcard, ignoring case and trailing slashes",
    rules: [rule({ id: "prod", conditions: { "target-resources": [`/SUBSCRIPTIONS/${PROVIDER_SUB}/resourcegroups/RG-*/providers/microsoft.apimanagement/service/apim-pro?/`] } })],
    action: "approve",
    decidedBy: "prod",
  },
  {
    name: "does not match another instance",
    rules: [rule({ id: "test", conditions: { "target-resources": [TEST_APIM, "/subscriptions/*/service/other"] } })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "matches a listed requester subscription in any case",
    rules: [rule({ id: "subs", conditions: { "requester-subscriptions": [OTHER_SUB, CONSUMER_SUB.toUpperCase()] } })],
    action: "approve",
    decidedBy: "subs",
  },
  {
    name: "does not match an unlisted requester subscription",
    rules: [rule({ id: "subs", conditions: { "requester-subscriptions": [OTHER_SUB] } })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "does not match a subscription condition when the requester subscription is unknown",
    rules: [rule({ id: "subs", conditions: { "requester-subscriptions": [CONSUMER_SUB] } })],
    facts: facts({ requesterSubscriptionId: undefined }),
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "matches a known requester tenant",
    rules: [rule({ id: "tenant", conditions: { "requester-tenants": [TENANT] } })],
    facts: facts({ requesterTenantId: TENANT }),
    action: "approve",
    decidedBy: "tenant",
  },
  {
    name: "leaves a connection for a person when a reject rule's tenant condition cannot be evaluated",
    rules: [rule({ id: "tenant-reject", priority: 1, action: "reject", conditions: { "requester-tenants": [TENANT] } }), rule({ id: "approve-all", priority: 2 })],
    action: "manual",
    decidedBy: "unknown-fact:tenant-reject",
  },
  {
    name: "matches private endpoint ID patterns",
    rules: [rule({ id: "pe", conditions: { "private-endpoint-ids": [`/subscriptions/${CONSUMER_SUB}/resourceGroups/*/providers/Microsoft.Network/privateEndpoints/pe-*`] } })],
    action: "approve",
    decidedBy: "pe",
  },
  {
    name: "does not match a private endpoint pattern when the endpoint is unknown",
    rules: [rule({ id: "pe", conditions: { "private-endpoint-ids": ["*"] } })],
    facts: facts({ privateEndpointId: undefined }),
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "matches the request message with * and ? case-insensitively",
    rules: [rule({ id: "msg", conditions: { "request-message": ["nothing", "*TICKET CHG???????*"] } })],
    action: "approve",
    decidedBy: "msg",
  },
  {
    name: "does not match a request message pattern that needs more characters",
    rules: [rule({ id: "msg", conditions: { "request-message": ["*ticket CHG????????"] } })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "does not match a request message condition when the message is unknown",
    rules: [rule({ id: "msg", conditions: { "request-message": ["*"] } })],
    facts: facts({ requestMessage: undefined }),
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "left out, group-ids holds for whatever group an APIM connection names (Azure accepts only Gateway)",
    rules: [rule({ id: "plain" })],
    facts: facts({ groupIds: ["management"] }),
    action: "approve",
    decidedBy: "plain",
  },
  {
    name: "matches listed group ids in any case",
    rules: [rule({ id: "groups", conditions: { "group-ids": ["management", "GATEWAY"] } })],
    action: "approve",
    decidedBy: "groups",
  },
  {
    name: "needs every condition of a rule to hold",
    rules: [rule({ id: "both", conditions: { "target-resources": [PROD_APIM], "requester-subscriptions": [OTHER_SUB] } })],
    action: "manual",
    decidedBy: "default",
  },
  {
    name: "matches a rule with every condition holding",
    rules: [
      rule({
        id: "all",
        conditions: {
          "target-resources": [PROD_APIM],
          "requester-subscriptions": [CONSUMER_SUB],
          "requester-tenants": [TENANT],
          "private-endpoint-ids": [CONSUMER_PE],
          "request-message": ["orders team*"],
          "group-ids": ["Gateway"],
        },
      }),
    ],
    facts: facts({ requesterTenantId: TENANT }),
    action: "approve",
    decidedBy: "all",
  },
];

describe("evaluateRules", () => {
  for (const s of scenarios) {
    test(s.name, () => {
      const result = evaluateRules(s.facts ?? facts(), ruleSetOf(s.rules), s.options ?? manualByDefault);
      assert.equal(result.action, s.action);
      const by = result.decidedBy;
      assert.equal(by.kind === "rule" ? by.ruleId : by.kind === "unknown-fact" ? `unknown-fact:${by.ruleId}` : by.kind, s.decidedBy);
      assert.deepEqual(result.auditMatches.map((m) => m.ruleId), s.auditMatches ?? []);
    });
  }

  test("reports the deciding rule's version and reason, for the decision log and the connection description", () => {
    const result = evaluateRules(facts(), ruleSetOf([rule({ id: "orders", version: 7, reason: "Orders team endpoints are pre-approved" })]), manualByDefault);
    assert.deepEqual(result.decidedBy, { kind: "rule", ruleId: "orders", ruleVersion: 7 });
    assert.equal(result.reason, "Orders team endpoints are pre-approved");
  });

  test("records what an audit rule would have done", () => {
    const result = evaluateRules(facts(), ruleSetOf([rule({ id: "watch", version: 3, mode: "audit", action: "reject" })]), manualByDefault);
    assert.deepEqual(result.auditMatches, [{ ruleId: "watch", ruleVersion: 3, action: "reject" }]);
  });

  test("makes no automatic decision when a stored rule row does not parse, even if an approve rule matches", () => {
    const good = rule({ id: "approve-all", priority: 50 });
    const snapshot = parseRuleRows([
      { rowKey: "rule:approve-all", id: "approve-all", json: JSON.stringify(good) },
      { rowKey: "rule:reject-blocked", id: "reject-blocked", json: '{"id":"reject-blocked","priority":1,"action":"reject"' },
    ]);
    const result = evaluateRules(facts(), snapshot, { now: NOW, defaultAction: "reject" });
    assert.equal(result.action, "manual");
    assert.equal(result.decidedBy.kind, "fail-closed");
    assert.deepEqual(
      result.decidedBy.kind === "fail-closed" ? result.decidedBy.problems.map((p) => p.rowKey) : [],
      ["rule:reject-blocked"],
    );
    assert.match(result.explanation.join("\n"), /rule:reject-blocked.*not valid JSON/);
    assert.match(result.explanation.at(-1)!, /no automatic decision/);
  });

  test("explains, one sentence per rule considered, why each rule did or did not match", () => {
    const rules = [
      rule({ id: "off", priority: 1, enabled: false }),
      rule({ id: "old", priority: 2, validUntil: "2025-01-01T00:00:00Z" }),
      rule({ id: "later", priority: 3, validFrom: "2030-01-01T00:00:00Z" }),
      rule({ id: "other-instance", priority: 4, conditions: { "target-resources": [`${TEST_APIM.slice(0, -4)}*`] } }),
      rule({ id: "tenant", priority: 5, conditions: { "requester-tenants": [TENANT] } }),
      rule({ id: "watch", priority: 6, mode: "audit", action: "reject" }),
      rule({ id: "orders", priority: 7, conditions: { "request-message": ["orders*"] } }),
      rule({ id: "never-reached", priority: 8 }),
    ];
    const { explanation } = evaluateRules(facts(), ruleSetOf(rules), manualByDefault);
    assert.deepEqual(explanation.length, 9);
    assert.match(explanation[0]!, /^Connection .*pe-orders\.abc .*request message "Orders team, ticket CHG0012345"\.$/);
    assert.equal(explanation[1], "1 rule(s) do not target this resource (target-resources), so they were not considered.");
    assert.match(explanation[2]!, /^Rule "off" .* is disabled, so it was skipped\.$/);
    assert.match(explanation[3]!, /^Rule "old" .* expired at 2025-01-01T00:00:00Z/);
    assert.match(explanation[4]!, /^Rule "later" .* is not valid until 2030-01-01T00:00:00Z/);
    assert.match(explanation[5]!, /^Rule "tenant" .* could not match: the requester tenant is not known/);
    assert.match(explanation[6]!, /^Rule "watch" .* matched .* audit mode, so it is recorded as an audit match and evaluation continues\.$/);
    assert.match(explanation[7]!, /^Rule "orders" v1 \(priority 7, enforce, approve\) matched \(group-ids, request-message all hold\), so it decides: approve\.$/);
    assert.equal(explanation[8], "1 lower-priority rule(s) were not considered.");
  });

  test("explains the first condition that failed for a rule that targets this instance", () => {
    const rules = [rule({ id: "prod-subs", conditions: { "target-resources": ["*/apim-prod"], "requester-subscriptions": [OTHER_SUB] } })];
    const { explanation } = evaluateRules(facts(), ruleSetOf(rules), manualByDefault);
    assert.match(explanation[1]!, /^Rule "prod-subs" .* did not match: the requester subscription is not one of its requester-subscriptions \("33333333-/);
  });

  test("ends the explanation with the default action when nothing decides", () => {
    const { explanation } = evaluateRules(facts(), ruleSetOf([]), { now: NOW, defaultAction: "reject" });
    assert.equal(explanation.length, 2);
    assert.match(explanation[1]!, /default action applies: reject/);
  });

  test("quotes an untrusted request message safely and shortens a long one in the explanation", () => {
    const message = `line1\nline2 "quoted" ${"x".repeat(500)}`;
    const [header] = evaluateRules(facts({ requestMessage: message }), ruleSetOf([]), manualByDefault).explanation;
    assert.ok(header!.includes(String.raw`line1\nline2 \"quoted\"`));
    assert.ok(!header!.includes("\n"));
    assert.ok(header!.length < 900);
  });

  test("compiles a snapshot once and gives the same result for a compiled or a raw snapshot", () => {
    const snapshot = ruleSetOf([rule({ id: "a" })]);
    assert.equal(compileRuleSet(snapshot), compileRuleSet(snapshot));
    assert.deepEqual(evaluateRules(facts(), compileRuleSet(snapshot), manualByDefault), evaluateRules(facts(), snapshot, manualByDefault));
  });

  test("evaluates a connection whose facts are mostly unknown without throwing", () => {
    const sparse: ConnectionFacts = { connectionId: "x", resourceId: "", groupIds: [] };
    const result = evaluateRules(sparse, ruleSetOf([rule({ id: "a", conditions: { "target-resources": ["*"] } })]), manualByDefault);
    assert.equal(result.action, "manual");
    // An ID that names no resource type is no type a rule covers (never an unknown fact that could match).
    assert.match(result.explanation[1]!, /^Rule "a" .* was not considered: the connection is on a resource ID that names no resource type; the rule covers API Management only/);
    assert.deepEqual(result.decidedBy, { kind: "default" });
  });
});
