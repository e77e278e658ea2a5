/**
 * Three-valued evaluation: a condition on a fact the engine does not know is neither a match nor a miss. These
 * scenarios pin down what each kind of rule does with it (see the truth table in src/domain/rules/evaluate.ts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { evaluateRules, type EvaluateOptions } from "../../../src/domain/rules/evaluate.ts";
import { ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { whatIf } from "../../../src/domain/rules/what-if.ts";
import { CONSUMER_SUB, facts, NOW, OTHER_SUB, rule, TENANT } from "./fixtures.ts";

const manualByDefault: EvaluateOptions = { now: NOW, defaultAction: "manual" };
const rejectByDefault: EvaluateOptions = { now: NOW, defaultAction: "reject" };

const rejectPartnerTenant = rule({ id: "reject-partner-tenant", priority: 10, version: 4, action: "reject", conditions: { "requester-tenants": [TENANT] } });
const approveConsumer = rule({ id: "approve-consumer", priority: 100, conditions: { "requester-subscriptions": [CONSUMER_SUB] } });

describe("evaluateRules with unknown facts", () => {
  test("stops at a reject rule whose tenant condition cannot be evaluated instead of letting a lower approve rule approve", () => {
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([rejectPartnerTenant, approveConsumer]), manualByDefault);
    assert.equal(result.action, "manual");
    assert.deepEqual(result.decidedBy, { kind: "unknown-fact", ruleId: "reject-partner-tenant", ruleVersion: 4, missingFacts: ["requesterTenantId"] });
    assert.match(result.reason, /reject-partner-tenant/);
    assert.match(result.reason, /requester tenant/);
    assert.ok(result.reason.length < 140, result.reason);
    const stop = result.explanation.find((line) => line.startsWith('Rule "reject-partner-tenant"'))!;
    assert.match(stop, /^Rule "reject-partner-tenant" v4 .* could match, but the requester tenant is not known/);
    assert.match(stop, /left for a person/);
    assert.equal(result.explanation.at(-1), "1 lower-priority rule(s) were not considered.");
    assert.ok(!result.explanation.some((line) => line.includes('"approve-consumer"')), "the approve rule below is never reached");
  });

  test("the same connection is rejected by that rule once the tenant is known", () => {
    const result = evaluateRules(facts({ requesterTenantId: TENANT }), ruleSetOf([rejectPartnerTenant, approveConsumer]), manualByDefault);
    assert.equal(result.action, "reject");
    assert.deepEqual(result.decidedBy, { kind: "rule", ruleId: "reject-partner-tenant", ruleVersion: 4 });
  });

  test("stops at a manual rule whose request-message condition cannot be evaluated (the consumer's endpoint was unreadable)", () => {
    const review = rule({ id: "review-load-tests", priority: 5, action: "manual", conditions: { "request-message": ["*load test*"] } });
    const result = evaluateRules(facts({ requestMessage: undefined }), ruleSetOf([review, approveConsumer]), manualByDefault);
    assert.equal(result.action, "manual");
    assert.deepEqual(result.decidedBy, { kind: "unknown-fact", ruleId: "review-load-tests", ruleVersion: 1, missingFacts: ["requestMessage"] });
    assert.match(result.reason, /review-load-tests.*request message/);
  });

  test("an approve rule never approves on an unknown fact: it does not match, says why, and evaluation continues", () => {
    const approveTenant = rule({ id: "approve-partner-tenant", priority: 10, conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([approveTenant]), manualByDefault);
    assert.equal(result.action, "manual");
    assert.deepEqual(result.decidedBy, { kind: "default" });
    assert.match(
      result.explanation[1]!,
      /^Rule "approve-partner-tenant" .* could not match: the requester tenant is not known, and an approve rule never approves on an unknown fact/,
    );
  });

  test("a lower approve rule that matches on known facts still approves below an approve rule with an unknown fact", () => {
    const approveTenant = rule({ id: "approve-partner-tenant", priority: 10, conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([approveTenant, approveConsumer]), manualByDefault);
    assert.equal(result.action, "approve");
    assert.deepEqual(result.decidedBy, { kind: "rule", ruleId: "approve-consumer", ruleVersion: 1 });
  });

  test("a reject rule below an approve rule with an unknown fact does not reject: once known, the approve rule could approve", () => {
    const approveTenant = rule({ id: "approve-partner-tenant", priority: 10, conditions: { "requester-tenants": [TENANT] } });
    const rejectRest = rule({ id: "reject-everything-else", priority: 900, action: "reject" });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([approveTenant, rejectRest]), manualByDefault);
    assert.equal(result.action, "manual");
    assert.deepEqual(result.decidedBy, { kind: "unknown-fact", ruleId: "approve-partner-tenant", ruleVersion: 1, missingFacts: ["requesterTenantId"] });
    assert.match(result.explanation.at(-1)!, /"reject-everything-else" .* would reject, but the higher-priority approve rule "approve-partner-tenant" could match once the requester tenant is known/);
    assert.ok(result.reason.length < 140);
  });

  test("the default action reject does not apply while an approve rule could match but for an unknown fact", () => {
    const approveTenant = rule({ id: "approve-partner-tenant", priority: 10, conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([approveTenant]), rejectByDefault);
    assert.equal(result.action, "manual");
    assert.equal(result.decidedBy.kind, "unknown-fact");
    assert.match(result.explanation.at(-1)!, /default action would reject, but the higher-priority approve rule "approve-partner-tenant" could match/);
  });

  test("the default action reject still applies when no rule could match whatever the unknown facts are", () => {
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([]), rejectByDefault);
    assert.equal(result.action, "reject");
    assert.deepEqual(result.decidedBy, { kind: "default" });
  });

  test("a known fact that fails beats an unknown one: the rule cannot match whatever the tenant is", () => {
    const rejectOtherSubInTenant = rule({ id: "reject-other", priority: 10, action: "reject", conditions: { "requester-subscriptions": [OTHER_SUB], "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([rejectOtherSubInTenant, approveConsumer]), manualByDefault);
    assert.equal(result.action, "approve");
    assert.deepEqual(result.decidedBy, { kind: "rule", ruleId: "approve-consumer", ruleVersion: 1 });
    assert.match(result.explanation[1]!, /^Rule "reject-other" .* did not match: the requester subscription is not one of its requester-subscriptions/);
  });

  test("a failing condition checked after an unknown one still makes the rule not match (the order of conditions does not matter)", () => {
    const rejectTenantWithMessage = rule({ id: "reject-tenant-msg", priority: 10, action: "reject", conditions: { "requester-tenants": [TENANT], "request-message": ["*nothing like it*"] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([rejectTenantWithMessage, approveConsumer]), manualByDefault);
    assert.equal(result.action, "approve");
    assert.match(result.explanation[1]!, /did not match: the request message matches none of its request-message patterns/);
  });

  test("names every missing fact of the rule, in condition order", () => {
    const both = rule({ id: "reject-both", priority: 1, action: "reject", conditions: { "requester-tenants": [TENANT], "request-message": ["*"] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined, requestMessage: undefined }), ruleSetOf([both]), manualByDefault);
    assert.deepEqual(result.decidedBy, { kind: "unknown-fact", ruleId: "reject-both", ruleVersion: 1, missingFacts: ["requesterTenantId", "requestMessage"] });
    assert.match(result.reason, /requester tenant and request message/);
  });

  test("keeps the reason under 140 characters for the longest rule id and several missing facts", () => {
    const id = `r${"-x".repeat(31)}`;
    assert.equal(id.length, 63);
    const long = rule({
      id,
      priority: 1,
      action: "reject",
      conditions: { "requester-subscriptions": [CONSUMER_SUB], "requester-tenants": [TENANT], "private-endpoint-ids": ["*"], "request-message": ["*"] },
    });
    const unknownEverything = facts({ privateEndpointId: undefined, requesterSubscriptionId: undefined, requesterTenantId: undefined, requestMessage: undefined });
    const result = evaluateRules(unknownEverything, ruleSetOf([long]), manualByDefault);
    assert.equal(result.decidedBy.kind, "unknown-fact");
    assert.ok(result.reason.length < 140, `${result.reason.length}: ${result.reason}`);
    assert.ok(result.reason.includes(id));
  });

  test("an audit rule with an unknown fact records nothing and says why", () => {
    const watch = rule({ id: "watch-partner-tenant", priority: 10, mode: "audit", action: "approve", conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([watch]), rejectByDefault);
    assert.deepEqual(result.auditMatches, []);
    assert.equal(result.action, "reject", "an audit rule never holds up a decision");
    assert.match(result.explanation[1]!, /^Rule "watch-partner-tenant" .* could not be evaluated: the requester tenant is not known; nothing is recorded as an audit match/);
  });

  test("an audit rule whose tenant is known records its match as before", () => {
    const watch = rule({ id: "watch-partner-tenant", priority: 10, mode: "audit", action: "approve", conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: TENANT }), ruleSetOf([watch]), manualByDefault);
    assert.deepEqual(result.auditMatches.map((m) => m.ruleId), ["watch-partner-tenant"]);
  });

  test("a disabled or expired reject rule on an unknown fact does not hold anything up", () => {
    const off = rule({ id: "off", priority: 1, enabled: false, action: "reject", conditions: { "requester-tenants": [TENANT] } });
    const old = rule({ id: "old", priority: 2, validUntil: "2025-01-01T00:00:00Z", action: "reject", conditions: { "requester-tenants": [TENANT] } });
    const result = evaluateRules(facts({ requesterTenantId: undefined }), ruleSetOf([off, old, approveConsumer]), manualByDefault);
    assert.equal(result.action, "approve");
  });

  test("a blank tenant counts as unknown, not as a value that fails", () => {
    const result = evaluateRules(facts({ requesterTenantId: "  " }), ruleSetOf([rejectPartnerTenant, approveConsumer]), manualByDefault);
    assert.equal(result.decidedBy.kind, "unknown-fact");
  });

  test("an empty request message is a known value: a pattern that needs text fails on it", () => {
    const rejectLoadTests = rule({ id: "reject-load-tests", priority: 5, action: "reject", conditions: { "request-message": ["*load test*"] } });
    const result = evaluateRules(facts({ requestMessage: "" }), ruleSetOf([rejectLoadTests, approveConsumer]), manualByDefault);
    assert.equal(result.action, "approve");
  });
});

describe("whatIf with unknown facts", () => {
  test("shows the unknown outcome: kind, rule and missing facts, and lists the connection under the rule's manual outcomes", () => {
    const stored = ruleSetOf([approveConsumer]);
    const proposed = ruleSetOf([rejectPartnerTenant, approveConsumer]);
    const result = whatIf([{ facts: facts({ connectionId: "c1", requesterTenantId: undefined }), currentStatus: "Pending" }], proposed, stored, manualByDefault);
    const [row] = result.connections;
    assert.equal(row!.stored.action, "approve");
    assert.equal(row!.proposed.action, "manual");
    assert.deepEqual(row!.proposed.decidedBy, { kind: "unknown-fact", ruleId: "reject-partner-tenant", ruleVersion: 4, missingFacts: ["requesterTenantId"] });
    assert.equal(row!.changes, true);
    assert.equal(row!.wouldTakeEffect, true);
    assert.deepEqual(result.rules.find((r) => r.ruleId === "reject-partner-tenant")!.manual, ["c1"]);
  });

  test("a rule that decides by matching and the same rule stopping on an unknown fact are different outcomes", () => {
    const manualTenant = rule({ id: "hold-tenant", priority: 10, action: "manual", conditions: { "requester-tenants": [TENANT] } });
    const manualAll = rule({ id: "hold-tenant", priority: 10, action: "manual" });
    const result = whatIf([{ facts: facts({ connectionId: "c1" }), currentStatus: "Pending" }], ruleSetOf([manualAll]), ruleSetOf([manualTenant]), manualByDefault);
    assert.equal(result.connections[0]!.stored.decidedBy.kind, "unknown-fact");
    assert.equal(result.connections[0]!.proposed.decidedBy.kind, "rule");
    assert.equal(result.connections[0]!.changes, true);
  });
});
