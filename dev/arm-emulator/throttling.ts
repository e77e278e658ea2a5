/**
 * ARM's request throttling as the emulator plays it: a token bucket per subscription and per request class,
 * so clients meet the same 429 + Retry-After and x-ms-ratelimit-remaining-* answers they meet in Azure.
 */
import { z } from "zod";

/** The request classes ARM budgets separately (GET/HEAD = reads, PUT/PATCH/POST = writes, DELETE = deletes). */
export type ThrottleClass = "reads" | "writes" | "deletes";

/** One bucket's size and refill speed. */
export interface BucketConfig {
  capacity: number;
  refillPerSecond: number;
}

/** Throttling settings; omitted classes take Azure's numbers. */
export interface ThrottleConfig {
  enabled: boolean;
  reads?: BucketConfig;
  writes?: BucketConfig;
  deletes?: BucketConfig;
}

/** The answer for one request. */
export interface ThrottleDecision {
  allowed: boolean;
  /** Whole tokens left in the bucket after this request (the x-ms-ratelimit-remaining-subscription-* value). */
  remaining: number;
  /** Whole seconds until one token is back; at least 1 when refused, 0 when allowed. */
  retryAfterSeconds: number;
}

/** Azure Resource Manager's per-subscription buckets (DOMAIN.md, "ARM conventions"). */
export const AZURE_THROTTLE_DEFAULTS: Readonly<Record<ThrottleClass, Readonly<BucketConfig>>> = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

const bucketConfigSchema = z
  .object({
    capacity: z.number().int().min(1).max(1_000_000),
    refillPerSecond: z.number().positive().max(1_000_000),
  })
  .strict();

/** Validates a throttling configuration posted to the control API. */
export const throttleConfigSchema = z
  .object({
    enabled: z.boolean(),
    reads: bucketConfigSchema.optional(),
    writes: bucketConfigSchema.optional(),
    deletes: bucketConfigSchema.optional(),
  })
  .strict();

/** The class ARM charges a request with this HTTP method to. */
export function throttleClassOf(method: string): ThrottleClass {
  const upper = method.toUpperCase();
  if (upper === "GET" || upper === "HEAD") return "reads";
  if (upper === "DELETE") return "deletes";
  return "writes";
}

interface Bucket {
  tokens: number;
  refilledAtMs: number;
}

/**
 * Token buckets keyed by subscription and class. A bucket starts full, refills continuously and each
 * request takes one token; deterministic under an injected clock. Enabled with Azure's numbers by default.
 */
export class ArmThrottle {
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #enabled = true;
  #limits: Record<ThrottleClass, BucketConfig> = { ...AZURE_THROTTLE_DEFAULTS };
  #granted = 0;
  #refused = 0;

  /** `now` returns milliseconds from any fixed origin (default performance.now). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Switches throttling on or off and sets bucket sizes; every bucket starts full again. */
  configure(config: ThrottleConfig): void {
    const parsed = throttleConfigSchema.parse(config);
    this.#enabled = parsed.enabled;
    this.#limits = {
      reads: parsed.reads ?? AZURE_THROTTLE_DEFAULTS.reads,
      writes: parsed.writes ?? AZURE_THROTTLE_DEFAULTS.writes,
      deletes: parsed.deletes ?? AZURE_THROTTLE_DEFAULTS.deletes,
    };
    this.#buckets.clear();
  }

  /** The configuration in force. */
  config(): Required<ThrottleConfig> {
    return { enabled: this.#enabled, ...structuredClone(this.#limits) };
  }

  /**
   * Charges one request of class `cls` to a subscription. When throttling is off nothing is charged and
   * `remaining` reports a full bucket.
   */
  take(subscriptionId: string, cls: ThrottleClass): ThrottleDecision {
    const limit = this.#limits[cls];
    if (!this.#enabled) {
      this.#granted += 1;
      return { allowed: true, remaining: limit.capacity, retryAfterSeconds: 0 };
    }
    const bucket = this.#refilled(`${subscriptionId.toLowerCase()}|${cls}`, limit);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.#granted += 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }
    this.#refused += 1;
    const secondsToOneToken = (1 - bucket.tokens) / limit.refillPerSecond;
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil(secondsToOneToken)) };
  }

  /** Refills every bucket and zeroes the counters (configuration is kept). */
  reset(): void {
    this.#buckets.clear();
    this.#granted = 0;
    this.#refused = 0;
  }

  /** How many requests were let through and refused since the last reset. */
  stats(): { refused: number; granted: number } {
    return { refused: this.#refused, granted: this.#granted };
  }

  #refilled(key: string, limit: BucketConfig): Bucket {
    const nowMs = this.#now();
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      const fresh = { tokens: limit.capacity, refilledAtMs: nowMs };
      this.#buckets.set(key, fresh);
      return fresh;
    }
    const elapsedSeconds = Math.max(0, nowMs - bucket.refilledAtMs) / 1000;
    // Rounded to a nanotoken so that many small refills add up to whole tokens despite binary fractions.
    const refilled = Math.round((bucket.tokens + elapsedSeconds * limit.refillPerSecond) * 1e9) / 1e9;
    bucket.tokens = Math.min(limit.capacity, refilled);
    bucket.refilledAtMs = nowMs;
    return bucket;
  }
}
