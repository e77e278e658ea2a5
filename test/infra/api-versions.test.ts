/**
 * Every resource type and api-version in the templates the Bicep CLI compiles is a published one: what ARM is sent,
 * module deployments and existing resources the compiled JSON reads included. Each entry below was checked against
 * Azure/azure-rest-api-specs (the spec file at that path declares the type at that version) before it was written
 * down; a new type or version in infra/ fails here until someone checks it the same way and adds it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { allResources } from "../support/arm-template.ts";
import { BICEP_ENTRY_POINTS, compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";

/** `type@api-version` -> spec file in github.com/Azure/azure-rest-api-specs that publishes it. */
const PUBLISHED_ARM_TYPES: Readonly<Record<string, string>> = {
  // Module deployments: the compiler picks this api-version for every `module`.
  "Microsoft.Resources/deployments@2025-04-01":
    "specification/resources/resource-manager/Microsoft.Resources/deployments/stable/2025-04-01/deployments.json",
  "Microsoft.Resources/resourceGroups@2024-03-01":
    "specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.json",
  "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31":
    "specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json",
  "Microsoft.Storage/storageAccounts@2024-01-01":
    "specification/storage/resource-manager/Microsoft.Storage/stable/2024-01-01/storage.json",
  "Microsoft.Storage/storageAccounts/blobServices@2024-01-01":
    "specification/storage/resource-manager/Microsoft.Storage/stable/2024-01-01/blob.json",
  "Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01":
    "specification/storage/resource-manager/Microsoft.Storage/stable/2024-01-01/blob.json",
  "Microsoft.OperationalInsights/workspaces@2023-09-01":
    "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/2023-09-01/Workspaces.json",
  "Microsoft.Insights/components@2020-02-02":
    "specification/applicationinsights/resource-manager/Microsoft.Insights/stable/2020-02-02/components_API.json",
  "Microsoft.Web/serverfarms@2024-04-01":
    "specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/AppServicePlans.json",
  "Microsoft.Web/sites@2024-04-01": "specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/WebApps.json",
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01":
    "specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/WebApps.json",
  "Microsoft.Authorization/roleAssignments@2022-04-01":
    "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json",
  "Microsoft.Authorization/roleDefinitions@2022-04-01":
    "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json",
  "Microsoft.EventGrid/systemTopics@2025-02-15":
    "specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/2025-02-15/EventGrid.json",
  "Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15":
    "specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/2025-02-15/EventGrid.json",
  "Microsoft.EventGrid/topics@2025-02-15":
    "specification/eventgrid/resource-manager/Microsoft.EventGrid/stable/2025-02-15/EventGrid.json",
};

/**
 * Microsoft Graph resources are not ARM: they come from the Microsoft Graph Bicep extension, whose types are
 * published in github.com/microsoftgraph/msgraph-bicep-types (generated/microsoftgraph/microsoft.graph/v1.0/1.0.0/types.md)
 * and pinned in infra/bicepconfig.json.
 */
const PUBLISHED_GRAPH_TYPES: readonly string[] = [
  "Microsoft.Graph/applications@v1.0",
  "Microsoft.Graph/servicePrincipals@v1.0",
  "Microsoft.Graph/appRoleAssignedTo@v1.0",
];
const GRAPH_EXTENSION = "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0";

const resources = BICEP_ENTRY_POINTS.flatMap((entry) => allResources(compileBicep(entry).template).map((r) => ({ entry, ...r })));
const keyOf = (type: string, apiVersion: string | undefined) => (apiVersion === undefined ? type : `${type}@${apiVersion}`);

describe("resource types and api-versions in the compiled templates", () => {
  it("are each published in azure-rest-api-specs (or the Microsoft Graph Bicep types)", () => {
    assert.ok(resources.length > 30, "the compiled templates hold the resources");
    const unpublished = resources
      .map((r) => keyOf(r.resource.type, r.resource.apiVersion))
      .filter((key) => !(key in PUBLISHED_ARM_TYPES) && !PUBLISHED_GRAPH_TYPES.includes(key));
    assert.deepEqual([...new Set(unpublished)], [], "check these in azure-rest-api-specs and add them with their spec path");
  });

  it("name an explicit api-version for every ARM resource (Graph types carry theirs in the type)", () => {
    for (const r of resources) {
      if (r.resource.type.startsWith("Microsoft.Graph/")) assert.match(r.resource.type, /@v1\.0$/, r.path.join(" > "));
      else assert.match(r.resource.apiVersion ?? "", /^\d{4}-\d{2}-\d{2}$/, `${r.entry} ${r.path.join(" > ")}: ${r.resource.type}`);
    }
  });

  it("use Graph types only through the pinned Microsoft Graph extension", () => {
    const config = readFileSync(path.join(REPO_ROOT, "infra", "bicepconfig.json"), "utf8");
    assert.ok(config.includes(`"microsoftGraphV1": "${GRAPH_EXTENSION}"`), "bicepconfig.json pins the Graph extension");
    const graph = resources.filter((r) => r.resource.type.startsWith("Microsoft.Graph/"));
    assert.ok(graph.length >= 3);
    for (const r of graph) {
      assert.equal(r.resource["import"], "microsoftGraphV1", r.path.join(" > "));
      assert.deepEqual(r.template["imports"], { microsoftGraphV1: { provider: "MicrosoftGraph", version: "1.0.0" } }, "the compiled template imports Graph v1.0 1.0.0");
    }
  });

  it("list no type the templates no longer use", () => {
    const used = new Set(resources.map((r) => keyOf(r.resource.type, r.resource.apiVersion)));
    const stale = [...Object.keys(PUBLISHED_ARM_TYPES), ...PUBLISHED_GRAPH_TYPES].filter((key) => !used.has(key));
    assert.deepEqual(stale, []);
  });
});
