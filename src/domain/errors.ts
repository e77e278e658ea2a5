/**
 * One application error type and one function that turns any thrown value into it.
 *
 * `kind` is what callers branch on:
 * - transient: 429, 5xx, timeouts, storage unreachable. Throw so Event Grid or the next timer run retries;
 *   never record a decision that did not happen. The HTTP API answers 503 + Retry-After.
 * - not-found, conflict, precondition-failed, forbidden, invalid-input: terminal for this request.
 */
export type ErrorKind =
  | "transient"
  | "not-found"
  | "conflict"
  | "precondition-failed"
  | "forbidden"
  | "unauthenticated"
  | "invalid-input"
  | "internal";

export class PortcullisError extends Error {
  readonly kind: ErrorKind;
  /** ARM / storage error code where one was given (e.g. "ResourceNotFound", "TooManyRequests"). */
  readonly code: string | undefined;
  readonly statusCode: number | undefined;
  /** Seconds the caller should wait before retrying (from Retry-After), for transient errors. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { code?: string; statusCode?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "PortcullisError";
    this.kind = kind;
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "REQUEST_SEND_ERROR",
]);

function kindForStatus(status: number): ErrorKind {
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  if (status === 412) return "precondition-failed";
  if (status === 401) return "unauthenticated";
  if (status === 403) return "forbidden";
  if (status === 408 || status === 429 || status >= 500) return "transient";
  if (status >= 400) return "invalid-input";
  return "internal";
}

/**
 * Converts any thrown value (Azure SDK RestError, Node system error, AbortError, our own) to a
 * PortcullisError. Unknown failures are classed transient: retrying is safe, approving is not.
 */
export function toPortcullisError(error: unknown): PortcullisError {
  if (error instanceof PortcullisError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    name?: unknown;
    response?: { headers?: { get?: (name: string) => string | undefined } };
  };
  const message = typeof e.message === "string" ? e.message : String(error);
  const code = typeof e.code === "string" ? e.code : undefined;
  if (typeof e.statusCode === "number") {
    const retryAfter = Number(e.response?.headers?.get?.("retry-after"));
    return new PortcullisError(kindForStatus(e.statusCode), message, {
      ...(code !== undefined ? { code } : {}),
      statusCode: e.statusCode,
      ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
      cause: error,
    });
  }
  if (e.name === "AbortError" || e.name === "TimeoutError" || (code !== undefined && TRANSIENT_NETWORK_CODES.has(code))) {
    return new PortcullisError("transient", message, { ...(code !== undefined ? { code } : {}), cause: error });
  }
  return new PortcullisError("transient", message, { ...(code !== undefined ? { code } : {}), cause: error });
}

export function isTransient(error: unknown): boolean {
  return toPortcullisError(error).kind === "transient";
}
