/**
 * Governing several Private Link types from one deployment, read from the templates the real Bicep CLI compiles and
 * followed through a whole deployment (test/support/arm-deployment.ts):
 *   - infra/app/private-link-providers.json is exactly what infra/scripts/generate-provider-infra.ts renders from the
 *     provider registry (stale JSON fails here);
 *   - each governed type gets custom roles holding exactly the actions the registry says it needs (no wildcard,
 *     nothing of another type), assigned at its governed resources and the managed subscriptions;
 *   - the Event Grid filter lists exactly the governed types' operations, within Event Grid's limits;
 *   - bad parameters (an unregistered type, a resource of an ungoverned type) stop the deployment with the reason;
 *   - the deprecated managedInstanceIds still works, and API Management's role keeps its deployed identity;
 *   - the compile and the linter report nothing for one governed type and for every registered type.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { HANDLED_OPERATION_NAMES } from "../../src/domain/decisions/arm-events.ts";
import {
  connectionEventOperations,
  decideActions,
  PRIVATE_LINK_PROVIDERS,
  readActions,
  REGISTERED_RESOURCE_TYPES,
  type PrivateLinkProvider,
} from "../../src/domain/providers/registry.ts";
import { DEPLOY_DOCS_FILE, PROVIDER_INFRA_FILE, providerInfra, renderProviderInfra, withDocsTable } from "../../infra/scripts/generate-provider-infra.ts";
import { deployedResources, type DeployedResource } from "../support/arm-deployment.ts";
import { ArmDeploymentFailure, evaluate, moduleTemplate, resourcesOf } from "../support/arm-template.ts";
import { buildBicepParamsWithDiagnostics, compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";
import { customActions, deployedRoles, rolesNamed, type DeployedRoles } from "../support/deployed-roles.ts";

const main = compileBicep("infra/main.bicep").template;
const wiring = compileBicep("infra/subscription-wiring.bicep").template;

const PRINCIPAL = "0b0b0b0b-0000-4000-8000-00000000000a";
const HOME = "a0a0a0a0-0000-4000-8000-000000000001"; // deployment subscription, holds the governed resources
const MANAGED = "b1b1b1b1-0000-4000-8000-000000000009"; // a managed subscription
const OTHER = "c2c2c2c2-0000-4000-8000-000000000003"; // a second subscription holding governed resources

const resourceOf = (provider: PrivateLinkProvider, name: string, subscriptionId = HOME) =>
  `/subscriptions/${subscriptionId}/resourceGroups/rg-${name}/providers/${provider.resourceType}/${name}`;
const nameOf = (provider: PrivateLinkProvider) => provider.resourceType.split("/")[1]!.toLowerCase().slice(0, 12);

/** The role label the generator gives a type (the role names start with it). */
const labelOf = (provider: PrivateLinkProvider) => providerInfra().providers[provider.resourceType.toLowerCase()]!.roleLabel;
const approverOf = (roles: DeployedRoles, provider: PrivateLinkProvider) => {
  const found = rolesNamed(roles, `Portcullis ${labelOf(provider)} connection approver`);
  assert.equal(found.length, 1, `one connection approver role for ${provider.resourceType}`);
  return found[0]!;
};
const statusReaderOf = (roles: DeployedRoles, provider: PrivateLinkProvider) => rolesNamed(roles, `Portcullis ${labelOf(provider)} operation status reader`);
const actionsOf = (definition: DeployedRoles["roleDefinitions"][number]) => definition.permissions.flatMap((p) => p.actions);
const sorted = (values: Iterable<string>) => [...values].sort();
const isSubscriptionLevel = (action: string) => /^[^/]+\/locations\//i.test(action);

