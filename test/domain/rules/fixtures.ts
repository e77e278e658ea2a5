/** Builders shared by the rule tests: valid rules with sensible defaults, and connection facts. */
import { ruleSchema, type Rule } from "../../../src/domain/rules/schema.ts";
import type { ConnectionFacts } from "../../../src/domain/rules/facts.ts";

export const PROVIDER_SUB = "11111111-1111-1111-1111-111111111111";
export const CONSUMER_SUB = "22222222-2222-2222-2222-222222222222";
export const OTHER_SUB = "33333333-3333-3333-3333-333333333333";
export const TENANT = "44444444-4444-4444-4444-444444444444";

export const PROD_APIM = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-prod/providers/Microsoft.ApiManagement/service/apim-prod`;
export const TEST_APIM = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-test/providers/Microsoft.ApiManagement/service/apim-test`;
export const CONSUMER_PE = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-orders`;
export const STORAGE = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stlake`;
export const VAULT = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-data`;
export const SQL_SERVER = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-dwh`;
export const PLS = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateLinkServices/pls-app`;

type RuleOverrides = Partial<Omit<Rule, "conditions">> & { conditions?: Record<string, unknown> };

/** A valid stored rule; anything not given gets a plain default (approve, enforce, enabled, no conditions). */
export function rule(overrides: RuleOverrides & { id: string }): Rule {
  return ruleSchema.parse({
    priority: 100,
    action: "approve",
    reason: `Approved by ${overrides.id}`,
    version: 1,
    updatedAt: "2025-01-01T00:00:00Z",
    updatedBy: { objectId: "00000000-0000-0000-0000-0000000000aa", name: "Rule Author" },
    ...overrides,
  });
}

/** Facts of a connection from the consumer endpoint to the prod instance. */
export function facts(overrides: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return {
    connectionId: `${PROD_APIM}/privateEndpointConnections/pe-orders.abc`,
    resourceId: PROD_APIM,
    privateEndpointId: CONSUMER_PE,
    requesterSubscriptionId: CONSUMER_SUB,
    requestMessage: "Orders team, ticket CHG0012345",
    groupIds: ["Gateway"],
    ...overrides,
  };
}

/** Facts of a connection from the consumer endpoint to another governed resource, with that type's group ids. */
export function factsOn(resourceId: string, groupIds: readonly string[], overrides: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return facts({ connectionId: `${resourceId}/privateEndpointConnections/pe-orders.abc`, resourceId, groupIds, ...overrides });
}

export const NOW = new Date("2025-06-01T12:00:00Z");
