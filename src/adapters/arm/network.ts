/**
 * NetworkPort over @azure/arm-network 39 (TypeSpec-generated client, api-version 2026-01-01): the consumer's
 * private endpoints, their NICs and private DNS zone groups. Endpoints may sit in other subscriptions or
 * tenants; a 403 leaves as kind "forbidden" so the engine can treat the requester as unknown.
 */
import type { NetworkPort } from "../../ports/arm.ts";
import { parsePrivateEndpointId, parseTopLevelResourceId } from "../../domain/resource-id.ts";
import type { ArmClients } from "./clients.ts";
import { toNetworkInterface, toPrivateDnsZoneGroup, toPrivateEndpoint } from "./convert.ts";
import { armGet, requireRef, walkPages } from "./sdk-calls.ts";

function parseNetworkInterfaceId(id: string): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  return parseTopLevelResourceId(id, "Microsoft.Network", "networkInterfaces");
}

/** Builds the network port over the lazily created per-subscription clients. */
export function createNetworkPort(clients: ArmClients): NetworkPort {
  return {
    async getPrivateEndpoint(privateEndpointId, opts) {
      const ref = requireRef(parsePrivateEndpointId, privateEndpointId, "private endpoint");
      const client = await clients.network(ref.subscriptionId);
      const model = await armGet(() => client.privateEndpoints.get(ref.resourceGroup, ref.privateEndpointName, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toPrivateEndpoint(model);
    },

    async getNetworkInterface(networkInterfaceId, opts) {
      const ref = requireRef(parseNetworkInterfaceId, networkInterfaceId, "network interface");
      const client = await clients.network(ref.subscriptionId);
      const model = await armGet(() => client.networkInterfaces.get(ref.resourceGroup, ref.name, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toNetworkInterface(model);
    },

    listPrivateDnsZoneGroups(privateEndpointId, opts) {
      const ref = requireRef(parsePrivateEndpointId, privateEndpointId, "private endpoint");
      return walkPages(
        async () =>
          (await clients.network(ref.subscriptionId)).privateDnsZoneGroups.list(ref.resourceGroup, ref.privateEndpointName, {
            abortSignal: opts?.abortSignal,
          }),
        toPrivateDnsZoneGroup,
      );
    },
  };
}
