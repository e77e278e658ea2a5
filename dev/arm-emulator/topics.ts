/**
 * The local stand-in for an Event Grid custom topic's publish endpoint (`POST /api/events`), where Portcullis
 * sends its own notifications through EventGridPublisherClient. It checks what Event Grid checks (credential,
 * content type, size, schema) and records what it accepts so tests can assert on it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/** How the sink authenticates publishers. */
export interface CustomTopicSinkOptions {
  /** Access key per topic name (base64, as Azure issues them). Topics without a key accept any credential. */
  keys?: Record<string, string>;
  /** Clock for SAS token expiry (default: the system clock). */
  now?: () => Date;
}

/** The HTTP answer the emulator must send back. */
export interface TopicAnswer {
  status: number;
  body?: unknown;
}

/** Event Grid refuses a publish request larger than 1 MB. */
export const MAX_PUBLISH_BYTES = 1024 * 1024;

const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be an RFC 3339 time");

/** A CloudEvents 1.0 event in JSON format; extension attributes are kept. */
const cloudEventSchema = z
  .object({
    specversion: z.literal("1.0"),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().optional(),
    time: isoTime.optional(),
    datacontenttype: z.string().optional(),
    dataschema: z.string().optional(),
    data: z.unknown().optional(),
    data_base64: z.string().optional(),
  })
  .catchall(z.unknown())
  .refine((event) => !(event.data !== undefined && event.data_base64 !== undefined), "data and data_base64 are exclusive");

/** An event in the Event Grid schema as a publisher sends it. */
const eventGridEventSchema = z.object({
  id: z.string().min(1),
  subject: z.string().min(1),
  eventType: z.string().min(1),
  eventTime: isoTime,
  dataVersion: z.string(),
  data: z.unknown(),
  topic: z.string().optional(),
  metadataVersion: z.string().optional(),
});

type PayloadKind = "cloudevents-batch" | "cloudevent" | "eventgrid";

function payloadKind(contentType: string | undefined): PayloadKind | undefined {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === "application/cloudevents-batch+json") return "cloudevents-batch";
  if (mediaType === "application/cloudevents+json") return "cloudevent";
  if (mediaType === "application/json") return "eventgrid";
  return undefined;
}

/** Records the events published to local custom topics, answering as Event Grid's publish API does. */
export class CustomTopicSink {
  readonly #keys: Map<string, string>;
  readonly #now: () => Date;
  readonly #received = new Map<string, unknown[]>();

  constructor(options: CustomTopicSinkOptions = {}) {
    this.#keys = new Map(Object.entries(options.keys ?? {}).map(([topic, key]) => [topic.toLowerCase(), key]));
    this.#now = options.now ?? (() => new Date());
  }

  /** Handles one publish request to `topic`: 200 with no body when every event is accepted, else an Event Grid error. */
  handle(topic: string, headers: Record<string, string | undefined>, body: string): TopicAnswer {
    const header = lowerCaseKeys(headers);
    const unauthorized = this.#authenticationFailure(topic, header);
    if (unauthorized !== undefined) return errorAnswer(401, "Unauthorized", unauthorized);
    if (Buffer.byteLength(body) > MAX_PUBLISH_BYTES) {
      return errorAnswer(413, "RequestEntityTooLarge", `The maximum size (${MAX_PUBLISH_BYTES} bytes) for a publish request was exceeded.`);
    }
    const kind = payloadKind(header["content-type"]);
    if (kind === undefined) {
      return errorAnswer(400, "BadRequest", `Unsupported content type '${header["content-type"] ?? ""}'. Use application/cloudevents-batch+json, application/cloudevents+json or application/json.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      return errorAnswer(400, "BadRequest", "The request body is not valid JSON.", "InputJsonInvalid", String(error));
    }
    const parsed = parseEvents(kind, json);
    if (!parsed.success) return errorAnswer(400, "BadRequest", "The request body does not match the expected event schema.", "InputJsonInvalid", parsed.problem);
    const events = this.#received.get(topic.toLowerCase()) ?? [];
    events.push(...parsed.events);
    this.#received.set(topic.toLowerCase(), events);
    return { status: 200 };
  }

  /** The events accepted on `topic` (case-insensitive), oldest first. */
  received(topic: string): unknown[] {
    return structuredClone(this.#received.get(topic.toLowerCase()) ?? []);
  }

  /** Forgets every received event. */
  clear(): void {
    this.#received.clear();
  }

  /** Undefined when the request carries an acceptable credential for the topic, else why not. */
  #authenticationFailure(topic: string, header: Record<string, string | undefined>): string | undefined {
    const sasKey = header["aeg-sas-key"];
    const sasToken = header["aeg-sas-token"];
    const bearer = /^Bearer\s+\S+/i.test(header["authorization"] ?? "");
    if (sasKey === undefined && sasToken === undefined && !bearer) {
      return "Request must carry one of: aeg-sas-key, aeg-sas-token or an Authorization bearer token.";
    }
    if (bearer) return undefined;
    const key = this.#keys.get(topic.toLowerCase());
    if (key === undefined) return undefined;
    if (sasKey !== undefined) return sameSecret(sasKey, key) ? undefined : "The aeg-sas-key does not match the topic's access key.";
    return sasTokenFailure(sasToken ?? "", key, this.#now());
  }
}

type ParsedEvents = { success: true; events: unknown[] } | { success: false; problem: string };

function parseEvents(kind: PayloadKind, json: unknown): ParsedEvents {
  const schema =
    kind === "cloudevent" ? cloudEventSchema : kind === "cloudevents-batch" ? z.array(cloudEventSchema).min(1) : z.array(eventGridEventSchema).min(1);
  const result = schema.safeParse(json);
  if (!result.success) {
    const problem = result.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
    return { success: false, problem };
  }
  return { success: true, events: Array.isArray(result.data) ? result.data : [result.data] };
}

/** Checks an Event Grid SAS token `r=...&e=...&s=...`: HMAC-SHA256 of `r=..&e=..` with the key, not expired. */
function sasTokenFailure(token: string, key: string, now: Date): string | undefined {
  const match = /^(r=[^&]*&e=([^&]*))&s=([^&]*)$/.exec(token);
  if (match === null) return "The aeg-sas-token is malformed.";
  const [, unsigned = "", expiresEncoded = "", signatureEncoded = ""] = match;
  const expected = createHmac("sha256", Buffer.from(key, "base64")).update(unsigned).digest("base64");
  if (!sameSecret(decodeURIComponent(signatureEncoded), expected)) return "The aeg-sas-token signature is invalid.";
  const expiresOn = parseServiceTime(decodeURIComponent(expiresEncoded));
  if (expiresOn === undefined) return "The aeg-sas-token expiry is malformed.";
  if (expiresOn.getTime() <= now.getTime()) return "The aeg-sas-token has expired.";
  return undefined;
}

/** Parses Event Grid's SAS expiry format, `M/D/YYYY h:mm:ss AM` in UTC. */
function parseServiceTime(value: string): Date | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/.exec(value);
  if (match === null) return undefined;
  const [, month, day, year, hour12, minute, second, half] = match;
  const hour = (Number(hour12) % 12) + (half === "PM" ? 12 : 0);
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), hour, Number(minute), Number(second)));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function lowerCaseKeys(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function errorAnswer(status: number, code: string, message: string, detailCode?: string, detailMessage?: string): TopicAnswer {
  const error: Record<string, unknown> = { code, message };
  if (detailCode !== undefined) error["details"] = [{ code: detailCode, message: detailMessage ?? message }];
  return { status, body: { error } };
}
