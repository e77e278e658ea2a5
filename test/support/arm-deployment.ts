/**
 * What a whole deployment of a compiled Bicep template deploys: follows a deployment through its parameters, nested
 * deployments (their own parameters, copy loops, conditions, subscription / resource-group scopes) and the resources
 * inside them, with `reference()` of a nested deployment giving that deployment's outputs and `reference()` of a real
 * resource giving the runtime values the test supplies. Expressions are evaluated by test/support/arm-template.ts,
 * which throws on any function it does not implement, so a change in infra/ fails the tests loudly instead of being
 * misread; a runtime value the test did not supply stays a symbolic DeploymentValue that equals no real name or ID and
 * throws where an expression needs it as text.
 */
import {
  DeploymentValue,
  evaluateValue,
  nestedTemplate,
  resourcesOf,
  templateContext,
  type ArmResource,
  type ArmTemplate,
  type DeploymentScope,
  type EvaluationContext,
} from "./arm-template.ts";

export type { DeploymentScope };

/** Values only Azure knows at deployment time (`reference()` of a real resource), by resource type. */
export type RuntimeValues = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** One resource a template (or a nested deployment) deploys, with the scope it is deployed at. */
export interface DeployedResource {
  readonly type: string;
  readonly scope: DeploymentScope;
  /** Evaluates an expression-bearing value of the resource (e.g. its `properties`) in its template's context. */
  evaluate(value: unknown): unknown;
  readonly raw: ArmResource;
  /** copyIndex() for a resource in a copy loop. */
  readonly copyIndex: number | undefined;
}

/** One template being deployed: its expression context and what reference() of its resources can see. */
interface Deployment {
  readonly context: EvaluationContext;
  readonly resources: Readonly<Record<string, ArmResource>>;
  readonly runtime: RuntimeValues;
  /** Outputs of its nested deployments, by symbolic name, evaluated on first read. */
  readonly outputs: Map<string, Record<string, unknown>>;
}

const DEPLOYMENT_TYPE = "Microsoft.Resources/deployments";

/**
 * Every resource a template deploys with the given parameters, nested deployments included (their conditions and
 * copy loops applied); `existing` references are not deployments and are left out.
 */
export function deployedResources(template: ArmTemplate, parameters: Readonly<Record<string, unknown>>, scope: DeploymentScope, runtime: RuntimeValues = {}): DeployedResource[] {
  const out: DeployedResource[] = [];
  walk(deploymentOf(template, (name) => (Object.hasOwn(parameters, name) ? { value: parameters[name] } : undefined), scope, runtime), out);
  return out;
}

function deploymentOf(template: ArmTemplate, given: (name: string) => { value: unknown } | undefined, scope: DeploymentScope, runtime: RuntimeValues): Deployment {
  const deployment: Deployment = {
    context: templateContext(template, given, scope, (args, context) => referenceOf(args[0]!, context, deployment)),
    resources: Object.fromEntries(resourcesOf(template)),
    runtime,
    outputs: new Map(),
  };
  return deployment;
}

function walk(deployment: Deployment, out: DeployedResource[]): void {
  const { context } = deployment;
  for (const resource of Object.values(deployment.resources)) {
    if (resource.existing === true) continue;
    const copy = resource["copy"] as { count: unknown } | undefined;
    const indices = copy === undefined ? [undefined] : Array.from({ length: Number(evaluateValue(copy.count, context)) }, (_, i) => i);
    for (const copyIndex of indices) {
      const here: EvaluationContext = { ...context, copyIndex };
      if (resource.condition !== undefined && evaluateValue(resource.condition, here) !== true) continue;
      if (resource.type === DEPLOYMENT_TYPE) walk(nestedDeployment(resource, deployment, here), out);
      else out.push({ type: resource.type, scope: context.scope, raw: resource, copyIndex, evaluate: (value) => evaluateValue(value, here) });
    }
  }
}

/** A module: its template deployed at the scope it names, its parameters evaluated where the module is declared (`here`). */
function nestedDeployment(module: ArmResource, parent: Deployment, here: EvaluationContext): Deployment {
  const text = (key: string): string | undefined => {
    if (module[key] === undefined) return undefined;
    const value = evaluateValue(module[key], here);
    if (typeof value !== "string") throw new Error(`ARM template: module ${key} is not a string: ${JSON.stringify(value)}`);
    return value;
  };
  const sub = text("subscriptionId");
  const rg = text("resourceGroup");
  const outer = parent.context.scope;
  const scope: DeploymentScope =
    sub !== undefined && rg === undefined
      ? { tenantId: outer.tenantId, subscriptionId: sub, location: outer.location }
      : { tenantId: outer.tenantId, subscriptionId: sub ?? outer.subscriptionId, location: outer.location, ...(rg !== undefined ? { resourceGroup: rg } : outer.resourceGroup !== undefined ? { resourceGroup: outer.resourceGroup } : {}) };
  const given = (module.properties?.["parameters"] ?? {}) as Record<string, unknown>;
  const parameter = (name: string) => (name in given ? { value: (evaluateValue(given[name], here) as { value: unknown }).value } : undefined);
  return deploymentOf(nestedTemplate(module)!, parameter, scope, parent.runtime);
}

/** reference(symbolicName or ID) of a nested deployment → its outputs; reference(symbolicName or ID) of a real resource → runtime values. */
function referenceOf(target: string, context: EvaluationContext, deployment: Deployment): unknown {
  // A nested deployment, by symbolic name (languageVersion 2.0) or by its resource ID (…/Microsoft.Resources/deployments/{name}).
  const byId = /\/providers\/Microsoft\.Resources\/deployments\/([^/]+)$/i.exec(target)?.[1];
  const symbol =
    byId === undefined
      ? target
      : Object.entries(deployment.resources).find(([, r]) => r.type === DEPLOYMENT_TYPE && r["copy"] === undefined && evaluateValue(r.name, context) === byId)?.[0];
  const module = symbol === undefined ? undefined : deployment.resources[symbol];
  if (symbol !== undefined && module?.type === DEPLOYMENT_TYPE) {
    if (module["copy"] !== undefined) throw new Error(`ARM expression: reference('${target}') of a deployment loop is not modeled`);
    let outputs = deployment.outputs.get(symbol);
    if (outputs === undefined) {
      const nested = nestedDeployment(module, deployment, { ...context, copyIndex: undefined });
      outputs = {};
      for (const [name, output] of Object.entries(nestedTemplate(module)!.outputs ?? {})) {
        Object.defineProperty(outputs, name, { enumerable: true, get: () => ({ value: evaluateValue(output.value, nested.context) }) });
      }
      deployment.outputs.set(symbol, outputs);
    }
    return { outputs };
  }
  // A real resource, by symbolic name or by resource ID: only Azure knows its runtime state.
  const declared = deployment.resources[target];
  const type = declared !== undefined ? declared.type : /\/providers\/(.+)$/.exec(target)?.[1]?.split("/").filter((_, i) => i === 0 || i % 2 === 1).join("/");
  const values = type === undefined ? undefined : Object.entries(deployment.runtime).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1];
  return values ?? new DeploymentValue(`reference(${JSON.stringify(target)})`, false);
}
