/**
 * ApimPort over @azure/arm-apimanagement (api-version 2024-05-01): services and their private endpoint
 * connections. Approve / reject is the SDK's long-running PUT on privateEndpointConnectionOperations,
 * wrapped as a LongRunningOperation whose serialized form can be resumed in another process.
 */
import { z } from "zod";
import type { ApimPort, LongRunningOperation, OperationOptions } from "../../ports/arm.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../../domain/model.ts";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { apimServiceId, parseApimServiceId, parseConnectionId, type ConnectionRef } from "../../domain/resource-id.ts";
import type { ArmClients } from "./clients.ts";
import { toApimService, toPrivateEndpointConnection } from "./convert.ts";
import { armCall, armGet, requireRef, walkPages } from "./sdk-calls.ts";

/** The slice of the SDK's SimplePollerLike (core-lro 2) that the wrapper uses. */
interface SdkPoller {
  poll(options?: { abortSignal?: AbortSignal }): Promise<void>;
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  isDone(): boolean;
  getOperationState(): { status: string; error?: Error };
  getResult(): unknown;
  toString(): string;
}

type DecidedStatus = Exclude<ConnectionStatus, "Pending">;

const SERIALIZED_KIND = "portcullis/arm/set-connection-status@1";

const serializedOperationSchema = z.object({
  kind: z.literal(SERIALIZED_KIND),
  connectionId: z.string().refine((id) => parseConnectionId(id) !== undefined, "not a private endpoint connection ID"),
  status: z.enum(["Approved", "Rejected"]),
  description: z.string(),
  sdkState: z.string().min(1),
});

interface SetStatusRequest {
  readonly connectionId: string;
  readonly status: DecidedStatus;
  readonly description: string;
}

/** Tuning of the APIM port (tests shorten the poll interval). */
export interface ApimPortOptions {
  /** Poll interval of long-running operations when ARM sends no Retry-After. */
  readonly pollIntervalInMs: number;
}

const SUBSCRIPTION_ID = /^[0-9a-fA-F-]{1,64}$/;

function parseSubscriptionId(id: string): string | undefined {
  return SUBSCRIPTION_ID.test(id) ? id : undefined;
}

function parseSerializedOperation(serializedState: string): SetStatusRequest & { sdkState: string } {
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

/**
 * Settles when `work` does or as soon as `signal` aborts. The SDK's LRO poll requests ignore the abort signal (it
 * lands in the operation spec, not the request options), so a slow poll would otherwise hold a bounded wait.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException("The operation was aborted.", "AbortError"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Wraps the SDK poller of a set-status PUT; every result is parsed into the domain before it leaves. */
function wrapSetStatusPoller(poller: SdkPoller, request: SetStatusRequest, ref: ConnectionRef): LongRunningOperation<PrivateEndpointConnection> {
  const toConnection = (model: unknown) => toPrivateEndpointConnection(model, apimServiceId(ref));
  return {
    async poll(options) {
      if (poller.isDone()) return;
      await armCall(() => untilAborted(poller.poll({ abortSignal: options?.abortSignal }), options?.abortSignal));
    },
    isDone: () => poller.isDone(),
    result() {
      const state = poller.getOperationState();
      if (state.status === "failed" || state.status === "canceled") {
        throw toPortcullisError(state.error ?? new Error(`Setting ${request.connectionId} to ${request.status} was ${state.status}.`));
      }
      return state.status === "succeeded" ? toConnection(poller.getResult()) : undefined;
    },
    async pollUntilDone(options) {
      return toConnection(await armCall(() => untilAborted(poller.pollUntilDone({ abortSignal: options?.abortSignal }), options?.abortSignal)));
    },
    serialize: () => JSON.stringify({ kind: SERIALIZED_KIND, ...request, sdkState: poller.toString() }),
  };
}

/** Builds the APIM port over the lazily created per-subscription clients. */
export function createApimPort(clients: ArmClients, options: ApimPortOptions): ApimPort {
  const updateIntervalInMs = options.pollIntervalInMs;

  async function startSetStatus(request: SetStatusRequest, resumeFrom: string | undefined, abortSignal: AbortSignal | undefined) {
    const ref = requireRef(parseConnectionId, request.connectionId, "private endpoint connection");
    const client = await clients.apim(ref.subscriptionId);
    const poller = await armCall(() =>
      client.privateEndpointConnectionOperations.beginCreateOrUpdate(
        ref.resourceGroup,
        ref.serviceName,
        ref.connectionName,
        {
          id: request.connectionId,
          properties: { privateLinkServiceConnectionState: { status: request.status, description: request.description } },
        },
        { abortSignal, updateIntervalInMs, ...(resumeFrom !== undefined ? { resumeFrom } : {}) },
      ),
    );
    return wrapSetStatusPoller(poller, request, ref);
  }

  return {
    async getService(serviceId, opts?: OperationOptions) {
      const ref = requireRef(parseApimServiceId, serviceId, "API Management service");
      const client = await clients.apim(ref.subscriptionId);
      const model = await armGet(() => client.apiManagementService.get(ref.resourceGroup, ref.serviceName, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toApimService(model);
    },

    listServicesBySubscription(subscriptionId, opts) {
      const id = requireRef(parseSubscriptionId, subscriptionId, "subscription");
      return walkPages(async () => (await clients.apim(id)).apiManagementService.list({ abortSignal: opts?.abortSignal }), toApimService);
    },

    listConnections(serviceId, opts) {
      const ref = requireRef(parseApimServiceId, serviceId, "API Management service");
      return walkPages(
        async () =>
          (await clients.apim(ref.subscriptionId)).privateEndpointConnectionOperations.listByService(ref.resourceGroup, ref.serviceName, {
            abortSignal: opts?.abortSignal,
          }),
        (model) => toPrivateEndpointConnection(model, serviceId),
      );
    },

    async getConnection(connectionId, opts) {
      const ref = requireRef(parseConnectionId, connectionId, "private endpoint connection");
      const client = await clients.apim(ref.subscriptionId);
      const model = await armGet(() =>
        client.privateEndpointConnectionOperations.getByName(ref.resourceGroup, ref.serviceName, ref.connectionName, { abortSignal: opts?.abortSignal }),
      );
      return model === undefined ? undefined : toPrivateEndpointConnection(model, apimServiceId(ref));
    },

    async beginSetConnectionStatus(connectionId, status, description, opts) {
      return startSetStatus({ connectionId, status, description }, undefined, opts?.abortSignal);
    },

    async resumeSetConnectionStatus(serializedState, opts) {
      const { sdkState, ...request } = parseSerializedOperation(serializedState);
      return startSetStatus(request, sdkState, opts?.abortSignal);
    },

    async deleteConnection(connectionId, opts) {
      const ref = requireRef(parseConnectionId, connectionId, "private endpoint connection");
      const client = await clients.apim(ref.subscriptionId);
      await armGet(() =>
        client.privateEndpointConnectionOperations.beginDeleteAndWait(ref.resourceGroup, ref.serviceName, ref.connectionName, {
          abortSignal: opts?.abortSignal,
          updateIntervalInMs,
        }),
      );
    },

    async setPublicNetworkAccess(serviceId, value, opts) {
      const ref = requireRef(parseApimServiceId, serviceId, "API Management service");
      const client = await clients.apim(ref.subscriptionId);
      const model = await armCall(() =>
        client.apiManagementService.beginUpdateAndWait(ref.resourceGroup, ref.serviceName, { publicNetworkAccess: value }, {
          abortSignal: opts?.abortSignal,
          updateIntervalInMs,
        }),
      );
      return toApimService(model);
    },
  };
}
