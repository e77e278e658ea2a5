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

/** At most `limit` holders at once, served in arrival order. */
function createSemaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return { acquire, release };
}

/**
 * Headroom kept below ARM's budget. ARM's bucket starts when the first request arrives, ours when the first read
 * is paced, and an SDK retry after a 429 takes a token nobody reserved; without slack, one early 429 would
 * cascade into one per second for the rest of the run. 10 tokens at the start and 5% of the refill absorb that.
 */
export const PACING_HEADROOM = { tokens: 10, refillFraction: 0.95 } as const;

/**
 * A token bucket per key, used by one read at a time per key (the limiter's lane): `waitMs` says how long until a
 * token exists, `take` spends it. A token is spent when the read is sent, never earlier: a token spent at request
 * time by a read that then waited seconds for a slot would let the waiting reads arrive together, in a burst ARM's
 * own bucket (which refilled meanwhile, but only up to its capacity) answers with 429s.
 */
function createPacer(budget: ReadBudget, now: () => number) {
  const capacity = Math.max(1, budget.capacity - PACING_HEADROOM.tokens);
  const refillPerSecond = budget.refillPerSecond * PACING_HEADROOM.refillFraction;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const refilled = (key: string) => {
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: capacity, atMs: t };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.atMs) / 1000) * refillPerSecond);
    bucket.atMs = t;
    buckets.set(key, bucket);
    return bucket;
  };
  return {
    waitMs: (key: string): number => {
      const bucket = refilled(key);
      // A hair short of a whole token counts as one: a refill computed in floating point may never reach 1 exactly.
      return bucket.tokens >= 1 - 1e-9 ? 0 : ((1 - bucket.tokens) / refillPerSecond) * 1000;
    },
    take: (key: string): void => {
      refilled(key).tokens -= 1;
    },
  };
}

/** Timers truncate fractional delays and may fire a little early: round up, plus a millisecond of margin. */
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ms) + 1));

/** Creates the limiter shared by every ARM call of one audit run. */
export function createArmCallLimiter(options: ArmCallLimiterOptions): ArmCallLimiter {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  const slots = createSemaphore(options.concurrency);
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const pacer = options.readBudget ? createPacer(options.readBudget, now) : undefined;
  /** Per subscription, the read now waiting for its token and slot: the next one waits behind it (arrival order). */
  const lanes = new Map<string, Promise<void>>();

  const withSlot = async <T>(call: () => Promise<T>): Promise<T> => {
    await slots.acquire();
    try {
      return await call();
    } finally {
      slots.release();
    }
  };

  return {
    async read(subscriptionId, call) {
      if (pacer === undefined) return withSlot(call);
      const key = subscriptionId.toLowerCase();
      const ahead = lanes.get(key) ?? Promise.resolve();
      let leaveLane!: () => void;
      const lane = ahead.then(() => new Promise<void>((resolve) => (leaveLane = resolve)));
      lanes.set(key, lane);
      await ahead;
      try {
        for (let wait = pacer.waitMs(key); wait > 0; wait = pacer.waitMs(key)) await sleep(wait);
        // Only this lane spends this subscription's tokens, so the token is still there once a slot is free.
        await slots.acquire();
        pacer.take(key);
      } finally {
        leaveLane();
        if (lanes.get(key) === lane) lanes.delete(key);
      }
      try {
        return await call();
      } finally {
        slots.release();
      }
    },
    write: (call) => withSlot(call),
  };
}
