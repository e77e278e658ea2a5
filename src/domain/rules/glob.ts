/**
 * The restricted pattern language of rule conditions: `*` matches any run of characters (also none), `?` exactly
 * one character (Unicode code point), every other character itself, compared case-insensitively.
 *
 * There are no user regular expressions. A pattern compiles to a bit-parallel automaton (Shift-And with `*` as a
 * self-loop) that reads the text once, left to right, and never backtracks: the cost is
 * O(text length × ⌈pattern length / 32⌉), so a crafted request message such as 100,000 `a`s against
 * `*a*a*a*a*b` cannot stall evaluation.
 */

/** Longest pattern a rule may hold; it bounds the automaton's width and hence the per-character cost. */
export const MAX_PATTERN_LENGTH = 1024;

/**
 * Case folding used on both sides of every comparison. `toLowerCase` is context-free except for the Greek final
 * sigma, which is mapped back to σ so that folding a pattern and folding a text always agree.
 */
export function foldCase(text: string): string {
  return text.toLowerCase().replaceAll("ς", "σ");
}

/** A compiled pattern. `matches` expects text already passed through `foldCase` (done once per evaluation). */
export interface GlobMatcher {
  readonly pattern: string;
  matches(foldedText: string): boolean;
}

const STAR = 0x2a;
const QUESTION = 0x3f;

/** Compiles a pattern once; matching is then linear in the text. Throws RangeError above MAX_PATTERN_LENGTH. */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RangeError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  const folded = foldCase(pattern);
  const tokens = codePoints(folded);
  const stars = tokens.filter((t) => t === STAR).length;
  const hasQuestion = tokens.includes(QUESTION);
  if (stars === tokens.length && stars > 0) return { pattern, matches: () => true };
  if (!hasQuestion && stars === 0) return { pattern, matches: (text) => text === folded };
  if (!hasQuestion && stars === 1 && tokens.at(-1) === STAR) {
    const prefix = folded.slice(0, -1);
    return { pattern, matches: (text) => text.startsWith(prefix) };
  }
  if (!hasQuestion && stars === 1 && tokens[0] === STAR) {
    const suffix = folded.slice(1);
    return { pattern, matches: (text) => text.endsWith(suffix) };
  }
  const automaton = buildAutomaton(tokens);
  return { pattern, matches: automaton.words === 1 ? (text) => runSingleWord(automaton, text) : (text) => runMultiWord(automaton, text) };
}

function codePoints(text: string): number[] {
  const result: number[] = [];
  for (const ch of text) result.push(ch.codePointAt(0)!);
  return result;
}

/**
 * State j (bit j) means "the first j non-star tokens are matched". On a character c the next states are
 * (states << 1) & mask(c), plus the states that sit on a `*` (they stay). Accept when bit k (all tokens) is set.
 */
interface Automaton {
  readonly words: number;
  readonly acceptWord: number;
  readonly acceptBit: number;
  /** Per-character masks for characters that occur in the pattern. */
  readonly masks: Map<number, Uint32Array>;
  /** Mask for every other character: only the `?` tokens accept it. */
  readonly otherMask: Uint32Array;
  readonly loopMask: Uint32Array;
  /** ASCII fast lookup into `masks` / `otherMask`. */
  readonly asciiMasks: readonly Uint32Array[];
}

function buildAutomaton(tokens: readonly number[]): Automaton {
  const literals: number[] = [];
  const loops = new Set<number>();
  for (const t of tokens) {
    if (t === STAR) loops.add(literals.length);
    else literals.push(t);
  }
  const k = literals.length;
  const words = Math.floor(k / 32) + 1;
  const setBit = (mask: Uint32Array, bit: number) => {
    mask[bit >>> 5]! |= 1 << (bit & 31);
  };
  const otherMask = new Uint32Array(words);
  literals.forEach((t, i) => t === QUESTION && setBit(otherMask, i + 1));
  const masks = new Map<number, Uint32Array>();
  literals.forEach((t, i) => {
    if (t === QUESTION) return;
    let mask = masks.get(t);
    if (!mask) masks.set(t, (mask = Uint32Array.from(otherMask)));
    setBit(mask, i + 1);
  });
  const loopMask = new Uint32Array(words);
  for (const state of loops) setBit(loopMask, state);
  const asciiMasks = Array.from({ length: 128 }, (_, c) => masks.get(c) ?? otherMask);
  return { words, acceptWord: k >>> 5, acceptBit: 1 << (k & 31), masks, otherMask, loopMask, asciiMasks };
}

/** Reads the code point at `i` (pairing surrogates); a lone surrogate counts as one character. */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return c;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000 : c;
}

function maskFor(automaton: Automaton, c: number): Uint32Array {
  return c < 128 ? automaton.asciiMasks[c]! : (automaton.masks.get(c) ?? automaton.otherMask);
}

function runSingleWord(automaton: Automaton, text: string): boolean {
  const loop = automaton.loopMask[0]!;
  let states = 1;
  for (let i = 0; i < text.length; i++) {
    const c = codePointAt(text, i);
    if (c > 0xffff) i++;
    states = ((states << 1) & maskFor(automaton, c)[0]!) | (states & loop);
    if (states === 0) return false;
  }
  return (states & automaton.acceptBit) !== 0;
}

function runMultiWord(automaton: Automaton, text: string): boolean {
  const { words, loopMask } = automaton;
  let states = new Uint32Array(words);
  let next = new Uint32Array(words);
  states[0] = 1;
  for (let i = 0; i < text.length; i++) {
    const c = codePointAt(text, i);
    if (c > 0xffff) i++;
    const mask = maskFor(automaton, c);
    let carry = 0;
    let any = 0;
    for (let w = 0; w < words; w++) {
      const word = states[w]!;
      const value = (((word << 1) | carry) & mask[w]!) | (word & loopMask[w]!);
      next[w] = value;
      any |= value;
      carry = word >>> 31;
    }
    if (any === 0) return false;
    [states, next] = [next, states];
  }
  return (states[automaton.acceptWord]! & automaton.acceptBit) !== 0;
}
