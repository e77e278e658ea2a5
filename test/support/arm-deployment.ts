/**
 * What a whole deployment of a compiled Bicep template deploys: an evaluator for the ARM template expression language
 * that follows a deployment through its parameters and variables, nested deployments (inner expression scope, copy loops, conditions,
 * subscription / resource-group scopes) and the resources inside them, with `reference()` of a nested deployment
 * giving that deployment's outputs. Only the functions infra/ uses are implemented; any other function, or a
 * runtime value it was not given, throws, so a change in infra/ fails the tests loudly instead of being misread.
 *
 * Not Azure's algorithms: `guid()` and `uniqueString()` are deterministic stand-ins (a SHA-1 of their arguments)
 * — the tests only need equal inputs to give equal names, which they do.
 * Function reference: Microsoft Learn, "ARM template functions" (azure-resource-manager/templates/template-functions).
 */
import { createHash } from "node:crypto";

type Value = unknown;

/** Values only Azure knows at deployment time (`reference()` of a real resource), by resource type. */
export type RuntimeValues = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The scope a template is deployed at. */
export interface DeploymentScope {
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** Set for a resource-group deployment. */
  readonly resourceGroup?: string;
  readonly location: string;
}

/** One resource a template (or a nested deployment) deploys, with the scope it is deployed at. */
export interface DeployedResource {
  readonly type: string;
  readonly scope: DeploymentScope;
  /** Evaluates an expression-bearing value of the resource (e.g. its `properties`) in its template's context. */
  evaluate(value: Value): Value;
  readonly raw: Record<string, unknown>;
  /** copyIndex() for a resource in a copy loop. */
  readonly copyIndex: number | undefined;
}

interface UserFunction {
  readonly parameters?: readonly { name: string }[];
  readonly output: { value: Value };
}

interface Template {
  readonly functions?: readonly { namespace: string; members: Record<string, UserFunction> }[];
  readonly parameters?: Record<string, { defaultValue?: Value }>;
  readonly variables?: Record<string, Value>;
  readonly resources: Record<string, Record<string, unknown>> | Record<string, unknown>[];
  readonly outputs?: Record<string, { value: Value }>;
}

interface Context {
  readonly scope: DeploymentScope;
  readonly parameter: (name: string) => Value;
  readonly variables: Record<string, Value>;
  readonly variableCache: Map<string, Value>;
  readonly resources: Record<string, Record<string, unknown>>;
  readonly runtime: RuntimeValues;
  readonly copyIndex: number | undefined;
  readonly lambda: Readonly<Record<string, Value>>;
  readonly deploymentOutputs: Map<string, Record<string, Value>>;
  /** User-defined functions of the template, by lower-case `namespace.name`. */
  readonly functions: ReadonlyMap<string, UserFunction>;
}

// ── Parsing ───────────────────────────────────────────────────────────────────────────────────────────────────

type Node =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "call"; name: string; args: Node[] }
  | { kind: "member"; target: Node; name: string }
  | { kind: "index"; target: Node; index: Node };

function parseExpression(source: string): Node {
  let i = 0;
  const skip = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const expect = (c: string) => {
    skip();
    if (source[i] !== c) throw new Error(`ARM expression: expected '${c}' at ${i} in ${source}`);
    i++;
  };
  const primary = (): Node => {
    skip();
    const c = source[i]!;
    if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= source.length) throw new Error(`ARM expression: unterminated string in ${source}`);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += source[i++];
      }
      return { kind: "string", value };
    }
    if (/[-0-9]/.test(c)) {
      const m = /^-?\d+/.exec(source.slice(i))!;
      i += m[0].length;
      return { kind: "number", value: Number(m[0]) };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(source.slice(i));
    if (!m) throw new Error(`ARM expression: unexpected '${c}' at ${i} in ${source}`);
    i += m[0].length;
    expect("(");
    const args: Node[] = [];
    skip();
    if (source[i] === ")") i++;
    else {
      for (;;) {
        args.push(postfix());
        skip();
        if (source[i] === ",") {
          i++;
          continue;
        }
        expect(")");
        break;
      }
    }
    return { kind: "call", name: m[0].toLowerCase(), args };
  };
  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      skip();
      if (source[i] === ".") {
        i++;
        const m = /^[A-Za-z_$#][A-Za-z0-9_$#]*/.exec(source.slice(i))!;
        i += m[0].length;
        node = { kind: "member", target: node, name: m[0] };
      } else if (source[i] === "[") {
        i++;
        const index = postfix();
        expect("]");
        node = { kind: "index", target: node, index };
      } else return node;
    }
  };
  const node = postfix();
  skip();
  if (i !== source.length) throw new Error(`ARM expression: trailing text at ${i} in ${source}`);
  return node;
}

