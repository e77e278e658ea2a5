import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CHECK_IDS } from "../../../src/domain/audit/checks.ts";
import { PRIVATE_LINK_PROVIDERS } from "../../../src/domain/providers/registry.ts";
import { docSections, DOC_PATH, renderTypeSections } from "./audit-doc.ts";

describe("docs/audit.md", () => {
  const doc = readFileSync(DOC_PATH, "utf8");

  test("its per-type tables are what the registry and the checks' appliesTo say (regenerate: node test/domain/audit/audit-doc.ts --write)", () => {
    assert.equal(docSections(doc), renderTypeSections());
  });

  test("has a section for every registered type and names every check", () => {
    for (const provider of PRIVATE_LINK_PROVIDERS) assert.ok(doc.includes(`### ${provider.displayName} (\`${provider.resourceType}\`)`), provider.resourceType);
    for (const id of CHECK_IDS) assert.ok(doc.includes(`\`${id}\``), id);
  });
});
