/**
 * Event intake at the boundary: one delivered Event Grid or CloudEvents 1.0 event in, one classified
 * `ResourceEvent` (or the reason it is ignored or malformed) out. Pure: no I/O.
 *
 * Events are hints, never truth: a handled event only names what to re-read from ARM. So everything the
 * engine takes from an event is the resource it names, the event's identity (for the decision log) and
 * the tenant (a fact ARM does not give the provider side).
 *
 * Routing comes first and reads only what it needs: the envelope, then `data.operationName`. Only the data of an
 * event Portcullis acts on is validated, so the many events it does not act on (Microsoft's own published
 * examples among them, with placeholders such as "{tenant-id}" where a GUID would be) are ignored, never reported
 * as malformed.
 *
 *   delivered JSON ──schema?──▶ neither Event Grid nor CloudEvents 1.0 ─────────────▶ malformed
 *                  │
 *                  ├─ event type not ResourceWriteSuccess / ResourceDeleteSuccess ───▶ ignored
 *                  ├─ data.operationName missing ─────────────────────────────────────▶ malformed
 *                  ├─ data.operationName not one Portcullis acts on ──────────────────▶ ignored
 *                  ├─ the rest of data does not parse (e.g. tenantId not a GUID) ─────▶ malformed
 *                  ├─ event type contradicts the operation (write vs delete) ─────────▶ malformed
 *                  ├─ resource is not the ARM ID the operation names ──────────────────▶ malformed
 *                  └─ otherwise ─────────────────────────────────────────────────────▶ handled(target)
 */
import { z } from "zod";
import { CONSUMER_ENDPOINT_DELETE, CONSUMER_ENDPOINT_WRITE, HANDLED_EVENT_TYPES, ROUTED_OPERATION_NAMES } from "./arm-events.ts";
import { providerOf } from "../providers/registry.ts";
import { parsePrivateEndpointId, parseProviderConnectionId, parseResourceId } from "../resource-id.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a handled event asks the engine to re-read. */
export type ResourceEventTarget =
  /** Consumer side: a private endpoint was written; follow its manual connections to managed resources. */
  | { readonly kind: "endpoint-written"; readonly privateEndpointId: string }
  /** Consumer side: a private endpoint was deleted; its connections go with it. */
  | { readonly kind: "endpoint-deleted"; readonly privateEndpointId: string }
  /** Provider side: a resource's connections changed in a way the event does not pin down (a proxy was written or deleted). */
  | { readonly kind: "resource-connections-changed"; readonly resourceId: string }
  /** Provider side: one connection was written (created, approved or rejected). */
  | { readonly kind: "connection-written"; readonly resourceId: string; readonly connectionId: string }
  /** Provider side: one connection was deleted. */
  | { readonly kind: "connection-deleted"; readonly resourceId: string; readonly connectionId: string };

/** A Microsoft.Resources.* event Portcullis acts on, reduced to what the engine may use. */
export interface ResourceEvent {
  readonly id: string;
  readonly schema: "EventGrid" | "CloudEvents";
  readonly eventType: string;
  readonly operationName: string;
  /** The ARM resource the operation acted on (data.resourceUri, else the subject). */
  readonly resourceId: string;
  /** Tenant of the caller's subscription; a requester fact only for consumer-side events. */
  readonly tenantId: string | undefined;
  readonly subscriptionId: string | undefined;
  readonly correlationId: string | undefined;
  readonly eventTime: Date | undefined;
  readonly target: ResourceEventTarget;
}

/** The outcome of reading one delivered event; every kind is acknowledged (never retried). */
export type ParsedResourceEvent =
  | { readonly kind: "handled"; readonly event: ResourceEvent }
  | { readonly kind: "ignored"; readonly eventId: string | undefined; readonly reason: string }
  | { readonly kind: "malformed"; readonly eventId: string | undefined; readonly reason: string };

const optionalText = z.string().optional();

/** What routing reads of `data`: the operation, nothing else. */
const routingDataSchema = z.object({ operationName: z.string().min(1, "data.operationName is empty") });

/** The data of an event Portcullis acts on. */
const resourceEventDataSchema = z.object({
  operationName: z.string().min(1, "data.operationName is empty"),
  resourceUri: optionalText,
  tenantId: z.string().regex(GUID, "data.tenantId is not a GUID").optional(),
  subscriptionId: optionalText,
  correlationId: optionalText,
  status: optionalText,
});

