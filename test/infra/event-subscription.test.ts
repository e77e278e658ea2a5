/**
 * The Event Grid wiring in infra/ against the engine (src/domain/decisions/arm-events.ts): the subscription delivers exactly
 * the event types and ARM operations the engine acts on, to privateEndpointEvents, with bounded retries and a
 * dead-letter container, from a Microsoft.Resources.Subscriptions system topic.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { HANDLED_EVENT_TYPES, HANDLED_OPERATION_NAMES } from "../../src/domain/decisions/arm-events.ts";
import { propertyValue, readBicep, REPO_ROOT, resourceDeclarations, stringLiterals, variableExpression } from "./bicep.ts";

const module = readBicep("infra/app/event-subscription.bicep");
const subscription = resourceDeclarations(module).find((r) => r.type === "Microsoft.EventGrid/systemTopics/eventSubscriptions");

function subscriptionProperty(...pathSegments: string[]): string {
  assert.ok(subscription, "event-subscription.bicep declares a system topic event subscription");
  let block = subscription.body;
  for (const segment of pathSegments) {
    const value = propertyValue(block, segment);
    assert.ok(value !== undefined, `event subscription has ${pathSegments.join(".")}`);
    block = value;
  }
  return block;
}

/** The `values` of the advanced filter on `key`, resolved through the variable they name. */
function advancedFilterValues(key: string): string[] {
  const filters = subscriptionProperty("properties", "filter", "advancedFilters");
  const filter = filters.split(/\n\s*\}\s*\n/).find((f) => f.includes(`key: '${key}'`));
  assert.ok(filter, `an advanced filter on ${key}`);
  assert.match(filter, /operatorType: 'StringIn'/);
  const values = /values: (\w+)/.exec(filter)?.[1];
  assert.ok(values, "filter values come from a named variable");
  return stringLiterals(variableExpression(module, values));
}

describe("Event Grid subscription to privateEndpointEvents", () => {
  it("filters data.operationName to exactly the operations the engine acts on", () => {
    const operations = advancedFilterValues("data.operationName");
    assert.deepEqual([...operations].sort(), [...HANDLED_OPERATION_NAMES].sort());
    assert.equal(new Set(operations).size, operations.length, "no operation listed twice");
  });

  it("includes exactly the event types the engine handles", () => {
    const typesVariable = subscriptionProperty("properties", "filter", "includedEventTypes");
    assert.deepEqual(stringLiterals(variableExpression(module, typesVariable)).sort(), [...HANDLED_EVENT_TYPES].sort());
  });

  it("delivers to the privateEndpointEvents function through the Functions Event Grid extension, one event at a time", () => {
    const destination = subscriptionProperty("properties", "destination");
    assert.equal(propertyValue(destination, "endpointType"), "'AzureFunction'");
    const properties = subscriptionProperty("properties", "destination", "properties");
    assert.equal(propertyValue(properties, "resourceId"), "'${functionAppResourceId}/functions/${eventFunctionName}'");
    assert.equal(variableExpression(module, "eventFunctionName"), "'privateEndpointEvents'");
    assert.equal(propertyValue(properties, "maxEventsPerBatch"), "1");
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
    for (const name of eventGridNames) assert.equal(name, "privateEndpointEvents");
  });

  it("retries within Event Grid's bounds and dead-letters to blob storage with the topic's own identity", () => {
    const retry = subscriptionProperty("properties", "retryPolicy");
    assert.equal(propertyValue(retry, "maxDeliveryAttempts"), "maxDeliveryAttempts");
    assert.equal(propertyValue(retry, "eventTimeToLiveInMinutes"), "eventTimeToLiveInMinutes");
    assert.match(module.code, /@minValue\(1\)\n@maxValue\(30\)\nparam maxDeliveryAttempts int = 30/);
    assert.match(module.code, /@minValue\(1\)\n@maxValue\(1440\)\nparam eventTimeToLiveInMinutes int = 1440/);
    const deadLetter = subscriptionProperty("properties", "deadLetterWithResourceIdentity");
    assert.equal(propertyValue(propertyValue(deadLetter, "identity") ?? "", "type"), "'SystemAssigned'");
    const destination = propertyValue(deadLetter, "deadLetterDestination") ?? "";
    assert.equal(propertyValue(destination, "endpointType"), "'StorageBlob'");
    assert.equal(propertyValue(propertyValue(destination, "properties") ?? "", "blobContainerName"), "deadLetterContainerName");
  });

  it("hangs off a subscription-level system topic with a system-assigned identity", () => {
    const topicModule = readBicep("infra/app/system-topic.bicep");
    const topic = resourceDeclarations(topicModule).find((r) => r.type === "Microsoft.EventGrid/systemTopics" && !r.existing);
    assert.ok(topic);
    assert.equal(propertyValue(topic.body, "location"), "'global'");
    assert.equal(propertyValue(propertyValue(topic.body, "identity") ?? "", "type"), "'SystemAssigned'");
    const properties = propertyValue(topic.body, "properties") ?? "";
    assert.equal(propertyValue(properties, "topicType"), "'Microsoft.Resources.Subscriptions'");
    assert.equal(propertyValue(properties, "source"), "subscription().id");
  });

  it("is wired for every watched subscription, and only once the function exists", () => {
    const main = readBicep("infra/main.bicep");
    assert.match(main.code, /^module subscriptionWiring 'subscription-wiring\.bicep' = \[\n\s+for subscriptionId in watchedSubscriptionIds: \{/m);
    assert.match(main.code, /scope: subscription\(subscriptionId\)/);
    assert.match(main.code, /eventSubscriptionEnabled: eventSubscriptionsEnabled/);
    assert.match(main.code, /^param eventSubscriptionsEnabled bool = false$/m);
    const watched = variableExpression(main, "watchedSubscriptionIds");
    for (const source of ["managedInstanceSubscriptionIds", "managedSubscriptionIdsLower", "consumerSubscriptionIdsLower"]) {
      assert.ok(watched.includes(source), `watched subscriptions include ${source}`);
    }
    const wiring = readBicep("infra/subscription-wiring.bicep");
    assert.match(wiring.code, /^targetScope = 'subscription'$/m, "the wiring deploys on its own at subscription scope");
    assert.match(wiring.code, /^module eventSubscription 'app\/event-subscription\.bicep' = if \(eventSubscriptionEnabled\)/m);
    const hook = readFileSync(path.join(REPO_ROOT, "infra", "hooks", "postdeploy.sh"), "utf8");
    assert.match(hook, /azd env set PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED true/);
    const parameters = JSON.parse(readFileSync(path.join(REPO_ROOT, "infra", "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    assert.equal(parameters.parameters["eventSubscriptionsEnabled"]?.value, "${PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED}");
  });
});