/** Whole-deployment resources of main.bicep for these parameters (the identity's principal ID supplied). */
function deploy(parameters: Record<string, unknown>): DeployedResource[] {
  return deployedResources(
    main,
    { environmentName: "portcullis-test", location: "westeurope", eventSubscriptionsEnabled: true, ...parameters },
    { tenantId: "00000000-0000-4000-8000-0000000000aa", subscriptionId: HOME, location: "westeurope" },
    {
      "Microsoft.ManagedIdentity/userAssignedIdentities": { principalId: PRINCIPAL, clientId: "portcullis-test-client" },
      "Microsoft.EventGrid/systemTopics": { identity: { principalId: "0c0c0c0c-0000-4000-8000-00000000000b" } },
    },
  );
}

/** data.operationName values of each event subscription the deployment creates. */
function filterValuesOf(resources: readonly DeployedResource[]): string[][] {
  return resources
    .filter((r) => r.type === "Microsoft.EventGrid/systemTopics/eventSubscriptions")
    .map((r) => {
      const properties = r.evaluate(r.raw.properties) as { filter: { advancedFilters: { key: string; operatorType: string; values: string[] }[] } };
      const filters = properties.filter.advancedFilters;
      assert.deepEqual(filters.map((f) => [f.key, f.operatorType]), [["data.operationName", "StringIn"]], "one StringIn filter on data.operationName");
      return filters[0]!.values;
    });
}

/** What the engine is told an event of a type looks like: the registry's connection operations and the engine's own for that type. */
function expectedOperationsOf(provider: PrivateLinkProvider): string[] {
  const prefix = `${provider.resourceType.toLowerCase()}/`;
  return [...connectionEventOperations(provider), ...HANDLED_OPERATION_NAMES.filter((op) => op.toLowerCase().startsWith(prefix))];
}
const ENDPOINT_OPERATIONS = ["Microsoft.Network/privateEndpoints/write", "Microsoft.Network/privateEndpoints/delete"];

describe("private-link-providers.json, generated from the provider registry", () => {
  it("is exactly what infra/scripts/generate-provider-infra.ts renders now (stale: run it)", () => {
    const committed = readFileSync(path.join(REPO_ROOT, PROVIDER_INFRA_FILE), "utf8");
    assert.equal(committed, renderProviderInfra(), `${PROVIDER_INFRA_FILE} is stale: run node infra/scripts/generate-provider-infra.ts`);
  });

  it("is also what docs/deploy.md's per-type permissions table says (stale: run the generator)", () => {
    const docs = readFileSync(path.join(REPO_ROOT, DEPLOY_DOCS_FILE), "utf8");
    assert.equal(docs, withDocsTable(docs), `${DEPLOY_DOCS_FILE}'s generated table is stale: run node infra/scripts/generate-provider-infra.ts`);
    for (const provider of PRIVATE_LINK_PROVIDERS) assert.ok(docs.includes(`Portcullis ${labelOf(provider)} connection approver`), provider.resourceType);
  });

  it("lists every registered type with the registry's own read, decide and event operations", () => {
    const infra = providerInfra();
    assert.deepEqual(infra.resourceTypes, REGISTERED_RESOURCE_TYPES);
    for (const provider of PRIVATE_LINK_PROVIDERS) {
      const entry = infra.providers[provider.resourceType.toLowerCase()]!;
      assert.deepEqual(entry.readActions, readActions(provider), provider.resourceType);
      assert.deepEqual(entry.decideActions, decideActions(provider), provider.resourceType);
      assert.deepEqual(entry.publicAccessRemediationActions, provider.publicNetworkAccess ? [`${provider.resourceType}/write`] : [], provider.resourceType);
      assert.deepEqual(sorted(entry.connectionEventOperations), sorted(new Set(expectedOperationsOf(provider))), provider.resourceType);
    }
  });

  it("follows a registry change: a new polling action of a type appears in its entry, at the subscription when it is under locations/", () => {
    const apim = PRIVATE_LINK_PROVIDERS[0]!;
    const changed: PrivateLinkProvider = {
      ...apim,
      connectionWrite: { longRunning: true, operationStatusActions: [...apim.connectionWrite.operationStatusActions, "Microsoft.ApiManagement/locations/operationsStatus/read"] },
    };
    const entry = providerInfra([changed, ...PRIVATE_LINK_PROVIDERS.slice(1)]).providers["microsoft.apimanagement/service"]!;
    assert.ok(entry.decideActions.includes("Microsoft.ApiManagement/locations/operationsStatus/read"));
    assert.deepEqual(entry.subscriptionScopedActions, ["Microsoft.ApiManagement/locations/operationsStatus/read"]);
    assert.notEqual(renderProviderInfra([changed, ...PRIVATE_LINK_PROVIDERS.slice(1)]), renderProviderInfra());
  });
});

