/**
 * The Event Grid wiring in the compiled templates against the engine (src/domain/decisions/arm-events.ts): the subscription
 * delivers exactly the event types and ARM operations the engine acts on, to privateEndpointEvents, with bounded
 * retries and a dead-letter container, from the subscription's Microsoft.Resources.Subscriptions system topic, which is
 * created when missing and only referenced when it exists.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { HANDLED_EVENT_TYPES, HANDLED_OPERATION_NAMES } from "../../src/domain/decisions/arm-events.ts";
import { allResources, evaluate, moduleTemplate, resourcesOf, type ArmResource, type ArmTemplate } from "../support/arm-template.ts";
import { compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";

const main = compileBicep("infra/main.bicep").template;
const wiring = compileBicep("infra/subscription-wiring.bicep").template;
const eventModule = moduleTemplate(wiring, "eventSubscription");

function resourceOfType(template: ArmTemplate, type: string, existing = false): [string, ArmResource] {
  const found = resourcesOf(template).filter(([, r]) => r.type === type && (r.existing === true) === existing);
  assert.equal(found.length, 1, `one ${existing ? "existing " : ""}${type}`);
  return found[0]!;
}

const [, subscription] = resourceOfType(eventModule, "Microsoft.EventGrid/systemTopics/eventSubscriptions");
const FUNCTION_APP_ID = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-abc";
/** The operation names subscription-wiring.bicep gives the module for its default governed types (API Management). */
const defaultOperationNames = evaluate(wiring, "[variables('handledOperationNames')]", {
  deploymentName: "dev-abc",
  location: "westeurope",
  principalId: "00000000-0000-0000-0000-000000000001",
  functionAppResourceId: "x",
  deadLetterStorageAccountResourceId: "x",
  deadLetterContainerName: "x",
}) as string[];
/** The subscription's properties as ARM receives them, for sample module parameters. */
const properties = evaluate(eventModule, subscription.properties, {
  operationNames: defaultOperationNames,
  systemTopicName: "egst-dev",
  name: "evgs-dev",
  functionAppResourceId: FUNCTION_APP_ID,
  deadLetterStorageAccountResourceId: "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-dev/providers/Microsoft.Storage/storageAccounts/stabc",
  deadLetterContainerName: "eventgrid-deadletter",
}) as {
  eventDeliverySchema: string;
  destination: { endpointType: string; properties: { resourceId: string; maxEventsPerBatch: number } };
  filter: { includedEventTypes: string[]; advancedFilters: { operatorType: string; key: string; values: string[] }[] };
  retryPolicy: { maxDeliveryAttempts: number; eventTimeToLiveInMinutes: number };
  deadLetterWithResourceIdentity: { identity: { type: string }; deadLetterDestination: { endpointType: string; properties: { blobContainerName: string } } };
};

