/**
 * PrivateLinkPort over @azure/arm-resources: connections and public network access on every type in the provider
 * registry (src/domain/providers/registry.ts), each request with the type's api-version.
 *
 * - Resources: the generic `getById` / `updateById` (PATCH properties.publicNetworkAccess) and the subscription's
 *   resource list filtered by type (`$filter=resourceType eq '…'`).
 * - A connection: `getById` / `deleteById` on its ID (a child resource ID is a resource ID like any other).
 * - What the generic model does not fit goes through the same client's pipeline with zod-parsed bodies: the
 *   `privateEndpointConnections` collection (ARM's `value` + `nextLink` pages) and the approve / reject PUT, which
 *   ./async-operation.ts follows (polling only when asked) and serializes so another process can resume it. A type whose
 *   spec marks the PUT synchronous (registry connectionWrite.longRunning false) is done with the PUT's answer.
 *
 * An ID of an unregistered type, or a value the type does not know, is refused (invalid-input) before any request.
 */
import { z } from "zod";
import type { LongRunningOperation, OperationOptions, PrivateLinkPort } from "../../ports/arm.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../../domain/model.ts";
import { PortcullisError } from "../../domain/errors.ts";
import { providerOf, type PrivateLinkProvider } from "../../domain/providers/registry.ts";
import { parseProviderConnectionId, parseResourceId, resourceTypeOf, type ProviderConnectionRef } from "../../domain/resource-id.ts";
import { armOperationStateSchema, beginArmPut, isUrlOfEndpoint, resumeArmPut, sendArmRequest, type ArmOperationState, type ArmPutTarget } from "./async-operation.ts";
import type { ArmClients } from "./clients.ts";
import { malformed, toListPage, toPrivateEndpointConnectionFromWire, toPrivateLinkResource } from "./convert.ts";
import { armCall, armGet, armWrite, requireRef, walkPages } from "./sdk-calls.ts";

type DecidedStatus = Exclude<ConnectionStatus, "Pending">;

/**
 * The serialized form of a set-status operation. The same kind and fields as the APIM-only adapter wrote, so an
 * operation stored before the upgrade (an APIM connection) resumes here.
 */
const SERIALIZED_KIND = "portcullis/arm/set-connection-status@2";

const isRegisteredType = (resourceType: string): boolean => providerOf(resourceType) !== undefined;

const serializedOperationSchema = z.object({
  kind: z.literal(SERIALIZED_KIND),
  connectionId: z.string().refine((id) => parseProviderConnectionId(id, isRegisteredType) !== undefined, "not a private endpoint connection ID of a registered type"),
  status: z.enum(["Approved", "Rejected"]),
  description: z.string(),
  operation: armOperationStateSchema,
});

interface SetStatusRequest {
  readonly connectionId: string;
  readonly status: DecidedStatus;
  readonly description: string;
}

/** Where and how the port talks to ARM (tests shorten the poll interval). */
export interface PrivateLinkPortOptions {
  /** ARM base URL the clients use; set-status requests, list pages and polls go there and nowhere else. */
  readonly endpoint: string;
  /** Poll interval of long-running operations when ARM sends no Retry-After. */
  readonly pollIntervalInMs: number;
}

const SUBSCRIPTION_ID = /^[0-9a-fA-F-]{1,64}$/;

interface ResourceRef {
  readonly subscriptionId: string;
  readonly resourceId: string;
  readonly provider: PrivateLinkProvider;
}

function unregistered(resourceType: string): PortcullisError {
  return new PortcullisError("invalid-input", `${resourceType} is not a registered Private Link provider type.`, { code: "UnregisteredResourceType" });
}

/** A top-level resource ID of a registered type, or invalid-input. */
function requireResource(resourceId: string): ResourceRef {
  const parsed = requireRef((id) => (resourceTypeOf(id) !== undefined ? parseResourceId(id) : undefined), resourceId, "Private Link resource");
  const type = resourceTypeOf(resourceId)!;
  const provider = providerOf(type);
  if (provider === undefined) throw unregistered(type);
  return { subscriptionId: parsed.subscriptionId, resourceId, provider };
}

