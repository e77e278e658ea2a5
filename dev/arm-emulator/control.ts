/**
 * The control API under `/_emulator/` (JSON, no bearer): inspect and reset state, read the request log, inject
 * faults, configure throttling, manage Event Grid subscriptions and read what reached local custom topics.
 *
 *   GET    /state                          current estate
 *   POST   /reset                          back to the start topology, or to the topology in the body
 *   GET    /requests   DELETE /requests    the ARM request log
 *   POST   /faults     GET /faults         add (201) / list fault rules
 *   DELETE /faults     DELETE /faults/{id} remove all / one
 *   GET    /throttling PUT /throttling     read / replace throttling settings
 *   POST   /event-subscriptions            create (after the endpoint's validation handshake)
 *   GET    /event-subscriptions            list;  DELETE /event-subscriptions/{id}
 *   GET    /event-deliveries               every delivery attempt
 *   GET    /eventsubscriptions/{name}/validate?id=CODE   manual validation handshake (Event Grid's validationUrl)
 *   GET    /topics/{name}/events           events accepted on a local custom topic
 *   GET    /authorization PUT /authorization   read / replace the custom role definitions and role assignments
 *                                          ARM requests are authorized against (rbac.ts)
 *   GET    /operations                     long-running operations (id, resourceId, status, startTime, held)
 *   PUT    /operations/settings            {delayMs?, hold?} for operations started from now on
 *   POST   /operations/release             complete every held operation (after the current delay)
 *   POST   /operations/{id}/complete       complete one running operation now
 *   GET    /resource-graph PUT /resource-graph  read / change Resource Graph's {lagMs, frozen, quota, managementGroups}
 *                                          (resource-graph/service.ts)
 */
import { z, ZodError } from "zod";
import { EndpointValidationError, type EventGridDelivery } from "./events.ts";
import type { FaultInjector } from "./faults.ts";
import type { ControlAnswer, ControlHandler, RequestRecord } from "./server.ts";
import type { OperationTracker } from "./lro.ts";
import type { ArmThrottle } from "./throttling.ts";
import type { CustomTopicSink } from "./topics.ts";
import { parseTopology, TopologyError, type Topology } from "./topology.ts";
import type { AuthorizationSeed } from "./index.ts";
import type { ResourceGraphService } from "./resource-graph/service.ts";

const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "expected a GUID");
const authorizationSeed = z.strictObject({
  roleDefinitions: z
    .array(
      z.strictObject({
        id: guid,
        roleName: z.string().min(1),
        permissions: z.array(z.strictObject({ actions: z.array(z.string().min(1)), notActions: z.array(z.string().min(1)).optional() })),
      }),
    )
    .optional(),
  roleAssignments: z.array(
    z.strictObject({ principalId: z.string().min(1), scope: z.string().startsWith("/"), roleDefinitionId: z.string().min(1) }),
  ),
});

/** What the control API drives. */
export interface ControlTarget {
  snapshot(): unknown;
  reset(topology?: Topology): void;
  requests(): readonly RequestRecord[];
  clearRequests(): void;
  readonly faults: FaultInjector;
  readonly throttle: ArmThrottle;
  readonly events: EventGridDelivery;
  readonly topics: CustomTopicSink;
  readonly resourceGraph: ResourceGraphService;
  authorization(): AuthorizationSeed;
  setAuthorization(seed: AuthorizationSeed): void;
  /** The current operation registry (reset replaces it). */
  operations(): OperationTracker;
}

const OperationSettingsSchema = z.object({ delayMs: z.number().int().min(0).max(600_000).optional(), hold: z.boolean().optional() }).strict();

function error(status: number, code: string, message: string): ControlAnswer {
  return { status, body: { error: { code, message } } };
}

function parseJson(text: string): unknown {
  return text.trim() === "" ? undefined : JSON.parse(text);
}

