import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseRuleRows, ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { WHAT_IF_NOTE, whatIf, type WhatIfConnection } from "../../../src/domain/rules/what-if.ts";
import { CONSUMER_SUB, facts, factsOn, NOW, OTHER_SUB, PLS, PROD_APIM, rule, STORAGE, TEST_APIM, VAULT } from "./fixtures.ts";

const options = { now: NOW, defaultAction: "manual" as const };

const pendingProd: WhatIfConnection = { facts: facts({ connectionId: "prod-pending" }), currentStatus: "Pending" };
const approvedProd: WhatIfConnection = { facts: facts({ connectionId: "prod-approved" }), currentStatus: "Approved" };
const pendingTest: WhatIfConnection = { facts: facts({ connectionId: "test-pending", resourceId: TEST_APIM }), currentStatus: "Pending" };
const pendingOther: WhatIfConnection = { facts: facts({ connectionId: "other-pending", requesterSubscriptionId: OTHER_SUB }), currentStatus: "Pending" };

describe("whatIf", () => {
  const stored = ruleSetOf([rule({ id: "approve-prod", priority: 10, conditions: { "target-resources": [PROD_APIM] } })]);
  const proposed = ruleSetOf([
    rule({ id: "reject-other-sub", priority: 5, action: "reject", conditions: { "requester-subscriptions": [OTHER_SUB] } }),
    rule({ id: "approve-prod", priority: 10, conditions: { "target-resources": [PROD_APIM] } }),
    rule({ id: "approve-test", priority: 20, conditions: { "target-resources": [TEST_APIM] } }),
    rule({ id: "watch-everything", priority: 1, mode: "audit", action: "reject" }),
  ]);
  const result = whatIf([pendingProd, approvedProd, pendingTest, pendingOther], proposed, stored, options);
  const byId = new Map(result.connections.map((c) => [c.connectionId, c]));

  test("shows a Pending connection whose outcome changes, and that the change would take effect", () => {
    const test1 = byId.get("test-pending")!;
    assert.equal(test1.stored.action, "manual");
    assert.equal(test1.proposed.action, "approve");
    assert.equal(test1.changes, true);
    assert.equal(test1.wouldTakeEffect, true);
    assert.ok(test1.proposedExplanation!.some((line) => line.includes('"approve-test"') && line.includes("decides: approve")));
  });

  test("counts a new decider as a change even when the action stays", () => {
    const other = byId.get("other-pending")!;
    assert.equal(other.stored.action, "approve");
    assert.equal(other.proposed.action, "reject");
    assert.equal(other.changes, true);
  });

  test("leaves unchanged connections unmarked and without an explanation", () => {
    const prod = byId.get("prod-pending")!;
    assert.equal(prod.changes, false);
    assert.equal(prod.wouldTakeEffect, false);
    assert.equal(prod.proposedExplanation, undefined);
  });

  test("says an Approved connection would not change even when the rules differ", () => {
    const sameRulesDifferentStatus = whatIf([approvedProd], ruleSetOf([]), stored, options).connections[0]!;
    assert.equal(sameRulesDifferentStatus.changes, true);
    assert.equal(sameRulesDifferentStatus.wouldTakeEffect, false);
    assert.equal(result.note, WHAT_IF_NOTE);
    assert.match(result.note, /Only Pending connections can change/);
  });

  test("lists per proposed rule which connections it would approve, reject or leave, and audit matches", () => {
    const rules = new Map(result.rules.map((r) => [r.ruleId, r]));
    assert.deepEqual(rules.get("approve-prod")!.approve, ["prod-pending", "prod-approved"]);
    assert.deepEqual(rules.get("approve-test")!.approve, ["test-pending"]);
    assert.deepEqual(rules.get("reject-other-sub")!.reject, ["other-pending"]);
    assert.deepEqual(rules.get("watch-everything")!.auditMatches, ["prod-pending", "prod-approved", "test-pending", "other-pending"]);
    assert.equal(rules.get("watch-everything")!.mode, "audit");
  });

  test("summarises how many connections change and how many of those are Pending", () => {
    assert.deepEqual(result.summary, { connections: 4, pending: 3, changed: 2, changedPending: 2 });
    assert.equal(result.storedVersion, stored.version);
    assert.equal(result.proposedVersion, proposed.version);
  });

  test("shows an unusable proposal as manual for every connection, with its problems", () => {
    const broken = parseRuleRows([{ rowKey: "proposed[0]", id: "x", json: "{" }]);
    const outcome = whatIf([pendingProd], broken, stored, options);
    assert.equal(outcome.connections[0]!.proposed.action, "manual");
    assert.equal(outcome.connections[0]!.proposed.decidedBy.kind, "fail-closed");
    assert.equal(outcome.proposedProblems.length, 1);
  });

  test("compares connections of every governed type, each with its type, through the same rules", () => {
    const connections: WhatIfConnection[] = [
      { facts: facts({ connectionId: "apim" }), currentStatus: "Pending" },
      { facts: factsOn(STORAGE, ["blob"], { connectionId: "storage-blob" }), currentStatus: "Pending" },
      { facts: factsOn(STORAGE, ["queue"], { connectionId: "storage-queue" }), currentStatus: "Pending" },
      { facts: factsOn(VAULT, ["vault"], { connectionId: "vault" }), currentStatus: "Approved" },
      { facts: factsOn(PLS, [], { connectionId: "pls" }), currentStatus: "Pending" },
    ];
    // The stored set was written for APIM; the proposal widens one rule to storage blobs and vaults.
    const old = ruleSetOf([rule({ id: "approve-consumer", conditions: { "requester-subscriptions": [CONSUMER_SUB] } })]);
    const widened = ruleSetOf([
      rule({ id: "approve-consumer", conditions: { "requester-subscriptions": [CONSUMER_SUB] } }),
      rule({
        id: "approve-consumer-data",
        priority: 50,
        conditions: { "resource-types": ["Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"], "group-ids": { "Microsoft.Storage/storageAccounts": ["blob"] }, "requester-subscriptions": [CONSUMER_SUB] },
      }),
    ]);
    const outcome = whatIf(connections, widened, old, options);
    const by = new Map(outcome.connections.map((c) => [c.connectionId, c]));
    assert.deepEqual(
      outcome.connections.map((c) => [c.connectionId, c.resourceType]),
      [
        ["apim", "Microsoft.ApiManagement/service"],
        ["storage-blob", "Microsoft.Storage/storageAccounts"],
        ["storage-queue", "Microsoft.Storage/storageAccounts"],
        ["vault", "Microsoft.KeyVault/vaults"],
        ["pls", "Microsoft.Network/privateLinkServices"],
      ],
    );
    assert.equal(by.get("apim")!.changes, false, "the APIM rule still decides APIM");
    assert.equal(by.get("storage-blob")!.stored.action, "manual", "the old APIM rule never approved storage");
    assert.equal(by.get("storage-blob")!.proposed.action, "approve");
    assert.equal(by.get("storage-blob")!.wouldTakeEffect, true);
    assert.ok(by.get("storage-blob")!.proposedExplanation!.some((l) => l.includes('"approve-consumer" ') && l.includes("was not considered: the connection is on a Microsoft.Storage/storageAccounts")));
    assert.equal(by.get("storage-queue")!.changes, false, "queue is not one of its storage groups");
    assert.equal(by.get("vault")!.proposed.action, "approve");
    assert.equal(by.get("vault")!.wouldTakeEffect, false, "an Approved connection is only shown");
    assert.equal(by.get("pls")!.changes, false);
    assert.deepEqual(outcome.rules.find((r) => r.ruleId === "approve-consumer-data")!.approve, ["storage-blob", "vault"]);
  });
});
