/**
 * Idempotency keys of POST requests (src/http/idempotency.ts): one record per caller and key, written with
 * conditional writes so that of two concurrent requests with one key exactly one executes. Implemented over
 * Table Storage by src/adapters/tables/idempotency-store.ts.
 *
 * Contract: `create` throws PortcullisError kind `conflict` when a record exists; `replace` and `delete` throw
 * `precondition-failed` when the ETag changed. Storage failures throw kind `transient`.
 */
import type { OperationOptions } from "./arm.ts";

/** The first response to a request, kept to answer its replays. */
export interface StoredResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body as text; undefined for none. */
  readonly body: string | undefined;
}

/** Identifies one key: the caller's identity (scope) and the key it sent. */
export interface IdempotencyKeyRef {
  readonly scope: string;
  readonly key: string;
}

export interface IdempotencyState extends IdempotencyKeyRef {
  /** Hash of the method, path and canonical body of the first request. */
  readonly fingerprint: string;
  readonly createdAt: Date;
  /** After this the key may be reused (24 hours after creation). */
  readonly expiresAt: Date;
  /** Set while the first request executes: another request may take over only after this time. */
  readonly lockedUntil: Date | undefined;
  /** Set once the first request answered. */
  readonly response: StoredResponse | undefined;
}

export interface IdempotencyRecord extends IdempotencyState {
  readonly etag: string;
}

/** Options of IdempotencyStore.deleteExpired. */
export interface DeleteExpiredIdempotencyKeysOptions extends OperationOptions {
  /** Normally now: keys whose window (`expiresAt`) ended before this are deleted, unless a request still holds them. */
  readonly before: Date;
}

export interface IdempotencyStore {
  get(ref: IdempotencyKeyRef, options?: OperationOptions): Promise<IdempotencyRecord | undefined>;
  /** Inserts if absent; `conflict` if a record exists. */
  create(state: IdempotencyState, options?: OperationOptions): Promise<IdempotencyRecord>;
  /** Replaces if the ETag still matches; `precondition-failed` otherwise. */
  replace(state: IdempotencyState, etag: string, options?: OperationOptions): Promise<IdempotencyRecord>;
  /** Deletes if the ETag still matches (a released key); `precondition-failed` otherwise, resolves if already gone. */
  delete(ref: IdempotencyKeyRef, etag: string, options?: OperationOptions): Promise<void>;
  /**
   * Deletes keys that expired before `before` (Table Storage has no TTL), keeping any whose lock (`lockedUntil`)
   * still holds at `before` and any rewritten meanwhile; returns how many it deleted.
   */
  deleteExpired(options: DeleteExpiredIdempotencyKeysOptions): Promise<number>;
}
