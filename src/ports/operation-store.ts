/**
 * Long-running operations of the HTTP API (GET /api/operations/{id}): a manual decision whose ARM operation
 * outlasted the request is kept here with its serialized poller, so any instance can resume it and report its
 * progress and final state. Implemented over Table Storage by src/adapters/tables/operation-store.ts.
 *
 * Contract: `create` throws PortcullisError kind `conflict` if the ID exists; `replace` throws
 * `precondition-failed` when the ETag changed. Storage failures throw kind `transient`.
 */
import type { OperationOptions } from "./arm.ts";

export type OperationStatus = "Running" | "Succeeded" | "Failed";

export interface OperationState {
  /** Lower-case GUID. */
  readonly id: string;
  /** What the operation does, e.g. "approve" (the API's action names). */
  readonly action: string;
  /** The resource it acts on (a connection's ARM ID). */
  readonly resourceId: string;
  readonly status: OperationStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Object ID of the caller that started it. */
  readonly createdBy: string;
  /** Opaque JSON the workflow resumes from while Running. */
  readonly resumeState: string | undefined;
  /** JSON of the final result once Succeeded or Failed. */
  readonly result: string | undefined;
}

export interface OperationRecord extends OperationState {
  readonly etag: string;
}

/** Options of OperationStore.deleteExpired. */
export interface DeleteExpiredOperationsOptions extends OperationOptions {
  /** Now minus the retention: finished operations last updated before this are deleted. */
  readonly before: Date;
}

export interface OperationStore {
  get(id: string, options?: OperationOptions): Promise<OperationRecord | undefined>;
  create(state: OperationState, options?: OperationOptions): Promise<OperationRecord>;
  replace(state: OperationState, etag: string, options?: OperationOptions): Promise<OperationRecord>;
  /**
   * Deletes finished (Succeeded or Failed) operations whose last update is before `before`, never a Running one
   * nor one updated meanwhile (Table Storage has no TTL); returns how many it deleted.
   */
  deleteExpired(options: DeleteExpiredOperationsOptions): Promise<number>;
}