const parsed = new Map<string, Node>();

/** Evaluates a template value: expression strings `[...]` are evaluated, objects and arrays recursively. */
function evaluateValue(value: Value, ctx: Context): Value {
  if (typeof value === "string") {
    if (value.startsWith("[[")) return value.slice(1);
    if (value.startsWith("[") && value.endsWith("]")) {
      const source = value.slice(1, -1);
      let node = parsed.get(source);
      if (node === undefined) parsed.set(source, (node = parseExpression(source)));
      return evaluate(node, ctx);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => evaluateValue(v, ctx));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateValue(v, ctx)]));
  }
  return value;
}

// ── Evaluation ────────────────────────────────────────────────────────────────────────────────────────────────

interface Lambda {
  readonly lambdaParams: readonly string[];
  readonly body: Node;
}

function evaluate(node: Node, ctx: Context): Value {
  switch (node.kind) {
    case "string":
    case "number":
      return node.value;
    case "member": {
      const target = evaluate(node.target, ctx) as Record<string, unknown> | undefined;
      if (target === null || typeof target !== "object") throw new Error(`ARM expression: .${node.name} of ${JSON.stringify(target)}`);
      if ("__runtimeUnknown" in target) return (target as Record<string, unknown>)[node.name];
      const key = Object.keys(target).find((k) => k.toLowerCase() === node.name.toLowerCase());
      if (key === undefined) throw new Error(`ARM expression: no property '${node.name}' (has ${Object.keys(target).join(", ")})`);
      return target[key];
    }
    case "index": {
      const target = evaluate(node.target, ctx) as Record<string | number, unknown>;
      const index = evaluate(node.index, ctx) as string | number;
      const value = target[index];
      if (value === undefined) throw new Error(`ARM expression: index ${String(index)} out of range`);
      return value;
    }
    case "call":
      return call(node, ctx);
  }
}

const str = (v: Value): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new Error(`ARM expression: expected a string, got ${JSON.stringify(v)}`);
};
const arr = (v: Value): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`ARM expression: expected an array, got ${JSON.stringify(v)}`);
  return v;
};
const isEmpty = (v: Value): boolean =>
  v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v as object).length === 0);
const stableHash = (parts: readonly Value[]): string => createHash("sha1").update(parts.map((p) => str(p)).join("\u0000")).digest("hex");

