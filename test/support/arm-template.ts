/**
 * Reading compiled ARM JSON templates (languageVersion 2.0, as `bicep build` writes them): the nested templates of
 * modules, every resource declaration, and the one evaluator of ARM template expressions the tests use — directly
 * (`evaluate`: role actions under each remediation switch, filters, app setting names) and through a whole
 * deployment (test/support/arm-deployment.ts builds on `evaluateValue` and `templateContext`).
 *
 * The evaluator implements the ARM template functions our templates use, with ARM's semantics
 * (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions). Any other function, a missing
 * property or an index out of range throws, so an answer is never guessed: a test that meets one must add it here
 * deliberately. Not Azure's algorithms: `guid()` and `uniqueString()` are deterministic stand-ins (a SHA-1 of their
 * arguments) — the tests only need equal inputs to give equal names, which they do.
 */
import { createHash } from "node:crypto";

/** A compiled ARM template, or a module's nested template. */
export interface ArmTemplate {
  readonly $schema?: string;
  readonly languageVersion?: string;
  readonly parameters?: Record<string, ArmParameter>;
  readonly variables?: Record<string, unknown>;
  readonly functions?: readonly ArmFunctionNamespace[];
  readonly resources?: Record<string, ArmResource> | readonly ArmResource[];
  readonly outputs?: Record<string, { readonly type: string; readonly value: unknown; readonly metadata?: { readonly description?: string } }>;
  readonly [key: string]: unknown;
}

export interface ArmParameter {
  readonly type: string;
  readonly defaultValue?: unknown;
  readonly metadata?: { readonly description?: string };
  readonly [key: string]: unknown;
}

export interface ArmFunctionNamespace {
  readonly namespace: string;
  readonly members: Record<string, ArmUserFunction>;
}

export interface ArmUserFunction {
  readonly parameters?: readonly { readonly name: string }[];
  readonly output: { readonly value: unknown };
}

