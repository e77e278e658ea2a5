import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNcrontab, parseTimerSchedule, ScheduleExpressionError } from "../../../dev/functions-host/ncrontab.ts";

/** Monday 2024-01-01 00:00:00 UTC. */
const MONDAY = new Date("2024-01-01T00:00:00Z");

function nextThree(expression: string, from: Date = MONDAY): string[] {
  const schedule = parseTimerSchedule(expression);
  const out: string[] = [];
  let t = from;
  for (let i = 0; i < 3; i++) {
    t = schedule.nextOccurrence(t);
    out.push(t.toISOString());
  }
  return out;
}

const valid: [string, string, string[]][] = [
  ["every five minutes", "0 */5 * * * *", ["2024-01-01T00:05:00.000Z", "2024-01-01T00:10:00.000Z", "2024-01-01T00:15:00.000Z"]],
  ["every second", "* * * * * *", ["2024-01-01T00:00:01.000Z", "2024-01-01T00:00:02.000Z", "2024-01-01T00:00:03.000Z"]],
  ["daily at 06:00", "0 0 6 * * *", ["2024-01-01T06:00:00.000Z", "2024-01-02T06:00:00.000Z", "2024-01-03T06:00:00.000Z"]],
  ["a list of seconds", "10,20,40 * * * * *", ["2024-01-01T00:00:10.000Z", "2024-01-01T00:00:20.000Z", "2024-01-01T00:00:40.000Z"]],
  ["a value with a step runs to the maximum", "5/20 * * * * *", ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:25.000Z", "2024-01-01T00:00:45.000Z"]],
  ["a range with a step", "0 0 9-17/4 * * *", ["2024-01-01T09:00:00.000Z", "2024-01-01T13:00:00.000Z", "2024-01-01T17:00:00.000Z"]],
  ["a reversed range is swapped, as NCrontab does", "0 0 17-9/4 * * *", ["2024-01-01T09:00:00.000Z", "2024-01-01T13:00:00.000Z", "2024-01-01T17:00:00.000Z"]],
  ["weekdays by name", "0 30 9 * * Mon-Fri", ["2024-01-01T09:30:00.000Z", "2024-01-02T09:30:00.000Z", "2024-01-03T09:30:00.000Z"]],
  ["names are case-insensitive prefixes", "0 0 12 * jan,JULY sun", ["2024-01-07T12:00:00.000Z", "2024-01-14T12:00:00.000Z", "2024-01-21T12:00:00.000Z"]],
  ["day-of-month AND day-of-week (Friday the 13th)", "0 0 0 13 * 5", ["2024-09-13T00:00:00.000Z", "2024-12-13T00:00:00.000Z", "2025-06-13T00:00:00.000Z"]],
  ["a leap day", "0 0 0 29 Feb *", ["2024-02-29T00:00:00.000Z", "2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"]],
  ["the 31st skips shorter months", "0 0 0 31 * *", ["2024-01-31T00:00:00.000Z", "2024-03-31T00:00:00.000Z", "2024-05-31T00:00:00.000Z"]],
  ["a TimeSpan interval", "00:00:30", ["2024-01-01T00:00:30.000Z", "2024-01-01T00:01:00.000Z", "2024-01-01T00:01:30.000Z"]],
  ["a TimeSpan with days", "1.00:00:00", ["2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z", "2024-01-04T00:00:00.000Z"]],
];

for (const [name, expression, expected] of valid) {
  test(`NCRONTAB: ${name} ('${expression}')`, () => {
    assert.deepEqual(nextThree(expression), expected);
  });
}

test("NCRONTAB: the next occurrence is strictly after the given time, at whole seconds", () => {
  const schedule = parseNcrontab("0 * * * * *");
  assert.equal(schedule.nextOccurrence(new Date("2024-01-01T00:01:00.000Z")).toISOString(), "2024-01-01T00:02:00.000Z");
  assert.equal(schedule.nextOccurrence(new Date("2024-01-01T00:00:59.999Z")).toISOString(), "2024-01-01T00:01:00.000Z");
});

test("NCRONTAB: a leap day on a given weekday is found decades ahead", () => {
  const next = parseNcrontab("0 0 0 29 2 Mon").nextOccurrence(MONDAY);
  assert.equal(next.toISOString(), "2044-02-29T00:00:00.000Z");
  assert.equal(next.getUTCDay(), 1);
});

const invalid: [string, string, RegExp][] = [
  ["five fields (classic cron)", "*/5 * * * *", /expected 6 fields/],
  ["seven fields", "0 0 0 * * * 2024", /expected 6 fields/],
  ["an empty expression", "", /expected 6 fields/],
  ["a second out of range", "60 * * * * *", /second field: 60 is outside 0-59/],
  ["an hour out of range", "0 0 24 * * *", /hour field: 24 is outside 0-23/],
  ["day 0", "0 0 0 0 * *", /day field: 0 is outside 1-31/],
  ["month 13", "0 0 0 * 13 *", /month field: 13 is outside 1-12/],
  ["day-of-week 7 (NCrontab is 0-6)", "0 0 0 * * 7", /day-of-week field: 7 is outside 0-6/],
  ["an unknown month name", "0 0 0 * Foo *", /not a known name/],
  ["a name in a numeric field", "0 0 noon * * *", /'noon' is not a number/],
  ["a zero step", "*/0 * * * * *", /step '0' must be a whole number of at least 1/],
  ["a non-numeric step", "*/x * * * * *", /step 'x'/],
  ["an empty list item", "0,,30 * * * * *", /a list item is empty/],
  ["a half-open range", "0 0 5- * * *", /a value is missing/],
  ["a date that never exists", "0 0 0 30 Feb *", /would never fire/],
  ["a TimeSpan with 25 hours", "25:00:00", /TimeSpan hours must be 0-23/],
  ["a zero TimeSpan", "00:00:00", /longer than zero/],
];

for (const [name, expression, message] of invalid) {
  test(`NCRONTAB rejects ${name} ('${expression}') with a clear error`, () => {
    assert.throws(() => parseTimerSchedule(expression), (error: unknown) => {
      assert.ok(error instanceof ScheduleExpressionError);
      assert.match(error.message, message);
      assert.ok(error.message.includes(`'${expression}'`), "the message quotes the expression");
      return true;
    });
  });
}
