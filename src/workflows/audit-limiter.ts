/**
 * Keeps an audit's ARM calls within bounds: at most `concurrency` calls in flight, and reads paced per
 * subscription by a token bucket sized like ARM's own read budget, so a large audit spends its time on
 * requests ARM will serve instead of on 429s and one-second Retry-After waits. A 429 that still happens
 * (another workload sharing the budget) is retried by the SDK honouring Retry-After.
 */

/** A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface ReadBudget {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** ARM's documented read budget per subscription (DOMAIN.md, "ARM conventions"). */
export const ARM_READ_BUDGET: ReadBudget = { capacity: 250, refillPerSecond: 25 };

export interface ArmCallLimiter {
  /** Runs one ARM read against `subscriptionId` once a slot and a read token are free. */
  read<T>(subscriptionId: string, call: () => Promise<T>): Promise<T>;
  /** Runs one ARM write once a slot is free (writes have their own, larger-refill budget and are rare here). */
  write<T>(call: () => Promise<T>): Promise<T>;
}

export interface ArmCallLimiterOptions {
  readonly concurrency: number;
  /** Pacing of reads per subscription; undefined = no pacing (concurrency only). */
  readonly readBudget: ReadBudget | undefined;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function createSemaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function withSlot<T>(call: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

/**
 * Headroom kept below ARM's budget. ARM's bucket starts when the first request arrives, ours when the first read
 * is reserved, and an SDK retry after a 429 takes a token nobody reserved; without slack, one early 429 would
 * cascade into one per second for the rest of the run. 10 tokens at the start and 5% of the refill absorb that.
 */
export const PACING_HEADROOM = { tokens: 10, refillFraction: 0.95 } as const;

/**
 * Reservation-style token bucket per key: each read takes a token now, or reserves the next one and waits
 * until it exists, so waiting readers are served in order and the bucket's rate is never exceeded.
 */
function createPacer(budget: ReadBudget, now: () => number) {
  const capacity = Math.max(1, budget.capacity - PACING_HEADROOM.tokens);
  const refillPerSecond = budget.refillPerSecond * PACING_HEADROOM.refillFraction;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return function reserve(key: string): number {
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: capacity, atMs: t };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.atMs) / 1000) * refillPerSecond);
    bucket.atMs = t;
    bucket.tokens -= 1;
    buckets.set(key, bucket);
    return bucket.tokens >= 0 ? 0 : (-bucket.tokens / refillPerSecond) * 1000;
  };
}

/** Timers truncate fractional delays and may fire a little early: round up, plus a millisecond of margin. */
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ms) + 1));

/** Creates the limiter shared by every ARM call of one audit run. */
export function createArmCallLimiter(options: ArmCallLimiterOptions): ArmCallLimiter {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  const withSlot = createSemaphore(options.concurrency);
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const reserve = options.readBudget ? createPacer(options.readBudget, now) : undefined;
  return {
    async read(subscriptionId, call) {
      const waitMs = reserve ? reserve(subscriptionId.toLowerCase()) : 0;
      if (waitMs > 0) await sleep(waitMs);
      return withSlot(call);
    },
    write: (call) => withSlot(call),
  };
}