export interface ArmResource {
  readonly type: string;
  readonly apiVersion?: string;
  readonly name?: unknown;
  readonly existing?: boolean;
  readonly condition?: unknown;
  readonly properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** One resource declaration with where it sits: `path` is the chain of symbolic names from the entry template. */
export interface LocatedResource {
  readonly path: readonly string[];
  readonly symbol: string;
  readonly resource: ArmResource;
  /** The template that declares it (its parameters and variables are the expression context). */
  readonly template: ArmTemplate;
}

const DEPLOYMENT_TYPE = "Microsoft.Resources/deployments";

/** Resources of a template by symbolic name (languageVersion 2.0), or by index for the older array form. */
export function resourcesOf(template: ArmTemplate): [string, ArmResource][] {
  const resources = template.resources ?? {};
  return Array.isArray(resources) ? resources.map((r, i) => [String(i), r] as [string, ArmResource]) : Object.entries(resources);
}

/** The nested template of a module deployment, if the resource is one. */
export function nestedTemplate(resource: ArmResource): ArmTemplate | undefined {
  if (resource.type !== DEPLOYMENT_TYPE) return undefined;
  const template = resource.properties?.["template"];
  return typeof template === "object" && template !== null ? (template as ArmTemplate) : undefined;
}

/** Every resource declared in the template and in the templates of its modules, depth first. */
export function allResources(template: ArmTemplate, path: readonly string[] = []): LocatedResource[] {
  return resourcesOf(template).flatMap(([symbol, resource]) => {
    const here: LocatedResource = { path: [...path, symbol], symbol, resource, template };
    const nested = nestedTemplate(resource);
    return nested === undefined ? [here] : [here, ...allResources(nested, [...path, symbol])];
  });
}

/** Every template reachable from the entry (the entry first), with the module path that leads to it. */
export function allTemplates(template: ArmTemplate, path: readonly string[] = []): { path: readonly string[]; template: ArmTemplate }[] {
  return [
    { path, template },
    ...resourcesOf(template).flatMap(([symbol, resource]) => {
      const nested = nestedTemplate(resource);
      return nested === undefined ? [] : allTemplates(nested, [...path, symbol]);
    }),
  ];
}

/** The nested template of the module reached by following symbolic names from the entry template. */
export function moduleTemplate(template: ArmTemplate, ...symbols: string[]): ArmTemplate {
  let current = template;
  for (const symbol of symbols) {
    const resource = resourcesOf(current).find(([name]) => name === symbol)?.[1];
    const nested = resource && nestedTemplate(resource);
    if (nested === undefined) throw new Error(`no module '${symbol}' in the template (path ${symbols.join(" > ")})`);
    current = nested;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------------------------

/** Values for the template's parameters; missing ones take their defaultValue. */
export type ParameterValues = Readonly<Record<string, unknown>>;

/**
 * A value only a deployment knows (a module output, a real resource's runtime state read with reference()). It stays
 * symbolic: property access and indexing extend it, and as text it reads `<reference("storage").outputs.tableEndpoint.value>`,
 * which can never equal a real name or ID. One that is not `usableInText` (a runtime value a deployment test did not
 * supply) throws when an expression needs it as text (concat, format, guid, ...), rather than building a made-up name.
 */
export class DeploymentValue {
  readonly expression: string;
  readonly usableInText: boolean;
  constructor(expression: string, usableInText = true) {
    this.expression = expression;
    this.usableInText = usableInText;
  }
  extend(suffix: string): DeploymentValue {
    return new DeploymentValue(`${this.expression}${suffix}`, this.usableInText);
  }
  toString(): string {
    return `<${this.expression}>`;
  }
}

/** The scope a template is deployed at. */
export interface DeploymentScope {
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** Set for a resource-group deployment. */
  readonly resourceGroup?: string;
  readonly location?: string;
}

/** What `evaluate` deploys to unless told: one tenant, subscription and resource group. */
export const DEFAULT_SCOPE: DeploymentScope = {
  tenantId: "99999999-8888-7777-6666-555555555555",
  subscriptionId: "11111111-2222-3333-4444-555555555555",
  resourceGroup: "rg-deployment",
};

// environment() in AzureCloud, as learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment#environment shows it.
const PUBLIC_CLOUD_ENVIRONMENT = {
  name: "AzureCloud",
  resourceManager: "https://management.azure.com/",
  authentication: { loginEndpoint: "https://login.microsoftonline.com/", audiences: ["https://management.core.windows.net/", "https://management.azure.com/"] },
};

/** Where an expression is evaluated: one template (or a user function's body) at one scope, inside its loops. */
export interface EvaluationContext {
  readonly scope: DeploymentScope;
  readonly parameter: (name: string) => unknown;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly variableCache: Map<string, unknown>;
  /** User-defined functions of the template, by lower-case `namespace.name`. */
  readonly functions: ReadonlyMap<string, ArmUserFunction>;
  /** reference(target, [apiVersion], ['full']): a module's outputs or a resource's runtime state, as the deployment knows them. */
  readonly reference: (args: readonly string[], context: EvaluationContext) => unknown;
  /** copyIndex() of the resource (or module) copy loop being evaluated. */
  readonly copyIndex: number | undefined;
  /** copyIndex('name') of the property copy loops being evaluated. */
  readonly propertyLoops: Readonly<Record<string, number>>;
  readonly lambda: Readonly<Record<string, unknown>>;
}

/**
 * The context of a template's own expressions: `parameter(name)` gives a value (or undefined for none given; the
 * declared defaultValue then applies), `reference` answers reference().
 */
export function templateContext(
  template: ArmTemplate,
  given: (name: string) => { value: unknown } | undefined,
  scope: DeploymentScope,
  reference: EvaluationContext["reference"],
): EvaluationContext {
  const cache = new Map<string, unknown>();
  const context: EvaluationContext = {
    scope,
    parameter: (name) => {
      if (!cache.has(name)) {
        const value = given(name);
        if (value !== undefined) cache.set(name, value.value);
        else {
          const declared = template.parameters?.[name];
          if (declared === undefined) throw new Error(`parameters('${name}'): the template declares no such parameter`);
          if (!("defaultValue" in declared)) throw new Error(`parameters('${name}'): no value given and no default`);
          cache.set(name, evaluateValue(declared.defaultValue, context));
        }
      }
      return cache.get(name);
    },
    variables: template.variables ?? {},
    variableCache: new Map(),
    functions: new Map((template.functions ?? []).flatMap((ns) => Object.entries(ns.members).map(([name, fn]) => [`${ns.namespace}.${name}`.toLowerCase(), fn] as const))),
    reference,
    copyIndex: undefined,
    propertyLoops: {},
    lambda: {},
  };
  return context;
}

/**
 * Evaluates a JSON value of the template on its own: expressions are resolved, arrays and objects recursively, literal
 * strings are returned as they are (with the `[[` escape undone); reference() stays a symbolic DeploymentValue.
 */
export function evaluate(template: ArmTemplate, value: unknown, parameters: ParameterValues = {}, scope = DEFAULT_SCOPE): unknown {
  const given = (name: string) => (Object.hasOwn(parameters, name) ? { value: parameters[name] } : undefined);
  const symbolic = (args: readonly string[]) => new DeploymentValue(`reference(${args.map((a) => JSON.stringify(a)).join(", ")})`);
  return evaluateValue(value, templateContext(template, given, scope, symbolic));
}

/** True when a JSON string is an ARM expression (`[...]`, not the `[[` escape of a literal bracket). */
export function isExpression(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("[") && value.endsWith("]") && !value.startsWith("[[");
}

const parsed = new Map<string, Node>();

/** Evaluates a template value in a context: expression strings `[...]`, objects (with property copy loops) and arrays. */
export function evaluateValue(value: unknown, context: EvaluationContext): unknown {
  if (isExpression(value)) {
    const source = value.slice(1, -1);
    let node = parsed.get(source);
    if (node === undefined) parsed.set(source, (node = parse(source)));
    return evaluateNode(node, context);
  }
  if (typeof value === "string") return value.startsWith("[[") ? value.slice(1) : value;
  if (Array.isArray(value)) return value.map((v) => evaluateValue(v, context));
  if (typeof value === "object" && value !== null) {
    const { copy, ...rest } = value as { copy?: unknown };
    const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, evaluateValue(v, context)]));
    // Property loops: "copy": [{ name, count, input }] builds the array property `name`, copyIndex('name') = 0..count-1.
    if (Array.isArray(copy)) {
      for (const loop of copy as { name: string; count: unknown; input: unknown }[]) {
        const count = Number(evaluateValue(loop.count, context));
        out[loop.name] = Array.from({ length: count }, (_, i) => evaluateValue(loop.input, { ...context, propertyLoops: { ...context.propertyLoops, [loop.name]: i } }));
      }
    } else if (copy !== undefined) out["copy"] = evaluateValue(copy, context);
    return out;
  }
  return value;
}

