import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { lintRule, lintRules, matchesEverything, pinsSubscription } from "../../../src/domain/rules/lint.ts";
import { CONSUMER_PE, CONSUMER_SUB, PROD_APIM, rule, TENANT } from "./fixtures.ts";

const codes = (r: Parameters<typeof lintRule>[0]) => lintRule(r).map((w) => w.code);

describe("rule lint: approve rules that approve too much", () => {
  test("an enforcing approve rule with no condition (only the default group-ids) approves everything", () => {
    const [warning, ...rest] = lintRule(rule({ id: "approve-all" }));
    assert.equal(rest.length, 0);
    assert.equal(warning!.code, "approves-everything");
    assert.equal(warning!.ruleId, "approve-all");
    assert.equal(warning!.field, "conditions");
    assert.match(warning!.message, /approves every connection to every managed API Management instance/);
  });

  test("explicit group-ids only is the same as no condition", () => {
    assert.deepEqual(codes(rule({ id: "gateway-only", conditions: { "group-ids": ["Gateway"] } })), ["approves-everything"]);
  });

  test("only wildcard patterns such as * or /subscriptions/* approve everything", () => {
    assert.deepEqual(codes(rule({ id: "star", conditions: { "private-endpoint-ids": ["*"] } })), ["wildcards-only"]);
    assert.deepEqual(codes(rule({ id: "subs-star", conditions: { "target-resources": ["/subscriptions/*"], "request-message": ["**"] } })), ["wildcards-only"]);
    assert.deepEqual(
      codes(rule({ id: "pe-shape", conditions: { "private-endpoint-ids": ["/subscriptions/*/resourceGroups/*/providers/Microsoft.Network/privateEndpoints/*"] } })),
      ["wildcards-only"],
    );
    // A list combines with OR: one match-all pattern makes the whole condition match everything.
    assert.deepEqual(codes(rule({ id: "mixed-list", conditions: { "private-endpoint-ids": [CONSUMER_PE, "*"] } })), ["wildcards-only"]);
  });

  test("a rule that narrows only the target instance or the request message approves any requester", () => {
    const [byInstance] = lintRule(rule({ id: "any-to-prod", conditions: { "target-resources": [PROD_APIM] } }));
    assert.equal(byInstance!.code, "any-requester");
    assert.equal(byInstance!.field, "conditions.target-resources");
    const [byMessage] = lintRule(rule({ id: "by-message", conditions: { "request-message": ["*CHG*"] } }));
    assert.equal(byMessage!.code, "any-requester");
    assert.match(byMessage!.message, /free text the requester writes/);
  });

  test("a requester condition that narrows silences the warning", () => {
    assert.deepEqual(lintRule(rule({ id: "subs", conditions: { "requester-subscriptions": [CONSUMER_SUB] } })), []);
    assert.deepEqual(lintRule(rule({ id: "tenant", conditions: { "requester-tenants": [TENANT], "target-resources": ["*"] } })), []);
    assert.deepEqual(lintRule(rule({ id: "pe", conditions: { "private-endpoint-ids": [`/subscriptions/${CONSUMER_SUB}/*`] } })), []);
  });

  test("reject and manual rules, and audit-mode approve rules, are never warned about", () => {
    assert.deepEqual(lintRule(rule({ id: "reject-all", action: "reject" })), []);
    assert.deepEqual(lintRule(rule({ id: "manual-all", action: "manual" })), []);
    assert.deepEqual(lintRule(rule({ id: "audit-all", mode: "audit" })), []);
  });

  test("a disabled rule is still warned about, saying what enabling it would do", () => {
    const [warning] = lintRule(rule({ id: "sleeping", enabled: false }));
    assert.match(warning!.message, /disabled now: this is what enabling it would do/);
  });

  test("lintRules keeps the set's order", () => {
    const warnings = lintRules([rule({ id: "b-all" }), rule({ id: "ok", conditions: { "requester-subscriptions": [CONSUMER_SUB] } }), rule({ id: "a-star", conditions: { "private-endpoint-ids": ["*"] } })]);
    assert.deepEqual(warnings.map((w) => w.ruleId), ["b-all", "a-star"]);
  });

  test("matchesEverything: fixed parts narrow, wildcards and ID structure do not", () => {
    assert.equal(matchesEverything("request-message", "*"), true);
    assert.equal(matchesEverything("request-message", "?"), false, "? needs one character: an empty message does not match");
    assert.equal(matchesEverything("request-message", "/subscriptions/*"), false, "only resource ID conditions know the ID structure");
    assert.equal(matchesEverything("target-resources", "/SUBSCRIPTIONS/*"), true);
    assert.equal(matchesEverything("target-instances", "/SUBSCRIPTIONS/*"), true);
    assert.equal(matchesEverything("target-resources", "/subscriptions/*/providers/Microsoft.ApiManagement/service/*-prod"), false);
    assert.equal(matchesEverything("target-resources", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Storage/storageAccounts/*"), true, "a registered type's words are ID structure");
    assert.equal(matchesEverything("target-resources", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Storage/storageAccounts/st*prod"), false);
    assert.equal(matchesEverything("private-endpoint-ids", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Network/privateEndpoints"), false);
  });

  test("resource-types and group-ids say what a rule is about, not who asks: with nothing else the rule approves everything it covers", () => {
    const [storage] = lintRule(rule({ id: "all-storage", conditions: { "resource-types": ["Microsoft.Storage/storageAccounts"], "group-ids": ["blob"] } }));
    assert.equal(storage!.code, "approves-everything");
    assert.match(storage!.message, /no condition besides resource-types and group-ids, so it approves every connection to every managed Storage account/);
    const [everything] = lintRule(rule({ id: "all-types", conditions: { "resource-types": "*" } }));
    assert.match(everything!.message, /every managed resource of every registered type/);
    assert.deepEqual(
      codes(rule({ id: "vault-star", conditions: { "resource-types": ["Microsoft.KeyVault/vaults"], "target-resources": ["/subscriptions/*/resourceGroups/*/providers/Microsoft.KeyVault/vaults/*"] } })),
      ["wildcards-only"],
    );
  });
});

describe("rule lint: deprecated keys", () => {
  test("target-instances is reported on every rule that uses it, whatever its action or mode, naming target-resources", () => {
    for (const r of [
      rule({ id: "old-approve", conditions: { "target-instances": [PROD_APIM], "requester-subscriptions": [CONSUMER_SUB] } }),
      rule({ id: "old-reject", action: "reject", conditions: { "target-instances": [PROD_APIM] } }),
      rule({ id: "old-audit", mode: "audit", conditions: { "target-instances": [PROD_APIM] } }),
    ]) {
      const [warning, ...rest] = lintRule(r);
      assert.equal(rest.length, 0, r.id);
      assert.equal(warning!.code, "deprecated-key");
      assert.equal(warning!.field, "conditions.target-instances");
      assert.match(warning!.message, new RegExp(`rule "${r.id}" uses target-instances, which is deprecated: rename it to target-resources`));
    }
  });

  test("an old approve rule that also approves too much gets both warnings, the deprecation first", () => {
    assert.deepEqual(codes(rule({ id: "old-any", conditions: { "target-instances": [PROD_APIM] } })), ["deprecated-key", "any-requester"]);
  });

  test("target-resources raises no deprecation", () => {
    assert.deepEqual(lintRule(rule({ id: "new", conditions: { "target-resources": [PROD_APIM], "requester-subscriptions": [CONSUMER_SUB] } })), []);
  });
});

describe("rule lint: private endpoints named without their subscription", () => {
  const byNameOnly = "/subscriptions/*/resourceGroups/*/providers/Microsoft.Network/privateEndpoints/contoso-adf-prod.*";

  test("an approve rule that names endpoints only by name approves any requester: anyone can create an endpoint with that name", () => {
    const [warning, ...rest] = lintRule(rule({ id: "adf-by-name", conditions: { "resource-types": ["Microsoft.Storage/storageAccounts"], "private-endpoint-ids": [byNameOnly] } }));
    assert.equal(rest.length, 0);
    assert.equal(warning!.code, "any-requester");
    assert.equal(warning!.field, "conditions.private-endpoint-ids");
    assert.match(warning!.message, /names private endpoints without pinning their subscription .* any subscription in any tenant can create one that matches/);
    // One unpinned pattern in the list is enough: the list matches any of them.
    assert.deepEqual(codes(rule({ id: "mixed", conditions: { "private-endpoint-ids": [`/subscriptions/${CONSUMER_SUB}/*`, "*/privateEndpoints/pe-orders"] } })), ["any-requester"]);
  });

  test("pinning the subscription, or adding requester-subscriptions, silences it", () => {
    assert.deepEqual(lintRule(rule({ id: "pinned", conditions: { "private-endpoint-ids": [byNameOnly.replace("/subscriptions/*", `/subscriptions/${CONSUMER_SUB}`)] } })), []);
    assert.deepEqual(lintRule(rule({ id: "plus-subs", conditions: { "private-endpoint-ids": [byNameOnly], "requester-subscriptions": [CONSUMER_SUB] } })), []);
  });

  test("pinsSubscription", () => {
    assert.equal(pinsSubscription(CONSUMER_PE), true);
    assert.equal(pinsSubscription(`/SUBSCRIPTIONS/${CONSUMER_SUB}/*`), true);
    assert.equal(pinsSubscription(byNameOnly), false);
    assert.equal(pinsSubscription("/subscriptions/2222*/resourceGroups/*"), false);
    assert.equal(pinsSubscription("*/privateEndpoints/pe"), false);
  });
});