function call(node: Extract<Node, { kind: "call" }>, ctx: Context): Value {
  // Special forms: arguments evaluated lazily.
  if (node.name === "if") return evaluate(node.args[evaluate(node.args[0]!, ctx) === true ? 1 : 2]!, ctx);
  if (node.name === "lambda") {
    const params = node.args.slice(0, -1).map((a) => str(evaluate(a, ctx)));
    return { lambdaParams: params, body: node.args.at(-1)! } satisfies Lambda;
  }
  const args = node.args.map((a) => evaluate(a, ctx));
  const userFunction = ctx.functions.get(node.name);
  if (userFunction !== undefined) {
    // A user-defined function sees only its own parameters (ARM: no variables, no reference()).
    const given = Object.fromEntries((userFunction.parameters ?? []).map((p, i) => [p.name, args[i]]));
    const inner: Context = {
      ...ctx,
      parameter: (name) => {
        if (!(name in given)) throw new Error(`ARM expression: function ${node.name} has no parameter '${name}'`);
        return given[name];
      },
      variables: {},
      variableCache: new Map(),
      lambda: {},
    };
    return evaluateValue(userFunction.output.value, inner);
  }
  const scope = ctx.scope;
  const subscriptionIdOf = () => `/subscriptions/${scope.subscriptionId}`;
  switch (node.name) {
    case "parameters":
      return ctx.parameter(str(args[0]));
    case "variables": {
      const name = str(args[0]);
      if (!ctx.variableCache.has(name)) {
        if (!(name in ctx.variables)) throw new Error(`ARM expression: no variable '${name}'`);
        ctx.variableCache.set(name, evaluateValue(ctx.variables[name], ctx));
      }
      return ctx.variableCache.get(name);
    }
    case "lambdavariables":
      if (!(str(args[0]) in ctx.lambda)) throw new Error(`ARM expression: no lambda variable '${str(args[0])}'`);
      return ctx.lambda[str(args[0])];
    case "map": {
      const fn = args[1] as Lambda;
      return arr(args[0]).map((item, i) => evaluate(fn.body, { ...ctx, lambda: { ...ctx.lambda, [fn.lambdaParams[0]!]: item, ...(fn.lambdaParams[1] ? { [fn.lambdaParams[1]]: i } : {}) } }));
    }
    case "filter": {
      const fn = args[1] as Lambda;
      return arr(args[0]).filter((item) => evaluate(fn.body, { ...ctx, lambda: { ...ctx.lambda, [fn.lambdaParams[0]!]: item } }) === true);
    }
    case "copyindex":
      if (ctx.copyIndex === undefined) throw new Error("ARM expression: copyIndex() outside a copy loop");
      return ctx.copyIndex + (typeof args.at(-1) === "number" ? (args.at(-1) as number) : 0);
    case "true":
      return true;
    case "false":
      return false;
    case "null":
      return null;
    case "not":
      return args[0] !== true;
    case "and":
      return args.every((a) => a === true);
    case "or":
      return args.some((a) => a === true);
    case "equals":
      return JSON.stringify(args[0]) === JSON.stringify(args[1]);
    case "empty":
      return isEmpty(args[0]);
    case "tryget": {
      let current: Value = args[0];
      for (const key of args.slice(1)) {
        if (current === null || current === undefined || typeof current !== "object") return null;
        const record = current as Record<string, unknown>;
        const found = typeof key === "number" ? key : Object.keys(record).find((k) => k.toLowerCase() === str(key).toLowerCase());
        current = found === undefined ? undefined : record[found as string];
      }
      return current ?? null;
    }
    case "coalesce":
      return args.find((a) => a !== null && a !== undefined) ?? null;
    case "createarray":
      return args;
    case "createobject": {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < args.length; i += 2) out[str(args[i])] = args[i + 1];
      return out;
    }
    case "concat":
      return Array.isArray(args[0]) ? args.flatMap((a) => arr(a)) : args.map(str).join("");
    case "union":
      if (Array.isArray(args[0])) return [...new Set(args.flatMap((a) => arr(a)).map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v) as unknown);
      return Object.assign({}, ...args.map((a) => a as object));
    case "contains": {
      const [container, item] = args;
      if (typeof container === "string") return container.toLowerCase().includes(str(item).toLowerCase());
      if (Array.isArray(container)) return container.some((v) => JSON.stringify(v) === JSON.stringify(item));
      return Object.keys(container as object).some((k) => k.toLowerCase() === str(item).toLowerCase());
    }
    case "length":
      return typeof args[0] === "string" ? args[0].length : Array.isArray(args[0]) ? args[0].length : Object.keys(args[0] as object).length;
    case "split":
      return str(args[0]).split(str(args[1]));
    case "join":
      return arr(args[0]).map(str).join(str(args[1]));
    case "last":
      return typeof args[0] === "string" ? args[0].at(-1) : arr(args[0]).at(-1);
    case "first":
      return typeof args[0] === "string" ? args[0][0] : arr(args[0])[0];
    case "take":
      return typeof args[0] === "string" ? args[0].slice(0, Number(args[1])) : arr(args[0]).slice(0, Number(args[1]));
    case "skip":
      return typeof args[0] === "string" ? args[0].slice(Number(args[1])) : arr(args[0]).slice(Number(args[1]));
    case "tolower":
      return str(args[0]).toLowerCase();
    case "toupper":
      return str(args[0]).toUpperCase();
    case "replace":
      return str(args[0]).split(str(args[1])).join(str(args[2]));
    case "endswith":
      return str(args[0]).toLowerCase().endsWith(str(args[1]).toLowerCase());
    case "startswith":
      return str(args[0]).toLowerCase().startsWith(str(args[1]).toLowerCase());
    case "substring":
      return str(args[0]).substring(Number(args[1]), args[2] === undefined ? undefined : Number(args[1]) + Number(args[2]));
    case "sub":
      return Number(args[0]) - Number(args[1]);
    case "add":
      return Number(args[0]) + Number(args[1]);
    case "string":
      return typeof args[0] === "string" ? args[0] : JSON.stringify(args[0]);
    case "format":
      return str(args[0]).replace(/\{(\d+)(:[^}]*)?\}/g, (_, n: string) => str(args[Number(n) + 1]));
    case "guid": {
      const h = stableHash(args);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    }
    case "uniquestring":
      return BigInt(`0x${stableHash(args).slice(0, 16)}`).toString(32).padStart(13, "a").slice(0, 13);
    case "subscription":
      return { id: subscriptionIdOf(), subscriptionId: scope.subscriptionId, tenantId: scope.tenantId, displayName: scope.subscriptionId };
    case "resourcegroup":
      if (scope.resourceGroup === undefined) throw new Error("ARM expression: resourceGroup() in a subscription deployment");
      return { id: `${subscriptionIdOf()}/resourceGroups/${scope.resourceGroup}`, name: scope.resourceGroup, location: scope.location };
    case "tenant":
      return { tenantId: scope.tenantId };
    case "deployment":
      return { name: "deployment", location: scope.location };
    case "environment":
      return { name: "AzureCloud", resourceManager: "https://management.azure.com/", authentication: { loginEndpoint: "https://login.microsoftonline.com/" } };
    case "resourceid":
      return resourceIdOf(args.map(str), scope);
    case "subscriptionresourceid": {
      const parts = args.map(str);
      const typeAt = parts.findIndex((p) => p.includes("/"));
      const sub = typeAt === 1 ? parts[0]! : scope.subscriptionId;
      return `/subscriptions/${sub}${providerPath(parts[typeAt]!, parts.slice(typeAt + 1))}`;
    }
    case "tenantresourceid": {
      const parts = args.map(str);
      return providerPath(parts[0]!, parts.slice(1));
    }
    case "extensionresourceid": {
      const parts = args.map(str);
      return `${parts[0]}${providerPath(parts[1]!, parts.slice(2))}`;
    }
    case "reference":
      return referenceOf(str(args[0]), ctx);
    default:
      throw new Error(`ARM expression: function ${node.name}() is not modeled by test/support/arm-deployment.ts`);
  }
}