type Node =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Node[] }
  | { readonly kind: "property"; readonly target: Node; readonly name: string }
  | { readonly kind: "index"; readonly target: Node; readonly index: Node };

interface Lambda {
  readonly lambdaParams: readonly string[];
  readonly body: Node;
}

const RESOLVING = Symbol("resolving");

function evaluateNode(node: Node, context: EvaluationContext): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "property": {
      const target = evaluateNode(node.target, context);
      if (target instanceof DeploymentValue) return target.extend(`.${node.name}`);
      if (typeof target !== "object" || target === null) throw new Error(`ARM expression: .${node.name} of ${JSON.stringify(target)}`);
      // ARM property names are case-insensitive; a missing one is an error, not null.
      const key = Object.keys(target).find((k) => k.toLowerCase() === node.name.toLowerCase());
      if (key === undefined) throw new Error(`ARM expression: no property '${node.name}' (has ${Object.keys(target).join(", ")})`);
      return (target as Record<string, unknown>)[key];
    }
    case "index": {
      const target = evaluateNode(node.target, context);
      const index = evaluateNode(node.index, context) as string | number;
      if (target instanceof DeploymentValue) return target.extend(`[${JSON.stringify(index)}]`);
      const value = (target as Record<string | number, unknown>)[index];
      if (value === undefined) throw new Error(`ARM expression: index ${String(index)} out of range`);
      return value;
    }
    case "call":
      return call(node, context);
  }
}

const str = (v: unknown): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof DeploymentValue) {
    if (!v.usableInText) throw new Error(`ARM expression: ${String(v)} is known only to Azure at deployment time and the test supplied no value for it`);
    return String(v);
  }
  throw new Error(`ARM expression: expected a string, got ${JSON.stringify(v)}`);
};
const arr = (v: unknown): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`ARM expression: expected an array, got ${JSON.stringify(v)}`);
  return v;
};
const isEmpty = (v: unknown): boolean =>
  v === null || v === undefined || v === "" || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0);
const stableHash = (parts: readonly unknown[]): string => createHash("sha1").update(parts.map((p) => str(p)).join("\u0000")).digest("hex");