/** Builds the control handler over an emulator; bad JSON or invalid bodies answer 400, unknown paths 404. */
export function createControlHandler(target: ControlTarget): ControlHandler {
  return async (method, path, query, bodyText) => {
    let body: unknown;
    try {
      body = parseJson(bodyText);
    } catch (e) {
      return error(400, "InvalidRequestContent", `The request body is not valid JSON: ${(e as Error).message}`);
    }
    try {
      return await route(target, method.toUpperCase(), path.replace(/\/+$/, "") || "/", query, body);
    } catch (e) {
      if (e instanceof ZodError) return error(400, "InvalidRequestContent", e.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "));
      if (e instanceof EndpointValidationError) return error(400, "EndpointValidationFailed", e.message);
      if (e instanceof TopologyError) return error(400, "InvalidTopology", e.message);
      throw e;
    }
  };
}

async function route(target: ControlTarget, method: string, path: string, query: URLSearchParams, body: unknown): Promise<ControlAnswer> {
  const segments = path.split("/").filter((s) => s !== "").map(decodeURIComponent);
  const [first, second, third] = segments;
  const key = `${method} /${first ?? ""}${segments.length > 1 ? "/*" : ""}${segments.length > 2 ? "/*" : ""}${segments.length > 3 ? "/*" : ""}`;
  switch (key) {
    case "GET /state":
      return { status: 200, body: target.snapshot() };
    case "POST /reset":
      target.reset(body === undefined ? undefined : parseTopology(body));
      return { status: 200, body: { reset: true } };
    case "GET /requests":
      return { status: 200, body: target.requests() };
    case "DELETE /requests":
      target.clearRequests();
      return { status: 204 };
    case "POST /faults":
      return { status: 201, body: target.faults.add(body as never) };
    case "GET /faults":
      return { status: 200, body: target.faults.list() };
    case "DELETE /faults":
      target.faults.clear();
      return { status: 204 };
    case "DELETE /faults/*":
      return target.faults.remove(second!) ? { status: 204 } : error(404, "NotFound", `No fault rule '${second}'.`);
    case "GET /throttling":
      return { status: 200, body: target.throttle.config() };
    case "PUT /throttling":
      target.throttle.configure(body as never);
      return { status: 200, body: target.throttle.config() };
    case "POST /event-subscriptions":
      return { status: 201, body: await target.events.addSubscription(body as never) };
    case "GET /event-subscriptions":
      return { status: 200, body: target.events.listSubscriptions() };
    case "DELETE /event-subscriptions/*":
      return target.events.removeSubscription(second!) ? { status: 204 } : error(404, "NotFound", `No event subscription '${second}'.`);
    case "GET /event-deliveries":
      return { status: 200, body: target.events.deliveries() };
    case "GET /eventsubscriptions/*/*":
      if (third !== "validate") break;
      return target.events.confirmValidation(query.get("id") ?? "")
        ? { status: 200, body: { validated: true } }
        : error(404, "NotFound", "No validation handshake waits for that code.");
    case "GET /authorization":
      return { status: 200, body: target.authorization() };
    case "PUT /authorization":
      target.setAuthorization(authorizationSeed.parse(body));
      return { status: 200, body: target.authorization() };
    case "GET /operations":
      return { status: 200, body: target.operations().list() };
    case "PUT /operations/*":
      if (second !== "settings") break;
      return { status: 200, body: target.operations().configure(dropUndefined(OperationSettingsSchema.parse(body ?? {}))) };
    case "POST /operations/*":
      if (second !== "release") break;
      return { status: 200, body: { released: target.operations().release() } };
    case "POST /operations/*/*":
      if (third !== "complete") break;
      return target.operations().settleNow(second!) ? { status: 204 } : error(404, "NotFound", `No running operation '${second}'.`);
    case "GET /resource-graph":
      return { status: 200, body: target.resourceGraph.settings() };
    case "PUT /resource-graph":
      return { status: 200, body: target.resourceGraph.configure(body as never) };
    case "GET /topics/*/*":
      if (third !== "events") break;
      return { status: 200, body: target.topics.received(second!) };
  }
  return error(404, "NotFound", `No control route ${method} /_emulator${path}.`);
}

function dropUndefined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
