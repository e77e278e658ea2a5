/**
 * Event Grid delivery for the ARM emulator: the `Microsoft.Resources.Subscriptions` system topic of each
 * subscription, pushing ResourceWrite/Delete/ActionSuccess events to webhook event subscriptions the way
 * Event Grid does (validation handshake first, Event Grid or CloudEvents 1.0 schema, at-least-once delivery
 * with back-off retries, dead-lettering), so Portcullis' event path can be tested without Azure.
 *
 * Life of one event for one event subscription:
 *
 *   publish ──deliveryDelayMs──▶ ready ──pump (batches of maxEventsPerBatch)──▶ POST
 *     200..204                      → delivered (and, with duplicateProbability, sometimes sent twice)
 *     400, 401, 403, 413            → dead-lettered at once (Event Grid does not retry these for webhooks)
 *     other status, timeout, error  → back to ready after retryDelaysMs[attempt-1] (the last delay repeats),
 *                                     or dead-lettered once maxDeliveryAttempts or the event TTL is spent
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { z } from "zod";

/** One successful ARM write, delete or action, as the emulator's request pipeline reports it. */
export interface ArmActivity {
  /** e.g. `Microsoft.Network/privateEndpoints/write`. */
  operationName: string;
  /** The resource acted on; becomes the event subject and `data.resourceUri`. */
  resourceId: string;
  subscriptionId: string;
  tenantId: string;
  kind: "write" | "delete" | "action";
  correlationId: string;
  httpMethod: string;
  url: string;
  /** True when a write created the resource: Azure sends `httpRequest` only for updates and deletes. */
  created?: boolean;
  /** Claims of the caller's token, copied to `data.claims` (default: none). */
  claims?: Record<string, string>;
  clientRequestId?: string;
  clientIpAddress?: string;
}

/** What a test or the control API asks for when creating an event subscription on a subscription's system topic. */
export interface EventSubscriptionSpec {
  /** Event subscription name (3-64 letters, digits, hyphens); generated when absent. */
  id?: string;
  /** Source subscription of the system topic. */
  subscriptionId: string;
  endpointUrl: string;
  schema: "EventGridSchema" | "CloudEventSchemaV1_0";
  includedEventTypes?: string[];
  /** Advanced filter `StringIn` on `data.operationName` (case-insensitive, as Event Grid compares strings). */
  operationNames?: string[];
  maxDeliveryAttempts?: number;
  eventTtlMinutes?: number;
  maxEventsPerBatch?: number;
}

/** An event subscription as stored, with every default filled in. */
export interface EventSubscriptionState {
  id: string;
  /** `/subscriptions/{subscriptionId}`: the system topic the subscription listens to. */
  topic: string;
  subscriptionId: string;
  endpointUrl: string;
  schema: EventSubscriptionSpec["schema"];
  includedEventTypes?: string[];
  operationNames?: string[];
  maxDeliveryAttempts: number;
  eventTtlMinutes: number;
  maxEventsPerBatch: number;
  provisioningState: "Succeeded";
  paused: boolean;
  createdAt: string;
}

/** Tuning for tests and for `npm start`. */
export interface EventDeliveryOptions {
  /** Back-off before each retry; the last one repeats. Default: Event Grid's schedule (10 s, 30 s, 1 min, ...). */
  retryDelaysMs?: number[];
  /** Latency between publish and the first attempt (default 0). */
  deliveryDelayMs?: number;
  /** PEM certificate(s) to trust for https webhooks (e.g. the local Functions host's self-signed cert). */
  tlsCa?: string;
  /** Default for subscriptions that do not set their own (Event Grid's default: 30). */
  maxDeliveryAttempts?: number;
  /** Default event time-to-live in minutes (Event Grid's default: 1440). */
  eventTtlMinutes?: number;
  /** How long one POST may take before it counts as failed (Event Grid waits 30 s). */
  requestTimeoutInMs?: number;
  /** Chance (0..1) that a delivered batch is sent once more, to exercise idempotent handlers. Default 0. */
  duplicateProbability?: number;
  /**
   * Base URL (e.g. the emulator's own) for the `validationUrl` of Event Grid schema handshakes. When set, an
   * endpoint that answers 200 without the code may instead confirm through confirmValidation within
   * manualValidationTimeoutInMs, as with Event Grid's manual handshake; when absent, no validationUrl is sent.
   */
  validationUrlBase?: string;
  /** How long a manual handshake may take (Event Grid: 5 minutes). */
  manualValidationTimeoutInMs?: number;
  /** Returns a number in [0, 1); injected to make duplicates deterministic. */
  random?: () => number;
}

