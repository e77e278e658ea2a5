/**
 * Rules for every Private Link provider: which resource types a rule covers (resource-types, API Management only
 * without it), which sub-resources (group-ids as a list or per type, defaulting to the covered types' groups), which
 * resources (target-resources, and the deprecated target-instances), and how each is checked against the registry
 * when a rule is written.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { coverageOf, literalTypeOf } from "../../../src/domain/rules/conditions.ts";
import { evaluateRules, type EvaluateOptions } from "../../../src/domain/rules/evaluate.ts";
import { ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { parseRuleDraft, ruleSchema } from "../../../src/domain/rules/schema.ts";
import { PRIVATE_LINK_PROVIDERS, REGISTERED_RESOURCE_TYPES } from "../../../src/domain/providers/registry.ts";
import { CONSUMER_SUB, facts, factsOn, NOW, OTHER_SUB, PLS, PROD_APIM, rule, SQL_SERVER, STORAGE, TEST_APIM, VAULT } from "./fixtures.ts";

const manualByDefault: EvaluateOptions = { now: NOW, defaultAction: "manual" };
const rejectByDefault: EvaluateOptions = { now: NOW, defaultAction: "reject" };

const STORAGE_TYPE = "Microsoft.Storage/storageAccounts";
const VAULT_TYPE = "Microsoft.KeyVault/vaults";
const SQL_TYPE = "Microsoft.Sql/servers";

const decider = (r: ReturnType<typeof evaluateRules>) => (r.decidedBy.kind === "rule" || r.decidedBy.kind === "unknown-fact" ? r.decidedBy.ruleId : r.decidedBy.kind);

/** Every problem of a draft, as "path: message". */
function problemsOf(conditions: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  const result = parseRuleDraft({ id: "r", priority: 1, action: "approve", reason: "r", conditions, ...extra });
  return result.success ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("coverage: which resource types a rule is about", () => {
  test("an old rule (no resource-types) never approves a storage account, a vault or a SQL server, whatever it says", () => {
    const approveAll = rule({ id: "approve-consumer", conditions: { "requester-subscriptions": [CONSUMER_SUB] } });
    assert.equal(evaluateRules(facts(), ruleSetOf([approveAll]), manualByDefault).action, "approve", "it still approves APIM connections");
    for (const [id, groups] of [[STORAGE, ["blob"]], [VAULT, ["vault"]], [SQL_SERVER, ["sqlServer"]], [PLS, []]] as const) {
      const result = evaluateRules(factsOn(id, groups), ruleSetOf([approveAll]), manualByDefault);
      assert.equal(result.action, "manual", id);
      assert.deepEqual(result.decidedBy, { kind: "default" });
    }
  });

  test("the explanation says the rule covers API Management only and what the connection is on", () => {
    const old = rule({ id: "approve-consumer", conditions: { "requester-subscriptions": [CONSUMER_SUB] } });
    const { explanation } = evaluateRules(factsOn(STORAGE, ["blob"]), ruleSetOf([old]), manualByDefault);
    assert.match(explanation[0]!, /to \/subscriptions\/.*\/storageAccounts\/stlake \(a Microsoft\.Storage\/storageAccounts\)/);
    assert.equal(
      explanation[1],
      'Rule "approve-consumer" v1 (priority 100, enforce, approve) was not considered: the connection is on a Microsoft.Storage/storageAccounts; the rule covers API Management only (it has no resource-types).',
    );
    assert.match(explanation.at(-1)!, /default action applies: manual/);
  });

  test("names the registry's casing of the type whatever case the connection ID uses", () => {
    const { explanation } = evaluateRules(factsOn(STORAGE.replace("Microsoft.Storage/storageAccounts", "microsoft.storage/STORAGEACCOUNTS"), ["blob"]), ruleSetOf([rule({ id: "a" })]), manualByDefault);
    assert.match(explanation[1]!, /the connection is on a Microsoft\.Storage\/storageAccounts;/);
  });

  test("a rule naming types covers those (case-insensitive) and no other; a rule of another type says which it covers", () => {
    const rules = [
      rule({ id: "storage-and-vaults", priority: 1, conditions: { "resource-types": ["microsoft.storage/STORAGEACCOUNTS", VAULT_TYPE], "requester-subscriptions": [CONSUMER_SUB] } }),
    ];
    assert.equal(decider(evaluateRules(factsOn(STORAGE, ["blob"]), ruleSetOf(rules), manualByDefault)), "storage-and-vaults");
    assert.equal(decider(evaluateRules(factsOn(VAULT, ["vault"]), ruleSetOf(rules), manualByDefault)), "storage-and-vaults");
    const onSql = evaluateRules(factsOn(SQL_SERVER, ["sqlServer"]), ruleSetOf(rules), manualByDefault);
    assert.equal(decider(onSql), "default");
    assert.match(onSql.explanation[1]!, /the connection is on a Microsoft\.Sql\/servers; the rule covers Microsoft\.Storage\/storageAccounts, Microsoft\.KeyVault\/vaults \(resource-types\)\.$/);
    const onApim = evaluateRules(facts(), ruleSetOf(rules), manualByDefault);
    assert.equal(decider(onApim), "default", "naming types without APIM leaves APIM out");
  });

  test('"*" (alone or as the only list item) covers every registered type, API Management included', () => {
    for (const types of ["*", ["*"]]) {
      const everyType = ruleSetOf([rule({ id: "any-type", conditions: { "resource-types": types, "requester-subscriptions": [CONSUMER_SUB] } })]);
      for (const provider of PRIVATE_LINK_PROVIDERS) {
        const id = `/subscriptions/${OTHER_SUB}/resourceGroups/rg/providers/${provider.resourceType}/res1`;
        const result = evaluateRules(factsOn(id, provider.groups.slice(0, 1).map((g) => g.groupId)), everyType, manualByDefault);
        assert.equal(result.action, "approve", provider.resourceType);
      }
    }
  });

  test("a connection on a type no rule covers gets the default action, even reject, never a rule's approve", () => {
    const result = evaluateRules(factsOn(STORAGE, ["blob"]), ruleSetOf([rule({ id: "apim-only" })]), rejectByDefault);
    assert.equal(result.action, "reject");
    assert.deepEqual(result.decidedBy, { kind: "default" });
  });

  test("names at most ten rules left out for their type, then counts the rest", () => {
    const many = Array.from({ length: 13 }, (_, i) => rule({ id: `apim-${String(i).padStart(2, "0")}`, priority: i }));
    const { explanation } = evaluateRules(factsOn(STORAGE, ["blob"]), ruleSetOf(many), manualByDefault);
    assert.equal(explanation.filter((l) => l.includes("was not considered: the connection is on a Microsoft.Storage/storageAccounts")).length, 10);
    assert.ok(explanation.includes("3 more rule(s) do not cover a Microsoft.Storage/storageAccounts (resource-types), so they were not considered."));
  });

  test("coverageOf: default, every type, listed (unknown names cover nothing, so a stored rule naming a dropped type still parses)", () => {
    assert.deepEqual([...coverageOf(undefined).types], ["microsoft.apimanagement/service"]);
    assert.equal(coverageOf("*").providers.length, REGISTERED_RESOURCE_TYPES.length);
    assert.deepEqual(coverageOf([VAULT_TYPE, "Microsoft.Gone/things"]).providers.map((p) => p.resourceType), [VAULT_TYPE]);
    const stored = ruleSchema.safeParse({ ...rule({ id: "old" }), conditions: { "resource-types": ["Microsoft.Gone/things"] } });
    assert.ok(stored.success, "the stored schema does not re-check the registry");
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), ruleSetOf([stored.data]), manualByDefault).decidedBy.kind, "default");
  });
});