describe("custom roles per governed type (whole deployment)", () => {
  for (const provider of PRIVATE_LINK_PROVIDERS) {
    describe(provider.resourceType, () => {
      const resource = resourceOf(provider, nameOf(provider));
      const parameters = {
        principalId: PRINCIPAL,
        deploymentSubscriptionId: HOME,
        managedResourceTypes: [provider.resourceType],
        managedResourceIds: [resource],
        managedSubscriptionIds: [MANAGED],
      };
      const off = deployedRoles(parameters);
      const on = deployedRoles({ ...parameters, remediatePublicNetworkAccess: true });
      const approver = approverOf(off, provider);
      const readers = statusReaderOf(off, provider);
      const needed = [...readActions(provider), ...decideActions(provider)];

      it("holds exactly the registry's read and decide actions, each in the role whose scope it takes effect at", () => {
        assert.deepEqual(sorted(new Set(actionsOf(approver))), sorted(new Set(needed.filter((a) => !isSubscriptionLevel(a)))));
        const subscriptionLevel = needed.filter(isSubscriptionLevel);
        assert.equal(readers.length, subscriptionLevel.length > 0 ? 1 : 0, "an operation status reader exactly when a poll is at the subscription");
        assert.deepEqual(sorted(readers.flatMap(actionsOf)), sorted(new Set(subscriptionLevel)));
      });

      it("grants no wildcard and nothing another type needs", () => {
        const [namespace] = provider.resourceType.split("/");
        for (const action of [...actionsOf(approverOf(on, provider)), ...statusReaderOf(on, provider).flatMap(actionsOf)]) {
          assert.ok(!action.includes("*"), `${action} is a wildcard`);
          const own = action.toLowerCase().startsWith(`${provider.resourceType.toLowerCase()}/`) || action.toLowerCase().startsWith(`${namespace!.toLowerCase()}/locations/`);
          assert.ok(own, `${action} is not an action on ${provider.resourceType}`);
        }
        const others = PRIVATE_LINK_PROVIDERS.filter((p) => p !== provider);
        for (const other of others) assert.deepEqual(rolesNamed(off, `Portcullis ${labelOf(other)} connection approver`), [], `no ${other.resourceType} role`);
      });

      it(`adds ${provider.publicNetworkAccess ? `${provider.resourceType}/write` : "nothing"} with public-access remediation on, and nothing else`, () => {
        const added = customActions(on).filter((a) => !customActions(off).includes(a));
        assert.deepEqual(added, provider.publicNetworkAccess ? [`${provider.resourceType}/write`] : []);
      });

      it("assigns the approver at the governed resource and the managed subscription, the status reader at their subscriptions", () => {
        const scopesOf = (id: string) => sorted(off.roleAssignments.filter((a) => a.roleDefinitionId === id).map((a) => a.scope));
        assert.deepEqual(scopesOf(approver.id), sorted([resource, `/subscriptions/${MANAGED}`]));
        for (const reader of readers) assert.deepEqual(scopesOf(reader.id), sorted([`/subscriptions/${HOME}`, `/subscriptions/${MANAGED}`]));
      });
    });
  }

  it("governing every registered type: one approver per type, each resource gets only its own type's role", () => {
    const resources = PRIVATE_LINK_PROVIDERS.map((p) => resourceOf(p, nameOf(p), p === PRIVATE_LINK_PROVIDERS[1] ? OTHER : HOME));
    const roles = deployedRoles({
      principalId: PRINCIPAL,
      deploymentSubscriptionId: HOME,
      managedResourceTypes: REGISTERED_RESOURCE_TYPES.map((t) => t.toLowerCase()), // any casing
      managedResourceIds: resources,
    });
    PRIVATE_LINK_PROVIDERS.forEach((provider, i) => {
      const approver = approverOf(roles, provider);
      const atResource = roles.roleAssignments.filter((a) => a.scope === resources[i]);
      assert.deepEqual(atResource.map((a) => a.roleDefinitionId), [approver.id], `${provider.resourceType}: only its approver at the resource`);
      assert.ok(approver.assignableScopes.includes(`/subscriptions/${OTHER}`), "assignable wherever a governed resource lives");
    });
    assert.equal(rolesNamed(roles, "Portcullis ").filter((d) => d.roleName.includes("connection approver")).length, PRIVATE_LINK_PROVIDERS.length);
    assert.ok(!customActions(roles).some((a) => a.includes("*")));
  });

  it("tells the app which types and resources it governs with the same parameters (PORTCULLIS_MANAGED_RESOURCE_TYPES / _RESOURCES)", () => {
    const appSettings = (resourcesOf(main).find(([name]) => name === "functionApp")![1].properties?.["parameters"] as Record<string, { value: unknown }>)["appSettings"]?.value;
    const settings = evaluate(main, appSettings, {
      environmentName: "dev",
      location: "westeurope",
      managedResourceTypes: ["microsoft.keyvault/VAULTS", "Microsoft.ApiManagement/service", "Microsoft.KeyVault/vaults"],
      managedResourceIds: [resourceOf(PRIVATE_LINK_PROVIDERS[2]!, "kv")],
      managedInstanceIds: [resourceOf(PRIVATE_LINK_PROVIDERS[0]!, "apim")],
    }) as Record<string, unknown>;
    assert.equal(settings["PORTCULLIS_MANAGED_RESOURCE_TYPES"], "Microsoft.KeyVault/vaults,Microsoft.ApiManagement/service", "the registry's spelling, once each");
    assert.equal(settings["PORTCULLIS_MANAGED_RESOURCES"], [resourceOf(PRIVATE_LINK_PROVIDERS[2]!, "kv"), resourceOf(PRIVATE_LINK_PROVIDERS[0]!, "apim")].join(","));
    assert.ok(!("PORTCULLIS_MANAGED_INSTANCES" in settings), "the deprecated setting is not written: its IDs are in PORTCULLIS_MANAGED_RESOURCES");
  });
});

