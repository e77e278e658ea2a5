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
    // The clock stands still, so each wait is measured from the same instant.
    const waits: number[] = [];
    const limiter = createArmCallLimiter({
      concurrency: 100,
      readBudget: { capacity: 50, refillPerSecond: 10 },
      now: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const burst = 50 - PACING_HEADROOM.tokens;
    await Promise.all(Array.from({ length: burst + 5 }, () => limiter.read("sub-a", async () => {})));
    assert.equal(waits.length, 5, `the first ${burst} reads go at once`);
    const rate = 10 * PACING_HEADROOM.refillFraction;
    waits.forEach((ms, i) => assert.ok(Math.abs(ms - ((i + 1) / rate) * 1000) < 1e-6, `read ${burst + i + 1} waits ${ms} ms`));
    waits.length = 0;
    await limiter.read("SUB-B", async () => {});
    assert.equal(waits.length, 0, "another subscription has its own bucket");
  });

  test("refuses a concurrency that is not a positive integer", () => {
    assert.throws(() => createArmCallLimiter({ concurrency: 0, readBudget: undefined }), RangeError);
  });
});
