/**
 * Timer-trigger schedules as the Functions host reads them: a six-field NCRONTAB expression
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`) or a TimeSpan interval (`[d.]hh:mm[:ss]`).
 *
 * Semantics follow NCrontab, the library the host uses:
 * - `*`, lists (`1,5,9`), ranges (`9-17`, a reversed range is swapped), steps (`*\/15`, `5/10` = 5 to max
 *   every 10, `0-30/10`), month names (`Jan`, `January`) and day names (`Mon`, `Monday`) matched by
 *   case-insensitive prefix; day-of-week is 0-6 with Sunday = 0.
 * - Day-of-month AND day-of-week must both match (unlike Vixie cron, which ORs them).
 * - The next occurrence is strictly after the given time, in whole seconds.
 *
 * Differences, on purpose: times are UTC (Azure's default; WEBSITE_TIME_ZONE is not honoured here), a step
 * of 0 and an expression that can never fire (e.g. `0 0 0 30 2 *`) are rejected with an error instead of
 * being accepted silently.
 */

/** A parsed schedule: where the next run falls after a given moment. */
export interface TimerSchedule {
  readonly expression: string;
  /** The first occurrence strictly after `after`. */
  nextOccurrence(after: Date): Date;
}

/** Thrown for an expression the host would refuse; the message names the field and the problem. */
export class ScheduleExpressionError extends Error {
  constructor(expression: string, problem: string) {
    super(`'${expression}' is not a valid timer schedule: ${problem}`);
    this.name = "ScheduleExpressionError";
  }
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const FIELDS: readonly FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES },
  { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES },
];

/** Days in each month in a leap year: the most a day-of-month value can ever reach. */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** One field's allowed values, indexed by value (index 0 unused for 1-based fields). */
type FieldValues = readonly boolean[];

/** Parses a six-field NCRONTAB expression; throws ScheduleExpressionError naming the bad field. */
export function parseNcrontab(expression: string): TimerSchedule {
  const tokens = expression.trim().split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length !== FIELDS.length) {
    throw new ScheduleExpressionError(
      expression,
      `expected 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), got ${tokens.length}`,
    );
  }
  const [seconds, minutes, hours, days, months, daysOfWeek] = FIELDS.map((spec, i) => parseField(expression, spec, tokens[i] ?? ""));
  const fields = { seconds: seconds!, minutes: minutes!, hours: hours!, days: days!, months: months!, daysOfWeek: daysOfWeek! };
  if (!canEverOccur(fields.days, fields.months)) {
    throw new ScheduleExpressionError(expression, "no month in the schedule has any of its days, so it would never fire");
  }
  return { expression, nextOccurrence: (after) => nextCronOccurrence(fields, after) };
}

/** Parses what a timer trigger accepts: NCRONTAB first, then a constant TimeSpan interval, as the host does. */
export function parseTimerSchedule(expression: string): TimerSchedule {
  const interval = parseTimeSpanMs(expression);
  if (interval === undefined) return parseNcrontab(expression);
  if (interval <= 0) throw new ScheduleExpressionError(expression, "a TimeSpan interval must be longer than zero");
  return { expression, nextOccurrence: (after) => new Date(after.getTime() + interval) };
}

/** `[d.]hh:mm[:ss]` in milliseconds, or undefined when the text is not in that form. */
function parseTimeSpanMs(expression: string): number | undefined {
  const match = /^\s*(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*$/.exec(expression);
  if (!match) return undefined;
  const [days, hours, minutes, seconds] = [match[1], match[2], match[3], match[4]].map((part) => Number(part ?? "0")) as [number, number, number, number];
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new ScheduleExpressionError(expression, "TimeSpan hours must be 0-23, minutes and seconds 0-59");
  }
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

function parseField(expression: string, spec: FieldSpec, token: string): FieldValues {
  const values = new Array<boolean>(spec.max + 1).fill(false);
  for (const item of token.split(",")) {
    const [start, end, step] = parseItem(expression, spec, token, item);
    for (let v = start; v <= end; v += step) values[v] = true;
  }
  return values;
}

/** One list item as an inclusive range and a step. */
function parseItem(expression: string, spec: FieldSpec, token: string, item: string): [number, number, number] {
  const fail = (problem: string): never => {
    throw new ScheduleExpressionError(expression, `'${token}' is not a valid ${spec.name} field: ${problem}`);
  };
  if (item.length === 0) fail("a list item is empty");
  const slash = item.indexOf("/");
  const base = slash === -1 ? item : item.slice(0, slash);
  let step = 1;
  if (slash !== -1) {
    const stepText = item.slice(slash + 1);
    if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`the step '${stepText}' must be a whole number of at least 1`);
    step = Number(stepText);
  }
  if (base === "*") return [spec.min, spec.max, step];
  const dash = base.indexOf("-");
  if (dash !== -1) {
    const a = parseValue(spec, base.slice(0, dash), fail);
    const b = parseValue(spec, base.slice(dash + 1), fail);
    return [Math.min(a, b), Math.max(a, b), step];
  }
  const value = parseValue(spec, base, fail);
  return [value, slash === -1 ? value : spec.max, step];
}

function parseValue(spec: FieldSpec, text: string, fail: (problem: string) => never): number {
  if (text.length === 0) return fail("a value is missing");
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else if (spec.names) {
    const lower = text.toLowerCase();
    const index = spec.names.findIndex((name) => name.toLowerCase().startsWith(lower));
    if (index === -1) return fail(`'${text}' is not a known name; use one of ${spec.names.join(", ")}`);
    value = index + spec.min;
  } else {
    return fail(`'${text}' is not a number`);
  }
  if (value < spec.min || value > spec.max) return fail(`${value} is outside ${spec.min}-${spec.max}`);
  return value;
}

function canEverOccur(days: FieldValues, months: FieldValues): boolean {
  for (let month = 1; month <= 12; month++) {
    if (!months[month]) continue;
    for (let day = 1; day <= (MAX_DAYS_IN_MONTH[month - 1] ?? 0); day++) if (days[day]) return true;
  }
  return false;
}

interface CronFields {
  readonly seconds: FieldValues;
  readonly minutes: FieldValues;
  readonly hours: FieldValues;
  readonly days: FieldValues;
  readonly months: FieldValues;
  readonly daysOfWeek: FieldValues;
}

/** Walks forward from the next whole second, skipping the largest unit that does not match. */
function nextCronOccurrence(fields: CronFields, after: Date): Date {
  let t = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  // A day-of-month that exists only in leap years, on one weekday, recurs within 28 years: ~12k day steps.
  for (let steps = 0; steps < 2_000_000; steps++) {
    const d = new Date(t);
    const [year, monthIndex, day, hour, minute] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
    if (!fields.months[monthIndex + 1]) t = Date.UTC(year, monthIndex + 1, 1);
    else if (!fields.days[day] || !fields.daysOfWeek[d.getUTCDay()]) t = Date.UTC(year, monthIndex, day + 1);
    else if (!fields.hours[hour]) t = Date.UTC(year, monthIndex, day, hour + 1);
    else if (!fields.minutes[minute]) t = Date.UTC(year, monthIndex, day, hour, minute + 1);
    else if (!fields.seconds[d.getUTCSeconds()]) t += 1000;
    else return d;
  }
  throw new Error(`no occurrence found after ${after.toISOString()}`);
}