/** `{resource of a registered type}/privateEndpointConnections/{name}`, or invalid-input. */
function requireConnection(connectionId: string): ProviderConnectionRef & { readonly provider: PrivateLinkProvider } {
  const ref = requireRef((id) => parseProviderConnectionId(id, () => true), connectionId, "private endpoint connection");
  const provider = providerOf(ref.resourceType);
  if (provider === undefined) throw unregistered(ref.resourceType);
  return { ...ref, provider };
}

/** The path of an ARM ID with each segment encoded, without the leading slash (what the SDK's `{+resourceId}` expands). */
function encodedPath(id: string): string {
  return id
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map(encodeURIComponent)
    .join("/");
}

function urlOf(endpoint: string, id: string, apiVersion: string, child?: string): string {
  return `${endpoint.replace(/\/+$/, "")}/${encodedPath(id)}${child ?? ""}?api-version=${encodeURIComponent(apiVersion)}`;
}

function parseSerializedOperation(serializedState: string): SetStatusRequest & { operation: ArmOperationState } {
  let raw: unknown;
  try {
    raw = JSON.parse(serializedState);
  } catch {
    raw = undefined;
  }
  const parsed = serializedOperationSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PortcullisError("invalid-input", "The serialized operation state was not produced by beginSetConnectionStatus.", {
      code: "InvalidOperationState",
    });
  }
  return parsed.data;
}