/** One delivery attempt of one event. */
export interface DeliveryRecord {
  eventSubscriptionId: string;
  eventId: string;
  /** 1 for the first attempt. */
  attempt: number;
  statusCode?: number;
  /** Network error or timeout, when no status came back. */
  error?: string;
  delivered: boolean;
  /** True for the extra copy sent because of duplicateProbability. */
  duplicate: boolean;
  at: string;
}

/** An event given up on, in the shape Event Grid writes to a dead-letter container. */
export interface DeadLetteredEvent {
  eventSubscriptionId: string;
  event: DeliveredEvent;
  deadLetterReason: "MaxDeliveryAttemptsExceeded" | "TimeToLiveExceeded" | "NonRetriableHttpStatus";
  deliveryAttempts: number;
  lastDeliveryOutcome: string;
  lastHttpStatusCode?: number;
  publishTime: string;
  lastDeliveryAttemptTime: string;
}

/** An event in the Event Grid schema. */
export interface EventGridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  data: Record<string, unknown>;
  dataVersion: string;
  metadataVersion: string;
}

/** An event in the CloudEvents 1.0 schema (JSON format). */
export interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  subject: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

export type DeliveredEvent = EventGridEvent | CloudEvent;

/** Raised by addSubscription when the endpoint does not pass the validation handshake. */
export class EndpointValidationError extends Error {
  override readonly name = "EndpointValidationError";
  /** The error code Event Grid's ARM API answers with. */
  readonly code = "Url validation";
}

/** Event Grid's documented retry schedule for webhooks, then every 12 hours. */
export const EVENT_GRID_RETRY_DELAYS_MS: readonly number[] = [
  10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
];

/** Webhook answers Event Grid treats as final failures (dead-letter, no retry). */
const NON_RETRIABLE_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 413]);
const EVENT_GRID_ORIGIN = "eventgrid.azure.net";
const MAX_RESPONSE_BYTES = 64 * 1024;

const EVENT_TYPE_BY_KIND: Readonly<Record<ArmActivity["kind"], string>> = {
  write: "Microsoft.Resources.ResourceWriteSuccess",
  delete: "Microsoft.Resources.ResourceDeleteSuccess",
  action: "Microsoft.Resources.ResourceActionSuccess",
};

function isHttpUrl(value: string): boolean {
  try {
    const protocol = new URL(value).protocol;
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** Validates an event subscription posted to the control API, with Event Grid's limits. */
export const eventSubscriptionSpecSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9-]{3,64}$/, "3-64 letters, digits or hyphens").optional(),
    subscriptionId: z.string().min(1),
    endpointUrl: z.string().refine(isHttpUrl, "endpointUrl must be an http(s) URL"),
    schema: z.enum(["EventGridSchema", "CloudEventSchemaV1_0"]),
    includedEventTypes: z.array(z.string().min(1)).min(1).optional(),
    operationNames: z.array(z.string().min(1)).min(1).max(25).optional(),
    maxDeliveryAttempts: z.number().int().min(1).max(30).optional(),
    eventTtlMinutes: z.number().int().min(1).max(1440).optional(),
    maxEventsPerBatch: z.number().int().min(1).max(5000).optional(),
  })
  .strict();