describe("Event Grid subscription to privateEndpointEvents (compiled)", () => {
  it("filters data.operationName to exactly the operations the engine acts on, proxy deletes included (API Management, the default; other types: governed-types.test.ts)", () => {
    const filters = properties.filter.advancedFilters.filter((f) => f.key === "data.operationName");
    assert.equal(filters.length, 1);
    assert.equal(filters[0]!.operatorType, "StringIn");
    assert.deepEqual([...filters[0]!.values].sort(), [...HANDLED_OPERATION_NAMES].sort());
    assert.equal(new Set(filters[0]!.values).size, filters[0]!.values.length, "no operation listed twice");
    assert.ok(filters[0]!.values.includes("Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete"));
  });

  it("includes exactly the event types the engine handles", () => {
    assert.deepEqual([...properties.filter.includedEventTypes].sort(), [...HANDLED_EVENT_TYPES].sort());
  });

  it("delivers to the privateEndpointEvents function through the Functions Event Grid extension, one event at a time", () => {
    assert.equal(properties.eventDeliverySchema, "EventGridSchema");
    assert.equal(properties.destination.endpointType, "AzureFunction");
    assert.equal(properties.destination.properties.maxEventsPerBatch, 1);
    // resourceId() is evaluated by ARM: the expression names the function as a child of the Function App.
    const resourceIdExpression = String((subscription.properties?.["destination"] as { properties: { resourceId: string } }).properties.resourceId);
    assert.match(resourceIdExpression, /^\[resourceId\(variables\('functionAppIdSegments'\)\[2\], variables\('functionAppIdSegments'\)\[4\], 'Microsoft\.Web\/sites\/functions', last\(variables\('functionAppIdSegments'\)\), variables\('eventFunctionName'\)\)\]$/);
    assert.equal(evaluate(eventModule, "[variables('eventFunctionName')]"), "privateEndpointEvents");
    assert.deepEqual(evaluate(eventModule, "[variables('functionAppIdSegments')]", { functionAppResourceId: FUNCTION_APP_ID }), FUNCTION_APP_ID.split("/"));
  });

  it("subscribes the function the code registers as its Event Grid trigger", () => {
    const functionsDir = path.join(REPO_ROOT, "src", "functions");
    const eventGridNames = readdirSync(functionsDir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(path.join(functionsDir, f), "utf8"))
      .flatMap((source) =>
        [...source.matchAll(/kind:\s*"eventGrid",/g)].map((m) => {
          const definition = source.slice(source.lastIndexOf("{", m.index), source.indexOf("}", m.index));
          return /name:\s*"([^"]+)"/.exec(definition)?.[1];
        }),
      );
    assert.ok(eventGridNames.length > 0);
    for (const name of eventGridNames) assert.equal(name, "privateEndpointEvents");
  });

  it("retries within Event Grid's bounds and dead-letters to blob storage with the topic's own identity", () => {
    assert.deepEqual(properties.retryPolicy, { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
    for (const template of [eventModule, wiring, main]) {
      assert.deepEqual([template.parameters?.["maxDeliveryAttempts"] ?? template.parameters?.["eventMaxDeliveryAttempts"]].map((p) => [p?.["minValue"], p?.["maxValue"]]), [[1, 30]]);
      assert.deepEqual([template.parameters?.["eventTimeToLiveInMinutes"]].map((p) => [p?.["minValue"], p?.["maxValue"]]), [[1, 1440]]);
    }
    assert.equal(properties.deadLetterWithResourceIdentity.identity.type, "SystemAssigned");
    assert.equal(properties.deadLetterWithResourceIdentity.deadLetterDestination.endpointType, "StorageBlob");
    assert.equal(properties.deadLetterWithResourceIdentity.deadLetterDestination.properties.blobContainerName, "eventgrid-deadletter");
  });
});

