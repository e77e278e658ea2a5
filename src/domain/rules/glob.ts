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

const STAR = 0x2a;
const QUESTION = 0x3f;

/**
 * A compiled pattern. `matches` expects text already passed through `foldCase` (done once per evaluation). One
 * class for every shape of pattern keeps the call site monomorphic in the evaluation loop.
 */
export class GlobMatcher {
  readonly pattern: string;
  /** The pattern has no wildcard: plain equality with this folded text. */
  readonly exact: string | undefined;
  /** Necessary conditions, checked with plain loops before the automaton. */
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly minLength: number;
  /** undefined when the prefix, suffix and length checks decide alone (`*`, `a*`, `*a`, `a*b`). */
  private readonly automaton: Automaton | undefined;

  constructor(pattern: string) {
    if (pattern.length > MAX_PATTERN_LENGTH) throw new RangeError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    this.pattern = pattern;
    const folded = foldCase(pattern);
    const tokens = codePoints(folded);
    const isWildcard = (t: number) => t === STAR || t === QUESTION;
    const firstWildcard = tokens.findIndex(isWildcard);
    const lastWildcard = tokens.findLastIndex(isWildcard);
    const stars = tokens.filter((t) => t === STAR).length;
    this.exact = firstWildcard === -1 ? folded : undefined;
    // The literal text before the first wildcard must start the text and the literal text after the last wildcard
    // must end it, without overlapping (a wildcard lies between them); and the text needs at least one UTF-16 unit
    // per non-star character of the pattern.
    this.prefix = firstWildcard === -1 ? "" : String.fromCodePoint(...tokens.slice(0, firstWildcard));
    this.suffix = firstWildcard === -1 ? "" : String.fromCodePoint(...tokens.slice(lastWildcard + 1));
    this.minLength = Math.max(tokens.length - stars, this.prefix.length + this.suffix.length);
    const affixesDecide = firstWildcard === -1 || (stars === 1 && firstWildcard === lastWildcard && tokens[firstWildcard] === STAR);
    this.automaton = affixesDecide ? undefined : buildAutomaton(tokens);
  }

  matches(foldedText: string): boolean {
    if (this.exact !== undefined) return foldedText === this.exact;
    if (foldedText.length < this.minLength || !hasPrefix(foldedText, this.prefix) || !hasSuffix(foldedText, this.suffix)) return false;
    const automaton = this.automaton;
    if (automaton === undefined) return true;
    return automaton.words === 1 ? runSingleWord(automaton, foldedText) : runMultiWord(automaton, foldedText);
  }
}

/** Compiles a pattern once; matching is then linear in the text. Throws RangeError above MAX_PATTERN_LENGTH. */
export function compileGlob(pattern: string): GlobMatcher {
  return new GlobMatcher(pattern);
}

/** `startsWith`, as a plain loop: V8's builtin costs ~100 ns even when the first character differs. */
function hasPrefix(text: string, prefix: string): boolean {
  if (text.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (text.charCodeAt(i) !== prefix.charCodeAt(i)) return false;
  return true;
}

function hasSuffix(text: string, suffix: string): boolean {
  const offset = text.length - suffix.length;
  if (offset < 0) return false;
  for (let i = suffix.length - 1; i >= 0; i--) if (text.charCodeAt(offset + i) !== suffix.charCodeAt(i)) return false;
  return true;
}

function codePoints(text: string): number[] {
  const result: number[] = [];
  for (const ch of text) result.push(ch.codePointAt(0)!);
  return result;
}

/**
 * State j (bit j) means "the first j non-star tokens are matched". On a character c the next states are
 * (states << 1) & mask(c), plus the states that sit on a `*` (they stay). Accept when bit k (all tokens) is set.
 * Masks are `words` 32-bit words; ASCII masks sit in one flat table for a single indexed load per character.
 */
interface Automaton {
  readonly words: number;
  readonly acceptWord: number;
  readonly acceptBit: number;
  /** 128 × words: the masks of ASCII characters. */
  readonly ascii: Int32Array;
  /** Masks of non-ASCII characters that occur in the pattern. */
  readonly wide: Map<number, Int32Array>;
  /** Mask for every other character: only the `?` tokens accept it. */
  readonly other: Int32Array;
  readonly loop: Int32Array;
  /** Scratch state vectors, reused by every (synchronous) run of this automaton. */
  readonly current: Int32Array;
  readonly next: Int32Array;
}

function buildAutomaton(tokens: readonly number[]): Automaton {
  const literals: number[] = [];
  const loops: number[] = [];
  for (const t of tokens) {
    if (t === STAR) loops.push(literals.length);
    else literals.push(t);
  }
  const k = literals.length;
  const words = Math.floor(k / 32) + 1;
  const setBit = (mask: Int32Array, offset: number, bit: number) => {
    mask[offset + (bit >>> 5)]! |= 1 << (bit & 31);
  };
  const other = new Int32Array(words);
  literals.forEach((t, i) => t === QUESTION && setBit(other, 0, i + 1));
  const ascii = new Int32Array(128 * words);
  for (let c = 0; c < 128; c++) ascii.set(other, c * words);
  const wide = new Map<number, Int32Array>();
  literals.forEach((t, i) => {
    if (t === QUESTION) return;
    if (t < 128) return setBit(ascii, t * words, i + 1);
    let mask = wide.get(t);
    if (!mask) wide.set(t, (mask = Int32Array.from(other)));
    setBit(mask, 0, i + 1);
  });
  const loop = new Int32Array(words);
  for (const state of loops) setBit(loop, 0, state);
  return {
    words,
    acceptWord: k >>> 5,
    acceptBit: 1 << (k & 31),
    ascii,
    wide,
    other,
    loop,
    current: new Int32Array(words),
    next: new Int32Array(words),
  };
}

/** Reads the code point at `i` (pairing surrogates); a lone surrogate counts as one character. */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return c;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000 : c;
}

function runSingleWord(automaton: Automaton, text: string): boolean {
  const { ascii, loop: loopMask } = automaton;
  const loop = loopMask[0]!;
  let states = 1;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    let mask: number;
    if (unit < 128) mask = ascii[unit]!;
    else {
      const c = codePointAt(text, i);
      if (c > 0xffff) i++;
      mask = (automaton.wide.get(c) ?? automaton.other)[0]!;
    }
    states = ((states << 1) & mask) | (states & loop);
    if (states === 0) return false;
  }
  return (states & automaton.acceptBit) !== 0;
}

function runMultiWord(automaton: Automaton, text: string): boolean {
  const { words, ascii, loop } = automaton;
  let states = automaton.current;
  let next = automaton.next;
  states.fill(0);
  states[0] = 1;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    let mask: Int32Array;
    let offset = 0;
    if (unit < 128) {
      mask = ascii;
      offset = unit * words;
    } else {
      const c = codePointAt(text, i);
      if (c > 0xffff) i++;
      mask = automaton.wide.get(c) ?? automaton.other;
    }
    let carry = 0;
    let any = 0;
    for (let w = 0; w < words; w++) {
      const word = states[w]!;
      const value = (((word << 1) | carry) & mask[offset + w]!) | (word & loop[w]!);
      next[w] = value;
      any |= value;
      carry = word >>> 31;
    }
    if (any === 0) return false;
    const swap = states;
    states = next;
    next = swap;
  }
  return (states[automaton.acceptWord]! & automaton.acceptBit) !== 0;
}