/** Builds the Event Grid schema event that Azure emits for one ARM activity (event-schema-subscriptions). */
export function toEventGridEvent(activity: ArmActivity, id: string, eventTime: Date): EventGridEvent {
  const data: Record<string, unknown> = {
    authorization: { scope: activity.resourceId, action: activity.operationName, evidence: { role: "Subscription Admin" } },
    claims: { ...activity.claims },
    correlationId: activity.correlationId,
  };
  if (activity.created !== true) {
    data["httpRequest"] = {
      clientRequestId: activity.clientRequestId ?? activity.correlationId,
      clientIpAddress: activity.clientIpAddress ?? "127.0.0.1",
      method: activity.httpMethod.toUpperCase(),
      url: activity.url,
    };
  }
  Object.assign(data, {
    resourceProvider: activity.operationName.split("/")[0] ?? "",
    resourceUri: activity.resourceId,
    operationName: activity.operationName,
    status: "Succeeded",
    subscriptionId: activity.subscriptionId,
    tenantId: activity.tenantId,
  });
  return {
    id,
    topic: `/subscriptions/${activity.subscriptionId}`,
    subject: activity.resourceId,
    eventType: EVENT_TYPE_BY_KIND[activity.kind],
    eventTime: eventTime.toISOString(),
    data,
    dataVersion: "2",
    metadataVersion: "1",
  };
}

/** The same event in CloudEvents 1.0, as Event Grid converts it for CloudEventSchemaV1_0 subscriptions. */
export function toCloudEvent(event: EventGridEvent): CloudEvent {
  return {
    specversion: "1.0",
    id: event.id,
    source: event.topic,
    subject: event.subject,
    type: event.eventType,
    time: event.eventTime,
    data: event.data,
  };
}

interface PendingEvent {
  readonly event: DeliveredEvent;
  readonly eventId: string;
  readonly operationName: string;
  readonly publishedAtMs: number;
  readonly publishTime: string;
  attempts: number;
}

interface SubscriptionRuntime {
  state: EventSubscriptionState;
  readonly ready: PendingEvent[];
  pumpScheduled: boolean;
  removed: boolean;
}