describe("parameters that cannot be governed stop the deployment with the reason", () => {
  it("an unregistered type, naming the registered ones", () => {
    assert.throws(() => deploy({ managedResourceTypes: ["Microsoft.Foo/bars"] }), (e: unknown) => {
      assert.ok(e instanceof ArmDeploymentFailure);
      assert.match(e.message, /'Microsoft\.Foo\/bars' is not a registered Private Link provider; registered: Microsoft\.ApiManagement\/service, Microsoft\.Storage\/storageAccounts/);
      return true;
    });
  });

  it("a governed resource of a type not in managedResourceTypes (the default governs API Management only)", () => {
    const vault = resourceOf(PRIVATE_LINK_PROVIDERS[2]!, "kv");
    assert.throws(() => deploy({ managedResourceIds: [vault] }), (e: unknown) => {
      assert.ok(e instanceof ArmDeploymentFailure);
      assert.match(e.message, /is a Microsoft\.KeyVault\/vaults, which is not in managedResourceTypes \(Microsoft\.ApiManagement\/service\)/);
      return true;
    });
  });

  it("a malformed resource ID", () => {
    assert.throws(() => deploy({ managedResourceIds: ["/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/extra"] }), ArmDeploymentFailure);
    assert.throws(() => deploy({ managedResourceIds: ["apim-prod"] }), ArmDeploymentFailure);
  });
});

