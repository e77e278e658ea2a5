/**
 * ApimPort over @azure/arm-apimanagement (api-version 2024-05-01): services and their private endpoint
 * connections. Approve / reject is a long-running PUT on privateEndpointConnections/{name}, sent through the SDK
 * client's pipeline and followed by ./async-operation.ts (which, unlike the SDK's poller, polls only when asked),
 * wrapped as a LongRunningOperation whose serialized form can be resumed in another process.
 */
import { z } from "zod";
import type { ApimPort, LongRunningOperation, OperationOptions } from "../../ports/arm.ts";
import type { ConnectionStatus, PrivateEndpointConnection } from "../../domain/model.ts";
import { PortcullisError } from "../../domain/errors.ts";
import { apimServiceId, parseApimServiceId, parseConnectionId, type ConnectionRef } from "../../domain/resource-id.ts";
import { armOperationStateSchema, beginArmPut, resumeArmPut, type ArmOperationState, type ArmPutTarget } from "./async-operation.ts";
import type { ArmClients } from "./clients.ts";
import { toApimService, toPrivateEndpointConnection, toPrivateEndpointConnectionFromWire } from "./convert.ts";
import { armCall, armGet, armWrite, requireRef, walkPages } from "./sdk-calls.ts";

type DecidedStatus = Exclude<ConnectionStatus, "Pending">;

const SERIALIZED_KIND = "portcullis/arm/set-connection-status@2";

const serializedOperationSchema = z.object({
  kind: z.literal(SERIALIZED_KIND),
  connectionId: z.string().refine((id) => parseConnectionId(id) !== undefined, "not a private endpoint connection ID"),
  status: z.enum(["Approved", "Rejected"]),
  description: z.string(),
  operation: armOperationStateSchema,
});

interface SetStatusRequest {
  readonly connectionId: string;
  readonly status: DecidedStatus;
  readonly description: string;
}

/** Where and how the APIM port talks to ARM (tests shorten the poll interval). */
export interface ApimPortOptions {
  /** ARM base URL the clients use; set-status requests and their polls go there and nowhere else. */
  readonly endpoint: string;
  /** Poll interval of long-running operations when ARM sends no Retry-After. */
  readonly pollIntervalInMs: number;
}

const SUBSCRIPTION_ID = /^[0-9a-fA-F-]{1,64}$/;

function parseSubscriptionId(id: string): string | undefined {
  return SUBSCRIPTION_ID.test(id) ? id : undefined;
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

/** The connection's URL under the ARM endpoint, as the SDK builds it (each name encoded), with the client's api-version. */
function connectionUrl(endpoint: string, ref: ConnectionRef, apiVersion: string): string {
  const path = [
    "subscriptions",
    ref.subscriptionId,
    "resourceGroups",
    ref.resourceGroup,
    "providers",
    "Microsoft.ApiManagement",
    "service",
    ref.serviceName,
    "privateEndpointConnections",
    ref.connectionName,
  ]
    .map(encodeURIComponent)
    .join("/");
  return `${endpoint.replace(/\/+$/, "")}/${path}?api-version=${encodeURIComponent(apiVersion)}`;
}

/** Builds the APIM port over the lazily created per-subscription clients. */
export function createApimPort(clients: ArmClients, options: ApimPortOptions): ApimPort {
  const updateIntervalInMs = options.pollIntervalInMs;

  /** The set-status PUT on one connection: where it goes, how its result is read, how it is serialized. */
  async function setStatusTarget(request: SetStatusRequest): Promise<ArmPutTarget<PrivateEndpointConnection>> {
    const ref = requireRef(parseConnectionId, request.connectionId, "private endpoint connection");
    const client = await armCall(() => clients.apim(ref.subscriptionId));
    const resourceId = apimServiceId(ref);
    return {
      client,
      endpoint: options.endpoint,
      resourceUrl: connectionUrl(options.endpoint, ref, client.apiVersion),
      toResult: (body) => toPrivateEndpointConnectionFromWire(body, resourceId),
      pollIntervalInMs: options.pollIntervalInMs,
      serialize: (operation) => JSON.stringify({ kind: SERIALIZED_KIND, ...request, operation }),
      description: `setting ${request.connectionId} to ${request.status}`,
    };
  }

  async function beginSetStatus(request: SetStatusRequest, abortSignal: AbortSignal | undefined): Promise<LongRunningOperation<PrivateEndpointConnection>> {
    const body = {
      id: request.connectionId,
      properties: { privateLinkServiceConnectionState: { status: request.status, description: request.description } },
    };
    return beginArmPut(await setStatusTarget(request), body, abortSignal !== undefined ? { abortSignal } : {});
  }

  return {
    async getService(resourceId, opts?: OperationOptions) {
      const ref = requireRef(parseApimServiceId, resourceId, "API Management service");
      const client = await clients.apim(ref.subscriptionId);
      const model = await armGet(() => client.apiManagementService.get(ref.resourceGroup, ref.serviceName, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toApimService(model);
    },

    listServicesBySubscription(subscriptionId, opts) {
      const id = requireRef(parseSubscriptionId, subscriptionId, "subscription");
      return walkPages(async () => (await clients.apim(id)).apiManagementService.list({ abortSignal: opts?.abortSignal }), toApimService);
    },

    listConnections(resourceId, opts) {
      const ref = requireRef(parseApimServiceId, resourceId, "API Management service");
      return walkPages(
        async () =>
          (await clients.apim(ref.subscriptionId)).privateEndpointConnectionOperations.listByService(ref.resourceGroup, ref.serviceName, {
            abortSignal: opts?.abortSignal,
          }),
        (model) => toPrivateEndpointConnection(model, resourceId),
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
      return beginSetStatus({ connectionId, status, description }, opts?.abortSignal);
    },

    async resumeSetConnectionStatus(serializedState, opts) {
      const { operation, ...request } = parseSerializedOperation(serializedState);
      return resumeArmPut(await setStatusTarget(request), operation, opts?.abortSignal !== undefined ? { abortSignal: opts.abortSignal } : {});
    },

    async deleteConnection(connectionId, opts) {
      const ref = requireRef(parseConnectionId, connectionId, "private endpoint connection");
      const client = await clients.apim(ref.subscriptionId);
      await armGet(() =>
        armWrite(() =>
          client.privateEndpointConnectionOperations.beginDeleteAndWait(ref.resourceGroup, ref.serviceName, ref.connectionName, {
            abortSignal: opts?.abortSignal,
            updateIntervalInMs,
          }),
        ),
      );
    },

    async setPublicNetworkAccess(resourceId, value, opts) {
      const ref = requireRef(parseApimServiceId, resourceId, "API Management service");
      const client = await clients.apim(ref.subscriptionId);
      const model = await armWrite(() =>
        client.apiManagementService.beginUpdateAndWait(ref.resourceGroup, ref.serviceName, { publicNetworkAccess: value }, {
          abortSignal: opts?.abortSignal,
          updateIntervalInMs,
        }),
      );
      return toApimService(model);
    },
  };
}
