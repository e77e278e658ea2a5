/**
 * The role definitions and role assignments infra/ deploys for the Portcullis identity, read from the templates the
 * real Bicep CLI compiles (compiled-infra.ts), so the end-to-end suites run as a principal holding exactly those
 * roles in the ARM emulator: a call the code makes that the deployed roles do not allow fails there with 403.
 *
 * The scopes are template parameters (governed resource types, governed resource IDs of any of those types, managed /
 * consumer subscriptions, DNS zone IDs); the caller maps them to its test topology. A deployment governing several
 * types gets one connection approver role per type (and, for types whose approvals are polled at a subscription-level
 * URL, an operation status reader at the subscription), exactly as infra/app/governance-roles.bicep defines them. The managed identity's principal ID is a runtime value in Azure; here it is
 * the test principal's object ID. Built-in roles are referenced by GUID and known to the emulator (rbac.ts).
 * A role assignment outside its role definition's assignableScopes would be refused by ARM; it throws here.
 */
import type { AuthorizationSeed, RoleAssignment, RoleDefinition } from "../../dev/arm-emulator/index.ts";
import { roleDefinitionGuid, scopeCovers } from "../../dev/arm-emulator/rbac.ts";
import { deployedResources, type DeployedResource, type DeploymentScope } from "./arm-deployment.ts";
import { compileBicep } from "./compiled-infra.ts";

/** The parameters of infra/main.bicep that decide Portcullis's roles, mapped to a test topology. */
export interface InfraRoleParameters {
  /** The managed identity's object ID: the principal the tests' tokens name. */
  readonly principalId: string;
  /** The subscription main.bicep is deployed in (the custom APIM / DNS roles are defined there). */
  readonly deploymentSubscriptionId: string;
  readonly tenantId?: string;
  /**
   * The governed ARM types (main.bicep managedResourceTypes; PORTCULLIS_MANAGED_RESOURCE_TYPES). Unset: the template's
   * default, API Management only. Any casing; each must be registered (src/domain/providers/registry.ts).
   */
  readonly managedResourceTypes?: readonly string[];
  /** Governed resources of any governed type (main.bicep managedResourceIds; PORTCULLIS_MANAGED_RESOURCES). */
  readonly managedResourceIds?: readonly string[];
  /** Deprecated alias of managedResourceIds (main.bicep managedInstanceIds), kept for existing callers. */
  readonly managedInstanceIds?: readonly string[];
  readonly managedSubscriptionIds?: readonly string[];
  readonly consumerSubscriptionIds?: readonly string[];
  readonly dnsZoneIds?: readonly string[];
  readonly remediatePublicNetworkAccess?: boolean;
  readonly remediateDnsRecords?: boolean;
}

/** Custom role definitions (with their assignable scopes) and the identity's role assignments. */
export interface DeployedRoles extends AuthorizationSeed {
  readonly roleDefinitions: readonly (RoleDefinition & { readonly assignableScopes: readonly string[] })[];
  readonly roleAssignments: readonly RoleAssignment[];
}

const MAIN = "infra/main.bicep";
const WIRING = "infra/subscription-wiring.bicep";

/** What infra/main.bicep deploys for the identity with these parameters (subscription-wiring.bicep included as its module). */
export function deployedRoles(parameters: InfraRoleParameters): DeployedRoles {
  const { template } = compileBicep(MAIN);
  const resources = deployedResources(
    template as never,
    {
      environmentName: "portcullis-test",
      location: "westeurope",
      ...(parameters.managedResourceTypes !== undefined ? { managedResourceTypes: parameters.managedResourceTypes } : {}),
      managedResourceIds: parameters.managedResourceIds ?? [],
      managedInstanceIds: parameters.managedInstanceIds ?? [],
      managedSubscriptionIds: parameters.managedSubscriptionIds ?? [],
      consumerSubscriptionIds: parameters.consumerSubscriptionIds ?? [],
      dnsZoneIds: parameters.dnsZoneIds ?? [],
      remediatePublicNetworkAccess: parameters.remediatePublicNetworkAccess ?? false,
      remediateDnsRecords: parameters.remediateDnsRecords ?? false,
    },
    scopeOf(parameters.deploymentSubscriptionId, parameters.tenantId),
    { "Microsoft.ManagedIdentity/userAssignedIdentities": { principalId: parameters.principalId, clientId: "portcullis-test-client" } },
  );
  return rolesOf(resources, parameters.principalId);
}

