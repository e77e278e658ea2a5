import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONDITION_KEYS, conditionsSchema } from "../../../src/domain/rules/conditions.ts";
import { MAX_RULE_JSON_LENGTH, parseRuleDraft, ruleSchema } from "../../../src/domain/rules/schema.ts";
import { rule, TEST_APIM } from "./fixtures.ts";

const minimal = { id: "allow-orders", priority: 10, action: "approve", reason: "Orders team" };

function problemsOf(value: unknown): string[] {
  const result = parseRuleDraft(value);
  assert.equal(result.success, false, "expected the draft to be rejected");
  return result.success ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

describe("rule schema", () => {
  test("fills the documented defaults of a minimal draft", () => {
    const result = parseRuleDraft(minimal);
    assert.ok(result.success);
    assert.deepEqual(result.draft, {
      ...minimal,
      enabled: true,
      mode: "enforce",
      description: "",
      // group-ids and resource-types are not filled in: left out, they mean API Management and its Gateway group.
      conditions: {},
    });
  });

  test("rejects an unknown condition key and lists the valid ones", () => {
    const [problem, ...rest] = problemsOf({ ...minimal, conditions: { "target-instance": [TEST_APIM] } });
    assert.equal(rest.length, 0);
    assert.match(problem!, /^conditions: unknown condition "target-instance"; valid conditions are /);
    for (const key of CONDITION_KEYS) assert.ok(problem!.includes(key), `lists ${key}`);
  });

  test("rejects an unknown top-level field and lists the valid fields", () => {
    const [problem] = problemsOf({ ...minimal, prority: 5 });
    assert.match(problem!, /unknown field "prority"; valid fields are id, priority, /);
  });

  test("defines every condition key of the map in the conditions schema, and no other", () => {
    assert.deepEqual(Object.keys(conditionsSchema.shape).sort(), [...CONDITION_KEYS].sort());
  });

  const invalid: readonly [string, Record<string, unknown>, RegExp][] = [
    ["rejects an id that is not kebab-case", { id: "Allow_Orders" }, /^id: a rule id is kebab-case/],
    ["rejects an id longer than 63 characters", { id: "a".repeat(64) }, /^id: a rule id has at most 63/],
    ["rejects a fractional priority", { priority: 1.5 }, /^priority: /],
    ["rejects an unknown action", { action: "allow" }, /^action: /],
    ["rejects an unknown mode", { mode: "dry-run" }, /^mode: /],
    ["rejects an empty reason", { reason: "   " }, /^reason: a reason is required/],
    ["rejects a reason longer than 140 characters", { reason: "r".repeat(141) }, /^reason: a reason has at most 140/],
    ["rejects control characters in a reason", { reason: "ok\r\nInjected: yes" }, /^reason: a reason cannot contain control characters/],
    ["rejects a bidi control in a reason (written into consumer-visible descriptions), naming its position", { reason: "Approved \u202eby security" }, /^reason: a reason cannot contain bidi controls \(found U\+202E at position 9/],
    ["rejects a zero-width character in a reason", { reason: "Appro\u200bved" }, /^reason: a reason cannot contain zero-width characters \(found U\+200B at position 5/],
    ["rejects a timestamp without a time zone", { validFrom: "2025-01-01T00:00:00" }, /^validFrom: expected an ISO 8601 timestamp/],
    ["rejects a validity window that ends before it starts", { validFrom: "2025-02-01T00:00:00Z", validUntil: "2025-01-01T00:00:00Z" }, /^validUntil: validFrom must be earlier/],
    ["rejects an empty condition list", { conditions: { "requester-subscriptions": [] } }, /^conditions\.requester-subscriptions: list at least one value/],
    ["rejects a subscription that is not a GUID", { conditions: { "requester-subscriptions": ["contoso"] } }, /expected a GUID/],
    ["rejects a target pattern that is not a resource ID", { conditions: { "target-resources": ["apim-prod"] } }, /starts with \/subscriptions\/ or \*/],
    ["rejects a deprecated target-instances pattern that is not a resource ID", { conditions: { "target-instances": ["apim-prod"] } }, /starts with \/subscriptions\/ or \*/],
    ["rejects a pattern longer than the matcher allows", { conditions: { "request-message": ["a".repeat(1025)] } }, /at most 1024 characters/],
    ["rejects control characters in a pattern", { conditions: { "request-message": ["a\u0000"] } }, /control characters/],
    ["rejects store metadata in a draft", { version: 3 }, /unknown field "version"/],
  ];
  for (const [name, change, expected] of invalid) {
    test(name, () => {
      const problems = problemsOf({ ...minimal, ...change });
      assert.ok(problems.some((p) => expected.test(p)), `got: ${problems.join(" | ")}`);
    });
  }

  test("rejects a rule too large to store in one table property", () => {
    const patterns = Array.from({ length: 100 }, (_, i) => `${"x".repeat(990)}${i}*`);
    const problems = problemsOf({ ...minimal, conditions: { "request-message": patterns } });
    assert.ok(problems.some((p) => /too large/.test(p)));
    assert.ok(JSON.stringify(rule({ id: "small" })).length < MAX_RULE_JSON_LENGTH);
  });

  test("reads a stored rule with its metadata and rejects one without", () => {
    const stored = rule({ id: "stored", version: 4 });
    assert.deepEqual(ruleSchema.parse(JSON.parse(JSON.stringify(stored))), stored);
    const { version: _version, ...withoutVersion } = stored;
    assert.equal(ruleSchema.safeParse(withoutVersion).success, false);
  });

  test("accepts a request-message pattern full of regex syntax as plain text", () => {
    const result = parseRuleDraft({ ...minimal, conditions: { "request-message": ["(a+)+$[^]{99999}"] } });
    assert.ok(result.success);
  });
});
