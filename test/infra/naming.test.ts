/**
 * azd environment names may hold '_', '.', '(' and ')' (azd: ^[a-zA-Z0-9-\(\)_\.]{1,64}$, Azure/azure-dev
 * cli/azd/pkg/environment), which Event Grid names refuse: system topic and event subscription names allow letters,
 * digits and hyphens only (3-64 characters for event subscriptions). The templates derive those names through
 * eventGridNamePart (infra/shared.bicep); this checks the compiled name expressions for several environment names,
 * and the function as the real Bicep compiler evaluates it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluate, moduleTemplate, resourcesOf } from "../support/arm-template.ts";
import { buildBicepParams, compileBicep } from "../support/compiled-infra.ts";

const AZD_ENVIRONMENT_NAME = /^[a-zA-Z0-9-()_.]{1,64}$/;
const EVENT_GRID_NAME = /^[a-zA-Z0-9-]{3,64}$/;
/** A resourceToken as uniqueString() makes it: 13 lowercase letters and digits. */
const TOKEN = "k3j2h1g0f9d8s";

const ENVIRONMENT_NAMES = ["dev", "My_Env", "team.a(1)", "prod-west", "(_._)", "UPPER.case_env(2)", "a", "x".repeat(64), "release_2026.12(hotfix)-eu"];

const main = compileBicep("infra/main.bicep").template;
const wiring = compileBicep("infra/subscription-wiring.bicep").template;

/** deploymentName of main.bicep, with uniqueString()'s token given (the evaluator does not hash). */
function deploymentNameFor(environmentName: string): string {
  const expression = String(main.variables?.["deploymentName"]).replace("variables('resourceToken')", `'${TOKEN}'`);
  return String(evaluate(main, expression, { environmentName, location: "westeurope" }));
}

/** The Event Grid names subscription-wiring.bicep gives a new topic and its event subscription. */
function eventGridNamesFor(deploymentName: string): { topic: string; subscription: string; topicGroup: string } {
  const parameters = { deploymentName, location: "westeurope", principalId: "p", functionAppResourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/f", deadLetterStorageAccountResourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st", deadLetterContainerName: "c" };
  const events = resourcesOf(wiring).find(([name]) => name === "eventSubscription")![1];
  const subscriptionName = (events.properties?.["parameters"] as Record<string, { value: unknown }>)["name"]?.value;
  return {
    topic: String(evaluate(wiring, "[variables('topicName')]", parameters)),
    subscription: String(evaluate(wiring, subscriptionName, parameters)),
    topicGroup: String(evaluate(wiring, "[variables('topicGroupName')]", parameters)),
  };
}

describe("Event Grid names derived from azd environment names", () => {
  it("are valid Event Grid names for every azd-valid environment name, '_' '.' '(' ')' included", () => {
    for (const environmentName of ENVIRONMENT_NAMES) {
      assert.match(environmentName, AZD_ENVIRONMENT_NAME, `${environmentName} is an azd environment name`);
      const deploymentName = deploymentNameFor(environmentName);
      const names = eventGridNamesFor(deploymentName);
      assert.match(names.topic, EVENT_GRID_NAME, `${environmentName}: system topic ${names.topic}`);
      assert.match(names.subscription, EVENT_GRID_NAME, `${environmentName}: event subscription ${names.subscription}`);
      assert.ok(names.topic.endsWith(`-${TOKEN}`), `${environmentName}: the unique token stays in the name`);
    }
  });

  it("keep the environment recognisable: lowercase, each refused character a hyphen, at most 24 characters of it", () => {
    assert.equal(deploymentNameFor("team.a(1)"), `team-a-1--${TOKEN}`);
    assert.equal(deploymentNameFor("My_Env"), `my-env-${TOKEN}`);
    assert.equal(deploymentNameFor("x".repeat(64)), `${"x".repeat(24)}-${TOKEN}`);
    assert.equal(eventGridNamesFor(deploymentNameFor("My_Env")).topic, `egst-my-env-${TOKEN}`);
  });

  it("are made safe in subscription-wiring.bicep too, when a deployment name is given by hand", () => {
    const names = eventGridNamesFor("Platform_Team.(Prod)");
    assert.equal(names.topic, "egst-platform-team--prod-");
    assert.equal(names.subscription, "evgs-platform-team--prod-");
    assert.equal(names.topicGroup, "rg-platform-team--prod--events");
  });

  it("would not be valid without the function (the check above can fail)", () => {
    const raw = "egst-team.a(1)-" + TOKEN;
    assert.doesNotMatch(raw, EVENT_GRID_NAME);
  });

  it("come from the same function the real Bicep compiler evaluates (bicep build-params over infra/shared.bicep)", () => {
    const probe = [
      "@description('Names the probe asks the compiler to derive.')",
      "param names string[]",
      "@description('The names, unchanged.')",
      "output names string[] = names",
    ].join("\n");
    const params = [
      "using 'naming-probe.bicep'",
      "import { eventGridNamePart } from 'shared.bicep'",
      `param names = [${ENVIRONMENT_NAMES.map((n) => `eventGridNamePart(take('${n}', 24))`).join(", ")}]`,
    ].join("\n");
    const { names } = buildBicepParams({ "naming-probe.bicep": probe, "naming-probe.bicepparam": params }, "naming-probe.bicepparam") as { names: string[] };
    const ours = ENVIRONMENT_NAMES.map((n) => deploymentNameFor(n).slice(0, -(TOKEN.length + 1)));
    assert.deepEqual(names, ours, "the compiler and the compiled expression agree");
    for (const name of names) assert.match(name, /^[a-z0-9-]+$/);
  });

  it("is what main.bicep's deploymentName and the wiring's names are built from", () => {
    assert.match(String(main.variables?.["deploymentName"]), /__bicep\.eventGridNamePart\(take\(parameters\('environmentName'\), 24\)\)/);
    assert.equal(wiring.variables?.["eventGridName"], "[__bicep.eventGridNamePart(parameters('deploymentName'))]");
    assert.ok(moduleTemplate(main, "subscriptionWiring").variables?.["eventGridName"], "main.bicep deploys the same wiring");
  });
});