describe("the Event Grid filter of each watched subscription", () => {
  it("defaults to API Management: consumer endpoint operations and APIM's connection operations, as the engine handles them", () => {
    const values = filterValuesOf(deploy({ managedInstanceIds: [resourceOf(PRIVATE_LINK_PROVIDERS[0]!, "apim")] }));
    assert.equal(values.length, 1);
    assert.deepEqual(sorted(values[0]!), sorted(HANDLED_OPERATION_NAMES));
  });

  for (const provider of PRIVATE_LINK_PROVIDERS) {
    it(`lists exactly ${provider.resourceType}'s operations when it alone is governed`, () => {
      const values = filterValuesOf(deploy({ managedResourceTypes: [provider.resourceType], managedResourceIds: [resourceOf(provider, nameOf(provider))] }));
      assert.deepEqual(sorted(values[0]!), sorted(new Set([...ENDPOINT_OPERATIONS, ...expectedOperationsOf(provider)])));
    });
  }

  it("lists every registered type's operations when all are governed, once each and within Event Grid's limits (25 values, 512 characters)", () => {
    const resources = PRIVATE_LINK_PROVIDERS.map((p) => resourceOf(p, nameOf(p)));
    const values = filterValuesOf(deploy({ managedResourceTypes: REGISTERED_RESOURCE_TYPES, managedResourceIds: resources, consumerSubscriptionIds: [OTHER] }));
    assert.equal(values.length, 2, "one event subscription per watched subscription");
    const expected = sorted(new Set([...ENDPOINT_OPERATIONS, ...PRIVATE_LINK_PROVIDERS.flatMap(expectedOperationsOf)]));
    for (const list of values) {
      assert.deepEqual(sorted(list), expected);
      assert.equal(new Set(list.map((v) => v.toLowerCase())).size, list.length, "no operation listed twice");
      assert.ok(list.length <= 25, `${list.length} values: Event Grid allows 25 across the filters of one subscription`);
      assert.ok(list.every((v) => v.length <= 512));
    }
  });

  it("stops the deployment, with the reason, when the list would exceed 25 values (a registry growing past the limit fails here)", () => {
    const events = moduleTemplate(wiring, "eventSubscription");
    const operationNames = Array.from({ length: 26 }, (_, i) => `Microsoft.Example/things${i}/privateEndpointConnections/write`);
    const module = {
      systemTopicName: "egst",
      name: "evgs",
      functionAppResourceId: `/subscriptions/${HOME}/resourceGroups/rg/providers/Microsoft.Web/sites/func`,
      deadLetterStorageAccountResourceId: `/subscriptions/${HOME}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st`,
      deadLetterContainerName: "eventgrid-deadletter",
    };
    assert.throws(() => evaluate(events, "[variables('filterValues')]", { ...module, operationNames }), /26 operation names; Event Grid allows 25 values/);
    assert.deepEqual(evaluate(events, "[variables('filterValues')]", { ...module, operationNames: operationNames.slice(0, 25) }), operationNames.slice(0, 25));
  });

  it("is built the same when subscription-wiring.bicep is deployed on its own for the governed types", () => {
    const types = ["Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"];
    const values = evaluate(wiring, "[variables('handledOperationNames')]", {
      deploymentName: "dev",
      location: "westeurope",
      principalId: PRINCIPAL,
      functionAppResourceId: "x",
      deadLetterStorageAccountResourceId: "x",
      deadLetterContainerName: "x",
      managedResourceTypes: types,
    }) as string[];
    assert.deepEqual(sorted(values), sorted([...ENDPOINT_OPERATIONS, ...PRIVATE_LINK_PROVIDERS.filter((p) => types.includes(p.resourceType)).flatMap(expectedOperationsOf)]));
    assert.deepEqual(wiring.parameters?.["managedResourceTypes"]?.defaultValue, ["Microsoft.ApiManagement/service"]);
  });
});

