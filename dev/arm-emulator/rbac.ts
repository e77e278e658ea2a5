/**
 * Azure RBAC as Azure Resource Manager applies it, as pure functions: the action string a request needs (derived from
 * its method and path), and whether a principal's role assignments grant that action at the request's scope.
 *
 * How ARM forms an action (Microsoft Learn, "Understand Azure role definitions" — role-based-access-control/
 * role-definitions, "Actions" and "Wildcard"; and the resource provider operations reference, role-based-access-control/
 * permissions/networking ("Azure permissions for Networking") and permissions/integration (Microsoft.ApiManagement)):
 * `{Company}.{ProviderName}/{resourceType}/{childType}.../{verb}`, where the verb is `read` (GET), `write` (PUT and
 * PATCH), `delete` (DELETE), and for POST the operation's own name followed by `/action`. The resource types come from
 * the path after `/providers/{namespace}`, skipping each instance name; a collection GET needs the type's `read`.
 * The polling URLs of long-running operations are resources like any other: APIM's Location
 * `.../service/{name}/operationresults/{id}` needs `Microsoft.ApiManagement/service/operationresults/read` ("Gets
 * current status of long running operation"), Network's `/subscriptions/{s}/providers/Microsoft.Network/locations/
 * {l}/operations/{id}` needs `Microsoft.Network/locations/operations/read` and `.../operationResults/{id}`
 * `Microsoft.Network/locations/operationResults/read`; the other registered types' polling URLs
 * (private-link-types.ts) give the actions their registry entries list, e.g. SQL's
 * `.../providers/Microsoft.Sql/locations/{l}/privateEndpointConnectionAzureAsyncOperation/{id}` needs
 * `Microsoft.Sql/locations/privateEndpointConnectionAzureAsyncOperation/read`. Paths above providers belong to Microsoft.Resources
 * (`Microsoft.Resources/subscriptions/read`, `.../subscriptions/resourceGroups/read`).
 *
 * The scope checked is the request path itself; an assignment at a scope grants it to every scope below (management
 * group → subscription → resource group → resource; "Understand scope for Azure RBAC"). A list therefore needs the read
 * action at the list's own scope — the subscription for a subscription-wide list — and ARM does not narrow it to the
 * items a caller could read one by one. Names and actions compare case-insensitively. Deny assignments and ABAC
 * conditions are not modeled (Portcullis's roles use neither).
 */

/** One block of a role definition's `permissions` (dataActions are not ARM control-plane and are not checked). */
export interface RolePermission {
  readonly actions: readonly string[];
  readonly notActions?: readonly string[];
}

/** A role definition: built-in (by GUID) or custom (as infra/ deploys it). */
export interface RoleDefinition {
  /** The GUID `name` of the definition; assignments refer to it. */
  readonly id: string;
  readonly roleName: string;
  readonly permissions: readonly RolePermission[];
}

/** A role assignment: a principal holds a role definition at a scope (and every scope below it). */
export interface RoleAssignment {
  readonly principalId: string;
  /** `/`, `/subscriptions/{id}`, `/subscriptions/{id}/resourceGroups/{rg}` or a resource ID. */
  readonly scope: string;
  /** GUID of the role definition (a full `/…/roleDefinitions/{guid}` ID is accepted too). */
  readonly roleDefinitionId: string;
}

/** The action and scope one ARM request is authorized against. */
export interface RequiredPermission {
  readonly action: string;
  readonly scope: string;
}

/**
 * Built-in role definitions the emulator knows (Microsoft Learn, "Azure built-in roles", role-based-access-control/
 * built-in-roles; IDs are the same in every cloud). Only their control-plane `actions` / `notActions` matter here.
 */