/** What infra/subscription-wiring.bicep deployed on its own grants the identity in one watched subscription. */
export function wiringRoles(principalId: string, subscriptionId: string, tenantId?: string, managedResourceTypes?: readonly string[]): DeployedRoles {
  const { template } = compileBicep(WIRING);
  const resources = deployedResources(
    template as never,
    {
      deploymentName: "portcullis-test",
      location: "westeurope",
      principalId,
      functionAppResourceId: `/subscriptions/${subscriptionId}/resourceGroups/rg-portcullis/providers/Microsoft.Web/sites/func-portcullis`,
      deadLetterStorageAccountResourceId: `/subscriptions/${subscriptionId}/resourceGroups/rg-portcullis/providers/Microsoft.Storage/storageAccounts/stportcullis`,
      deadLetterContainerName: "eventgrid-deadletter",
      ...(managedResourceTypes !== undefined ? { managedResourceTypes } : {}),
    },
    scopeOf(subscriptionId, tenantId),
  );
  return rolesOf(resources, principalId);
}

/**
 * The same roles with one action taken out of the custom role that holds it (for the negative tests that prove a
 * missing action is caught). Throws when no custom role holds the action.
 */
export function withoutAction(roles: DeployedRoles, action: string): DeployedRoles {
  let removed = false;
  const roleDefinitions = roles.roleDefinitions.map((definition) => ({
    ...definition,
    permissions: definition.permissions.map((block) => {
      const actions = block.actions.filter((a) => a.toLowerCase() !== action.toLowerCase());
      if (actions.length !== block.actions.length) removed = true;
      return { ...block, actions };
    }),
  }));
  if (!removed) throw new Error(`no deployed custom role holds ${action}`);
  return { roleDefinitions, roleAssignments: roles.roleAssignments };
}

/** The custom role definitions whose name starts with `prefix` (e.g. "Portcullis Key Vault connection approver"). */
export function rolesNamed(roles: DeployedRoles, prefix: string): DeployedRoles["roleDefinitions"] {
  return roles.roleDefinitions.filter((d) => d.roleName.startsWith(prefix));
}

/** Every action a deployed custom role grants (for assertions about the roles themselves). */
export function customActions(roles: DeployedRoles): string[] {
  return roles.roleDefinitions.flatMap((d) => d.permissions.flatMap((p) => p.actions));
}

function scopeOf(subscriptionId: string, tenantId: string | undefined): DeploymentScope {
  return { tenantId: tenantId ?? "00000000-0000-4000-8000-0000000000aa", subscriptionId, location: "westeurope" };
}

function rolesOf(resources: readonly DeployedResource[], principalId: string): DeployedRoles {
  const roleDefinitions: (RoleDefinition & { assignableScopes: string[] })[] = [];
  const roleAssignments: RoleAssignment[] = [];
  for (const resource of resources) {
    if (resource.type === "Microsoft.Authorization/roleDefinitions") {
      const properties = resource.evaluate(resource.raw["properties"]) as {
        roleName: string;
        assignableScopes: string[];
        permissions: { actions: string[]; notActions?: string[] }[];
      };
      roleDefinitions.push({
        id: String(resource.evaluate(resource.raw["name"])),
        roleName: properties.roleName,
        assignableScopes: properties.assignableScopes,
        permissions: properties.permissions.map((p) => ({ actions: p.actions, notActions: p.notActions ?? [] })),
      });
    }
  }
  for (const resource of resources) {
    if (resource.type !== "Microsoft.Authorization/roleAssignments") continue;
    const properties = resource.raw["properties"] as Record<string, unknown>;
    const assignee = resource.evaluate(properties["principalId"]);
    if (assignee !== principalId) continue; // e.g. the system topic's identity on the dead-letter container
    const deploymentScope = resource.scope.resourceGroup === undefined
      ? `/subscriptions/${resource.scope.subscriptionId}`
      : `/subscriptions/${resource.scope.subscriptionId}/resourceGroups/${resource.scope.resourceGroup}`;
    const scope = resource.raw["scope"] === undefined ? deploymentScope : String(resource.evaluate(resource.raw["scope"]));
    const roleDefinitionId = roleDefinitionGuid(String(resource.evaluate(properties["roleDefinitionId"])));
    const custom = roleDefinitions.find((d) => d.id.toLowerCase() === roleDefinitionId);
    if (custom !== undefined && !custom.assignableScopes.some((s) => scopeCovers(s, scope))) {
      throw new Error(`infra assigns '${custom.roleName}' at ${scope}, outside its assignableScopes ${custom.assignableScopes.join(", ")}: ARM would refuse it`);
    }
    roleAssignments.push({ principalId, scope, roleDefinitionId });
  }
  return { roleDefinitions, roleAssignments };
}
