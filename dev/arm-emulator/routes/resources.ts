/**
 * Microsoft.Resources' subscription resource list (Resources_List, resources/resource-manager/Microsoft.Resources/
 * stable/<v>/resources.json): `GET /subscriptions/{s}/resources?$filter=resourceType eq '{type}'&api-version=...`,
 * GenericResourceExpanded items (id, name, type, location, tags, sku, kind; no properties without $expand), paged by
 * nextLink ($top caps a page).
 *
 * Authorization: the request's action is `Microsoft.Resources/subscriptions/resources/read` at the subscription
 * (rbac.ts derives it from the path). ARM does not refuse a caller who lacks it there but may read some resources in
 * the subscription: it answers with those it may read (each item needs the item type's `read` at the item). A caller
 * with no access anywhere in the subscription gets 403 AuthorizationFailed naming the list's action. (ARM's per-item
 * filtering is how the portal and `az resource list` behave for resource-group-scoped readers; the precise check ARM
 * makes per item is not published — `{type}/read` at the item is the emulator's inference.)
 */
import { ArmError } from "../errors.ts";
import { authorizationFailedMessage } from "../rbac.ts";
import { defineRoute, pageOf, param, type ArmRequest, type ArmResponse, type EmulatorEnv, type Route } from "../routing.ts";
import { resourceListItem } from "./private-link.ts";

const LIST_ACTION = "Microsoft.Resources/subscriptions/resources/read";

interface ListedResource {
  readonly id: string;
  readonly type: string;
  readonly item: Record<string, unknown>;
}

function everyResource(env: EmulatorEnv, subscriptionId: string): ListedResource[] {
  const state = env.state;
  const sub = state.requireSubscription(subscriptionId);
  const inSub = (id: string) => id.toLowerCase().startsWith(`/subscriptions/${sub.id.toLowerCase()}/`);
  const out: ListedResource[] = [];
  for (const svc of state.apimServices.values()) {
    if (!inSub(svc.id)) continue;
    out.push({
      id: svc.id,
      type: "Microsoft.ApiManagement/service",
      item: { id: svc.id, name: svc.name, type: "Microsoft.ApiManagement/service", location: svc.location, tags: { ...svc.tags }, sku: { name: svc.skuName, capacity: svc.skuCapacity } },
    });
  }
  for (const resource of state.privateLinkResources.values()) {
    if (inSub(resource.id)) out.push({ id: resource.id, type: resource.profile.provider.resourceType, item: resourceListItem(resource) });
  }
  const plain = (id: string, name: string, type: string, location: string | undefined, tags: Record<string, string>) => ({
    id,
    type,
    item: { id, name, type, ...(location === undefined ? {} : { location }), tags: { ...tags } },
  });
  for (const v of state.virtualNetworks.values()) if (inSub(v.id)) out.push(plain(v.id, v.name, "Microsoft.Network/virtualNetworks", v.location, v.tags));
  for (const pe of state.privateEndpoints.values()) if (inSub(pe.id)) out.push(plain(pe.id, pe.name, "Microsoft.Network/privateEndpoints", pe.location, pe.tags));
  for (const nic of state.networkInterfaces.values()) if (inSub(nic.id)) out.push(plain(nic.id, nic.name, "Microsoft.Network/networkInterfaces", nic.location, {}));
  for (const z of state.privateDnsZones.values()) if (inSub(z.id)) out.push(plain(z.id, z.name, "Microsoft.Network/privateDnsZones", "global", z.tags));
  return out.sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1));
}

/** `resourceType eq 'Microsoft.X/y'` (any case, either quote); undefined without $filter; 400 for any other filter. */
function typeFilter(request: ArmRequest): string | undefined {
  const filter = request.query.get("$filter");
  if (filter === null || filter.trim() === "") return undefined;
  const match = /^\s*resourceType\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (!match) {
    throw new ArmError(
      400,
      "InvalidFilterInQueryString",
      `The $filter '${filter}' is not supported by the ARM emulator; it understands "resourceType eq '<type>'" only.`,
    );
  }
  return match[1]!;
}

function listResources(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const subscriptionId = param(request, "subscriptionId");
  const type = typeFilter(request);
  const scope = `/subscriptions/${subscriptionId}`;
  const all = everyResource(env, subscriptionId).filter((r) => type === undefined || r.type.toLowerCase() === type.toLowerCase());
  const wholeSubscription = request.authorize(LIST_ACTION, scope);
  const readable = wholeSubscription ? all : all.filter((r) => request.authorize(`${r.type}/read`, r.id));
  if (!wholeSubscription && readable.length === 0) {
    const anyAccess = everyResource(env, subscriptionId).some((r) => request.authorize(`${r.type}/read`, r.id));
    if (!anyAccess) throw new ArmError(403, "AuthorizationFailed", authorizationFailedMessage(request.principalId, { action: LIST_ACTION, scope }));
  }
  return { status: 200, body: pageOf(readable.map((r) => r.item), request, env) };
}

export const resourcesRoutes: readonly Route[] = [
  defineRoute("/subscriptions/{subscriptionId}/resources", "Microsoft.Resources/resources", { GET: listResources }, { filtersByPermission: true }),
];
