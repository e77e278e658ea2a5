/**
 * Least privilege in infra/, read from the templates the Bicep CLI compiles: the custom roles hold exactly the ARM
 * actions of the permissions list in ../shared/design/DOMAIN.md, writes and deletes beyond approval exist only behind
 * their remediation switch, and the built-in data roles are the narrow ones the docs justify.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { REGISTERED_RESOURCE_TYPES } from "../../src/domain/providers/registry.ts";
import { allResources, allTemplates, evaluate, isExpression, moduleTemplate } from "../support/arm-template.ts";
import { compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";
import { customActions, deployedRoles, wiringRoles, type InfraRoleParameters } from "../support/deployed-roles.ts";

/**
 * The permissions list of DOMAIN.md ("Permissions (least privilege; corrected 2026-12-02)"), spelled out. The three
 * the first list missed are checked against Microsoft's resource provider operations reference (azure-docs,
 * articles/role-based-access-control/permissions: "Microsoft.ApiManagement/service/operationresults/read | Gets
 * current status of long running operation"; the Networking page lists privateEndpoints/privateDnsZoneGroups/read and
 * "privateDnsZones/A/delete | Remove the record set of a given name and type 'A' from a Private DNS zone").
 */
const DOMAIN_PERMISSIONS: readonly string[] = [
  "Microsoft.ApiManagement/service/read",
  "Microsoft.ApiManagement/service/privateEndpointConnections/read",
  "Microsoft.ApiManagement/service/privateEndpointConnections/write",
  "Microsoft.ApiManagement/service/operationresults/read",
  "Microsoft.ApiManagement/service/write",
  "Microsoft.Network/privateEndpoints/read",
  "Microsoft.Network/networkInterfaces/read",
  "Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read",
  "Microsoft.Network/privateDnsZones/read",
  "Microsoft.Network/privateDnsZones/A/read",
  "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
  "Microsoft.Network/privateDnsZones/A/write",
  "Microsoft.Network/privateDnsZones/A/delete",
];

/** DOMAIN.md: these only "if public-access remediation is on" / "if DNS remediation is on". */
const REMEDIATION_ONLY: Readonly<Record<string, "remediatePublicNetworkAccess" | "remediateDnsRecords">> = {
  "Microsoft.ApiManagement/service/write": "remediatePublicNetworkAccess",
  "Microsoft.Network/privateDnsZones/A/write": "remediateDnsRecords",
  "Microsoft.Network/privateDnsZones/A/delete": "remediateDnsRecords",
};
const SWITCHES = ["remediatePublicNetworkAccess", "remediateDnsRecords"] as const;

/** Built-in roles the templates may assign, by ID (learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const ALLOWED_BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const main = compileBicep("infra/main.bicep").template;
const wiring = compileBicep("infra/subscription-wiring.bicep").template;
const resources = [...allResources(main), ...allResources(wiring)];
const customRoles = resources.filter((r) => r.resource.type === "Microsoft.Authorization/roleDefinitions");

/** A deployment governing one API Management instance and a managed subscription, with consumer and DNS scopes. */
const HOME = "a0a0a0a0-0000-4000-8000-000000000001";
const DEPLOYMENT: InfraRoleParameters = {
  principalId: "0b0b0b0b-0000-4000-8000-00000000000a",
  deploymentSubscriptionId: HOME,
  managedInstanceIds: [`/subscriptions/${HOME}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-a`],
  managedSubscriptionIds: ["b1b1b1b1-0000-4000-8000-000000000009"],
  consumerSubscriptionIds: ["c2c2c2c2-0000-4000-8000-000000000003"],
  dnsZoneIds: ["/subscriptions/d3d3d3d3-0000-4000-8000-000000000004/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net"],
};

type Switches = Partial<Record<(typeof SWITCHES)[number], boolean>>;

/** Every action the deployment's custom roles grant, with these switches (the roles of the whole deployment, wiring included). */
const granted = (switches: Switches) => [...new Set(customActions(deployedRoles({ ...DEPLOYMENT, ...switches })))].sort();

/** A role name without its deployment suffix: "Portcullis private DNS auditor (dev-abc)" -> "Portcullis private DNS auditor". */
const kindOf = (roleName: string) => roleName.replace(/ \([^)]*\)$/, "");

