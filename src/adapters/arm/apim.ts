/**
 * ApimPort over @azure/arm-apimanagement (api-version 2024-05-01): what only API Management has (platform version,
 * VNet mode, SKU), for the audit's prerequisite and capacity checks. Its connections and public network access go
 * through the generic PrivateLinkPort (./private-link.ts) like every registered type's.
 */
import type { ApimPort, OperationOptions } from "../../ports/arm.ts";
import { parseApimServiceId } from "../../domain/resource-id.ts";
import type { ArmClients } from "./clients.ts";
import { toApimService } from "./convert.ts";
import { armGet, requireRef, walkPages } from "./sdk-calls.ts";

const SUBSCRIPTION_ID = /^[0-9a-fA-F-]{1,64}$/;

function parseSubscriptionId(id: string): string | undefined {
  return SUBSCRIPTION_ID.test(id) ? id : undefined;
}

/** Builds the APIM port over the lazily created per-subscription clients. */
export function createApimPort(clients: ArmClients): ApimPort {
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
  };
}