export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  { id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner", permissions: [{ actions: ["*"] }] },
  {
    id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    roleName: "Contributor",
    permissions: [
      {
        actions: ["*"],
        notActions: [
          "Microsoft.Authorization/*/Delete",
          "Microsoft.Authorization/*/Write",
          "Microsoft.Authorization/elevateAccess/Action",
          "Microsoft.Blueprint/blueprintAssignments/write",
          "Microsoft.Blueprint/blueprintAssignments/delete",
          "Microsoft.Compute/galleries/share/action",
          "Microsoft.Purview/consents/write",
          "Microsoft.Purview/consents/delete",
          "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
          "Microsoft.Subscription/cancel/action",
          "Microsoft.Subscription/enable/action",
        ],
      },
    ],
  },
  { id: "acdd72a7-3385-48ef-bd42-f6fba4a5b6fa", roleName: "Reader", permissions: [{ actions: ["*/read"] }] },
  // The app's own data-plane roles (infra/app/app-access.bicep, notifications-topic.bicep): their control-plane
  // actions, which grant nothing on the resources the emulator serves.
  {
    id: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    roleName: "Storage Blob Data Owner",
    permissions: [{ actions: ["Microsoft.Storage/storageAccounts/blobServices/containers/*", "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"] }],
  },
  {
    id: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    roleName: "Storage Table Data Contributor",
    permissions: [
      {
        actions: [
          "Microsoft.Storage/storageAccounts/tableServices/tables/read",
          "Microsoft.Storage/storageAccounts/tableServices/tables/write",
          "Microsoft.Storage/storageAccounts/tableServices/tables/delete",
        ],
      },
    ],
  },
  {
    id: "3913510d-42f4-4e42-8a64-420c390055eb",
    roleName: "Monitoring Metrics Publisher",
    permissions: [{ actions: ["Microsoft.Insights/Register/Action", "Microsoft.Support/create/action", "Microsoft.Resources/subscriptions/resourceGroups/read"] }],
  },
  { id: "d5a91429-5739-47e2-a06b-3470a27159e7", roleName: "EventGrid Data Sender", permissions: [{ actions: ["Microsoft.EventGrid/topics/read", "Microsoft.EventGrid/domains/read", "Microsoft.EventGrid/partnerNamespaces/read", "Microsoft.EventGrid/namespaces/read"] }] },
  {
    id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    roleName: "Storage Blob Data Contributor",
    permissions: [
      {
        actions: [
          "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
          "Microsoft.Storage/storageAccounts/blobServices/containers/read",
          "Microsoft.Storage/storageAccounts/blobServices/containers/write",
          "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
      },
    ],
  },
];

/** Owner's GUID, for tests that do not care about RBAC (Owner at `/` may do anything). */
export const OWNER_ROLE_ID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

const VERB_OF_METHOD: Readonly<Record<string, string>> = { GET: "read", HEAD: "read", PUT: "write", PATCH: "write", DELETE: "delete" };

/**
 * The action and scope ARM authorizes a request against, or undefined for a path that names no ARM resource (ARM
 * answers those 404 before authorizing). The path is the request path without query, as sent (percent-encoded).
 */
export function requiredPermission(method: string, path: string): RequiredPermission | undefined {
  const segments = path.split("/").filter((s) => s !== "").map(safeDecode);
  const verb = method.toUpperCase();
  if (segments.length === 0) return undefined;
  const scope = "/" + segments.join("/");

  // Walk the path as alternating type / name segments. Microsoft.Resources owns what comes before a provider
  // (subscriptions, resourceGroups); `providers/{namespace}` starts that provider's types, again for an extension
  // resource nested under another resource (e.g. Microsoft.Authorization/roleAssignments at a resource).
  const first = segments[0]!.toLowerCase();
  if (first !== "subscriptions" && first !== "providers") return undefined;
  let namespace = "Microsoft.Resources";
  let types: string[] = [];
  let lastIsName = false;
  let i = 0;
  while (i < segments.length) {
    if (segments[i]!.toLowerCase() === "providers" && i + 1 < segments.length) {
      namespace = segments[i + 1]!;
      types = [];
      lastIsName = false;
      i += 2;
      continue;
    }
    types.push(segments[i]!);
    lastIsName = i + 1 < segments.length;
    i += 2;
  }
  if (types.length === 0) return undefined;

  if (verb === "POST") {
    // POST {resource}/{operation}: the last segment names the operation, not a child type.
    if (lastIsName) return undefined;
    return { action: `${namespace}/${types.join("/")}/action`, scope };
  }
  const action = VERB_OF_METHOD[verb];
  if (action === undefined) return undefined;
  return { action: `${namespace}/${types.join("/")}/${action}`, scope };
}

/** Whether an action pattern of a role definition (with `*` wildcards, any case) covers the action. */
export function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "i").test(action);
}

/** Whether a role definition grants the action: some permission block lists it in actions and not in notActions. */
export function roleGrants(definition: RoleDefinition, action: string): boolean {
  return definition.permissions.some(
    (block) => block.actions.some((p) => actionMatches(p, action)) && !(block.notActions ?? []).some((p) => actionMatches(p, action)),
  );
}

/** Whether an assignment at `assignedScope` applies at `scope`: the same scope or one below it (case-insensitive). */
export function scopeCovers(assignedScope: string, scope: string): boolean {
  const parent = normalizeScope(assignedScope);
  const child = normalizeScope(scope);
  return parent === "/" || child === parent || child.startsWith(`${parent}/`);
}

/** The GUID at the end of a role definition reference (a bare GUID or a `/…/roleDefinitions/{guid}` ID). */
export function roleDefinitionGuid(reference: string): string {
  return (reference.split("/").filter((s) => s !== "").at(-1) ?? "").toLowerCase();
}

/** Whether the principal holds the action at the scope through any of its assignments. */
export function isAuthorized(
  principalId: string,
  permission: RequiredPermission,
  assignments: readonly RoleAssignment[],
  definitions: ReadonlyMap<string, RoleDefinition>,
): boolean {
  const principal = principalId.toLowerCase();
  return assignments.some((assignment) => {
    if (assignment.principalId.toLowerCase() !== principal || !scopeCovers(assignment.scope, permission.scope)) return false;
    const definition = definitions.get(roleDefinitionGuid(assignment.roleDefinitionId));
    return definition !== undefined && roleGrants(definition, permission.action);
  });
}

/** ARM's 403 message for a denied action (the wording Azure sends with code AuthorizationFailed). */
export function authorizationFailedMessage(principalId: string, permission: RequiredPermission): string {
  return (
    `The client '${principalId}' with object id '${principalId}' does not have authorization to perform action ` +
    `'${permission.action}' over scope '${permission.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  );
}

/** Definitions by lower-case GUID: the built-ins plus the given custom ones (a custom one may not reuse a built-in ID). */
export function definitionIndex(custom: readonly RoleDefinition[]): Map<string, RoleDefinition> {
  const index = new Map<string, RoleDefinition>();
  for (const definition of [...BUILT_IN_ROLES, ...custom]) index.set(definition.id.toLowerCase(), definition);
  return index;
}

function normalizeScope(scope: string): string {
  const trimmed = scope.trim().replace(/\/+$/, "").toLowerCase();
  return trimmed === "" ? "/" : trimmed;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