describe("custom roles in the compiled templates", () => {
  it("exist: API Management approver, private DNS auditor and private endpoint reader (also when the wiring is deployed alone)", () => {
    const kinds = [...new Set(deployedRoles(DEPLOYMENT).roleDefinitions.map((d) => kindOf(d.roleName)))].sort();
    assert.deepEqual(kinds, ["Portcullis APIM connection approver", "Portcullis private DNS auditor", "Portcullis private endpoint reader"]);
    assert.deepEqual(wiringRoles(DEPLOYMENT.principalId, HOME).roleDefinitions.map((d) => kindOf(d.roleName)), ["Portcullis private endpoint reader"]);
    const declared = customRoles.map((r) => r.path.join(" > ")).sort();
    assert.deepEqual(declared, [
      "endpointReader",
      "governanceRoles > connectionApprovers",
      "governanceRoles > operationStatusReaders",
      "governanceRoles > privateDnsAuditor",
      "subscriptionWiring > endpointReader",
    ]);
  });

  it("hold, with every remediation on, exactly the DOMAIN.md permissions list", () => {
    assert.deepEqual(granted({ remediatePublicNetworkAccess: true, remediateDnsRecords: true }), [...DOMAIN_PERMISSIONS].sort());
  });

  it("hold, with the remediations off (the default), the list without the remediation writes and deletes", () => {
    const off = DOMAIN_PERMISSIONS.filter((a) => !(a in REMEDIATION_ONLY));
    assert.deepEqual(granted({}), [...off].sort());
    assert.deepEqual(granted({ remediatePublicNetworkAccess: false, remediateDnsRecords: false }), [...off].sort());
  });

  it("grant each remediation action only with its own switch on", () => {
    for (const [action, switchName] of Object.entries(REMEDIATION_ONLY)) {
      for (const other of SWITCHES.filter((s) => s !== switchName)) {
        assert.ok(!granted({ [other]: true }).includes(action), `${action} is granted with only ${other} on`);
      }
      assert.ok(granted({ [switchName]: true }).includes(action), `${action} is granted with ${switchName} on`);
    }
  });

  it("poll approvals and read zone groups without any switch: the two reads every deployment needs", () => {
    const always = granted({});
    assert.ok(always.includes("Microsoft.ApiManagement/service/operationresults/read"), "a 202 approval is polled at .../operationresults/{id}");
    assert.ok(always.includes("Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read"), "every DNS check reads the endpoint's zone groups");
  });

  it("grant no wildcard, no data action and exclude nothing", () => {
    const all = deployedRoles({ ...DEPLOYMENT, managedResourceTypes: REGISTERED_RESOURCE_TYPES, remediatePublicNetworkAccess: true, remediateDnsRecords: true });
    for (const definition of all.roleDefinitions) {
      assert.equal(definition.permissions.length, 1, `${definition.roleName}: one permissions block`);
      assert.deepEqual(definition.permissions[0]!.actions.filter((a) => a.includes("*")), [], definition.roleName);
      assert.deepEqual(definition.permissions[0]!.notActions, [], `${definition.roleName} excludes nothing it does not grant`);
    }
    for (const role of customRoles) {
      const blocks = role.resource.properties?.["permissions"] as Record<string, unknown>[];
      assert.deepEqual(blocks.map((b) => Object.keys(b).sort()), [["actions", "notActions"]], `${role.path.join(" > ")} has no dataActions`);
    }
  });

  it("keep every other write out: with the switches off the only writes are approving or rejecting a connection, for every governed type", () => {
    assert.deepEqual(
      granted({}).filter((a) => !a.endsWith("/read")),
      ["Microsoft.ApiManagement/service/privateEndpointConnections/write"],
    );
    const all = customActions(deployedRoles({ ...DEPLOYMENT, managedResourceTypes: REGISTERED_RESOURCE_TYPES }));
    assert.deepEqual([...new Set(all.filter((a) => !a.endsWith("/read")))].sort(), REGISTERED_RESOURCE_TYPES.map((t) => `${t}/privateEndpointConnections/write`).sort());
  });

  it("take the switches from main.bicep's parameters, which are off by default", () => {
    const governance = allResources(main).find((r) => r.path.join(">") === "governanceRoles");
    const passed = governance?.resource.properties?.["parameters"] as Record<string, { value: unknown }> | undefined;
    for (const name of SWITCHES) {
      assert.equal(main.parameters?.[name]?.type, "bool");
      assert.equal(main.parameters?.[name]?.defaultValue, false, `${name} is off by default`);
      assert.equal(passed?.[name]?.value, `[parameters('${name}')]`, `main.bicep passes ${name} to the roles`);
      assert.equal(moduleTemplate(main, "governanceRoles").parameters?.[name]?.defaultValue, false);
    }
  });

  it("tell the Function App to remediate (PORTCULLIS_REMEDIATE) exactly what the same switches let the roles do", () => {
    const appSettings = allResources(main).find((r) => r.path.join(">") === "functionApp")?.resource.properties?.["parameters"] as Record<string, { value: unknown }>;
    const remediate = (switches: Record<string, boolean>) =>
      (evaluate(main, appSettings["appSettings"]?.value, { environmentName: "dev", location: "westeurope", ...switches }) as Record<string, unknown>)["PORTCULLIS_REMEDIATE"];
    assert.equal(remediate({}), "");
    assert.equal(remediate({ remediatePublicNetworkAccess: true }), "public-network-access");
    assert.equal(remediate({ remediateDnsRecords: true }), "dns-record");
    assert.equal(remediate({ remediatePublicNetworkAccess: true, remediateDnsRecords: true }), "public-network-access,dns-record");
  });
});

