import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ArmThrottle, throttleClassOf, throttleConfigSchema } from "../../../dev/arm-emulator/throttling.ts";

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let nowMs = 1_000;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

function takeMany(throttle: ArmThrottle, subscriptionId: string, cls: "reads" | "writes" | "deletes", count: number): number {
  let allowed = 0;
  for (let i = 0; i < count; i += 1) if (throttle.take(subscriptionId, cls).allowed) allowed += 1;
  return allowed;
}

describe("ArmThrottle", () => {
  test("allows a burst of Azure's write bucket (200) and refuses the 201st with Retry-After", () => {
    const clock = manualClock();
    const throttle = new ArmThrottle(clock.now);
    assert.equal(takeMany(throttle, "sub-a", "writes", 199), 199);
    const last = throttle.take("sub-a", "writes");
    assert.deepEqual(last, { allowed: true, remaining: 0, retryAfterSeconds: 0 });
    const refused = throttle.take("sub-a", "writes");
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.equal(refused.retryAfterSeconds, 1, "one token comes back after 0.1 s at 10/s, rounded up to a whole second");
    assert.deepEqual(throttle.stats(), { granted: 200, refused: 1 });
  });

  test("the reads bucket holds 250 and reports the tokens left after each request", () => {
    const throttle = new ArmThrottle(manualClock().now);
    assert.equal(throttle.take("sub-a", "reads").remaining, 249);
    assert.equal(takeMany(throttle, "sub-a", "reads", 300), 249);
  });

  test("refills at the configured rate and never above capacity", () => {
    const clock = manualClock();
    const throttle = new ArmThrottle(clock.now);
    throttle.configure({ enabled: true, writes: { capacity: 5, refillPerSecond: 2 } });
    assert.equal(takeMany(throttle, "sub-a", "writes", 5), 5);
    assert.equal(throttle.take("sub-a", "writes").allowed, false);
    clock.advance(499);
    assert.equal(throttle.take("sub-a", "writes").allowed, false, "0.998 tokens is not a token");
    clock.advance(1);
    assert.equal(throttle.take("sub-a", "writes").allowed, true, "2/s gives one token after 500 ms");
    clock.advance(60_000);
    assert.equal(throttle.take("sub-a", "writes").remaining, 4, "a long pause fills the bucket to capacity only");
  });

  test("many small refills add up to whole tokens", () => {
    const clock = manualClock();
    const throttle = new ArmThrottle(clock.now);
    throttle.configure({ enabled: true, deletes: { capacity: 1, refillPerSecond: 10 } });
    assert.equal(throttle.take("s", "deletes").allowed, true);
    for (let i = 0; i < 9; i += 1) {
      clock.advance(10);
      assert.equal(throttle.take("s", "deletes").allowed, false);
    }
    clock.advance(10);
    assert.equal(throttle.take("s", "deletes").allowed, true, "ten 10 ms steps at 10/s make exactly one token");
  });

  test("Retry-After is the whole seconds until one token is back", () => {
    const clock = manualClock();
    const throttle = new ArmThrottle(clock.now);
    throttle.configure({ enabled: true, writes: { capacity: 1, refillPerSecond: 0.25 } });
    throttle.take("sub-a", "writes");
    assert.equal(throttle.take("sub-a", "writes").retryAfterSeconds, 4);
    clock.advance(2_500);
    assert.equal(throttle.take("sub-a", "writes").retryAfterSeconds, 2, "1.5 s left rounds up to 2");
    clock.advance(1_499);
    assert.equal(throttle.take("sub-a", "writes").retryAfterSeconds, 1, "never less than one second");
  });

  test("subscriptions have their own buckets, compared case-insensitively", () => {
    const throttle = new ArmThrottle(manualClock().now);
    throttle.configure({ enabled: true, writes: { capacity: 2, refillPerSecond: 1 } });
    assert.equal(takeMany(throttle, "SUB-A", "writes", 3), 2);
    assert.equal(throttle.take("sub-a", "writes").allowed, false);
    assert.equal(takeMany(throttle, "sub-b", "writes", 3), 2);
  });

  test("reads, writes and deletes are budgeted separately", () => {
    const throttle = new ArmThrottle(manualClock().now);
    throttle.configure({ enabled: true, writes: { capacity: 1, refillPerSecond: 1 } });
    assert.equal(takeMany(throttle, "s", "writes", 2), 1);
    assert.equal(throttle.take("s", "reads").allowed, true);
    assert.equal(throttle.take("s", "deletes").remaining, 199, "deletes keep Azure's default of 200");
  });

  test("when disabled, lets everything through and charges nothing", () => {
    const throttle = new ArmThrottle(manualClock().now);
    throttle.configure({ enabled: false, writes: { capacity: 1, refillPerSecond: 1 } });
    assert.equal(takeMany(throttle, "s", "writes", 10), 10);
    assert.deepEqual(throttle.take("s", "writes"), { allowed: true, remaining: 1, retryAfterSeconds: 0 });
    throttle.configure({ enabled: true, writes: { capacity: 1, refillPerSecond: 1 } });
    assert.equal(takeMany(throttle, "s", "writes", 2), 1);
  });

  test("reset refills every bucket and zeroes the counters but keeps the configuration", () => {
    const throttle = new ArmThrottle(manualClock().now);
    throttle.configure({ enabled: true, reads: { capacity: 1, refillPerSecond: 1 } });
    takeMany(throttle, "s", "reads", 3);
    throttle.reset();
    assert.deepEqual(throttle.stats(), { granted: 0, refused: 0 });
    assert.equal(takeMany(throttle, "s", "reads", 3), 1);
    assert.equal(throttle.config().reads.capacity, 1);
  });

  test("configure refuses a bad configuration and keeps the previous one", () => {
    const throttle = new ArmThrottle(manualClock().now);
    assert.throws(() => throttle.configure({ enabled: true, writes: { capacity: 0, refillPerSecond: 1 } }));
    assert.equal(throttle.config().writes.capacity, 200);
  });
});

describe("throttleConfigSchema", () => {
  const refused: [string, unknown][] = [
    ["a missing enabled flag", { reads: { capacity: 1, refillPerSecond: 1 } }],
    ["a fractional capacity", { enabled: true, reads: { capacity: 1.5, refillPerSecond: 1 } }],
    ["a zero refill rate", { enabled: true, writes: { capacity: 10, refillPerSecond: 0 } }],
    ["an unknown class", { enabled: true, lists: { capacity: 10, refillPerSecond: 1 } }],
  ];
  for (const [name, config] of refused) {
    test(`refuses ${name}`, () => assert.equal(throttleConfigSchema.safeParse(config).success, false));
  }
});

test("ARM charges GET/HEAD to reads, DELETE to deletes and everything else to writes", () => {
  assert.deepEqual(
    ["GET", "head", "PUT", "PATCH", "POST", "delete"].map(throttleClassOf),
    ["reads", "reads", "writes", "writes", "writes", "deletes"],
  );
});
