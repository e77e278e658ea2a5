/**
 * docs/rules.md cannot drift from the rule schema: every rule field and condition key the zod schema knows is
 * documented in its table, the tables name nothing the schema does not know, the documented limits are the
 * schema's, every warning code lint can raise is explained, every YAML example parses with the real rule-file
 * parser (src/cli/rule-files.ts) without a problem, and the table of governed types is the provider registry's.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseRuleFile } from "../../../src/cli/rule-files.ts";
import { CONDITION_KEYS } from "../../../src/domain/rules/conditions.ts";
import { MAX_PATTERN_LENGTH } from "../../../src/domain/rules/glob.ts";
import { evaluateRules } from "../../../src/domain/rules/evaluate.ts";
import { lintRule } from "../../../src/domain/rules/lint.ts";
import { ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { MAX_REASON_LENGTH, ruleDraftSchema, ruleSchema } from "../../../src/domain/rules/schema.ts";
import { PRIVATE_LINK_PROVIDERS } from "../../../src/domain/providers/registry.ts";
import { PROD_APIM, rule } from "./fixtures.ts";

const DOC_PATH = new URL("../../../docs/rules.md", import.meta.url);
const doc = readFileSync(DOC_PATH, "utf8");

/** The text of a `## Heading` section, up to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/rules.md has a "${heading}" section`);
  const level = heading.split(" ")[0]!;
  const rest = doc.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The keys of a section's table rows: `| \`key\` | ...`. */
function tableKeys(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

describe("docs/rules.md against the rule schema", () => {
  test("every rule field (draft and stored) is documented in the field tables, and nothing else is", () => {
    const fields = section("## Rule fields");
    const draftFields = Object.keys(ruleDraftSchema.shape);
    const storedOnly = Object.keys(ruleSchema.shape).filter((k) => !draftFields.includes(k));
    const documented = tableKeys(fields);
    assert.deepEqual([...documented].sort(), [...draftFields, ...storedOnly].sort());
  });

  test("every condition key is documented in the conditions table, in the map's order, and nothing else is", () => {
    assert.deepEqual(tableKeys(section("## Conditions").split("\n### ")[0]!), CONDITION_KEYS);
  });

  test("the documented limits are the schema's", () => {
    assert.match(section("## Rule fields"), new RegExp(`1–${MAX_REASON_LENGTH} characters`));
    assert.match(section("## Conditions"), new RegExp(`1–${MAX_PATTERN_LENGTH.toLocaleString("en-US")} characters`));
    const reasonTooLong = ruleDraftSchema.safeParse({ id: "x", priority: 1, action: "approve", reason: "r".repeat(MAX_REASON_LENGTH + 1) });
    assert.equal(reasonTooLong.success, false);
  });

  test("every warning lint raises is explained in the warnings table", () => {
    const raised = new Set(
      [
        rule({ id: "everything" }),
        rule({ id: "wildcards", conditions: { "private-endpoint-ids": ["*"] } }),
        rule({ id: "any-requester", conditions: { "target-resources": [PROD_APIM] } }),
        rule({ id: "deprecated", action: "reject", conditions: { "target-instances": [PROD_APIM] } }),
      ].flatMap((r) => lintRule(r).map((w) => w.code)),
    );
    assert.deepEqual(tableKeys(section("## Warnings: rules that approve too much")).sort(), [...raised].sort());
  });

  test("every YAML example parses with the rule-file parser without a problem", () => {
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 7, `found ${blocks.length} YAML examples`);
    blocks.forEach((text, i) => {
      const file = parseRuleFile(`docs/rules.md example ${i + 1}`, text, "either");
      assert.deepEqual(file.problems, [], `example ${i + 1}:\n${text}`);
      assert.ok(file.drafts.length >= 1, `example ${i + 1} holds a rule`);
    });
  });

  test("the examples of the common policies are there and stay quiet or warn as the text says", () => {
    const examples = section("## Examples");
    for (const heading of ["### Allow-list of subscriptions", "### Deny a tenant, or a subscription", "### Time-boxed approvals", "### Microsoft-managed endpoints"]) {
      assert.ok(examples.includes(`\n${heading}\n`), heading);
    }
    const all = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m, i) => parseRuleFile(`example ${i}`, m[1]!, "either").drafts);
    const window = all.find((d) => d.id === "approve-fabrikam-migration")!;
    assert.ok(window.validFrom !== undefined && window.validUntil !== undefined, "the time-boxed example has a window");
    // The example rules are what the page recommends: none of them approves too much.
    assert.deepEqual(all.flatMap((d) => lintRule(d)), []);
  });

  test("the governed types table is the provider registry's, in its order, with each type's group ids", () => {
    const groupsCell = (groups: readonly { groupId: string }[]) =>
      groups.length === 0 ? "none: its connections carry no group id, so only the default (any) applies" : groups.map((g) => `\`${g.groupId}\``).join(", ");
    const expected = PRIVATE_LINK_PROVIDERS.map((p) => `| \`${p.resourceType}\` | ${p.displayName} | ${groupsCell(p.groups)} |`);
    const documented = section("## Resource types")
      .split("\n")
      .filter((line) => /^\| `[^`]+\/[^`]+` \|/.test(line));
    assert.deepEqual(documented, expected, `docs/rules.md "## Resource types" should hold exactly these rows:\n${expected.join("\n")}`);
  });

  test("the default coverage is documented, with the explanation line the evaluator really writes", () => {
    const types = section("## Resource types").replace(/\s+/g, " ");
    assert.match(types, /\*\*A rule without `resource-types` covers API Management only\.\*\*/);
    const storage = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
    const line = evaluateRules(
      { connectionId: `${storage}/privateEndpointConnections/c`, resourceId: storage, groupIds: ["blob"] },
      ruleSetOf([rule({ id: "approve-orders" })]),
      { now: new Date(), defaultAction: "manual" },
    ).explanation[1]!;
    const documented = line.slice(line.indexOf(" was not considered: "));
    assert.ok(types.includes(documented), `the page quotes: ${documented}`);
  });

  test("the Microsoft-managed example cites its sources and its approve rules pin the endpoint's subscription, not only a name", () => {
    const managed = section("### Microsoft-managed endpoints");
    for (const source of ["articles/data-factory/managed-virtual-network-private-endpoint.md", "articles/synapse-analytics/security/synapse-workspace-managed-private-endpoints.md"]) {
      assert.ok(managed.includes(source), source);
    }
    const drafts = [...managed.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m, i) => parseRuleFile(`managed ${i}`, m[1]!, "either").drafts);
    const approving = drafts.filter((d) => d.action === "approve" && d.mode === "enforce");
    assert.ok(approving.length >= 2, "a Data Factory and a Synapse example");
    for (const d of approving) {
      const patterns = d.conditions["private-endpoint-ids"] ?? [];
      assert.ok(patterns.length > 0, d.id);
      for (const p of patterns) assert.match(p, /^\/subscriptions\/[0-9a-f-]{36}\/.*\/privateEndpoints\/[^*/]+\.\*$/i, `${d.id} pins the subscription and the factory or workspace name`);
      assert.notEqual(d.conditions["resource-types"], undefined, `${d.id} names the types it is about`);
    }
  });
});
