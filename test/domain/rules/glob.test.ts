import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileGlob, foldCase, MAX_PATTERN_LENGTH } from "../../../src/domain/rules/glob.ts";

/** Reference semantics, written independently: a regular expression over code points, on case-folded text. */
function referenceMatch(pattern: string, text: string): boolean {
  const source = Array.from(foldCase(pattern))
    .map((ch) => (ch === "*" ? "[^]*" : ch === "?" ? "[^]" : ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "u").test(foldCase(text));
}

const matches = (pattern: string, text: string) => compileGlob(pattern).matches(foldCase(text));

describe("glob patterns", () => {
  const cases: readonly [string, string, boolean][] = [
    ["abc", "abc", true],
    ["abc", "ABC", true],
    ["abc", "abcd", false],
    ["", "", true],
    ["", "a", false],
    ["*", "", true],
    ["**", "anything at all", true],
    ["a*", "a", true],
    ["a*", "ba", false],
    ["*a", "ba", true],
    ["*a", "ab", false],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a?c", "a😀c", true],
    ["?", "😀", true],
    ["??", "😀", false],
    ["😀*😀", "😀", false],
    ["😀*😀", "😀😀", true],
    ["a😀?*😀", "a😀x😀", true],
    ["*b*", "aaabaaa", true],
    ["*b*", "aaaaaaa", false],
    ["a*b*c", "a-x-b-y-c", true],
    ["a*b*c", "a-x-c-y-b", false],
    ["*ticket ?-*", "Please, TICKET X-12", true],
    ["Straße*", "STRASSE", false],
    ["ΟΔΟΣ", "οδος", true],
    ["*ς", "ΛΟΓΟΣ", true],
    ["[a]", "[A]", true],
    ["(a+)+$", "(A+)+$", true],
    [".*", "anything", false],
  ];
  for (const [pattern, text, expected] of cases) {
    test(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(text)}`, () => {
      assert.equal(matches(pattern, text), expected);
      assert.equal(referenceMatch(pattern, text), expected, "the reference agrees");
    });
  }

  test("agrees with the reference implementation on random patterns and texts", () => {
    const patternChar = fc.constantFrom("a", "b", "A", "é", "😀", "😀", "*", "?", ".", "\\");
    const textChar = fc.constantFrom("a", "b", "B", "É", "é", "😀", ".", "\\", "\ud800");
    fc.assert(
      fc.property(fc.string({ unit: patternChar, maxLength: 12 }), fc.string({ unit: textChar, maxLength: 16 }), (pattern, text) => {
        assert.equal(matches(pattern, text), referenceMatch(pattern, text));
      }),
      { numRuns: 3000 },
    );
  });

  test("agrees with the reference on patterns wider than one machine word (more than 31 literal characters)", () => {
    const patternChar = fc.constantFrom("a", "b", "?", "*");
    fc.assert(
      fc.property(fc.string({ unit: patternChar, minLength: 30, maxLength: 80 }), fc.string({ unit: fc.constantFrom("a", "b"), maxLength: 120 }), (pattern, text) => {
        assert.equal(matches(pattern, text), referenceMatch(pattern, text));
      }),
      { numRuns: 1000 },
    );
  });

  test("agrees with the reference when the text is built to match", () => {
    const pieces = fc.array(fc.tuple(fc.string({ unit: fc.constantFrom("x", "y", "?"), maxLength: 5 }), fc.string({ unit: fc.constantFrom("x", "y", "z"), maxLength: 5 })), { maxLength: 6 });
    fc.assert(
      fc.property(pieces, (parts) => {
        const pattern = parts.map(([literal]) => literal).join("*");
        const text = parts.map(([literal, filler]) => literal.replaceAll("?", "q") + filler).join("");
        assert.equal(matches(pattern, text), referenceMatch(pattern, text));
      }),
      { numRuns: 1000 },
    );
  });

  test("matches *a*a*a*a*b against 100,000 a's quickly (linear time, no backtracking)", () => {
    const matcher = compileGlob("*a*a*a*a*b");
    const text = "a".repeat(100_000);
    const started = performance.now();
    assert.equal(matcher.matches(text), false);
    assert.equal(matcher.matches(`${text}b`), true);
    assert.ok(performance.now() - started < 200, "took too long");
  });

  test("stays fast on adversarial inputs for any star-heavy pattern, including the widest allowed", () => {
    const text = "a".repeat(200_000);
    const adversarial = fc.oneof(
      fc.integer({ min: 1, max: 60 }).map((n) => `${"*a".repeat(n)}*b`),
      fc.integer({ min: 1, max: 200 }).map((n) => `*${"a".repeat(n)}b*`),
      fc.integer({ min: 1, max: 100 }).map((n) => `${"?*".repeat(n)}c`),
      fc.constant(`*${"a?".repeat(MAX_PATTERN_LENGTH / 2 - 2)}b`),
    );
    fc.assert(
      fc.property(adversarial, (pattern) => {
        const matcher = compileGlob(pattern);
        const started = performance.now();
        assert.equal(matcher.matches(text), false);
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 500, `${pattern.slice(0, 40)}… took ${elapsed.toFixed(1)} ms`);
      }),
      { numRuns: 40 },
    );
  });

  test("refuses a pattern longer than the limit", () => {
    assert.throws(() => compileGlob("a".repeat(MAX_PATTERN_LENGTH + 1)), RangeError);
  });
});
