/**
 * The ARM operations whose Microsoft.Resources.* events Portcullis acts on. The Event Grid subscription
 * filter in infra/ lists exactly these (a test checks it), so no event is paid for and then ignored.
 */
export const CONSUMER_ENDPOINT_WRITE = "Microsoft.Network/privateEndpoints/write";
export const CONSUMER_ENDPOINT_DELETE = "Microsoft.Network/privateEndpoints/delete";
export const PROVIDER_CONNECTION_PROXY_WRITE = "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write";
export const PROVIDER_CONNECTION_PROXY_DELETE = "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete";
export const PROVIDER_CONNECTION_WRITE = "Microsoft.ApiManagement/service/privateEndpointConnections/write";
export const PROVIDER_CONNECTION_DELETE = "Microsoft.ApiManagement/service/privateEndpointConnections/delete";

export const HANDLED_OPERATION_NAMES: readonly string[] = [
  CONSUMER_ENDPOINT_WRITE,
  CONSUMER_ENDPOINT_DELETE,
  PROVIDER_CONNECTION_PROXY_WRITE,
  PROVIDER_CONNECTION_PROXY_DELETE,
  PROVIDER_CONNECTION_WRITE,
  PROVIDER_CONNECTION_DELETE,
];

export const HANDLED_EVENT_TYPES: readonly string[] = [
  "Microsoft.Resources.ResourceWriteSuccess",
  "Microsoft.Resources.ResourceDeleteSuccess",
];
