/**
 * The few shapes every ARM adapter call takes: convert whatever the SDK throws to a PortcullisError, read a
 * 404 as "absent" for get…, walk paged lists one page at a time, and refuse IDs that do not parse.
 */
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { malformed } from "./convert.ts";

/** Runs one SDK call; any failure leaves as a PortcullisError. */
export async function armCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toPortcullisError(error);
  }
}

/**
 * A 409 to an ARM write means another operation on the resource is still running (ARM serializes writes per
 * resource: `Conflict` / `AnotherOperationInProgress`, DOMAIN.md corrections). It clears when that operation ends,
 * so it is "try again later", never a final refusal: the write leaves as transient, keeping ARM's code and status.
 */
export function writeConflictAsTransient(error: unknown): PortcullisError {
  const failure = toPortcullisError(error);
  if (failure.statusCode !== 409) return failure;
  return new PortcullisError("transient", `${failure.message} (another operation on the resource is in progress; retry later)`, {
    ...(failure.code !== undefined ? { code: failure.code } : {}),
    statusCode: 409,
    ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
    cause: failure,
  });
}

/** Runs one SDK write (PUT, PATCH, DELETE); a 409 leaves as transient (see writeConflictAsTransient). */
export async function armWrite<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw writeConflictAsTransient(error);
  }
}

/** Runs one SDK get; 404 resolves to undefined, every other failure leaves as a PortcullisError. */
export async function armGet<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const converted = toPortcullisError(error);
    if (converted.kind === "not-found") return undefined;
    throw converted;
  }
}

/** What the SDKs' list methods return: an iterable that can also be walked page by page. */
export interface Pageable<M> {
  byPage(): AsyncIterableIterator<M[]>;
}

/**
 * Walks an SDK list page by page (one request per page, only as the caller iterates), converting each item;
 * a failure on any page leaves as a PortcullisError.
 */
export async function* walkPages<M, T>(open: () => Promise<Pageable<M>>, convert: (model: M) => T): AsyncGenerator<T> {
  let pages: AsyncIterableIterator<M[]>;
  try {
    pages = (await open()).byPage();
  } catch (error) {
    throw toPortcullisError(error);
  }
  while (true) {
    let step: IteratorResult<M[]>;
    try {
      step = await pages.next();
    } catch (error) {
      throw toPortcullisError(error);
    }
    if (step.done) return;
    if (!Array.isArray(step.value)) throw malformed("list page", undefined, "the page is not an array of resources");
    for (const model of step.value) yield convert(model);
  }
}

/** Parses an ID with `parse` or throws invalid-input naming what was expected. */
export function requireRef<R>(parse: (id: string) => R | undefined, id: string, what: string): R {
  const ref = parse(id);
  if (ref === undefined) {
    throw new PortcullisError("invalid-input", `'${id}' is not a valid ${what} resource ID.`, { code: "InvalidResourceId" });
  }
  return ref;
}