function call(node: Extract<Node, { kind: "call" }>, context: EvaluationContext): unknown {
  const name = node.name.toLowerCase();
  // Special forms: arguments evaluated lazily. `if` evaluates only the branch it takes, as ARM does.
  if (name === "if") return evaluateNode(node.args[evaluateNode(node.args[0]!, context) === true ? 1 : 2]!, context);
  if (name === "lambda") {
    const params = node.args.slice(0, -1).map((a) => str(evaluateNode(a, context)));
    return { lambdaParams: params, body: node.args.at(-1)! } satisfies Lambda;
  }
  const args = node.args.map((a) => evaluateNode(a, context));
  if (name.includes(".")) {
    const userFunction = context.functions.get(name);
    if (userFunction === undefined) throw new Error(`ARM expression: ${node.name}: the template declares no such function`);
    // A user-defined function sees only its own parameters (ARM: no variables, no reference()).
    const given = Object.fromEntries((userFunction.parameters ?? []).map((p, i) => [p.name, args[i]]));
    const inner: EvaluationContext = {
      ...context,
      parameter: (parameter) => {
        if (!(parameter in given)) throw new Error(`ARM expression: function ${node.name} has no parameter '${parameter}'`);
        return given[parameter];
      },
      variables: {},
      variableCache: new Map(),
      lambda: {},
    };
    return evaluateValue(userFunction.output.value, inner);
  }
  const scope = context.scope;
  const lambdaOver = (items: unknown[], fn: Lambda) =>
    items.map((item, i) => evaluateNode(fn.body, { ...context, lambda: { ...context.lambda, [fn.lambdaParams[0]!]: item, ...(fn.lambdaParams[1] ? { [fn.lambdaParams[1]]: i } : {}) } }));
  switch (name) {
    case "parameters":
      return context.parameter(str(args[0]));
    case "variables": {
      const variable = str(args[0]);
      if (!(variable in context.variables)) throw new Error(`variables('${variable}'): the template declares no such variable`);
      const cached = context.variableCache.get(variable);
      if (cached === RESOLVING) throw new Error(`variables('${variable}') refers to itself`);
      if (!context.variableCache.has(variable)) {
        context.variableCache.set(variable, RESOLVING);
        context.variableCache.set(variable, evaluateValue(context.variables[variable], context));
      }
      return context.variableCache.get(variable);
    }
    case "lambdavariables":
      if (!(str(args[0]) in context.lambda)) throw new Error(`lambdaVariables('${str(args[0])}') outside its lambda`);
      return context.lambda[str(args[0])];
    case "map":
      return lambdaOver(arr(args[0]), args[1] as Lambda);
    case "filter": {
      const keep = lambdaOver(arr(args[0]), args[1] as Lambda);
      return arr(args[0]).filter((_, i) => keep[i] === true);
    }
    case "copyindex": {
      // copyIndex([loopName], [offset]): a named property loop, else the resource loop.
      const loop = typeof args[0] === "string" ? args[0] : undefined;
      const index = loop === undefined ? context.copyIndex : context.propertyLoops[loop];
      if (index === undefined) throw new Error(`copyIndex(${loop ?? ""}) outside a copy loop`);
      return index + (typeof args.at(-1) === "number" ? (args.at(-1) as number) : 0);
    }
    case "items":
      // ARM: an array of { key, value }, sorted by key.
      return Object.entries(args[0] as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => ({ key, value }));
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
      let current: unknown = args[0];
      for (const key of args.slice(1)) {
        if (current === null || current === undefined || typeof current !== "object") return null;
        const record = current as Record<string, unknown>;
        const found = typeof key === "number" ? key : Object.keys(record).find((k) => k.toLowerCase() === str(key).toLowerCase());
        current = found === undefined ? undefined : record[found as string];
      }
      return current ?? null;
    }
    case "fail":
      // The deployment stops with this message (Bicep: bicep-functions-flow-control, used only in short-circuiting ?: / ??).
      throw new ArmDeploymentFailure(str(args[0]));
    case "greater":
      return compare(args[0], args[1]) > 0;
    case "greaterorequals":
      return compare(args[0], args[1]) >= 0;
    case "less":
      return compare(args[0], args[1]) < 0;
    case "lessorequals":
      return compare(args[0], args[1]) <= 0;
    case "range":
      return Array.from({ length: Number(args[1]) }, (_, i) => Number(args[0]) + i);
    case "indexof": {
      // indexOf(array, item): deep equality; indexOf(string, text): case-insensitive (template-functions-array#indexof).
      const [container, item] = args;
      if (typeof container === "string") return container.toLowerCase().indexOf(str(item).toLowerCase());
      return arr(container).findIndex((v) => JSON.stringify(v) === JSON.stringify(item));
    }
    case "flatten":
      return arr(args[0]).flatMap((a) => arr(a));
    case "toobject": {
      // toObject(array, keyLambda, [valueLambda]): later duplicates win, as in ARM.
      const items = arr(args[0]);
      const keys = lambdaOver(items, args[1] as Lambda).map(str);
      const values = args[2] === undefined ? items : lambdaOver(items, args[2] as Lambda);
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
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
      return typeof args[0] === "string" ? args[0].slice(-1) : arr(args[0]).at(-1);
    case "first":
      return typeof args[0] === "string" ? args[0].slice(0, 1) : arr(args[0])[0];
    case "take": {
      const n = Math.max(0, Number(args[1]));
      return typeof args[0] === "string" ? args[0].slice(0, n) : arr(args[0]).slice(0, n);
    }
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
    case "environment":
      return PUBLIC_CLOUD_ENVIRONMENT;
    case "tenant":
      return { tenantId: scope.tenantId };
    case "subscription":
      return { id: `/subscriptions/${scope.subscriptionId}`, subscriptionId: scope.subscriptionId, tenantId: scope.tenantId, displayName: scope.subscriptionId };
    case "resourcegroup":
      if (scope.resourceGroup === undefined) throw new Error("ARM expression: resourceGroup() in a subscription deployment");
      return { id: `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`, name: scope.resourceGroup, ...(scope.location === undefined ? {} : { location: scope.location }) };
    case "deployment":
      return { name: "deployment", ...(scope.location === undefined ? {} : { location: scope.location }) };
    case "resourceid": {
      // resourceId([subscriptionId], [resourceGroupName], type, name1, ...): the type is the first argument with a '/'.
      const parts = args.map(str);
      const typeAt = typeIndex(parts, node.name);
      const before = parts.slice(0, typeAt);
      const subscriptionId = before.length === 2 ? before[0]! : scope.subscriptionId;
      const group = before.length === 0 ? scope.resourceGroup : before.at(-1);
      return `/subscriptions/${subscriptionId}${group === undefined ? "" : `/resourceGroups/${group}`}${providerPath(parts[typeAt]!, parts.slice(typeAt + 1))}`;
    }
    case "subscriptionresourceid": {
      // subscriptionResourceId([subscriptionId], type, name1, ...)
      const parts = args.map(str);
      const typeAt = typeIndex(parts, node.name);
      return `/subscriptions/${typeAt === 1 ? parts[0]! : scope.subscriptionId}${providerPath(parts[typeAt]!, parts.slice(typeAt + 1))}`;
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
      return context.reference(args.map(str), context);
    default:
      throw new Error(`the test evaluator does not implement the ARM function ${node.name}(); add it (with ARM's semantics) to test/support/arm-template.ts if a test needs it`);
  }
}

/** ARM's `fail()`: the deployment stops with this message. */
export class ArmDeploymentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArmDeploymentFailure";
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`ARM expression: cannot compare ${JSON.stringify(a)} with ${JSON.stringify(b)}`);
}