describe("group-ids for several types", () => {
  test("left out, it holds for every group of each covered type, also when the connection names none", () => {
    const rules = ruleSetOf([rule({ id: "both", conditions: { "resource-types": [STORAGE_TYPE, "Microsoft.ApiManagement/service"], "requester-subscriptions": [CONSUMER_SUB] } })]);
    assert.equal(evaluateRules(facts(), rules, manualByDefault).action, "approve");
    for (const group of ["blob", "dfs", "table_secondary", "FILE"]) assert.equal(evaluateRules(factsOn(STORAGE, [group]), rules, manualByDefault).action, "approve", group);
    // A storage connection names no group and a Microsoft-managed endpoint cannot be read: Azure accepts a connection
    // only on one of the type's groups, so the default holds.
    assert.equal(evaluateRules(factsOn(STORAGE, []), rules, manualByDefault).action, "approve");
  });

  test("named groups on a connection whose group is unknown: an unknown fact, so a reject rule on blob never lets it fall through to an approve", () => {
    const rules = ruleSetOf([
      rule({ id: "no-blob", priority: 10, action: "reject", reason: "No blob.", conditions: { "resource-types": [STORAGE_TYPE], "group-ids": ["blob"] } }),
      rule({ id: "approve-consumer", priority: 20, conditions: { "resource-types": [STORAGE_TYPE], "requester-subscriptions": [CONSUMER_SUB] } }),
    ]);
    const unknown = evaluateRules(factsOn(STORAGE, []), rules, manualByDefault);
    assert.equal(unknown.action, "manual");
    assert.deepEqual(unknown.decidedBy, { kind: "unknown-fact", ruleId: "no-blob", ruleVersion: 1, missingFacts: ["groupIds"] });
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), rules, manualByDefault).action, "reject");
    assert.equal(evaluateRules(factsOn(STORAGE, ["dfs"]), rules, manualByDefault).action, "approve");
  });

  test("an old rule without group-ids covers API Management whatever the group", () => {
    const rules = ruleSetOf([rule({ id: "old" })]);
    assert.equal(evaluateRules(facts({ groupIds: ["Gateway"] }), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), rules, manualByDefault).action, "manual", "but no other type");
  });

  test("a list applies to every covered type (any of these)", () => {
    const rules = ruleSetOf([rule({ id: "blob-anywhere", conditions: { "resource-types": "*", "group-ids": ["blob"], "requester-subscriptions": [CONSUMER_SUB] } })]);
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(STORAGE, ["dfs"]), rules, manualByDefault).action, "manual");
    const onVault = evaluateRules(factsOn(VAULT, ["vault"]), rules, manualByDefault);
    assert.equal(onVault.action, "manual");
    assert.match(onVault.explanation[1]!, /group IDs include none of its group-ids for a Microsoft\.KeyVault\/vaults \("blob"\)/);
    assert.equal(evaluateRules(factsOn(PLS, []), rules, manualByDefault).action, "manual", "a listed group excludes connections without one");
  });

  test("an object gives each type its own groups; a covered type without a key keeps its default", () => {
    const rules = ruleSetOf([
      rule({
        id: "per-type",
        conditions: { "resource-types": [STORAGE_TYPE, VAULT_TYPE, SQL_TYPE], "group-ids": { "microsoft.storage/storageaccounts": ["BLOB", "dfs"], [VAULT_TYPE]: ["vault"] }, "requester-subscriptions": [CONSUMER_SUB] },
      }),
    ]);
    assert.equal(evaluateRules(factsOn(STORAGE, ["dfs"]), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(STORAGE, ["queue"]), rules, manualByDefault).action, "manual");
    assert.equal(evaluateRules(factsOn(VAULT, ["vault"]), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(SQL_SERVER, ["sqlServer"]), rules, manualByDefault).action, "approve", "SQL keeps its default groups");
  });

  test("a Private Link Service's connections carry no group id: the default matches them", () => {
    const rules = ruleSetOf([rule({ id: "pls", conditions: { "resource-types": ["Microsoft.Network/privateLinkServices"], "requester-subscriptions": [CONSUMER_SUB] } })]);
    assert.equal(evaluateRules(factsOn(PLS, []), rules, manualByDefault).action, "approve");
  });

  test("a reject rule per type stops what it names and nothing else", () => {
    const rules = ruleSetOf([
      rule({ id: "no-dfs-from-other", priority: 1, action: "reject", conditions: { "resource-types": [STORAGE_TYPE], "group-ids": { [STORAGE_TYPE]: ["dfs"] }, "requester-subscriptions": [OTHER_SUB] } }),
      rule({ id: "approve-storage", priority: 2, conditions: { "resource-types": [STORAGE_TYPE], "requester-subscriptions": [OTHER_SUB, CONSUMER_SUB] } }),
    ]);
    assert.equal(decider(evaluateRules(factsOn(STORAGE, ["dfs"], { requesterSubscriptionId: OTHER_SUB }), rules, manualByDefault)), "no-dfs-from-other");
    assert.equal(decider(evaluateRules(factsOn(STORAGE, ["blob"], { requesterSubscriptionId: OTHER_SUB }), rules, manualByDefault)), "approve-storage");
  });
});