describe("the system topic of each watched subscription (compiled)", () => {
  const [, newTopic] = resourceOfType(moduleTemplate(wiring, "systemTopic"), "Microsoft.EventGrid/systemTopics");
  const [existingSymbol, existingTopic] = resourceOfType(wiring, "Microsoft.EventGrid/systemTopics", true);
  const [, topicGroup] = resourceOfType(wiring, "Microsoft.Resources/resourceGroups");
  const deployed = (resource: ArmResource, parameters: Record<string, unknown>) => evaluate(wiring, resource.condition ?? true, { ...WIRING_PARAMETERS, ...parameters }) === true;
  const systemTopicModule = resourcesOf(wiring).find(([name]) => name === "systemTopic")![1];

  it("is created, when the subscription has none, as a global Microsoft.Resources.Subscriptions topic with a system-assigned identity", () => {
    const topic = evaluate(moduleTemplate(wiring, "systemTopic"), { location: newTopic["location"], identity: newTopic["identity"], properties: newTopic.properties }, { name: "egst-x", tags: {} });
    assert.deepEqual(topic, {
      location: "global",
      identity: { type: "SystemAssigned" },
      properties: { source: "/subscriptions/11111111-2222-3333-4444-555555555555", topicType: "Microsoft.Resources.Subscriptions" },
    });
    assert.equal(deployed(systemTopicModule, {}), true);
    assert.equal(deployed(topicGroup, {}), true, "its resource group is created with it");
    assert.equal(deployed(existingTopic, {}), false);
  });

  it("is referenced with `existing` when the subscription already has one: neither the topic nor its resource group is redeployed", () => {
    const reuse = { systemTopicName: "their-topic", systemTopicResourceGroupName: "rg-platform-events" };
    assert.equal(deployed(systemTopicModule, reuse), false, "no PUT of the topic (it would overwrite its identity and tags)");
    assert.equal(deployed(topicGroup, reuse), false, "no PUT of its resource group (it may be in another region)");
    assert.equal(deployed(existingTopic, reuse), true);
    assert.deepEqual(evaluate(wiring, { name: existingTopic.name, resourceGroup: existingTopic["resourceGroup"] }, { ...WIRING_PARAMETERS, ...reuse }), {
      name: "their-topic",
      resourceGroup: "rg-platform-events",
    });
    // The dead-letter role goes to the existing topic's identity, and the event subscription hangs off that topic.
    const deadLetter = resourcesOf(wiring).find(([name]) => name === "deadLetterAccess")![1];
    const principal = (deadLetter.properties?.["parameters"] as Record<string, unknown>)["topicPrincipalId"];
    const principalFor = (parameters: Record<string, unknown>) => String((evaluate(wiring, principal, { ...WIRING_PARAMETERS, ...parameters }) as { value: unknown }).value);
    assert.equal(principalFor(reuse), `<reference("${existingSymbol}", "2025-02-15", "full").identity.principalId>`);
    assert.equal(principalFor({}), `<reference("systemTopic").outputs.principalId.value>`);
    const events = resourcesOf(wiring).find(([name]) => name === "eventSubscription")![1];
    const topicName = (events.properties?.["parameters"] as Record<string, { value: unknown }>)["systemTopicName"]?.value;
    assert.equal(evaluate(wiring, topicName, { ...WIRING_PARAMETERS, ...reuse }), "their-topic");
    assert.equal(evaluate(wiring, events["resourceGroup"], { ...WIRING_PARAMETERS, ...reuse }), "rg-platform-events");
  });

  it("is looked up, from main.bicep, in existingSystemTopics by lowercase subscription ID", () => {
    const wiringModule = resourcesOf(main).find(([name]) => name === "subscriptionWiring")![1];
    const passed = wiringModule.properties?.["parameters"] as Record<string, { value: unknown }>;
    assert.match(String(passed["systemTopicName"]?.value), /tryGet\(tryGet\(parameters\('existingSystemTopics'\), variables\('watchedSubscriptionIds'\)\[copyIndex\(\)\]\), 'name'\)/);
    const declared = main.parameters?.["existingSystemTopics"] as { additionalProperties?: { $ref?: string } } | undefined;
    assert.ok(declared?.additionalProperties?.$ref, "existingSystemTopics is a typed dictionary of topic references");
  });

  it("is wired for every watched subscription, and the event subscription only once the function exists", () => {
    const wiringModule = resourcesOf(main).find(([name]) => name === "subscriptionWiring")![1];
    assert.deepEqual(wiringModule["copy"], { name: "subscriptionWiring", count: "[length(variables('watchedSubscriptionIds'))]" });
    assert.equal(wiringModule["subscriptionId"], "[variables('watchedSubscriptionIds')[copyIndex()]]");
    const watched = evaluate(main, "[variables('watchedSubscriptionIds')]", {
      environmentName: "dev",
      location: "westeurope",
      managedInstanceIds: ["/subscriptions/AAAA/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"],
      managedSubscriptionIds: ["BBBB", "aaaa"],
      consumerSubscriptionIds: ["CCCC"],
    });
    assert.deepEqual(watched, ["aaaa", "bbbb", "cccc"]);
    assert.equal(main.parameters?.["eventSubscriptionsEnabled"]?.defaultValue, false);
    const events = allResources(wiring).find((r) => r.path.join(">") === "eventSubscription")!;
    assert.equal(events.resource.condition, "[parameters('eventSubscriptionEnabled')]");
    const hook = readFileSync(path.join(REPO_ROOT, "infra", "hooks", "postdeploy.sh"), "utf8");
    assert.match(hook, /azd env set PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED true/);
    const parameters = JSON.parse(readFileSync(path.join(REPO_ROOT, "infra", "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    assert.equal(parameters.parameters["eventSubscriptionsEnabled"]?.value, "${PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED}");
  });
});

/** Sample values for subscription-wiring.bicep's parameters without defaults. */
const WIRING_PARAMETERS = {
  deploymentName: "dev-abc",
  location: "westeurope",
  principalId: "00000000-0000-0000-0000-000000000001",
  functionAppResourceId: FUNCTION_APP_ID,
  deadLetterStorageAccountResourceId: "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-dev/providers/Microsoft.Storage/storageAccounts/stabc",
  deadLetterContainerName: "eventgrid-deadletter",
};