/** A manual handshake in progress: confirmed by a GET on its validationUrl, possibly before the POST is answered. */
interface ManualValidation {
  confirmed: boolean;
  onConfirmed?: () => void;
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

type AttemptResult = { statusCode: number } | { error: string; timedOut: boolean };

/** Emulated Event Grid system topics (one per subscription) with webhook event subscriptions. */
export class EventGridDelivery {
  readonly #options: Required<Omit<EventDeliveryOptions, "tlsCa" | "validationUrlBase">> &
    Pick<EventDeliveryOptions, "tlsCa" | "validationUrlBase">;
  readonly #subscriptions = new Map<string, SubscriptionRuntime>();
  readonly #deliveries: DeliveryRecord[] = [];
  readonly #deadLettered: DeadLetteredEvent[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #immediates = new Set<NodeJS.Immediate>();
  readonly #aborts = new Set<AbortController>();
  readonly #manualValidations = new Map<string, ManualValidation>();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(options: EventDeliveryOptions = {}) {
    const retryDelaysMs = options.retryDelaysMs ?? [...EVENT_GRID_RETRY_DELAYS_MS];
    if (retryDelaysMs.length === 0 || retryDelaysMs.some((delay) => !(delay >= 0))) {
      throw new RangeError("retryDelaysMs needs at least one delay, each >= 0");
    }
    this.#options = {
      retryDelaysMs,
      deliveryDelayMs: options.deliveryDelayMs ?? 0,
      maxDeliveryAttempts: options.maxDeliveryAttempts ?? 30,
      eventTtlMinutes: options.eventTtlMinutes ?? 1440,
      requestTimeoutInMs: options.requestTimeoutInMs ?? 30_000,
      duplicateProbability: options.duplicateProbability ?? 0,
      manualValidationTimeoutInMs: options.manualValidationTimeoutInMs ?? 300_000,
      random: options.random ?? Math.random,
      tlsCa: options.tlsCa,
      validationUrlBase: options.validationUrlBase?.replace(/\/+$/, ""),
    };
  }

  /**
   * Creates (or, for an existing id, updates) an event subscription after the endpoint passes the validation
   * handshake of its schema; throws EndpointValidationError (or a ZodError for a bad spec) otherwise.
   */
  async addSubscription(spec: EventSubscriptionSpec): Promise<EventSubscriptionState> {
    if (this.#closed) throw new Error("event delivery is closed");
    const parsed = eventSubscriptionSpecSchema.parse(spec);
    const id = parsed.id ?? `es-${randomUUID().slice(0, 8)}`;
    if (parsed.schema === "EventGridSchema") await this.#validateEventGridEndpoint(id, parsed.subscriptionId, parsed.endpointUrl);
    else await this.#validateCloudEventsEndpoint(parsed.endpointUrl);
    const existing = this.#subscriptions.get(id.toLowerCase());
    const state: EventSubscriptionState = {
      id,
      topic: `/subscriptions/${parsed.subscriptionId}`,
      subscriptionId: parsed.subscriptionId,
      endpointUrl: parsed.endpointUrl,
      schema: parsed.schema,
      maxDeliveryAttempts: parsed.maxDeliveryAttempts ?? this.#options.maxDeliveryAttempts,
      eventTtlMinutes: parsed.eventTtlMinutes ?? this.#options.eventTtlMinutes,
      maxEventsPerBatch: parsed.maxEventsPerBatch ?? 1,
      provisioningState: "Succeeded",
      paused: existing?.state.paused ?? false,
      createdAt: existing?.state.createdAt ?? new Date().toISOString(),
    };
    if (parsed.includedEventTypes !== undefined) state.includedEventTypes = parsed.includedEventTypes;
    if (parsed.operationNames !== undefined) state.operationNames = parsed.operationNames;
    if (existing !== undefined) existing.state = state;
    else this.#subscriptions.set(id.toLowerCase(), { state, ready: [], pumpScheduled: false, removed: false });
    return structuredClone(state);
  }

  /** Deletes an event subscription; its undelivered events are dropped. False when the id is unknown. */
  removeSubscription(id: string): boolean {
    const runtime = this.#subscriptions.get(id.toLowerCase());
    if (runtime === undefined) return false;
    runtime.removed = true;
    runtime.ready.length = 0;
    this.#subscriptions.delete(id.toLowerCase());
    this.#settleIfIdle();
    return true;
  }

  /** Every event subscription. */
  listSubscriptions(): EventSubscriptionState[] {
    return [...this.#subscriptions.values()].map((runtime) => structuredClone(runtime.state));
  }

  /** Completes a manual handshake (the GET on a validationUrl); false when no handshake waits for that code. */
  confirmValidation(validationCode: string): boolean {
    const manual = this.#manualValidations.get(validationCode);
    if (manual === undefined) return false;
    manual.confirmed = true;
    manual.onConfirmed?.();
    return true;
  }

  /**
   * Emits the event for one ARM activity on its subscription's system topic: every matching event
   * subscription gets it asynchronously. Never throws, so a write never fails because of its event.
   */
  publish(activity: ArmActivity): void {
    if (this.#closed) return;
    try {
      const event = toEventGridEvent(activity, randomUUID(), new Date());
      const publishedAtMs = performance.now();
      for (const runtime of this.#subscriptions.values()) {
        if (!matches(runtime.state, event, activity)) continue;
        const delivered = runtime.state.schema === "EventGridSchema" ? event : toCloudEvent(event);
        const pending: PendingEvent = {
          event: structuredClone(delivered),
          eventId: event.id,
          operationName: activity.operationName,
          publishedAtMs,
          publishTime: event.eventTime,
          attempts: 0,
        };
        this.#enqueueAfter(runtime, pending, this.#options.deliveryDelayMs);
      }
    } catch (error) {
      console.error(`[arm-emulator] event for ${activity.operationName} not published:`, error);
    }
  }

  /** Every delivery attempt so far, oldest first. */
  deliveries(): DeliveryRecord[] {
    return structuredClone(this.#deliveries);
  }

  /** Every event given up on, oldest first. */
  deadLettered(): DeadLetteredEvent[] {
    return structuredClone(this.#deadLettered);
  }

  /** Holds deliveries for one event subscription (events queue up); false when the id is unknown. */
  pause(id: string): boolean {
    const runtime = this.#subscriptions.get(id.toLowerCase());
    if (runtime === undefined) return false;
    runtime.state.paused = true;
    return true;
  }

  /** Resumes a paused event subscription and sends what queued up; false when the id is unknown. */
  resume(id: string): boolean {
    const runtime = this.#subscriptions.get(id.toLowerCase());
    if (runtime === undefined) return false;
    runtime.state.paused = false;
    if (runtime.ready.length > 0) this.#schedulePump(runtime);
    return true;
  }

  /** Resolves once nothing is scheduled or in flight (events held by a paused subscription do not count). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Cancels every scheduled and in-flight delivery and refuses new work. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const immediate of this.#immediates) clearImmediate(immediate);
    this.#pending -= this.#timers.size + this.#immediates.size;
    this.#timers.clear();
    this.#immediates.clear();
    for (const runtime of this.#subscriptions.values()) runtime.ready.length = 0;
    for (const abort of this.#aborts) abort.abort();
    for (const manual of this.#manualValidations.values()) manual.onConfirmed?.();
    await this.idle();
  }

  async #validateEventGridEndpoint(name: string, subscriptionId: string, endpointUrl: string): Promise<void> {
    const validationCode = randomUUID();
    const data: Record<string, string> = { validationCode };
    // Registered before the POST: an endpoint may call the validationUrl before it answers.
    const manual: ManualValidation | undefined = this.#options.validationUrlBase === undefined ? undefined : { confirmed: false };
    if (manual !== undefined) {
      data["validationUrl"] =
        `${this.#options.validationUrlBase}/eventsubscriptions/${encodeURIComponent(name)}/validate?id=${validationCode}`;
      this.#manualValidations.set(validationCode, manual);
    }
    const validationEvent = {
      id: randomUUID(),
      topic: `/subscriptions/${subscriptionId}`,
      subject: "",
      data,
      eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
      eventTime: new Date().toISOString(),
      metadataVersion: "1",
      dataVersion: "1",
    };
    const headers = {
      "content-type": "application/json",
      "aeg-event-type": "SubscriptionValidation",
      "aeg-subscription-name": name.toUpperCase(),
      "aeg-delivery-count": "0",
      "aeg-data-version": "1",
      "aeg-metadata-version": "1",
    };
    try {
      const answer = await this.#handshakeRequest(endpointUrl, "POST", headers, JSON.stringify([validationEvent]));
      if (answer.status === 200 && echoedCode(answer.body) === validationCode) return;
      const failure =
        `Webhook validation handshake failed for ${endpointUrl}. Http POST request returned ${answer.status}` +
        (answer.status === 200 ? " without the validationResponse" : "") +
        ". Only 200 with {\"validationResponse\": code} is accepted.";
      if (answer.status === 200 && manual !== undefined) return await this.#awaitManualValidation(manual, failure);
      throw new EndpointValidationError(failure);
    } finally {
      this.#manualValidations.delete(validationCode);
    }
  }

  async #awaitManualValidation(manual: ManualValidation, failure: string): Promise<void> {
    if (manual.confirmed) return;
    this.#pending += 1;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new EndpointValidationError(`${failure} The manual validation URL was not called in time.`)),
          this.#options.manualValidationTimeoutInMs,
        );
        manual.onConfirmed = () => {
          clearTimeout(timer);
          if (this.#closed) reject(new Error("event delivery is closed"));
          else resolve();
        };
      });
    } finally {
      this.#done();
    }
  }

  async #validateCloudEventsEndpoint(endpointUrl: string): Promise<void> {
    const answer = await this.#handshakeRequest(endpointUrl, "OPTIONS", { "webhook-request-origin": EVENT_GRID_ORIGIN }, undefined);
    const allowed = headerValue(answer.headers, "webhook-allowed-origin")?.trim().toLowerCase();
    if (answer.status >= 200 && answer.status < 300 && (allowed === EVENT_GRID_ORIGIN || allowed === "*")) return;
    throw new EndpointValidationError(
      `Webhook validation handshake failed for ${endpointUrl}. Http OPTIONS request returned ${answer.status}` +
        ` with WebHook-Allowed-Origin ${allowed === undefined ? "missing" : `'${allowed}'`}; expected '${EVENT_GRID_ORIGIN}' or '*'.`,
    );
  }

  async #handshakeRequest(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<HttpAnswer> {
    try {
      return await this.#request(url, method, headers, body);
    } catch (error) {
      throw new EndpointValidationError(`Webhook validation handshake failed for ${url}: ${errorText(error)}`);
    }
  }

  #enqueueAfter(runtime: SubscriptionRuntime, pending: PendingEvent, delayMs: number): void {
    this.#pending += 1;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!runtime.removed) {
        runtime.ready.push(pending);
        this.#schedulePump(runtime);
      }
      this.#done();
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Pumps on the next turn, so events that became ready together can share a batch. */
  #schedulePump(runtime: SubscriptionRuntime): void {
    if (runtime.pumpScheduled || this.#closed) return;
    runtime.pumpScheduled = true;
    this.#pending += 1;
    const immediate = setImmediate(() => {
      this.#immediates.delete(immediate);
      runtime.pumpScheduled = false;
      this.#pump(runtime);
      this.#done();
    });
    this.#immediates.add(immediate);
  }

  #pump(runtime: SubscriptionRuntime): void {
    if (runtime.removed || runtime.state.paused) return;
    while (runtime.ready.length > 0) {
      const batch = runtime.ready.splice(0, runtime.state.maxEventsPerBatch);
      void this.#deliver(runtime, batch);
    }
  }

  async #deliver(runtime: SubscriptionRuntime, batch: PendingEvent[]): Promise<void> {
    this.#pending += 1;
    try {
      const deliveryCount = Math.max(...batch.map((pending) => pending.attempts));
      for (const pending of batch) pending.attempts += 1;
      const result = await this.#attempt(runtime.state, batch, deliveryCount);
      const at = new Date().toISOString();
      this.#record(runtime.state, batch, result, at, false);
      if (this.#closed || runtime.removed) return;
      if ("statusCode" in result && isSuccess(result.statusCode)) {
        if (this.#options.duplicateProbability > 0 && this.#options.random() < this.#options.duplicateProbability) {
          await this.#sendDuplicate(runtime.state, batch, deliveryCount);
        }
        return;
      }
      for (const pending of batch) this.#retryOrDeadLetter(runtime, pending, result, at);
    } finally {
      this.#done();
    }
  }

  async #sendDuplicate(state: EventSubscriptionState, batch: PendingEvent[], deliveryCount: number): Promise<void> {
    const result = await this.#attempt(state, batch, deliveryCount);
    this.#record(state, batch, result, new Date().toISOString(), true);
  }

  #retryOrDeadLetter(runtime: SubscriptionRuntime, pending: PendingEvent, result: AttemptResult, at: string): void {
    const { maxDeliveryAttempts, eventTtlMinutes } = runtime.state;
    if ("statusCode" in result && NON_RETRIABLE_STATUSES.has(result.statusCode)) {
      this.#deadLetter(runtime.state, pending, "NonRetriableHttpStatus", result, at);
      return;
    }
    if (pending.attempts >= maxDeliveryAttempts) {
      this.#deadLetter(runtime.state, pending, "MaxDeliveryAttemptsExceeded", result, at);
      return;
    }
    const delays = this.#options.retryDelaysMs;
    const delayMs = delays[Math.min(pending.attempts - 1, delays.length - 1)] ?? 0;
    if (performance.now() + delayMs > pending.publishedAtMs + eventTtlMinutes * 60_000) {
      this.#deadLetter(runtime.state, pending, "TimeToLiveExceeded", result, at);
      return;
    }
    this.#enqueueAfter(runtime, pending, delayMs);
  }

  #deadLetter(
    state: EventSubscriptionState,
    pending: PendingEvent,
    reason: DeadLetteredEvent["deadLetterReason"],
    result: AttemptResult,
    at: string,
  ): void {
    const entry: DeadLetteredEvent = {
      eventSubscriptionId: state.id,
      event: structuredClone(pending.event),
      deadLetterReason: reason,
      deliveryAttempts: pending.attempts,
      lastDeliveryOutcome: outcomeName(result),
      publishTime: pending.publishTime,
      lastDeliveryAttemptTime: at,
    };
    if ("statusCode" in result) entry.lastHttpStatusCode = result.statusCode;
    this.#deadLettered.push(entry);
  }

  #record(state: EventSubscriptionState, batch: PendingEvent[], result: AttemptResult, at: string, duplicate: boolean): void {
    for (const pending of batch) {
      const record: DeliveryRecord = {
        eventSubscriptionId: state.id,
        eventId: pending.eventId,
        attempt: pending.attempts,
        delivered: "statusCode" in result && isSuccess(result.statusCode),
        duplicate,
        at,
      };
      if ("statusCode" in result) record.statusCode = result.statusCode;
      else record.error = result.error;
      this.#deliveries.push(record);
    }
  }

  async #attempt(state: EventSubscriptionState, batch: PendingEvent[], deliveryCount: number): Promise<AttemptResult> {
    const { headers, body } = notificationRequest(state, batch, deliveryCount);
    try {
      const answer = await this.#request(state.endpointUrl, "POST", headers, body);
      return { statusCode: answer.status };
    } catch (error) {
      return { error: errorText(error), timedOut: isTimeout(error) };
    }
  }

  /** One HTTP exchange on a fresh connection, bounded by requestTimeoutInMs and cancelled by close(). */
  #request(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<HttpAnswer> {
    const abort = new AbortController();
    this.#aborts.add(abort);
    const target = new URL(url);
    const transport = target.protocol === "https:" ? https : http;
    const requestHeaders: Record<string, string> = { ...headers };
    if (body !== undefined) requestHeaders["content-length"] = String(Buffer.byteLength(body));
    const options: https.RequestOptions = {
      method,
      headers: requestHeaders,
      agent: false,
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(this.#options.requestTimeoutInMs)]),
    };
    if (this.#options.tlsCa !== undefined) options.ca = this.#options.tlsCa;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const request = transport.request(target, options, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      });
      request.on("error", reject);
      request.end(body);
    }).finally(() => this.#aborts.delete(abort));
  }

  #done(): void {
    this.#pending -= 1;
    this.#settleIfIdle();
  }

  #settleIfIdle(): void {
    if (this.#pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function matches(state: EventSubscriptionState, event: EventGridEvent, activity: ArmActivity): boolean {
  if (state.subscriptionId.toLowerCase() !== activity.subscriptionId.toLowerCase()) return false;
  if (state.includedEventTypes !== undefined && !includesIgnoringCase(state.includedEventTypes, event.eventType)) return false;
  if (state.operationNames !== undefined && !includesIgnoringCase(state.operationNames, activity.operationName)) return false;
  return true;
}