const eventGridSchema = z.object({
  id: z.string().min(1),
  eventType: z.string().min(1),
  subject: z.string(),
  eventTime: z.string(),
  dataVersion: z.string().optional(),
  data: z.unknown(),
});

const cloudEventSchema = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  type: z.string().min(1),
  source: z.string().min(1),
  subject: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown(),
});

interface Envelope {
  readonly id: string;
  readonly schema: ResourceEvent["schema"];
  readonly eventType: string;
  readonly subject: string | undefined;
  readonly time: string | undefined;
  readonly data: unknown;
}

const WRITE_EVENT = "Microsoft.Resources.ResourceWriteSuccess";
const DELETE_EVENT = "Microsoft.Resources.ResourceDeleteSuccess";

/** Reads one delivered event (Event Grid schema or CloudEvents 1.0) and says what, if anything, to re-read. */
export function parseResourceEvent(delivered: unknown): ParsedResourceEvent {
  const envelope = readEnvelope(delivered);
  if ("reason" in envelope) return { kind: "malformed", eventId: envelope.eventId, reason: envelope.reason };
  const eventId = envelope.id;
  if (!HANDLED_EVENT_TYPES.some((type) => sameText(type, envelope.eventType))) {
    return { kind: "ignored", eventId, reason: `event type '${envelope.eventType}' is not one Portcullis acts on` };
  }
  const routing = routingDataSchema.safeParse(envelope.data);
  if (!routing.success) return { kind: "malformed", eventId, reason: describeIssues("data", routing.error) };
  const operationName = routing.data.operationName;
  if (!ROUTED_OPERATION_NAMES.some((name) => sameText(name, operationName))) {
    return { kind: "ignored", eventId, reason: `operation '${shorten(operationName)}' is not one Portcullis acts on` };
  }
  const data = resourceEventDataSchema.safeParse(envelope.data);
  if (!data.success) return { kind: "malformed", eventId, reason: describeIssues("data", data.error) };
  const resourceId = data.data.resourceUri ?? envelope.subject;
  if (resourceId === undefined || resourceId.length === 0) {
    return { kind: "malformed", eventId, reason: "neither data.resourceUri nor subject names the resource" };
  }
  const target = targetOf(envelope.eventType, operationName, resourceId);
  if (target.kind !== "target") return { kind: target.kind, reason: target.reason, eventId };
  const eventTime = envelope.time === undefined ? undefined : new Date(envelope.time);
  return {
    kind: "handled",
    event: {
      id: eventId,
      schema: envelope.schema,
      eventType: envelope.eventType,
      operationName,
      resourceId,
      tenantId: data.data.tenantId,
      subscriptionId: data.data.subscriptionId,
      correlationId: data.data.correlationId,
      eventTime: eventTime !== undefined && !Number.isNaN(eventTime.getTime()) ? eventTime : undefined,
      target: target.target,
    },
  };
}

function readEnvelope(delivered: unknown): Envelope | { readonly eventId: string | undefined; readonly reason: string } {
  if (typeof delivered !== "object" || delivered === null || Array.isArray(delivered)) {
    return { eventId: undefined, reason: "the event is not a JSON object" };
  }
  const eventId = typeof (delivered as { id?: unknown }).id === "string" ? (delivered as { id: string }).id : undefined;
  if ("specversion" in delivered) {
    const parsed = cloudEventSchema.safeParse(delivered);
    if (!parsed.success) return { eventId, reason: describeIssues("CloudEvents 1.0 event", parsed.error) };
    const e = parsed.data;
    return { id: e.id, schema: "CloudEvents", eventType: e.type, subject: e.subject, time: e.time, data: e.data };
  }
  if ("eventType" in delivered) {
    const parsed = eventGridSchema.safeParse(delivered);
    if (!parsed.success) return { eventId, reason: describeIssues("Event Grid event", parsed.error) };
    const e = parsed.data;
    return { id: e.id, schema: "EventGrid", eventType: e.eventType, subject: e.subject, time: e.eventTime, data: e.data };
  }
  return { eventId, reason: "the event is neither in the Event Grid schema (eventType) nor CloudEvents 1.0 (specversion)" };
}

type TargetResult =
  | { readonly kind: "target"; readonly target: ResourceEventTarget }
  | { readonly kind: "ignored" | "malformed"; readonly reason: string };

/**
 * `{type}/privateEndpointConnections/{write|delete}` or `{type}/privateEndpointConnectionProxies/{write|delete}` of a
 * registered type, split; undefined for anything else.
 */
