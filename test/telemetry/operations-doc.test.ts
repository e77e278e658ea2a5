/**
 * docs/operations.md's tables, Kusto queries and alert rules name only telemetry the app emits: every
 * `portcullis.*` / `faas.*` name in it is a span, attribute or metric defined in src/telemetry/names.ts, and every
 * metric and span defined there is documented.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ATTR, METRIC, SPAN } from "../../src/telemetry/names.ts";

const doc = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");
const defined = new Set<string>([...Object.values(ATTR), ...Object.values(SPAN), ...Object.values(METRIC).map((m) => m.name)]);

test("every telemetry name docs/operations.md uses is one the app emits", () => {
  const used = new Set([...doc.matchAll(/\b(?:portcullis|faas)\.[a-z_]+(?:\.[a-z_]+)*/g)].map((m) => m[0]));
  assert.ok(used.size > 10, "the doc names the telemetry");
  const unknown = [...used].filter((name) => !defined.has(name));
  assert.deepEqual(unknown, [], `names in docs/operations.md that src/telemetry/names.ts does not define: ${unknown.join(", ")}`);
});

test("every span and metric the app emits is documented", () => {
  for (const name of [...Object.values(SPAN), ...Object.values(METRIC).map((m) => m.name)]) {
    assert.ok(doc.includes(`\`${name}\``), `${name} is documented`);
  }
});