function providerPath(type: string, names: readonly string[]): string {
  const [namespace, ...types] = type.split("/");
  if (types.length !== names.length) throw new Error(`ARM expression: ${type} needs ${types.length} names, got ${names.length}`);
  return `/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join("")}`;
}

function resourceIdOf(parts: readonly string[], scope: DeploymentScope): string {
  const typeAt = parts.findIndex((p) => p.includes("/"));
  const before = parts.slice(0, typeAt);
  const sub = before.length === 2 ? before[0]! : scope.subscriptionId;
  const rg = before.length === 2 ? before[1]! : before.length === 1 ? before[0]! : scope.resourceGroup;
  const rgPart = rg === undefined ? "" : `/resourceGroups/${rg}`;
  return `/subscriptions/${sub}${rgPart}${providerPath(parts[typeAt]!, parts.slice(typeAt + 1))}`;
}

/** reference(symbolicName) of a nested deployment → its outputs; reference(resourceId) of a real resource → runtime values. */
function referenceOf(target: string, ctx: Context): Value {
  // A nested deployment, by symbolic name (languageVersion 2.0) or by its resource ID (…/Microsoft.Resources/deployments/{name}).
  const byId = /\/providers\/Microsoft\.Resources\/deployments\/([^/]+)$/i.exec(target)?.[1];
  const symbol =
    byId === undefined
      ? target
      : Object.entries(ctx.resources).find(([, r]) => r["type"] === "Microsoft.Resources/deployments" && r["copy"] === undefined && evaluateValue(r["name"], ctx) === byId)?.[0];
  const deployment = symbol === undefined ? undefined : ctx.resources[symbol];
  if (symbol !== undefined && deployment !== undefined && deployment["type"] === "Microsoft.Resources/deployments") {
    if (deployment["copy"] !== undefined) throw new Error(`ARM expression: reference('${target}') of a deployment loop is not modeled`);
    let outputs = ctx.deploymentOutputs.get(symbol);
    if (outputs === undefined) {
      const nested = nestedContext(deployment, ctx, undefined);
      const template = (deployment["properties"] as { template: Template }).template;
      outputs = {};
      for (const [name, output] of Object.entries(template.outputs ?? {})) {
        Object.defineProperty(outputs, name, { enumerable: true, get: () => ({ value: evaluateValue(output.value, nested) }) });
      }
      ctx.deploymentOutputs.set(symbol, outputs);
    }
    return { outputs };
  }
  // A real resource, by symbolic name or by resource ID: only Azure knows its runtime state.
  const declared = ctx.resources[target];
  const type =
    declared !== undefined && typeof declared["type"] === "string"
      ? declared["type"]
      : /\/providers\/(.+)$/.exec(target)?.[1]?.split("/").filter((_, i) => i === 0 || i % 2 === 1).join("/");
  const values = type === undefined ? undefined : Object.entries(ctx.runtime).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1];
  if (values === undefined) return runtimeUnknown(target);
  return values;
}

/** A value only Azure knows (a real resource's runtime state): any property of it is again unknown, never a real value. */
function runtimeUnknown(what: string): Value {
  return new Proxy({ __runtimeUnknown: what }, { get: (t, key) => (key === "__runtimeUnknown" ? t.__runtimeUnknown : typeof key === "string" ? runtimeUnknown(`${what}.${key}`) : undefined), has: () => true, ownKeys: () => ["__runtimeUnknown"], getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }) });
}