describe("target-resources, and target-instances as its deprecated alias", () => {
  const patterns = [STORAGE, `${TEST_APIM.slice(0, -4)}*`];

  test("target-resources matches resources of any covered type by pattern", () => {
    const rules = ruleSetOf([rule({ id: "data", conditions: { "resource-types": "*", "target-resources": ["*/rg-data/providers/*"], "requester-subscriptions": [CONSUMER_SUB] } })]);
    assert.equal(evaluateRules(factsOn(STORAGE, ["blob"]), rules, manualByDefault).action, "approve");
    assert.equal(evaluateRules(factsOn(VAULT, ["vault"]), rules, manualByDefault).action, "approve");
    const prod = evaluateRules(facts(), rules, manualByDefault);
    assert.equal(prod.action, "manual");
    assert.ok(prod.explanation.includes("1 rule(s) do not target this resource (target-resources), so they were not considered."));
  });

  test("target-instances still parses and evaluates exactly as target-resources, for every connection", () => {
    const viaAlias = ruleSetOf([rule({ id: "r", conditions: { "resource-types": "*", "target-instances": patterns } })]);
    const viaNew = ruleSetOf([rule({ id: "r", conditions: { "resource-types": "*", "target-resources": patterns } })]);
    for (const f of [facts(), facts({ resourceId: TEST_APIM }), factsOn(STORAGE, ["blob"]), factsOn(VAULT, ["vault"])]) {
      const a = evaluateRules(f, viaAlias, manualByDefault);
      const b = evaluateRules(f, viaNew, manualByDefault);
      assert.equal(a.action, b.action, f.resourceId);
      assert.deepEqual(a.decidedBy, b.decidedBy);
      assert.deepEqual(a.explanation.map((l) => l.replaceAll("target-instances", "target-resources")), b.explanation);
    }
    assert.equal(evaluateRules(facts({ resourceId: TEST_APIM }), viaAlias, manualByDefault).action, "approve");
    assert.equal(evaluateRules(facts({ resourceId: PROD_APIM }), viaAlias, manualByDefault).action, "manual");
  });

  test("a rule cannot have both, on write or on read", () => {
    const both = { "target-resources": [PROD_APIM], "target-instances": [PROD_APIM] };
    assert.deepEqual(problemsOf(both), ["conditions.target-instances: target-instances is the deprecated name of target-resources; a rule cannot have both: keep target-resources"]);
    assert.equal(ruleSchema.safeParse({ ...rule({ id: "x" }), conditions: both }).success, false);
  });
});

