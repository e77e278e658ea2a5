/**
 * Strict request input: JSON bodies only (415), at most MAX_BODY_BYTES (413), valid UTF-8 and JSON (400), parsed
 * with the route's zod schema whose strict objects reject unknown fields (400 with each field's problem). Query
 * parameters and route parameters go through zod the same way; a query parameter given twice is refused.
 */
import type { z } from "zod";
import { fieldErrorsOf, ProblemError, type FieldLocation } from "./problem.ts";

/** Request bodies above this are refused with 413 (rule documents stay well under it). */
export const MAX_BODY_BYTES = 64 * 1024;

/** The query parameter Azure Functions accepts a function key in; it is the platform's, never an API input. */
const FUNCTION_KEY_PARAMETER = "code";

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** The minimal request surface the framework reads (the @azure/functions HttpRequest has it). */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Parses `value` with `schema`, or throws a 400 listing each field's problem at `location`. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, location: FieldLocation, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ProblemError("validation", `The ${what} is not valid.`, { errors: fieldErrorsOf(result.error, location) });
}

/** The raw body, enforcing the size limit before and after reading. Empty bodies give an empty buffer. */
export async function readBodyBytes(request: RequestLike, maxBytes: number = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw new ProblemError("payload-too-large", `The request body may have at most ${maxBytes} bytes.`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new ProblemError("payload-too-large", `The request body may have at most ${maxBytes} bytes.`);
  return bytes;
}

/**
 * The body as JSON: requires `Content-Type: application/json` (UTF-8), valid UTF-8 and valid JSON. Returns the
 * parsed value, before any schema is applied (the idempotency fingerprint is taken over it).
 */
export async function readJsonBody(request: RequestLike, maxBytes: number = MAX_BODY_BYTES): Promise<unknown> {
  const contentType = request.headers.get("content-type");
  if (contentType === null || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new ProblemError("unsupported-media-type", "Send the body as JSON with 'Content-Type: application/json'.");
  }
  const bytes = await readBodyBytes(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ProblemError("invalid-json", "The request body is not valid UTF-8.");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProblemError("invalid-json", "The request body is not valid JSON.");
  }
}

/** Refuses a body on a route that takes none (strict input: nothing is silently ignored). */
export async function requireNoBody(request: RequestLike): Promise<void> {
  const bytes = await readBodyBytes(request);
  if (bytes.byteLength > 0) throw new ProblemError("validation", "This operation takes no request body.", { errors: [{ in: "body", field: "", detail: "must be empty" }] });
}

/** Query parameters as an object, refusing repeated ones (the platform's `code` key is left out). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};
  for (const key of new Set(query.keys())) {
    if (key === FUNCTION_KEY_PARAMETER) continue;
    const values = query.getAll(key);
    if (values.length > 1) {
      throw new ProblemError("validation", "A query parameter was given more than once.", { errors: [{ in: "query", field: key, detail: "given more than once" }] });
    }
    result[key] = values[0]!;
  }
  return result;
}

/** JSON with object keys sorted, so two bodies that mean the same have the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
