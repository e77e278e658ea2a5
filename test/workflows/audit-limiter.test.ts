import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createArmCallLimiter, PACING_HEADROOM } from "../../src/workflows/audit-limiter.ts";

describe("ARM call limiter", () => {
  test("never has more than `concurrency` calls in flight", async () => {
    const limiter = createArmCallLimiter({ concurrency: 3, readBudget: undefined });
    let active = 0;
    let peak = 0;
    const call = async () => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 2));
      active -= 1;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? limiter.read("s", call) : limiter.write(call))));
    assert.equal(peak, 3);
  });

  test("paces reads per subscription below the budget: a burst of the bucket, then the refill rate", async () => {
    // A virtual clock that moves only when the limiter sleeps.
    let t = 0;
    const waits: number[] = [];
    const limiter = createArmCallLimiter({
      concurrency: 100,
      readBudget: { capacity: 50, refillPerSecond: 10 },
      now: () => t,
      sleep: async (ms) => {
        waits.push(ms);
        t += ms;
      },
    });
    const burst = 50 - PACING_HEADROOM.tokens;
    const sentAt: number[] = [];
    await Promise.all(Array.from({ length: burst + 5 }, () => limiter.read("sub-a", async () => void sentAt.push(t))));
    assert.deepEqual(sentAt.slice(0, burst), Array(burst).fill(0), `the first ${burst} reads go at once`);
    const rate = 10 * PACING_HEADROOM.refillFraction;
    sentAt.slice(burst).forEach((at, i) => assert.ok(Math.abs(at - ((i + 1) / rate) * 1000) < 1e-6, `read ${burst + i + 1} is sent at ${at} ms`));
    waits.length = 0;
    await limiter.read("SUB-B", async () => {});
    assert.equal(waits.length, 0, "another subscription has its own bucket");
  });

  test("reads that waited for a slot do not arrive in a burst ARM's bucket would refuse: a token is taken when the read is sent", async () => {
    // One slot, held 1.5 s by a read in another subscription; meanwhile 30 reads of sub-a queue up. ARM's bucket for
    // sub-a (capacity 12, 10 per second, full when the first read arrives) must never go below zero.
    const budget = { capacity: 12, refillPerSecond: 10 };
    const limiter = createArmCallLimiter({ concurrency: 1, readBudget: budget });
    const sent: number[] = [];
    const slow = limiter.read("sub-b", () => new Promise((resolve) => setTimeout(resolve, 1500)));
    const reads = Array.from({ length: 30 }, () => limiter.read("sub-a", async () => void sent.push(performance.now())));
    await Promise.all([slow, ...reads]);
    let tokens = budget.capacity;
    let at = sent[0]!;
    let lowest = tokens;
    for (const t of sent) {
      tokens = Math.min(budget.capacity, tokens + ((t - at) / 1000) * budget.refillPerSecond) - 1;
      at = t;
      lowest = Math.min(lowest, tokens);
    }
    assert.ok(lowest >= 0, `ARM's bucket went to ${lowest.toFixed(1)}: ${Math.round(-lowest)} of these reads would have been answered 429`);
  });

  test("refuses a concurrency that is not a positive integer", () => {
    assert.throws(() => createArmCallLimiter({ concurrency: 0, readBudget: undefined }), RangeError);
  });
});