describe("written rules are checked against the registry", () => {
  test("an unknown resource type is an error that lists the registered ones", () => {
    const [problem, ...rest] = problemsOf({ "resource-types": ["Microsoft.Storage/storageAccount"] });
    assert.equal(rest.length, 0);
    assert.match(problem!, /^conditions\.resource-types\.0: unknown resource type "Microsoft\.Storage\/storageAccount"; registered types are /);
    for (const type of REGISTERED_RESOURCE_TYPES) assert.ok(problem!.includes(type), type);
  });

  test('"*" mixed with named types is an error; a bare type string or an empty list is refused', () => {
    assert.deepEqual(problemsOf({ "resource-types": ["*", VAULT_TYPE] }), ['conditions.resource-types.0: "*" covers every registered type: list it alone']);
    assert.match(problemsOf({ "resource-types": VAULT_TYPE })[0]!, /expected a list of ARM resource types, or "\*"/);
    assert.match(problemsOf({ "resource-types": [] })[0]!, /list at least one value/);
  });

  test("a group id no covered type has is an error naming the covered types' groups", () => {
    assert.deepEqual(problemsOf({ "group-ids": ["blob"] }), ['conditions.group-ids.0: "blob" is not a group id of the types this rule covers (API Management: Gateway)']);
    assert.match(problemsOf({ "resource-types": [STORAGE_TYPE], "group-ids": ["blobs"] })[0]!, /"blobs" is not a group id of the types this rule covers \(Storage account: blob, blob_secondary/);
    assert.deepEqual(problemsOf({ "resource-types": [STORAGE_TYPE], "group-ids": ["BLOB"] }), [], "compared case-insensitively");
  });

  test("a list that names no group of a listed type is an error (the rule could never match it); with * it is not", () => {
    assert.deepEqual(problemsOf({ "resource-types": [STORAGE_TYPE, VAULT_TYPE], "group-ids": ["blob"] }), [
      "conditions.group-ids: group-ids names no group of Microsoft.KeyVault/vaults (its groups: vault), so the rule would never match its connections: key group-ids by resource type to restrict only some types, or drop it from resource-types",
    ]);
    assert.match(problemsOf({ "resource-types": ["Microsoft.Network/privateLinkServices", STORAGE_TYPE], "group-ids": ["blob"] })[0]!, /no group of Microsoft\.Network\/privateLinkServices \(it has none: its connections carry no group id\)/);
    assert.deepEqual(problemsOf({ "resource-types": "*", "group-ids": ["blob"] }), []);
  });

  test("a per-type key must be a registered type the rule covers, and its groups that type's", () => {
    assert.match(problemsOf({ "resource-types": [STORAGE_TYPE], "group-ids": { "Microsoft.Foo/bars": ["x"] } })[0]!, /^conditions\.group-ids\.Microsoft\.Foo\/bars: unknown resource type "Microsoft\.Foo\/bars"; registered types are /);
    assert.deepEqual(problemsOf({ "group-ids": { [VAULT_TYPE]: ["vault"] } }), [
      `conditions.group-ids.${VAULT_TYPE}: the rule does not cover ${VAULT_TYPE}: it covers API Management only (it has no resource-types); add the type to resource-types`,
    ]);
    assert.deepEqual(problemsOf({ "resource-types": [VAULT_TYPE], "group-ids": { [VAULT_TYPE]: ["vault", "blob"] } }), [
      `conditions.group-ids.${VAULT_TYPE}.1: "blob" is not a group id of ${VAULT_TYPE} (its groups: vault)`,
    ]);
    assert.match(problemsOf({ "resource-types": [VAULT_TYPE], "group-ids": {} })[0]!, /name at least one resource type, or leave group-ids out/);
    assert.match(problemsOf({ "resource-types": [VAULT_TYPE], "group-ids": "vault" })[0]!, /expected a list of group ids, or an object of lists keyed by resource type/);
  });

  test("a target pattern that spells out a type the rule does not cover is an error (it could never match)", () => {
    assert.deepEqual(problemsOf({ "target-resources": [STORAGE], "requester-subscriptions": [CONSUMER_SUB] }), [
      "conditions.target-resources.0: the pattern names a Microsoft.Storage/storageAccounts, which the rule does not cover: it covers API Management only (it has no resource-types); add the type to resource-types",
    ]);
    assert.match(problemsOf({ "target-instances": ["/subscriptions/*/providers/Microsoft.Foo/bars/*"] })[0]!, /^conditions\.target-instances\.0: the pattern names resource type Microsoft\.Foo\/bars, which is not registered/);
    assert.deepEqual(problemsOf({ "resource-types": [STORAGE_TYPE], "target-resources": [STORAGE] }), []);
    assert.deepEqual(problemsOf({ "target-resources": ["/subscriptions/*/providers/Microsoft.*/*/x", "*stlake"] }), [], "a type part with wildcards cannot be checked");
  });

  test("literalTypeOf reads the type a pattern spells out, and nothing from a pattern whose type part has wildcards", () => {
    assert.equal(literalTypeOf(STORAGE), STORAGE_TYPE);
    assert.equal(literalTypeOf("/subscriptions/*/providers/Microsoft.ApiManagement/service/*-prod/"), "Microsoft.ApiManagement/service");
    assert.equal(literalTypeOf("/subscriptions/*/providers/Microsoft.KeyVault/vaults"), undefined, "no name segment after the type");
    assert.equal(literalTypeOf("/subscriptions/*/providers/Microsoft.Key*/vaults/kv"), undefined);
    assert.equal(literalTypeOf("*"), undefined);
  });

  test("an old-style rule with the old default written out still validates and behaves as before", () => {
    assert.deepEqual(problemsOf({ "group-ids": ["Gateway"], "target-instances": [PROD_APIM], "requester-subscriptions": [CONSUMER_SUB] }), []);
  });
});
