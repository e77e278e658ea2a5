import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseRuleRows, proposedRuleSet, ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { rule } from "./fixtures.ts";

const row = (id: string, json: unknown, etag?: string) => ({ rowKey: `rule:${id}`, id, json, ...(etag ? { etag } : {}) });
const author = { objectId: "editor-1" };

describe("parseRuleRows", () => {
  test("makes a set of valid rows usable", () => {
    const snapshot = parseRuleRows([row("a", JSON.stringify(rule({ id: "a" }))), row("b", JSON.stringify(rule({ id: "b" })))]);
    assert.equal(snapshot.status, "usable");
    assert.deepEqual(snapshot.status === "usable" ? snapshot.rules.map((r) => r.id) : [], ["a", "b"]);
  });

  test("makes the whole set unusable when one row fails, and reports every broken row with its ETag", () => {
    const snapshot = parseRuleRows([
      row("good", JSON.stringify(rule({ id: "good" }))),
      row("not-json", "{oops", 'W/"1"'),
      row("wrong-shape", JSON.stringify({ ...rule({ id: "wrong-shape" }), action: "allow" })),
      row("renamed", JSON.stringify(rule({ id: "another-id" }))),
      row("missing", undefined),
    ]);
    assert.equal(snapshot.status, "unusable");
    const problems = snapshot.status === "unusable" ? snapshot.problems : [];
    assert.deepEqual(problems.map((p) => p.rowKey), ["rule:missing", "rule:not-json", "rule:renamed", "rule:wrong-shape"]);
    assert.match(problems[0]!.message, /missing or is not text/);
    assert.match(problems[1]!.message, /not valid JSON/);
    assert.equal(problems[1]!.etag, 'W/"1"');
    assert.match(problems[2]!.message, /differs from the id "renamed"/);
    assert.match(problems[3]!.message, /action: /);
  });

  test("gives the same version for the same rows in any order, and a new version for any change", () => {
    const a = row("a", JSON.stringify(rule({ id: "a" })));
    const b = row("b", JSON.stringify(rule({ id: "b" })));
    assert.equal(parseRuleRows([a, b]).version, parseRuleRows([b, a]).version);
    assert.notEqual(parseRuleRows([a, b]).version, parseRuleRows([a]).version);
    const changed = row("b", JSON.stringify(rule({ id: "b", priority: 5 })));
    assert.notEqual(parseRuleRows([a, b]).version, parseRuleRows([a, changed]).version);
  });

  test("treats an empty table as a usable set with no rules", () => {
    const snapshot = parseRuleRows([]);
    assert.equal(snapshot.status, "usable");
  });
});

describe("proposedRuleSet", () => {
  const stored = ruleSetOf([rule({ id: "existing", version: 4 })]);

  test("stamps each proposed rule with the version it would get if saved", () => {
    const proposal = proposedRuleSet(
      [
        { id: "existing", priority: 1, action: "reject", reason: "Changed" },
        { id: "brand-new", priority: 2, action: "approve", reason: "New" },
      ],
      { stored, updatedAt: "2025-06-01T00:00:00Z", updatedBy: author },
    );
    assert.equal(proposal.status, "usable");
    assert.deepEqual(proposal.status === "usable" ? proposal.rules.map((r) => [r.id, r.version]) : [], [["brand-new", 1], ["existing", 5]]);
  });

  test("makes a proposal with an invalid draft or a repeated id unusable, naming each problem", () => {
    const proposal = proposedRuleSet(
      [
        { id: "dup", priority: 1, action: "reject", reason: "x" },
        { id: "dup", priority: 2, action: "approve", reason: "y" },
        { id: "bad", priority: 1, action: "approve", reason: "z", conditions: { colour: ["red"] } },
      ],
      { stored, updatedAt: "2025-06-01T00:00:00Z", updatedBy: author },
    );
    assert.equal(proposal.status, "unusable");
    const messages = proposal.status === "unusable" ? proposal.problems.map((p) => `${p.rowKey} ${p.message}`) : [];
    assert.match(messages[0]!, /^proposed\[1\] the id "dup" appears more than once/);
    assert.match(messages[1]!, /^proposed\[2\] conditions: unknown condition "colour"/);
  });
});
