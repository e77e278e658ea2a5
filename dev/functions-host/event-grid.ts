/**
 * The Event Grid extension's webhook protocol (Microsoft.Azure.WebJobs.Extensions.EventGrid,
 * HttpRequestProcessor), read from the request alone; the host invokes the function for each event.
 *
 * - OPTIONS (CloudEvents abuse protection): 200 with `WebHook-Allowed-Origin` echoing the request's
 *   `WebHook-Request-Origin` when it is an Event Grid origin (`eventgrid.azure.net` and the sovereign-cloud
 *   ones), otherwise `eventgrid.azure.net`, exactly as the extension answers; plus `WebHook-Allowed-Rate: *`.
 * - `aeg-event-type: SubscriptionValidation`: 200 `{"validationResponse": code}`; the code is read from
 *   `[0].data.validationCode` (Event Grid schema array) or from `data` of a single CloudEvent object, where
 *   Event Grid double-encodes it as a JSON string.
 * - `aeg-event-type: Notification`: a JSON array is a batch, a JSON object one event (CloudEvents single).
 *   Event Grid sends this header for both schemas; the content type is not inspected.
 * - `aeg-event-type: Unsubscribe`: 202. Any other or a missing `aeg-event-type`: 400.
 * Where the extension throws on a malformed body (which the host would turn into a 500 and Event Grid
 * would retry for 24 hours), this host answers 400 instead, which Event Grid does not retry.
 */

/** What the webhook does with one request: answer now, or deliver these events to the function. */
export type EventGridWebhookAction =
  | { readonly kind: "respond"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string }
  | { readonly kind: "deliver"; readonly events: readonly Record<string, unknown>[] };

const PUBLIC_CLOUD_ORIGIN = "eventgrid.azure.net";
const EVENT_GRID_ORIGINS = new Set([
  PUBLIC_CLOUD_ORIGIN,
  "eventgrid.azure.us",
  "eventgrid.azure.eaglex.ic.gov",
  "eventgrid.azure.microsoft.scloud",
  "eventgrid.azure.cn",
]);

/** Decides the webhook's answer from the method, the two relevant headers and the body text. */
export function readEventGridWebhook(request: {
  readonly method: string;
  readonly eventType: string | undefined;
  readonly requestOrigin: string | undefined;
  readonly body: string;
}): EventGridWebhookAction {
  if (request.method === "OPTIONS") {
    const origin = request.requestOrigin !== undefined && EVENT_GRID_ORIGINS.has(request.requestOrigin)
      ? request.requestOrigin
      : PUBLIC_CLOUD_ORIGIN;
    return respond(200, "", { "webhook-allowed-origin": origin, "webhook-allowed-rate": "*" });
  }
  const eventType = request.eventType?.toLowerCase();
  if (eventType === "subscriptionvalidation") return validationResponse(request.body);
  if (eventType === "notification") return notification(request.body);
  if (eventType === "unsubscribe") return respond(202, "");
  return respond(400, "expected the aeg-event-type header: SubscriptionValidation, Notification or Unsubscribe");
}

function validationResponse(body: string): EventGridWebhookAction {
  const parsed = parseJson(body);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  const data = isObject(first) ? decodeData(first["data"]) : undefined;
  const code = isObject(data) ? data["validationCode"] : undefined;
  if (typeof code !== "string" || code.length === 0) {
    return respond(400, "a SubscriptionValidation request needs data.validationCode");
  }
  return respond(200, JSON.stringify({ validationResponse: code }), { "content-type": "application/json; charset=utf-8" });
}

function notification(body: string): EventGridWebhookAction {
  const parsed = parseJson(body);
  const events = Array.isArray(parsed) ? parsed : isObject(parsed) ? [parsed] : undefined;
  if (events === undefined) return respond(400, "the request body must be a JSON array of events or one JSON event object");
  if (!events.every(isObject)) return respond(400, "every event in the batch must be a JSON object");
  return { kind: "deliver", events };
}

/** CloudEvents validation events carry `data` as a JSON-encoded string. */
function decodeData(data: unknown): unknown {
  return typeof data === "string" ? parseJson(data) : data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function respond(status: number, body: string, headers: Record<string, string> = {}): EventGridWebhookAction {
  return { kind: "respond", status, headers, body };
}