function typeIndex(parts: readonly string[], fn: string): number {
  const at = parts.findIndex((p) => p.includes("/"));
  if (at === -1) throw new Error(`${fn}: no resource type argument`);
  return at;
}

function providerPath(type: string, names: readonly string[]): string {
  const [namespace, ...types] = type.split("/");
  if (types.length !== names.length) throw new Error(`ARM expression: ${type} needs ${types.length} names, got ${names.length}`);
  return `/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join("")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------------

function parse(source: string): Node {
  let i = 0;
  const skip = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const expect = (c: string) => {
    skip();
    if (source[i] !== c) throw new Error(`expected '${c}' at ${i} in [${source}]`);
    i++;
  };
  const primary = (): Node => {
    skip();
    const c = source[i];
    if (c === "'") {
      let out = "";
      i++;
      for (;;) {
        if (i >= source.length) throw new Error(`unterminated string in [${source}]`);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            out += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += source[i++];
      }
      return { kind: "literal", value: out };
    }
    if (c !== undefined && /[-\d]/.test(c)) {
      const m = /^-?\d+/.exec(source.slice(i));
      if (!m) throw new Error(`bad number at ${i} in [${source}]`);
      i += m[0].length;
      return { kind: "literal", value: Number(m[0]) };
    }
    const m = /^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?/.exec(source.slice(i));
    if (!m) throw new Error(`unexpected '${c}' at ${i} in [${source}]`);
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
    return { kind: "call", name: m[0], args };
  };
  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      skip();
      if (source[i] === "." ) {
        i++;
        const m = /^[A-Za-z_$#][\w$#]*/.exec(source.slice(i));
        if (!m) throw new Error(`bad property at ${i} in [${source}]`);
        i += m[0].length;
        node = { kind: "property", target: node, name: m[0] };
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
  if (i !== source.length) throw new Error(`trailing text at ${i} in [${source}]`);
  return node;
}
