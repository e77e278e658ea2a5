/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with a stable `type` URI,
 * a title, the status, a detail sentence and, for validation failures, each field's problem. Never a stack trace
 * and never an internal message from ARM or storage: those go to the log only.
 */
import { z } from "zod";
import { toPortcullisError, type ErrorKind } from "../domain/errors.ts";

/** Base of every problem `type`; the suffixes below are stable (clients branch on them). */
export const PROBLEM_BASE = "https://portcullis.dev/problems/";

/** Each problem the API can answer with: its status and title. The key is the `type` suffix. */
export const PROBLEMS = {
  validation: { status: 400, title: "The request is not valid" },
  "invalid-json": { status: 400, title: "The request body is not valid JSON" },
  unauthenticated: { status: 401, title: "Authentication is required" },
  forbidden: { status: 403, title: "The caller lacks the role this operation needs" },
  "not-found": { status: 404, title: "Not found" },
  conflict: { status: 409, title: "The resource is not in a state that allows this operation" },
  "idempotency-key-in-use": { status: 409, title: "A request with this Idempotency-Key is still being processed" },
  "precondition-failed": { status: 412, title: "The resource has changed since it was read" },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "unsupported-media-type": { status: 415, title: "The request body must be JSON" },
  "idempotency-key-reused": { status: 422, title: "This Idempotency-Key was used for a different request" },
  "precondition-required": { status: 428, title: "A precondition header is required" },
  internal: { status: 500, title: "Internal error" },
  "upstream-refused": { status: 502, title: "Azure Resource Manager refused the change" },
  unavailable: { status: 503, title: "A service Portcullis depends on is unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

/** Where a field problem was found. */
export type FieldLocation = "body" | "query" | "path" | "header";

export interface FieldError {
  readonly in: FieldLocation;
  /** Dotted path into the body, or the parameter / header name. Empty for the body as a whole. */
  readonly field: string;
  readonly detail: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The correlation ID of the request (also in the x-correlation-id header), for support. */
  readonly correlationId?: string;
  readonly errors?: FieldError[];
}

/** The zod schema of a problem document, for the OpenAPI document and for tests. */
export const problemSchema = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ in: z.enum(["body", "query", "path", "header"]), field: z.string(), detail: z.string() })).optional(),
  })
  .meta({ description: "RFC 9457 problem details." });

/** A response the framework writes: status, headers and an optional JSON body. */
export interface ApiResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A problem to answer with, thrown inside the framework (parsing, auth, preconditions) to end a request early. */
export class ProblemError extends Error {
  readonly problemType: ProblemType;
  readonly detail: string;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(type: ProblemType, detail: string, options: { errors?: readonly FieldError[]; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = "ProblemError";
    this.problemType = type;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

/** The problem document for a type (also embedded in operation resources that ended in an error). */
export function problemDocument(type: ProblemType, detail: string, options: { correlationId?: string; errors?: readonly FieldError[] } = {}): Problem {
  const { status, title } = PROBLEMS[type];
  return {
    type: `${PROBLEM_BASE}${type}`,
    title,
    status,
    detail,
    ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    ...(options.errors !== undefined ? { errors: [...options.errors] } : {}),
  };
}

/** Builds the response for a problem. */
export function problemResponse(
  type: ProblemType,
  detail: string,
  options: { correlationId?: string; errors?: readonly FieldError[]; headers?: Readonly<Record<string, string>> } = {},
): ApiResponse {
  const problem = problemDocument(type, detail, options);
  return { status: problem.status, headers: { ...options.headers, "content-type": "application/problem+json" }, body: problem };
}

/** Seconds a client should wait after a 503 when the dependency gave no Retry-After. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

const KIND_TO_PROBLEM: Record<ErrorKind, ProblemType> = {
  transient: "unavailable",
  "not-found": "not-found",
  conflict: "conflict",
  "precondition-failed": "precondition-failed",
  // The caller's own 401 / 403 are ProblemErrors from src/http/auth.ts; these kinds come from a dependency refusing
  // Portcullis itself (missing role assignment): a fault of the deployment, not of the request.
  forbidden: "internal",
  unauthenticated: "internal",
  "invalid-input": "validation",
  internal: "internal",
};

/**
 * The problem for any thrown value. Application errors keep their message where it is about the caller's own
 * request (conflict, precondition, invalid input); dependency failures and internal errors get a fixed sentence so
 * nothing about the deployment leaks. A transient failure is 503 with Retry-After.
 */
export function problemForError(error: unknown, correlationId: string): ApiResponse {
  if (error instanceof ProblemError) {
    return problemResponse(error.problemType, error.detail, {
      correlationId,
      headers: error.headers,
      ...(error.errors !== undefined ? { errors: error.errors } : {}),
    });
  }
  const failure = toPortcullisError(error);
  const type = KIND_TO_PROBLEM[failure.kind];
  switch (type) {
    case "unavailable": {
      const retryAfter = Math.min(Math.max(Math.ceil(failure.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS), 1), 300);
      return problemResponse(type, "Azure Resource Manager or Table Storage could not be reached; nothing was changed. Retry later.", {
        correlationId,
        headers: { "retry-after": String(retryAfter) },
      });
    }
    case "internal":
      return problemResponse(type, "The request failed inside Portcullis; the error is logged under this correlation ID.", { correlationId });
    case "not-found":
      return problemResponse(type, "No such resource.", { correlationId });
    case "validation":
      return problemResponse(type, plain(failure.message), { correlationId, errors: [{ in: "body", field: "", detail: plain(failure.message) }] });
    default:
      return problemResponse(type, plain(failure.message), { correlationId });
  }
}

/** A message fit for a client: one line, bounded. */
function plain(message: string): string {
  const line = message.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

/** Turns zod issues into field errors. */
export function fieldErrorsOf(error: z.ZodError, location: FieldLocation, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    in: location,
    field: [...prefix, ...issue.path].map(String).join("."),
    detail: issue.message,
  }));
}