describe("role assignments in the compiled templates", () => {
  const assignments = resources.filter((r) => r.resource.type === "Microsoft.Authorization/roleAssignments");

  it("are all to service principals (managed identities), named deterministically with guid()", () => {
    assert.ok(assignments.length >= 8, `found ${assignments.length}`);
    for (const a of assignments) {
      assert.match(String(a.resource.name), /^\[guid\(/, `${a.path.join(" > ")}: name is a guid()`);
      assert.equal(a.resource.properties?.["principalType"], "ServicePrincipal", a.path.join(" > "));
    }
  });

  it("assign only the narrow built-in roles (never Owner, Contributor, Reader or a queue role) or the custom roles above", () => {
    const roleIdVariables = allTemplates(main)
      .concat(allTemplates(wiring))
      .flatMap(({ template }) => Object.entries(template.variables ?? {}).filter(([, v]) => typeof v === "string" && GUID.test(v)));
    assert.ok(roleIdVariables.length >= 5);
    for (const [name, id] of roleIdVariables) {
      assert.ok(String(id).toLowerCase() in ALLOWED_BUILT_IN_ROLES, `variable ${name} = ${String(id)} is not an allowed built-in role`);
    }
    for (const a of assignments) {
      const roleDefinitionId = String(a.resource.properties?.["roleDefinitionId"]);
      assert.ok(isExpression(roleDefinitionId), a.path.join(" > "));
      assert.match(
        roleDefinitionId,
        /^\[subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', (variables\('\w+RoleId'\)|parameters\('roleDefinitionName'\)|guid\(subscription\(\)\.id, parameters\('deploymentName'\), 'portcullis-[a-z-]+'\))\)\]$/,
        `${a.path.join(" > ")}: a named built-in role ID or a Portcullis custom role`,
      );
    }
  });

  it("scope the connection role to each governed resource, the DNS role to each zone, dead letters to one container", () => {
    const scopeOf = (path: string) => {
      const found = resources.find((r) => r.path.join(" > ") === path);
      assert.ok(found, path);
      return String(found.resource["scope"] ?? "(the deployment's own scope)");
    };
    assert.equal(scopeOf("managedResourceAccess > 0"), "[resourceId(parameters('resourceType'), parameters('resourceName'))]");
    assert.equal(scopeOf("dnsZoneAccess > 0"), "[resourceId('Microsoft.Network/privateDnsZones', parameters('zoneName'))]");
    assert.equal(
      scopeOf("subscriptionWiring > deadLetterAccess > 0"),
      "[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', parameters('storageAccountName'), 'default', parameters('containerName'))]",
      "the system topic may write to the dead-letter container only",
    );
  });

  it("are each explained in the permissions table of docs/deploy.md", () => {
    const docs = readFileSync(path.join(REPO_ROOT, "docs", "deploy.md"), "utf8");
    assert.ok(docs.includes("## Permissions"), "docs/deploy.md has a Permissions section");
    const table = docs.slice(docs.indexOf("## Permissions"));
    for (const role of Object.values(ALLOWED_BUILT_IN_ROLES)) assert.ok(table.includes(role), `permissions table names ${role}`);
    for (const role of ["Portcullis APIM connection approver", "Portcullis private DNS auditor", "Portcullis private endpoint reader"]) {
      assert.ok(table.includes(role), `permissions table names ${role}`);
    }
    for (const action of DOMAIN_PERMISSIONS) assert.ok(table.includes(`\`${action}\``), `permissions table lists ${action}`);
  });
});
