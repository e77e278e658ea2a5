/**
 * Timer trigger `housekeeping` (schedule: the PORTCULLIS_HOUSEKEEPING_SCHEDULE setting, default daily at 03:30 UTC):
 * deletes the HTTP API's expired idempotency keys and old finished operations, since Table Storage has no TTL.
 * Thin: run the workflow and log how many rows of each kind it deleted. A failure is logged, never thrown: the next
 * run retries it.
 */
import type azf from "@azure/functions";
import { housekeepingDeps } from "../composition.ts";
import { deleteExpiredApiRows, type HousekeepingDeps, type HousekeepingSummary } from "../workflows/housekeeping.ts";
import type { TimerFunctionDefinition } from "./definition.ts";

/** Runs one clean-up with the given dependencies (tests pass their own; the trigger uses the app's) and logs it. */
export async function runHousekeeping(context: azf.InvocationContext, getDeps: () => Promise<HousekeepingDeps>): Promise<HousekeepingSummary> {
  const summary = await deleteExpiredApiRows(await getDeps());
  const seconds = ((summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000).toFixed(1);
  context.log(
    `Housekeeping in ${seconds} s: deleted ${summary.deleted.idempotencyKeys} expired idempotency key(s) and ${summary.deleted.operations} finished operation(s).`,
  );
  for (const failure of summary.failures) context.error(`Could not delete expired ${failure.target}: ${failure.error} (retried next run)`);
  return summary;
}

export const housekeeping: TimerFunctionDefinition = {
  kind: "timer",
  name: "housekeeping",
  schedule: "%PORTCULLIS_HOUSEKEEPING_SCHEDULE%",
  handler: async (_timer, context) => {
    await runHousekeeping(context, housekeepingDeps);
  },
};
