/**
 * Fault injection for the ARM emulator: rules added at run time (through the control API) that slow down,
 * fail or drop matching requests, so tests can prove Portcullis survives a misbehaving ARM.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";

/** One fault: which requests it hits and what it does to them. */
export interface FaultRule {
  /** HTTP method to match, case-insensitive; absent = every method. */
  method?: string;
  /** Case-insensitive regular expression tested against the URL path; absent = every route. */
  pathPattern?: string;
  /** Extra latency before the request is handled (or failed, or dropped). */
  latencyMs?: number;
  /** Answer with this status instead of handling the request (e.g. 500, 503). */
  status?: number;
  /** ARM error code put in the error body with `status`. */
  errorCode?: string;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** How many matching requests the rule applies to; absent = until removed. */
  times?: number;
  /** Chance (0..1) that a matching request is hit; absent = always. */
  probability?: number;
}

/** A rule as stored: with its id and, for counted rules, how many hits are left in `times`. */
export type StoredFaultRule = FaultRule & { id: string };

/** What the request pipeline must do to one request. */
export interface FaultEffect {
  latencyMs: number;
  status?: number;
  errorCode?: string;
  drop: boolean;
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, "i");
    return true;
  } catch {
    return false;
  }
}

/** Validates a fault rule posted to the control API; unknown fields and rules that do nothing are refused. */
export const faultRuleSchema = z
  .object({
    method: z.string().regex(/^[A-Za-z]+$/, "method must be an HTTP method name").optional(),
    pathPattern: z.string().min(1).refine(isValidRegex, "pathPattern must be a valid regular expression").optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    status: z.number().int().min(400).max(599).optional(),
    errorCode: z.string().min(1).max(200).optional(),
    drop: z.boolean().optional(),
    times: z.number().int().min(1).optional(),
    probability: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((rule) => (rule.latencyMs ?? 0) > 0 || rule.status !== undefined || rule.drop === true, {
    message: "a fault rule needs latencyMs > 0, status or drop",
  })
  .refine((rule) => !(rule.drop === true && rule.status !== undefined), {
    message: "drop and status are exclusive: a dropped connection has no status",
  })
  .refine((rule) => rule.errorCode === undefined || rule.status !== undefined, {
    message: "errorCode needs a status",
    path: ["errorCode"],
  });

interface ActiveRule {
  readonly rule: StoredFaultRule;
  readonly method: string | undefined;
  readonly path: RegExp | undefined;
  remaining: number | undefined;
}

/** Holds the fault rules and decides, per request, the combined effect of every rule that matches. */
export class FaultInjector {
  readonly #rules: ActiveRule[] = [];
  readonly #random: () => number;

  /** `random` returns a number in [0, 1); inject a fixed sequence to make `probability` deterministic. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** Adds a rule (validated with faultRuleSchema; throws on a bad rule) and returns it with its id. */
  add(rule: FaultRule): StoredFaultRule {
    const parsed = faultRuleSchema.parse(rule);
    const stored: StoredFaultRule = { id: randomUUID(), ...parsed };
    this.#rules.push({
      rule: stored,
      method: parsed.method?.toUpperCase(),
      path: parsed.pathPattern === undefined ? undefined : new RegExp(parsed.pathPattern, "i"),
      remaining: parsed.times,
    });
    return { ...stored };
  }

  /** Removes one rule; false when no rule has that id. */
  remove(id: string): boolean {
    const index = this.#rules.findIndex((active) => active.rule.id === id);
    if (index < 0) return false;
    this.#rules.splice(index, 1);
    return true;
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** The rules in force, in the order they apply; `times` shows the hits left. */
  list(): StoredFaultRule[] {
    return this.#rules.map((active) => withRemaining(active));
  }

  /**
   * The effect on one request, or undefined when no rule hits it. Latencies of all hitting rules add up;
   * the first hitting rule that fails the request (status or drop) decides how. Counted rules are used up.
   */
  match(method: string, path: string): FaultEffect | undefined {
    const hits = this.#rules.filter((active) => this.#hits(active, method, path));
    if (hits.length === 0) return undefined;
    for (const active of hits) this.#useOnce(active);
    const failing = hits.find((active) => active.rule.status !== undefined || active.rule.drop === true)?.rule;
    const effect: FaultEffect = {
      latencyMs: hits.reduce((sum, active) => sum + (active.rule.latencyMs ?? 0), 0),
      drop: failing?.drop === true,
    };
    if (failing?.status !== undefined) effect.status = failing.status;
    if (failing?.errorCode !== undefined) effect.errorCode = failing.errorCode;
    return effect;
  }

  #hits(active: ActiveRule, method: string, path: string): boolean {
    if (active.method !== undefined && active.method !== method.toUpperCase()) return false;
    if (active.path !== undefined && !active.path.test(path)) return false;
    const probability = active.rule.probability;
    return probability === undefined || this.#random() < probability;
  }

  #useOnce(active: ActiveRule): void {
    if (active.remaining === undefined) return;
    active.remaining -= 1;
    if (active.remaining <= 0) this.remove(active.rule.id);
  }
}

function withRemaining(active: ActiveRule): StoredFaultRule {
  const copy: StoredFaultRule = { ...active.rule };
  if (active.remaining !== undefined) copy.times = active.remaining;
  return copy;
}