/** Builds the port over the lazily created per-subscription clients. */
export function createPrivateLinkPort(clients: ArmClients, options: PrivateLinkPortOptions): PrivateLinkPort {
  const updateIntervalInMs = options.pollIntervalInMs;

  /** The set-status PUT on one connection: where it goes, how its result is read, how it is serialized. */
  async function setStatusTarget(request: SetStatusRequest): Promise<ArmPutTarget<PrivateEndpointConnection>> {
    const ref = requireConnection(request.connectionId);
    const { pipeline } = await armCall(() => clients.resources(ref.subscriptionId));
    return {
      client: pipeline,
      endpoint: options.endpoint,
      resourceUrl: urlOf(options.endpoint, request.connectionId, ref.provider.apiVersion),
      toResult: (body) => toPrivateEndpointConnectionFromWire(body, ref.resourceId),
      pollIntervalInMs: options.pollIntervalInMs,
      serialize: (operation) => JSON.stringify({ kind: SERIALIZED_KIND, ...request, operation }),
      description: `setting ${request.connectionId} to ${request.status}`,
      synchronous: !ref.provider.connectionWrite.longRunning,
    };
  }

  async function* connectionPages(ref: ResourceRef, abortSignal: AbortSignal | undefined): AsyncGenerator<PrivateEndpointConnection> {
    const { pipeline } = await armCall(() => clients.resources(ref.subscriptionId));
    const target = { client: pipeline, description: `listing the private endpoint connections of ${ref.resourceId}` };
    const seen = new Set<string>();
    let url: string | undefined = urlOf(options.endpoint, ref.resourceId, ref.provider.apiVersion, "/privateEndpointConnections");
    while (url !== undefined) {
      seen.add(url);
      const answer = await sendArmRequest(target, "GET", url, undefined, abortSignal);
      const page = toListPage(answer.body, "private endpoint connections", ref.resourceId);
      for (const item of page.value) yield toPrivateEndpointConnectionFromWire(item, ref.resourceId);
      if (page.nextLink === undefined) return;
      // The pipeline attaches the ARM token to every request: follow only links on ARM's own origin, and never in a loop.
      if (!isUrlOfEndpoint(page.nextLink, options.endpoint)) {
        throw malformed("list of private endpoint connections of", ref.resourceId, `its nextLink '${page.nextLink}' is not on the ARM endpoint`);
      }
      if (seen.has(page.nextLink)) throw malformed("list of private endpoint connections of", ref.resourceId, "its nextLink repeats an earlier page");
      url = page.nextLink;
    }
  }

  return {
    async getResource(resourceId, opts?: OperationOptions) {
      const ref = requireResource(resourceId);
      const { client } = await armCall(() => clients.resources(ref.subscriptionId));
      const model = await armGet(() => client.resources.getById(encodedPath(resourceId), ref.provider.apiVersion, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toPrivateLinkResource(model, ref.provider.resourceType);
    },

    listResourcesBySubscription(subscriptionId, resourceType, opts) {
      const id = requireRef((s) => (SUBSCRIPTION_ID.test(s) ? s : undefined), subscriptionId, "subscription");
      const provider = providerOf(resourceType);
      if (provider === undefined) throw unregistered(resourceType);
      return walkPages(
        async () =>
          (await clients.resources(id)).client.resources.list({
            filter: `resourceType eq '${provider.resourceType}'`,
            abortSignal: opts?.abortSignal,
          }),
        (model) => toPrivateLinkResource(model, provider.resourceType),
      );
    },

    listConnections(resourceId, opts) {
      const ref = requireResource(resourceId);
      return connectionPages(ref, opts?.abortSignal);
    },

    async getConnection(connectionId, opts) {
      const ref = requireConnection(connectionId);
      const { client } = await armCall(() => clients.resources(ref.subscriptionId));
      const model = await armGet(() => client.resources.getById(encodedPath(connectionId), ref.provider.apiVersion, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toPrivateEndpointConnectionFromWire(model, ref.resourceId);
    },

    async beginSetConnectionStatus(connectionId, status, description, opts): Promise<LongRunningOperation<PrivateEndpointConnection>> {
      const request = { connectionId, status, description };
      // The connection's own `id` goes in the body: APIM refuses the PUT without it (DOMAIN.md corrections); the other
      // providers' specs accept it (it is the resource's read-only id).
      const body = { id: connectionId, properties: { privateLinkServiceConnectionState: { status, description } } };
      return beginArmPut(await setStatusTarget(request), body, opts?.abortSignal !== undefined ? { abortSignal: opts.abortSignal } : {});
    },

    async resumeSetConnectionStatus(serializedState, opts) {
      const { operation, ...request } = parseSerializedOperation(serializedState);
      return resumeArmPut(await setStatusTarget(request), operation, opts?.abortSignal !== undefined ? { abortSignal: opts.abortSignal } : {});
    },

    async deleteConnection(connectionId, opts) {
      const ref = requireConnection(connectionId);
      const { client } = await armCall(() => clients.resources(ref.subscriptionId));
      await armGet(() =>
        armWrite(() =>
          client.resources.deleteById(encodedPath(connectionId), ref.provider.apiVersion, { abortSignal: opts?.abortSignal, updateIntervalInMs }).pollUntilDone(),
        ),
      );
    },

    async setPublicNetworkAccess(resourceId, value, opts) {
      const ref = requireResource(resourceId);
      const shape = ref.provider.publicNetworkAccess;
      if (shape === undefined) {
        throw new PortcullisError("invalid-input", `${ref.provider.resourceType} has no publicNetworkAccess property.`, { code: "PublicNetworkAccessNotSupported" });
      }
      if (!shape.patchable) {
        // Only a PUT of the whole resource changes it; without an ETag on the generic model that PUT could undo a change
        // someone made between the read and the write, so Portcullis does not send it: the owner changes it.
        throw new PortcullisError("invalid-input", `${ref.provider.resourceType}'s update (PATCH) does not carry publicNetworkAccess; change it on the resource itself.`, {
          code: "PublicNetworkAccessNotPatchable",
        });
      }
      const canonical = shape.values.find((v) => v.toLowerCase() === value.toLowerCase());
      if (canonical === undefined) {
        throw new PortcullisError("invalid-input", `'${value}' is not a publicNetworkAccess value of ${ref.provider.resourceType} (${shape.values.join(", ")}).`, {
          code: "InvalidPublicNetworkAccess",
        });
      }
      const { client } = await armCall(() => clients.resources(ref.subscriptionId));
      const model = await armWrite(() =>
        client.resources
          .updateById(encodedPath(resourceId), ref.provider.apiVersion, { properties: { [shape.property]: canonical } }, { abortSignal: opts?.abortSignal, updateIntervalInMs })
          .pollUntilDone(),
      );
      return toPrivateLinkResource(model, ref.provider.resourceType);
    },
  };
}
