/**
 * Text that people other than its author read: reasons and tickets end up in a connection's description in ARM,
 * which the consumer sees in the portal, in the decision log, in notifications and in terminals. There it must
 * show what it says. Such text is refused, never silently cleaned (the caller fixes it and knows what was stored):
 *
 * | kind                 | code points                                                  | why                              |
 * |----------------------|--------------------------------------------------------------|----------------------------------|
 * | bidi control         | U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C         | reorders what a reader sees      |
 * |                      |                                                              | ("Trojan Source", CVE-2021-42574)|
 * | zero-width / invisible | U+200B–U+200D, U+2060–U+2064, U+FEFF, U+180E, U+00AD       | hides text; makes two tickets    |
 * |                      |                                                              | look the same                    |
 * | control character    | U+0000–U+001F, U+007F–U+009F, U+2028, U+2029                 | breaks lines, logs and terminals |
 * | unpaired surrogate   | a lone U+D800–U+DFFF                                         | not text; mangled by every store |
 *
 * Positions are 0-based and count characters (Unicode code points), so an emoji before the offending character
 * counts once. Pure; the HTTP body schemas, the rule schema and the CLI (through the same schemas) use it.
 */
import type { z } from "zod";

export type UnsafeCharacterKind = "bidi control" | "zero-width character" | "control character" | "unpaired surrogate";

export interface UnsafeCharacter {
  /** 0-based position in code points. */
  readonly index: number;
  readonly codePoint: number;
  readonly kind: UnsafeCharacterKind;
}

function kindOf(codePoint: number): UnsafeCharacterKind | undefined {
  if (codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f) || codePoint === 0x2028 || codePoint === 0x2029) return "control character";
  if (codePoint < 0xad) return undefined;
  if ((codePoint >= 0x202a && codePoint <= 0x202e) || (codePoint >= 0x2066 && codePoint <= 0x2069) || codePoint === 0x200e || codePoint === 0x200f || codePoint === 0x061c) {
    return "bidi control";
  }
  if ((codePoint >= 0x200b && codePoint <= 0x200d) || (codePoint >= 0x2060 && codePoint <= 0x2064) || codePoint === 0xfeff || codePoint === 0x180e || codePoint === 0xad) {
    return "zero-width character";
  }
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return "unpaired surrogate";
  return undefined;
}

/** The first character of `text` that must not be shown to others, or undefined when the text is safe. */
export function findUnsafeCharacter(text: string): UnsafeCharacter | undefined {
  let index = 0;
  // for…of walks code points; a lone surrogate comes out on its own, so kindOf sees it.
  for (const character of text) {
    const codePoint = character.codePointAt(0)!;
    const kind = kindOf(codePoint);
    if (kind !== undefined) return { index, codePoint, kind };
    index += 1;
  }
  return undefined;
}

const PLURAL: Readonly<Record<UnsafeCharacterKind, string>> = {
  "bidi control": "bidi controls",
  "zero-width character": "zero-width characters",
  "control character": "control characters",
  "unpaired surrogate": "unpaired surrogates",
};

/**
 * "a reason cannot contain bidi controls (found U+202E at position 9, counting characters from 0)": the field's
 * problem in words a caller can act on. Names the code point, never echoes the text.
 */
export function describeUnsafeCharacter(unsafe: UnsafeCharacter, label: string): string {
  const hex = unsafe.codePoint.toString(16).toUpperCase().padStart(4, "0");
  return `${label} cannot contain ${PLURAL[unsafe.kind]} (found U+${hex} at position ${unsafe.index}, counting characters from 0)`;
}

/** The problem with `text` (described for the field `label`), or undefined when it is safe to show. */
export function unsafeTextProblem(text: string, label: string): string | undefined {
  const unsafe = findUnsafeCharacter(text);
  return unsafe === undefined ? undefined : describeUnsafeCharacter(unsafe, label);
}

/** A zod refinement refusing unsafe text: `z.string().superRefine(refuseUnsafeText("a reason"))`. */
export function refuseUnsafeText(label: string): (value: string, ctx: z.RefinementCtx<string>) => void {
  return (value, ctx) => {
    const problem = unsafeTextProblem(value, label);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  };
}