function providerOperation(operationName: string): { readonly resourceType: string; readonly child: "connection" | "proxy"; readonly verb: "write" | "delete" } | undefined {
  const match = /^([^/]+\/[^/]+)\/(privateEndpointConnections|privateEndpointConnectionProxies)\/(write|delete)$/i.exec(operationName);
  if (!match) return undefined;
  const provider = providerOf(match[1]!);
  if (provider === undefined) return undefined;
  return {
    resourceType: provider.resourceType,
    child: match[2]!.toLowerCase() === "privateendpointconnections" ? "connection" : "proxy",
    verb: match[3]!.toLowerCase() as "write" | "delete",
  };
}

/** Maps an operation and the resource it acted on to a target, checking that the two agree. */
function targetOf(eventType: string, operationName: string, resourceId: string): TargetResult {
  const expectWrite = (target: () => TargetResult): TargetResult =>
    sameText(eventType, WRITE_EVENT) ? target() : mismatch(eventType, operationName);
  const expectDelete = (target: () => TargetResult): TargetResult =>
    sameText(eventType, DELETE_EVENT) ? target() : mismatch(eventType, operationName);
  if (sameText(operationName, CONSUMER_ENDPOINT_WRITE)) {
    return expectWrite(() => endpointTarget("endpoint-written", resourceId));
  }
  if (sameText(operationName, CONSUMER_ENDPOINT_DELETE)) {
    return expectDelete(() => endpointTarget("endpoint-deleted", resourceId));
  }
  const operation = providerOperation(operationName);
  // Unreachable while ROUTED_OPERATION_NAMES and the branches here agree (a test checks every routed name).
  if (operation === undefined) return { kind: "ignored", reason: `operation '${shorten(operationName)}' is not one Portcullis acts on` };
  const expect = operation.verb === "write" ? expectWrite : expectDelete;
  if (operation.child === "connection") {
    return expect(() => connectionTarget(operation.verb === "write" ? "connection-written" : "connection-deleted", resourceId, operation.resourceType));
  }
  // A proxy written or deleted names no connection; re-reading the resource settles what is there.
  return expect(() => proxyTarget(resourceId, operation.resourceType));
}

function connectionTarget(kind: "connection-written" | "connection-deleted", resourceId: string, resourceType: string): TargetResult {
  const ref = parseProviderConnectionId(resourceId, (type) => sameText(type, resourceType));
  if (!ref) return notTheResource(resourceId, `a ${resourceType} private endpoint connection`);
  return { kind: "target", target: { kind, resourceId: ref.resourceId, connectionId: resourceId } };
}

function endpointTarget(kind: "endpoint-written" | "endpoint-deleted", resourceId: string): TargetResult {
  if (!parsePrivateEndpointId(resourceId)) return notTheResource(resourceId, "a private endpoint");
  return { kind: "target", target: { kind, privateEndpointId: resourceId } };
}

/** `{resource of resourceType}/privateEndpointConnectionProxies/{name}` → the resource whose connections changed. */
function proxyTarget(resourceId: string, resourceType: string): TargetResult {
  const parsed = parseResourceId(resourceId);
  const [resource, child] = parsed?.segments ?? [];
  const valid =
    parsed?.resourceGroup !== undefined &&
    parsed.provider !== undefined &&
    parsed.segments.length === 2 &&
    resource !== undefined &&
    sameText(`${parsed.provider}/${resource[0]}`, resourceType) &&
    child !== undefined &&
    sameText(child[0], "privateEndpointConnectionProxies");
  if (!valid || !parsed?.resourceGroup || !resource) return notTheResource(resourceId, `a ${resourceType} privateEndpointConnectionProxies resource`);
  const owner = `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}/providers/${parsed.provider}/${resource[0]}/${resource[1]}`;
  return { kind: "target", target: { kind: "resource-connections-changed", resourceId: owner } };
}

function mismatch(eventType: string, operationName: string): TargetResult {
  return { kind: "malformed", reason: `event type '${eventType}' contradicts operation '${operationName}'` };
}

function notTheResource(resourceId: string, expected: string): TargetResult {
  return { kind: "malformed", reason: `resource '${shorten(resourceId)}' is not ${expected} ARM resource ID` };
}

/** Event text goes into logs: long values are cut. */
function shorten(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function describeIssues(what: string, error: z.ZodError): string {
  const issues = error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`);
  return `${what} does not parse: ${issues.join("; ")}`;
}
