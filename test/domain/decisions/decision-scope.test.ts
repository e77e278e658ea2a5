import { test } from "node:test";
import assert from "node:assert/strict";
import { isManagedResource, managedResourceOfConnection, type ManagedScope } from "../../../src/domain/decisions/decision-scope.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const OTHER = "22222222-2222-2222-2222-222222222222";
const id = (sub: string, provider: string, type: string, name: string) => `/subscriptions/${sub}/resourceGroups/rg/providers/${provider}/${type}/${name}`;
const APIM = id(OTHER, "Microsoft.ApiManagement", "service", "apim");
const STORAGE = id(SUB, "Microsoft.Storage", "storageAccounts", "st1");
const VAULT = id(SUB, "Microsoft.KeyVault", "vaults", "kv1");

test("a resource is managed when its type is governed and it is listed or in a managed subscription (IDs and types in any case)", () => {
  const scope: ManagedScope = { resourceTypes: ["Microsoft.ApiManagement/service", "Microsoft.Storage/storageAccounts"], resourceIds: [APIM], subscriptionIds: [SUB] };
  assert.equal(isManagedResource(scope, APIM.toUpperCase().replace("/SUBSCRIPTIONS/", "/subscriptions/")), true, "listed");
  assert.equal(isManagedResource(scope, STORAGE.replace("Microsoft.Storage", "microsoft.storage")), true, "in a managed subscription");
  assert.equal(isManagedResource(scope, VAULT), false, "in a managed subscription, but its type is not governed");
  assert.equal(isManagedResource(scope, id(OTHER, "Microsoft.Storage", "storageAccounts", "st2")), false, "governed type, neither listed nor in a managed subscription");
  assert.equal(isManagedResource(scope, id(SUB, "Microsoft.Compute", "virtualMachines", "vm")), false, "unregistered type");
  assert.equal(isManagedResource(scope, `${STORAGE}/blobServices/default`), false, "not a top-level resource");
});

test("a connection is managed when its owning resource is; anything else has no managed owner", () => {
  const scope: ManagedScope = { resourceTypes: ["Microsoft.Storage/storageAccounts"], resourceIds: [], subscriptionIds: [SUB] };
  assert.equal(managedResourceOfConnection(scope, `${STORAGE}/privateEndpointConnections/pe-1.abc`), STORAGE);
  assert.equal(managedResourceOfConnection(scope, `${VAULT}/privateEndpointConnections/pe-1`), undefined);
  assert.equal(managedResourceOfConnection(scope, `${STORAGE}/privateLinkResources/blob`), undefined);
  assert.equal(managedResourceOfConnection(scope, "not an id"), undefined);
});
