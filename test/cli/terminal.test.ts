/** Table fitting (pure): shrinkable columns give way to the terminal's width, the others keep theirs. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderTable, truncate } from "../../src/cli/terminal.ts";

const ROWS = [
  { id: "contoso-apim-prod/pe-fabrikam-to-prod.f8d144bc-1111-4222-8333-444455556666", status: "Pending", why: "awaiting a human (default) since 2026-12-02T15:00:00.000Z" },
  { id: "contoso-apim-dev/pe-app-one.ddfcacca-1111-4222-8333-444455556666", status: "Approved", why: "approve by rule:approve-internal-app-subscriptions" },
];
const COLUMNS = [
  { header: "CONNECTION", value: (r: (typeof ROWS)[number]) => r.id, shrink: "middle" as const },
  { header: "STATUS", value: (r: (typeof ROWS)[number]) => r.status },
  { header: "WHY", value: (r: (typeof ROWS)[number]) => r.why, shrink: "end" as const },
];

describe("tables fit the terminal", () => {
  test("without a width nothing is cut (piped output, --wide)", () => {
    const text = renderTable(ROWS, COLUMNS);
    assert.ok(text.includes(ROWS[0]!.id) && text.includes(ROWS[0]!.why));
    assert.doesNotMatch(text, /…/);
  });

  test("with a width every line fits, shrinkable columns are cut with … and the status column is whole", () => {
    const text = renderTable(ROWS, COLUMNS, (t) => t, 80);
    const lines = text.trimEnd().split("\n");
    for (const line of lines) assert.ok([...line].length < 80, `${[...line].length}: ${line}`);
    assert.match(lines[1]!, /^contoso-apim-pro…333-444455556666 +Pending +awaiting a human.*…$/);
    assert.match(lines[2]!, / Approved /);
  });

  test("truncate keeps both ends in the middle mode and the start in the end mode", () => {
    assert.equal(truncate("abcdefghij", 5, "middle"), "ab…ij");
    assert.equal(truncate("abcdefghij", 5), "abcd…");
    assert.equal(truncate("abc", 5), "abc");
  });
});