function nestedContext(deployment: Record<string, unknown>, parent: Context, copyIndex: number | undefined): Context {
  const here: Context = { ...parent, copyIndex };
  const sub = deployment["subscriptionId"] === undefined ? undefined : str(evaluateValue(deployment["subscriptionId"], here));
  const rg = deployment["resourceGroup"] === undefined ? undefined : str(evaluateValue(deployment["resourceGroup"], here));
  const scope: DeploymentScope =
    sub !== undefined && rg === undefined
      ? { tenantId: parent.scope.tenantId, subscriptionId: sub, location: parent.scope.location }
      : { tenantId: parent.scope.tenantId, subscriptionId: sub ?? parent.scope.subscriptionId, location: parent.scope.location, ...(rg !== undefined ? { resourceGroup: rg } : parent.scope.resourceGroup !== undefined ? { resourceGroup: parent.scope.resourceGroup } : {}) };
  const properties = deployment["properties"] as { template: Template; parameters?: Record<string, Value> };
  const given = properties.parameters ?? {};
  const cache = new Map<string, Value>();
  const template = properties.template;
  let ctx: Context;
  const parameter = (name: string): Value => {
    if (!cache.has(name)) {
      if (name in given) {
        const entry = evaluateValue(given[name], here) as { value: Value };
        cache.set(name, entry.value);
      } else {
        const definition = template.parameters?.[name];
        if (definition === undefined || !("defaultValue" in definition)) throw new Error(`ARM template: parameter '${name}' has no value`);
        cache.set(name, evaluateValue(definition.defaultValue, ctx));
      }
    }
    return cache.get(name);
  };
  ctx = {
    scope,
    parameter,
    variables: template.variables ?? {},
    variableCache: new Map(),
    resources: resourcesOf(template),
    runtime: parent.runtime,
    copyIndex: undefined,
    lambda: {},
    deploymentOutputs: new Map(),
    functions: functionsOf(template),
  };
  return ctx;
}

function functionsOf(template: Template): Map<string, UserFunction> {
  const out = new Map<string, UserFunction>();
  for (const ns of template.functions ?? []) for (const [name, fn] of Object.entries(ns.members)) out.set(`${ns.namespace}.${name}`.toLowerCase(), fn);
  return out;
}

function resourcesOf(template: Template): Record<string, Record<string, unknown>> {
  const resources = template.resources;
  if (Array.isArray(resources)) return Object.fromEntries(resources.map((r, i) => [String(i), r as Record<string, unknown>]));
  return resources;
}

/**
 * Every resource a template deploys with the given parameters, nested deployments included (their conditions and
 * copy loops applied); `existing` references are not deployments and are left out.
 */
export function deployedResources(template: Template, parameters: Readonly<Record<string, Value>>, scope: DeploymentScope, runtime: RuntimeValues = {}): DeployedResource[] {
  const cache = new Map<string, Value>();
  let root: Context;
  const parameter = (name: string): Value => {
    if (!cache.has(name)) {
      if (name in parameters) cache.set(name, parameters[name]);
      else {
        const definition = template.parameters?.[name];
        if (definition === undefined || !("defaultValue" in definition)) throw new Error(`ARM template: parameter '${name}' has no value`);
        cache.set(name, evaluateValue(definition.defaultValue, root));
      }
    }
    return cache.get(name);
  };
  root = { scope, parameter, variables: template.variables ?? {}, variableCache: new Map(), resources: resourcesOf(template), runtime, copyIndex: undefined, lambda: {}, deploymentOutputs: new Map(), functions: functionsOf(template) };
  const out: DeployedResource[] = [];
  walk(root, out);
  return out;
}

function walk(ctx: Context, out: DeployedResource[]): void {
  for (const resource of Object.values(ctx.resources)) {
    if (resource["existing"] === true) continue;
    const copy = resource["copy"] as { count: Value } | undefined;
    const indices = copy === undefined ? [undefined] : Array.from({ length: Number(evaluateValue(copy.count, ctx)) }, (_, i) => i);
    for (const copyIndex of indices) {
      const here: Context = { ...ctx, copyIndex };
      if (resource["condition"] !== undefined && evaluateValue(resource["condition"], here) !== true) continue;
      if (resource["type"] === "Microsoft.Resources/deployments") {
        walk(nestedContext(resource, ctx, copyIndex), out);
        continue;
      }
      out.push({ type: str(resource["type"]), scope: ctx.scope, raw: resource, copyIndex, evaluate: (value) => evaluateValue(value, here) });
    }
  }
}
