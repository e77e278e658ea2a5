/**
 * A timer trigger's listener, after the host's TimerListener:
 * - runs never overlap: each run takes the timer's lock (the host's singleton lock), so a run asked for
 *   while one is in progress starts after it, and the schedule is re-armed only when a run finishes;
 * - after a scheduled or start-up run, the status becomes `last = next-occurrence-that-fired (or the
 *   start time if later) / next = the occurrence after it`; a manual run (admin API) leaves it alone;
 * - the handler gets `{ schedule: { adjustForDST }, scheduleStatus: { last, next, lastUpdated }, isPastDue }`
 *   as the library hands it over; `last`/`lastUpdated` start as the host's default `0001-01-01T00:00:00`.
 * `isPastDue` is always false: with no schedule monitor persisted across restarts nothing is ever missed.
 * The schedule always reports a status, even for sub-minute schedules where the real host passes none.
 */
import type azf from "@azure/functions";
import type { TimerFunctionDefinition } from "../../src/functions/definition.ts";
import { invokeFunction, type HostConsole, type InvocationOutcome } from "./invocation.ts";
import type { TimerSchedule } from "./ncrontab.ts";

/** The host's DateTime default, which its schedule monitor reports before a timer's first run. */
const NEVER = "0001-01-01T00:00:00.000Z";

/** setTimeout's limit is ~24.8 days; longer waits are re-armed in steps, as the host's timer does. */
const MAX_TIMEOUT_MS = 24 * 24 * 60 * 60 * 1000;

/** Why a run starts: only scheduled and start-up runs move the schedule status forward. */
export type TimerRunReason = "schedule" | "startup" | "manual";

/** One running timer trigger. */
export interface TimerListener {
  readonly name: string;
  /** Runs the function now, after any run in progress. */
  run(reason: TimerRunReason): Promise<InvocationOutcome<void>>;
  /** Arms the schedule (and the start-up run when the definition asks for one). */
  start(): void;
  /** Stops the schedule and waits for a run in progress. */
  stop(): Promise<void>;
}

interface ScheduleStatus {
  readonly last: string;
  readonly next: Date;
  readonly lastUpdated: string;
}

/** Creates the listener for one timer definition; nothing runs until `start` or `run`. */
export function createTimerListener(definition: TimerFunctionDefinition, schedule: TimerSchedule, host: HostConsole): TimerListener {
  let status: ScheduleStatus = { last: NEVER, next: schedule.nextOccurrence(host.now()), lastUpdated: NEVER };
  let lock: Promise<unknown> = Promise.resolve();
  let timeout: NodeJS.Timeout | undefined;
  let stopped = false;

  const invoke = async (reason: TimerRunReason): Promise<InvocationOutcome<void>> => {
    const invocationTime = host.now();
    const timer: azf.Timer = {
      schedule: { adjustForDST: true },
      scheduleStatus: { last: status.last, next: status.next.toISOString(), lastUpdated: status.lastUpdated },
      isPastDue: false,
    };
    const outcome = await invokeFunction(
      host,
      definition.name,
      { type: "timerTrigger", options: { schedule: schedule.expression, runOnStartup: definition.runOnStartup ?? false } },
      undefined,
      (context) => definition.handler(timer, context),
    );
    if (reason !== "manual") {
      const fired = reason === "schedule" && status.next > invocationTime ? status.next : invocationTime;
      status = { last: fired.toISOString(), next: schedule.nextOccurrence(fired), lastUpdated: fired.toISOString() };
    }
    return outcome;
  };

  const run = (reason: TimerRunReason): Promise<InvocationOutcome<void>> => {
    const result = lock.then(() => invoke(reason));
    lock = result.catch(() => undefined);
    return result;
  };

  const arm = (): void => {
    if (stopped) return;
    const delay = Math.max(0, status.next.getTime() - host.now().getTime());
    timeout = setTimeout(() => void onTimeout(), Math.min(delay, MAX_TIMEOUT_MS));
  };

  const onTimeout = async (): Promise<void> => {
    if (stopped) return;
    if (host.now() >= status.next) await run("schedule");
    arm();
  };

  return {
    name: definition.name,
    run,
    start() {
      if (definition.runOnStartup) void run("startup").then(arm);
      else arm();
    },
    async stop() {
      stopped = true;
      clearTimeout(timeout);
      await lock;
    },
  };
}
