/**
 * Housekeeping: Table Storage has no TTL, so this deletes what the HTTP API no longer needs: idempotency keys
 * whose 24-hour window ended (unless a request still holds one) and finished operations older than the retention.
 * Each kind is cleaned on its own: a failure of one is reported and the other still runs; the next run retries.
 */
import { toPortcullisError } from "../domain/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdempotencyStore } from "../ports/idempotency-store.ts";
import type { OperationStore } from "../ports/operation-store.ts";

/** What housekeeping reads and deletes through. */
export interface HousekeepingDeps {
  readonly idempotencyStore: IdempotencyStore;
  readonly operationStore: OperationStore;
  readonly clock: Clock;
  /** How long a finished operation is kept after its last update (PORTCULLIS_OPERATION_RETENTION_DAYS). */
  readonly operationRetentionInMs: number;
}

/** The kinds of rows housekeeping deletes. */
export type HousekeepingTarget = "idempotencyKeys" | "operations";

/** What one run did, for the timer's log. */
export interface HousekeepingSummary {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Rows deleted per kind (0 for a kind that failed: rows it deleted before failing are not counted). */
  readonly deleted: Readonly<Record<HousekeepingTarget, number>>;
  readonly failures: readonly { readonly target: HousekeepingTarget; readonly error: string }[];
}

/** Deletes expired idempotency keys and finished operations past their retention, and says how many of each. */
export async function deleteExpiredApiRows(deps: HousekeepingDeps, options: { readonly abortSignal?: AbortSignal } = {}): Promise<HousekeepingSummary> {
  if (!Number.isFinite(deps.operationRetentionInMs) || deps.operationRetentionInMs <= 0) {
    throw new RangeError(`operationRetentionInMs must be positive, got ${deps.operationRetentionInMs}`);
  }
  const startedAt = deps.clock.now();
  const failures: { target: HousekeepingTarget; error: string }[] = [];
  const attempt = async (target: HousekeepingTarget, deleteRows: () => Promise<number>): Promise<number> => {
    try {
      return await deleteRows();
    } catch (error) {
      const failure = toPortcullisError(error);
      failures.push({ target, error: `${failure.kind}: ${failure.message}` });
      return 0;
    }
  };
  const [idempotencyKeys, operations] = await Promise.all([
    attempt("idempotencyKeys", () => deps.idempotencyStore.deleteExpired({ before: startedAt, abortSignal: options.abortSignal })),
    attempt("operations", () =>
      deps.operationStore.deleteExpired({ before: new Date(startedAt.getTime() - deps.operationRetentionInMs), abortSignal: options.abortSignal }),
    ),
  ]);
  return { startedAt, finishedAt: deps.clock.now(), deleted: { idempotencyKeys, operations }, failures };
}