describe("managedInstanceIds, the deprecated name of managedResourceIds", () => {
  const apim = PRIVATE_LINK_PROVIDERS[0]!;
  const instance = resourceOf(apim, "apim-prod");
  const base = { principalId: PRINCIPAL, deploymentSubscriptionId: HOME };

  it("grants what managedResourceIds grants for the same instance, and both lists are merged (each resource once, whatever its casing)", () => {
    const old = deployedRoles({ ...base, managedInstanceIds: [instance] });
    const current = deployedRoles({ ...base, managedResourceIds: [instance] });
    assert.deepEqual(old, current);
    const both = deployedRoles({ ...base, managedInstanceIds: [instance.toUpperCase()], managedResourceIds: [instance, resourceOf(apim, "apim-test")] });
    assert.deepEqual(sorted(both.roleAssignments.filter((a) => a.roleDefinitionId === approverOf(both, apim).id).map((a) => a.scope)), sorted([instance, resourceOf(apim, "apim-test")]));
  });

  it("keeps API Management's role and assignment identities, so an existing deployment updates them in place", () => {
    const resources = deploy({ managedInstanceIds: [instance] });
    const definition = resources.find((r) => r.type === "Microsoft.Authorization/roleDefinitions" && String(r.evaluate(r.raw.name)) === String(evaluate(main, "[guid(subscription().id, variables('deploymentName'), 'portcullis-apim-connection-approver')]", { environmentName: "portcullis-test", location: "westeurope" }, { tenantId: "00000000-0000-4000-8000-0000000000aa", subscriptionId: HOME })));
    assert.ok(definition, "the APIM role's GUID is seeded as before ('portcullis-apim-connection-approver')");
    assert.match(String((definition.evaluate(definition.raw.properties) as { roleName: string }).roleName), /^Portcullis APIM connection approver \(portcullis-test-/);
    const assignment = resources.find((r) => r.type === "Microsoft.Authorization/roleAssignments" && String(r.evaluate(r.raw["scope"])) === instance)!;
    assert.equal(assignment.raw.name, "[guid(resourceId(parameters('resourceType'), parameters('resourceName')), parameters('principalId'), parameters('roleDefinitionName'))]");
    assert.equal(assignment.evaluate("[resourceId(parameters('resourceType'), parameters('resourceName'))]"), instance, "guid(instance ID, principal, role) as before");
  });

  it("is documented as deprecated", () => {
    assert.match(String(main.parameters?.["managedInstanceIds"]?.metadata?.description), /^Deprecated: use managedResourceIds\./);
    const parameters = JSON.parse(readFileSync(path.join(REPO_ROOT, "infra", "main.parameters.json"), "utf8")) as { parameters: Record<string, { value: unknown }> };
    assert.equal(parameters.parameters["managedInstanceIds"]?.value, "${PORTCULLIS_MANAGED_INSTANCE_IDS}");
    assert.equal(parameters.parameters["managedResourceIds"]?.value, "${PORTCULLIS_MANAGED_RESOURCE_IDS}");
    assert.equal(parameters.parameters["managedResourceTypes"]?.value, "${PORTCULLIS_MANAGED_RESOURCE_TYPES}");
  });
});

describe("the real Bicep CLI on a parameters file governing one type, and every registered type", () => {
  const paramsFor = (types: readonly string[]) =>
    [
      "using 'main.bicep'",
      "param environmentName = 'dev'",
      "param location = 'westeurope'",
      `param managedResourceTypes = [${types.map((t) => `'${t}'`).join(", ")}]`,
      `param managedResourceIds = [${PRIVATE_LINK_PROVIDERS.filter((p) => types.includes(p.resourceType)).map((p) => `'${resourceOf(p, nameOf(p))}'`).join(", ")}]`,
      "",
    ].join("\n");

  for (const [label, types] of [["API Management only", ["Microsoft.ApiManagement/service"]], ["every registered type", REGISTERED_RESOURCE_TYPES]] as const) {
    it(`builds with no error and no warning: ${label}`, () => {
      const { parameters, diagnostics } = buildBicepParamsWithDiagnostics({ "governed-probe.bicepparam": paramsFor(types) }, "governed-probe.bicepparam");
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(parameters["managedResourceTypes"], types);
    });
  }
});
