import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { describeUnsafeCharacter, findUnsafeCharacter, unsafeTextProblem } from "../../src/domain/text-safety.ts";

const BIDI = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c];
const ZERO_WIDTH = [0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x180e, 0x00ad];
const CONTROL = [0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x85, 0x9f, 0x2028, 0x2029];
const UNSAFE = [...BIDI, ...ZERO_WIDTH, ...CONTROL];

describe("findUnsafeCharacter", () => {
  test("refuses every bidi control, naming its kind and position", () => {
    for (const cp of BIDI) assert.deepEqual(findUnsafeCharacter(`CHG${String.fromCodePoint(cp)}0012345`), { index: 3, codePoint: cp, kind: "bidi control" });
  });

  test("refuses zero-width and invisible characters", () => {
    for (const cp of ZERO_WIDTH) assert.equal(findUnsafeCharacter(`a${String.fromCodePoint(cp)}b`)?.kind, "zero-width character", cp.toString(16));
  });

  test("refuses C0 and C1 control characters, DEL and the Unicode line and paragraph separators", () => {
    for (const cp of CONTROL) assert.equal(findUnsafeCharacter(`${String.fromCodePoint(cp)}x`)?.kind, "control character", cp.toString(16));
  });

  test("refuses an unpaired surrogate but accepts a paired one (an emoji)", () => {
    assert.equal(findUnsafeCharacter("ok \ud83d then")?.kind, "unpaired surrogate");
    assert.equal(findUnsafeCharacter("ok \ude00")?.kind, "unpaired surrogate");
    assert.equal(findUnsafeCharacter("ok 😀 fine"), undefined);
  });

  test("counts the position in characters, so an emoji before the bad character counts once", () => {
    assert.equal(findUnsafeCharacter("😀😀\u202e")?.index, 2);
  });

  test("accepts ordinary text in any script", () => {
    for (const text of ["Orders team onboarding (CHG0012345)", "Zugriff für das Bestellteam – genehmigt", "東京チームの接続", "طلب اتصال من فريق الطلبات", "Ünïcödé, naïve café", "OPS-42"]) {
      assert.equal(findUnsafeCharacter(text), undefined, text);
    }
  });

  test("reports the first unsafe character wherever it is inserted into safe text", () => {
    const safeChar = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => findUnsafeCharacter(s) === undefined);
    fc.assert(
      fc.property(safeChar, safeChar, fc.constantFrom(...UNSAFE), (before, after, cp) => {
        const found = findUnsafeCharacter(`${before}${String.fromCodePoint(cp)}${after}`);
        assert.equal(found?.codePoint, cp);
        assert.equal(found?.index, [...before].length);
      }),
      { numRuns: 300 },
    );
  });

  test("describes the problem with the field, the code point and the position, never the text", () => {
    const problem = unsafeTextProblem("approved \u202eCHG0012345", "a reason");
    assert.equal(problem, describeUnsafeCharacter({ index: 9, codePoint: 0x202e, kind: "bidi control" }, "a reason"));
    assert.equal(problem, "a reason cannot contain bidi controls (found U+202E at position 9, counting characters from 0)");
    assert.ok(!problem!.includes("CHG"));
    assert.equal(unsafeTextProblem("fine", "a reason"), undefined);
  });
});