function includesIgnoringCase(values: readonly string[], value: string): boolean {
  const wanted = value.toLowerCase();
  return values.some((candidate) => candidate.toLowerCase() === wanted);
}

/** Body and headers of one delivery POST in the subscription's schema. */
function notificationRequest(
  state: EventSubscriptionState,
  batch: PendingEvent[],
  deliveryCount: number,
): { headers: Record<string, string>; body: string } {
  const common = {
    "aeg-event-type": "Notification",
    "aeg-subscription-name": state.id.toUpperCase(),
    "aeg-delivery-count": String(deliveryCount),
  };
  const events = batch.map((pending) => pending.event);
  if (state.schema === "EventGridSchema") {
    return {
      headers: { ...common, "content-type": "application/json", "aeg-data-version": "2", "aeg-metadata-version": "1" },
      body: JSON.stringify(events),
    };
  }
  const single = state.maxEventsPerBatch === 1 && events.length === 1;
  return {
    headers: {
      ...common,
      "content-type": single ? "application/cloudevents+json; charset=utf-8" : "application/cloudevents-batch+json; charset=utf-8",
      "aeg-metadata-version": "1.0",
    },
    body: JSON.stringify(single ? events[0] : events),
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 204;
}

function echoedCode(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "validationResponse" in parsed) {
      const code = (parsed as { validationResponse: unknown }).validationResponse;
      return typeof code === "string" ? code : undefined;
    }
  } catch {
    // Not JSON: the handshake fails below.
  }
  return undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Event Grid's word for the last outcome: the status reason without spaces, or TimedOut / GenericError. */
function outcomeName(result: AttemptResult): string {
  if ("statusCode" in result) return (http.STATUS_CODES[result.statusCode] ?? `Status${result.statusCode}`).replace(/\W+/g, "");
  return result.timedOut ? "TimedOut" : "GenericError";
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "TimeoutError" || (error.cause instanceof Error && error.cause.name === "TimeoutError");
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === undefined ? error.message : `${code}: ${error.message}`;
  }
  return String(error);
}
