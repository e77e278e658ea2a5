/**
 * test/support/deployed-roles.ts and local-arm.ts for deployments governing several types: the app settings map to
 * infra parameters as main.bicep maps them, and the roles that come back let the app make exactly the ARM calls it
 * makes on each governed type, at the scopes ARM authorizes them (checked with the ARM emulator's own authorization,
 * dev/arm-emulator/rbac.ts, which maps a request path to its action and scope the way ARM does).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { definitionIndex, isAuthorized, requiredPermission } from "../../dev/arm-emulator/rbac.ts";
import { decideActions, PRIVATE_LINK_PROVIDERS, readActions, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";
import { ArmDeploymentFailure } from "../support/arm-template.ts";
import { deployedRoles, rolesNamed, withoutAction, type DeployedRoles } from "../support/deployed-roles.ts";
import { APP_PRINCIPAL_ID, infraParametersFor } from "../support/local-arm.ts";

const HOME = "a0a0a0a0-0000-4000-8000-000000000001";
const MANAGED = "b1b1b1b1-0000-4000-8000-000000000009";
const TOPOLOGY = { subscriptions: [{ id: HOME, tenantId: "00000000-0000-4000-8000-0000000000aa" }] } as never;

const resourceOf = (provider: PrivateLinkProvider, subscriptionId = HOME) =>
  `/subscriptions/${subscriptionId}/resourceGroups/rg-gov/providers/${provider.resourceType}/${provider.resourceType.split("/")[1]!.toLowerCase()}1`;

/**
 * The request paths the app sends for an action on a resource: the resource itself, a child of it, or (for polling
 * actions under {namespace}/locations) the subscription-level URL ARM answers a long-running write with.
 */
function pathFor(action: string, resourceId: string): { method: string; path: string } {
  const parts = action.split("/");
  const verb = parts.pop()!;
  const method = verb === "read" ? "GET" : verb === "write" ? "PUT" : "DELETE";
  const [namespace, ...types] = parts;
  const subscriptionId = resourceId.split("/")[2]!;
  if (types[0]?.toLowerCase() === "locations") {
    return { method, path: `/subscriptions/${subscriptionId}/providers/${namespace}/locations/westeurope/${types.slice(1).map((t, i) => `${t}/op${i}`).join("/")}` };
  }
  const resourceType = `${namespace}/${types[0]}`;
  assert.ok(resourceId.toLowerCase().includes(`/providers/${resourceType.toLowerCase()}/`), `${action} belongs to ${resourceId}`);
  return { method, path: `${resourceId}${types.slice(1).map((t, i) => `/${t}/child${i}`).join("")}` };
}

function allows(roles: DeployedRoles, action: string, resourceId: string): boolean {
  const { method, path } = pathFor(action, resourceId);
  const permission = requiredPermission(method, path);
  assert.ok(permission, `${method} ${path} names an ARM resource`);
  assert.equal(permission.action.toLowerCase(), action.toLowerCase(), `${method} ${path} is authorized as ${action}`);
  return isAuthorized(APP_PRINCIPAL_ID, permission, roles.roleAssignments, definitionIndex(roles.roleDefinitions));
}

describe("deployed roles for app settings governing several types (local-arm.ts)", () => {
  const resources = PRIVATE_LINK_PROVIDERS.map((p) => resourceOf(p));
  const env = {
    PORTCULLIS_MANAGED_RESOURCE_TYPES: PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType).join(","),
    PORTCULLIS_MANAGED_RESOURCES: resources.slice(1).join(","),
    PORTCULLIS_MANAGED_INSTANCES: resources[0]!, // the deprecated setting still counts
  };
  const roles = deployedRoles(infraParametersFor(env, TOPOLOGY));

  it("maps PORTCULLIS_MANAGED_RESOURCE_TYPES / _RESOURCES / _INSTANCES to main.bicep's parameters", () => {
    const parameters = infraParametersFor(env, TOPOLOGY);
    assert.deepEqual(parameters.managedResourceTypes, PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType));
    assert.deepEqual(parameters.managedResourceIds, resources.slice(1));
    assert.deepEqual(parameters.managedInstanceIds, [resources[0]]);
    assert.equal(parameters.deploymentSubscriptionId, HOME);
    assert.equal(infraParametersFor({ PORTCULLIS_MANAGED_INSTANCES: resources[0]! }, TOPOLOGY).managedResourceTypes, undefined, "unset: the template's default (API Management)");
  });

  for (const [i, provider] of PRIVATE_LINK_PROVIDERS.entries()) {
    it(`lets the app read, decide and poll on ${provider.resourceType} at the resource, and nothing on the others' resources`, () => {
      for (const action of [...readActions(provider), ...decideActions(provider)]) assert.ok(allows(roles, action, resources[i]!), `${action} on ${resources[i]}`);
      assert.ok(!allows(roles, `${provider.resourceType}/write`, resources[i]!), "no write of the resource itself with remediation off");
      assert.ok(!allows(roles, `${provider.resourceType}/privateEndpointConnections/delete`, resources[i]!), "no connection delete");
      const other = PRIVATE_LINK_PROVIDERS[(i + 1) % PRIVATE_LINK_PROVIDERS.length]!;
      const elsewhere = resourceOf(provider).replace("/rg-gov/", "/rg-elsewhere/");
      assert.ok(!allows(roles, readActions(provider)[0]!, elsewhere), "nothing on an ungoverned resource of the same type");
      assert.ok(!allows(roles, `${other.resourceType}/privateEndpointConnections/write`, resourceOf(other).replace("/rg-gov/", "/rg-elsewhere/")));
    });
  }

  it("needs the operation status reader for a poll at the subscription: without it the poll is refused (a test can fail)", () => {
    const sql = PRIVATE_LINK_PROVIDERS.find((p) => decideActions(p).some((a) => /\/locations\//i.test(a)));
    assert.ok(sql, "some registered type polls at the subscription");
    const poll = decideActions(sql).find((a) => /\/locations\//i.test(a))!;
    const resource = resourceOf(sql);
    assert.ok(allows(roles, poll, resource));
    assert.equal(rolesNamed(roles, "Portcullis ").filter((d) => d.roleName.includes("operation status reader")).length > 0, true);
    assert.ok(!allows(withoutAction(roles, poll), poll, resource));
  });

  it("grants every governed type in a managed subscription", () => {
    const subscriptionRoles = deployedRoles(
      infraParametersFor({ PORTCULLIS_MANAGED_RESOURCE_TYPES: env.PORTCULLIS_MANAGED_RESOURCE_TYPES, PORTCULLIS_MANAGED_SUBSCRIPTIONS: MANAGED }, TOPOLOGY, { deploymentSubscriptionId: HOME }),
    );
    for (const provider of PRIVATE_LINK_PROVIDERS) {
      for (const action of [...readActions(provider), ...decideActions(provider)]) assert.ok(allows(subscriptionRoles, action, resourceOf(provider, MANAGED)), `${action} in the managed subscription`);
      assert.ok(!allows(subscriptionRoles, readActions(provider)[0]!, resourceOf(provider)), "nothing outside it");
    }
  });

  it("refuses, as the deployment would, a governed resource whose type the settings do not govern", () => {
    assert.throws(
      () => deployedRoles(infraParametersFor({ PORTCULLIS_MANAGED_RESOURCES: resources[2]! }, TOPOLOGY)),
      (e: unknown) => e instanceof ArmDeploymentFailure && /not in managedResourceTypes/.test(e.message),
    );
  });
});
