/**
 * Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header): the first request with a key executes and
 * its response is kept for 24 hours; a replay with the same body gets that response back (with
 * `Idempotent-Replayed: true`) and does nothing; the same key with a different body is 422; a replay while the
 * first is still executing is 409 with Retry-After. Keys are scoped to the caller's identity, so one caller can
 * neither replay nor block another's.
 *
 *   (absent | expired) ──create/replace──▶ locked ──complete──▶ answered ──24 h──▶ expired
 *                                            │ └── release (5xx: nothing was done) ──▶ (absent)
 *                                            └── lock expires (process died) ──▶ taken over by the next request
 *
 * Only 5xx answers release the key: they mean nothing was done, so a retry must run again. Every other answer,
 * 4xx included, is the answer to that request and is replayed.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { toPortcullisError } from "../domain/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdempotencyRecord, IdempotencyState, IdempotencyStore, StoredResponse } from "../ports/idempotency-store.ts";
import { ProblemError, type ApiResponse } from "./problem.ts";

export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
export const IDEMPOTENT_REPLAYED_HEADER = "idempotent-replayed";
/** How long a key's first response is kept and replayed. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How long the first request may execute before another request with its key may take over (beyond the Functions HTTP timeout). */
export const IDEMPOTENCY_LOCK_MS = 5 * 60 * 1000;

/** Headers a replay repeats; everything else about the first response is in its body. */
const REPLAYED_HEADERS = ["content-type", "location", "etag", "retry-after", "operation-location"];

/** An Idempotency-Key value: 1-255 visible ASCII characters, optionally sent as a quoted sf-string. */
export const idempotencyKeySchema = z
  .string()
  .transform((raw) => (/^".*"$/.test(raw) ? raw.slice(1, -1) : raw))
  .pipe(z.string().min(1, "must not be empty").max(255, "at most 255 characters").regex(/^[\x21-\x7e]+$/, "visible ASCII characters only"))
  .meta({ description: "A unique key per logical request (e.g. a UUID); replays within 24 hours return the first response." });

/** What the first request with a key must do. */
export type IdempotentStart =
  | {
      readonly kind: "execute";
      /** Keeps the response for replays (a 5xx releases the key instead). Never throws: the response stands. */
      complete(response: ApiResponse): Promise<void>;
    }
  | { readonly kind: "replay"; readonly response: ApiResponse };

export interface IdempotencyContext {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly log: { warn(message: string): void };
}

/** SHA-256 over the method, the path and the canonical body: what makes two requests "the same request". */
export function requestFingerprint(method: string, path: string, canonicalBody: string): string {
  return createHash("sha256").update(`${method.toUpperCase()} ${path}\n${canonicalBody}`).digest("base64url");
}

function toStored(response: ApiResponse): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (REPLAYED_HEADERS.includes(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  return { status: response.status, headers, body: response.body === undefined ? undefined : JSON.stringify(response.body) };
}

function fromStored(stored: StoredResponse): ApiResponse {
  return {
    status: stored.status,
    headers: { ...stored.headers, [IDEMPOTENT_REPLAYED_HEADER]: "true" },
    ...(stored.body !== undefined ? { body: JSON.parse(stored.body) as unknown } : {}),
  };
}

function isLost(error: unknown): boolean {
  const kind = toPortcullisError(error).kind;
  return kind === "conflict" || kind === "precondition-failed";
}

/**
 * Claims the key for this request, or answers from the first one. Throws ProblemError 422 (different request)
 * or 409 (still executing); storage failures throw (503: nothing was done).
 */
export async function startIdempotentRequest(
  context: IdempotencyContext,
  request: { readonly scope: string; readonly key: string; readonly fingerprint: string },
): Promise<IdempotentStart> {
  const { store, clock } = context;
  const ref = { scope: request.scope, key: request.key };
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = clock.now();
    const existing = await store.get(ref);
    const live = existing !== undefined && existing.expiresAt.getTime() > now.getTime();
    if (live && existing.fingerprint !== request.fingerprint) {
      throw new ProblemError("idempotency-key-reused", "This Idempotency-Key was already used with a different request (method, path or body); use a new key.");
    }
    if (live && existing.response !== undefined) return { kind: "replay", response: fromStored(existing.response) };
    if (live && existing.lockedUntil !== undefined && existing.lockedUntil.getTime() > now.getTime()) {
      throw new ProblemError("idempotency-key-in-use", "The first request with this Idempotency-Key is still being processed; retry shortly.", {
        headers: { "retry-after": "1" },
      });
    }
    const state: IdempotencyState = {
      ...ref,
      fingerprint: request.fingerprint,
      createdAt: live ? existing.createdAt : now,
      expiresAt: live ? existing.expiresAt : new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS),
      lockedUntil: new Date(now.getTime() + IDEMPOTENCY_LOCK_MS),
      response: undefined,
    };
    let locked: IdempotencyRecord;
    try {
      locked = existing === undefined ? await store.create(state) : await store.replace(state, existing.etag);
    } catch (error) {
      if (isLost(error)) continue;
      throw error;
    }
    return { kind: "execute", complete: (response) => complete(context, locked, response) };
  }
  throw new ProblemError("idempotency-key-in-use", "Concurrent requests are using this Idempotency-Key; retry shortly.", { headers: { "retry-after": "1" } });
}

async function complete(context: IdempotencyContext, locked: IdempotencyRecord, response: ApiResponse): Promise<void> {
  try {
    if (response.status >= 500) {
      await context.store.delete(locked, locked.etag);
      return;
    }
    await context.store.replace({ ...locked, lockedUntil: undefined, response: toStored(response) }, locked.etag);
  } catch (error) {
    const failure = toPortcullisError(error);
    context.log.warn(
      `Could not keep the response for Idempotency-Key ${JSON.stringify(locked.key)} (${failure.kind}: ${failure.message}); ` +
        `a replay after ${locked.lockedUntil?.toISOString() ?? "now"} will run the request again.`,
    );
  }
}
