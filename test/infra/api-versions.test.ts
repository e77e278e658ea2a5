/**
 * Every resource type and api-version the Bicep uses is a published one. Each entry below was checked against
 * Azure/azure-rest-api-specs (the spec file at that path declares the type at that version) before it was written
 * down; a new type or version in infra/ fails here until someone checks it the same way and adds it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { INFRA_DIR, readBicepFiles, resourceDeclarations } from "./bicep.ts";

/** `type@api-version` -> spec file in github.com/Azure/azure-rest-api-specs that publishes it. */
const PUBLISHED_ARM_TYPES: Readonly<Record<string, string>> = {
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
  "Microsoft.ApiManagement/service@2024-05-01":
    "specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/apimdeployment.json",
  "Microsoft.Network/privateDnsZones@2024-06-01":
    "specification/privatedns/resource-manager/Microsoft.Network/stable/2024-06-01/privatedns.json",
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

const files = readBicepFiles();
const declarations = files.flatMap(resourceDeclarations);

describe("resource types and api-versions in infra/", () => {
  it("are each published in azure-rest-api-specs (or the Microsoft Graph Bicep types)", () => {
    assert.ok(declarations.length > 20, "the reader finds the declarations");
    const unpublished = declarations
      .map((d) => `${d.type}@${d.apiVersion}`)
      .filter((key) => !(key in PUBLISHED_ARM_TYPES) && !PUBLISHED_GRAPH_TYPES.includes(key));
    assert.deepEqual([...new Set(unpublished)], [], "check these in azure-rest-api-specs and add them with their spec path");
  });

  it("are all written out in full, so the check above sees every one", () => {
    for (const file of files) {
      const allDeclarations = file.code.match(/^\s*resource\s+\w+\s+'/gm) ?? [];
      const topLevel = resourceDeclarations(file);
      assert.equal(allDeclarations.length, topLevel.length, `${file.path}: nested resource declarations hide their type`);
      for (const d of topLevel) {
        assert.match(d.type, /^Microsoft\.\w+\/\w+(\/\w+)*$/, `${file.path} ${d.symbol}: full resource type`);
        assert.notEqual(d.apiVersion, "", `${file.path} ${d.symbol}: explicit api-version`);
      }
      assert.doesNotMatch(file.code, /^module\s+\w+\s+'(br|ts)[:/]/m, `${file.path}: registry modules hide their resource types`);
    }
  });

  it("use Graph types only where the pinned Microsoft Graph extension is declared", () => {
    const config = readFileSync(path.join(INFRA_DIR, "bicepconfig.json"), "utf8");
    assert.ok(config.includes(`"microsoftGraphV1": "${GRAPH_EXTENSION}"`), "bicepconfig.json pins the Graph extension");
    for (const d of declarations.filter((x) => x.type.startsWith("Microsoft.Graph/"))) {
      const file = files.find((f) => f.path === d.file);
      assert.match(file?.code ?? "", /^extension microsoftGraphV1$/m, `${d.file} declares the extension`);
    }
  });

  it("list no type the templates no longer use", () => {
    const used = new Set(declarations.map((d) => `${d.type}@${d.apiVersion}`));
    const stale = [...Object.keys(PUBLISHED_ARM_TYPES), ...PUBLISHED_GRAPH_TYPES].filter((key) => !used.has(key));
    assert.deepEqual(stale, []);
  });
});
