/**
 * A small estate for the Resource Graph tests: the shared emulator test topology plus private endpoints to two APIM
 * instances (three Pending, one Approved, one Rejected connection), so queries have connections of every state, NICs
 * and endpoints in another subscription, and instances with none.
 */
import type { TopologyInput } from "../../../../dev/arm-emulator/index.ts";
import { PROVIDER_SUB, serviceId, SUBNET_ID, testTopology, CONSUMER_SUB } from "../helpers.ts";

export { PROVIDER_SUB, CONSUMER_SUB, serviceId };

export const GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01";

export function graphEstate(): TopologyInput {
  const topology = testTopology() as { subscriptions: { id: string; resourceGroups: { name: string; privateEndpoints?: unknown[] }[] }[] };
  const consumer = topology.subscriptions.find((s) => s.id === CONSUMER_SUB)!;
  const endpoint = (name: string, service: string, extra: Record<string, unknown> = {}) => ({
    name,
    location: "westeurope",
    subnetId: SUBNET_ID,
    privateLinkServiceId: serviceId(service),
    requestMessage: `from ${name}`,
    ...extra,
  });
  consumer.resourceGroups[0]!.privateEndpoints = [
    endpoint("pe-1", "Contoso-Apim"),
    endpoint("pe-2", "Contoso-Apim"),
    endpoint("pe-3", "Contoso-Apim", { status: "Approved" }),
    endpoint("pe-4", "apim-dev"),
    endpoint("pe-5", "apim-dev", { status: "Rejected" }),
  ];
  return topology as TopologyInput;
}
