/**
 * Reading compiled ARM JSON templates (languageVersion 2.0, as `bicep build` writes them): the nested templates of
 * modules, every resource declaration, and a small evaluator for the template expressions the tests need to resolve
 * (role actions under each remediation switch, filters, app setting names).
 *
 * The evaluator implements the ARM template functions our templates use in those places, with ARM's semantics
 * (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions). Any other function throws, so an
 * answer is never guessed: a test that meets one must add it here deliberately.
 */

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
  readonly members: Record<string, { readonly parameters: readonly { readonly name: string }[]; readonly output: { readonly value: unknown } }>;
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
 * A value only a deployment knows (a module output, a resource property read with reference()). It stays symbolic:
 * property access extends it, and as text it reads `<reference('storage').outputs.tableEndpoint.value>`.
 */
export class DeploymentValue {
  readonly expression: string;
  constructor(expression: string) {
    this.expression = expression;
  }
  toString(): string {
    return `<${this.expression}>`;
  }
}

/** What deployment functions return: Azure's public cloud, one tenant and subscription (override per test). */
export interface DeploymentContext {
  readonly environment: Record<string, unknown>;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** The resource group a resource-group-scoped template deploys to. */
  readonly resourceGroup: string;
}

export const PUBLIC_CLOUD_DEPLOYMENT: DeploymentContext = {
  // environment() in AzureCloud, as learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment#environment shows it.
  environment: {
    name: "AzureCloud",
    resourceManager: "https://management.azure.com/",
    authentication: { loginEndpoint: "https://login.microsoftonline.com/", audiences: ["https://management.core.windows.net/", "https://management.azure.com/"] },
  },
  tenantId: "99999999-8888-7777-6666-555555555555",
  subscriptionId: "11111111-2222-3333-4444-555555555555",
  resourceGroup: "rg-deployment",
};

type Node =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Node[] }
  | { readonly kind: "property"; readonly target: Node; readonly name: string }
  | { readonly kind: "index"; readonly target: Node; readonly index: Node };

/** True when a JSON string is an ARM expression (`[...]`, not the `[[` escape of a literal bracket). */
export function isExpression(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("[") && value.endsWith("]") && !value.startsWith("[[");
}

/**
 * Evaluates a JSON value of the template: expressions are resolved, arrays and objects recursively, literal strings
 * are returned as they are (with the `[[` escape undone).
 */
export function evaluate(template: ArmTemplate, value: unknown, parameters: ParameterValues = {}, deployment = PUBLIC_CLOUD_DEPLOYMENT): unknown {
  return new Evaluator(template, parameters, deployment).value(value);
}

class Evaluator {
  readonly #template: ArmTemplate;
  readonly #parameters: ParameterValues;
  readonly #variables = new Map<string, unknown>();
  readonly #resolving = new Set<string>();
  readonly #locals: readonly Record<string, unknown>[];
  readonly #deployment: DeploymentContext;
  readonly #lambdaScope = new Map<string, unknown>();
  readonly #copyIndexes = new Map<string, number>();

  constructor(template: ArmTemplate, parameters: ParameterValues, deployment: DeploymentContext, locals: readonly Record<string, unknown>[] = []) {
    this.#template = template;
    this.#parameters = parameters;
    this.#deployment = deployment;
    this.#locals = locals;
  }

  value(value: unknown): unknown {
    if (isExpression(value)) return this.#eval(parse(value.slice(1, -1)));
    if (typeof value === "string") return value.startsWith("[[") ? value.slice(1) : value;
    if (Array.isArray(value)) return value.map((v) => this.value(v));
    if (typeof value === "object" && value !== null) {
      const { copy, ...rest } = value as { copy?: unknown };
      const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, this.value(v)]));
      // Property loops: "copy": [{ name, count, input }] builds the array property `name`, copyIndex('name') = 0..count-1.
      if (Array.isArray(copy)) {
        for (const loop of copy as { name: string; count: unknown; input: unknown }[]) {
          const count = Number(this.value(loop.count));
          out[loop.name] = Array.from({ length: count }, (_, i) => {
            this.#copyIndexes.set(loop.name, i);
            const item = this.value(loop.input);
            this.#copyIndexes.delete(loop.name);
            return item;
          });
        }
      }
      return out;
    }
    return value;
  }

  #parameter(name: string): unknown {
    if (Object.hasOwn(this.#parameters, name)) return this.#parameters[name];
    const declared = this.#template.parameters?.[name];
    if (declared === undefined) throw new Error(`parameters('${name}'): the template declares no such parameter`);
    if (!("defaultValue" in declared)) throw new Error(`parameters('${name}'): no value given and no default`);
    return this.value(declared.defaultValue);
  }

  #variable(name: string): unknown {
    if (this.#variables.has(name)) return this.#variables.get(name);
    const declared = this.#template.variables?.[name];
    if (declared === undefined) throw new Error(`variables('${name}'): the template declares no such variable`);
    if (this.#resolving.has(name)) throw new Error(`variables('${name}') refers to itself`);
    this.#resolving.add(name);
    const value = this.value(declared);
    this.#resolving.delete(name);
    this.#variables.set(name, value);
    return value;
  }

  #userFunction(namespace: string, name: string, args: unknown[]): unknown {
    const member = this.#template.functions?.find((f) => f.namespace === namespace)?.members[name];
    if (member === undefined) throw new Error(`${namespace}.${name}: the template declares no such function`);
    const locals = Object.fromEntries(member.parameters.map((p, i) => [p.name, args[i]]));
    return new Evaluator(this.#template, this.#parameters, this.#deployment, [locals]).value(member.output.value);
  }

  #eval(node: Node): unknown {
    switch (node.kind) {
      case "literal":
        return node.value;
      case "property": {
        const target = this.#eval(node.target);
        if (target instanceof DeploymentValue) return new DeploymentValue(`${target.expression}.${node.name}`);
        if (typeof target !== "object" || target === null) throw new Error(`.${node.name} of a non-object`);
        return (target as Record<string, unknown>)[node.name];
      }
      case "index": {
        const target = this.#eval(node.target) as Record<string | number, unknown>;
        const index = this.#eval(node.index) as string | number;
        if (target instanceof DeploymentValue) return new DeploymentValue(`${target.expression}[${JSON.stringify(index)}]`);
        return target[index];
      }
      case "call":
        return this.#call(node.name, node.args);
    }
  }

  #call(name: string, argNodes: readonly Node[]): unknown {
    const lower = name.toLowerCase();
    // `if` evaluates only the branch it takes, as ARM does.
    if (lower === "if") {
      const [condition, whenTrue, whenFalse] = argNodes;
      return this.#eval(condition!) === true ? this.#eval(whenTrue!) : this.#eval(whenFalse!);
    }
    // map/filter(array, lambda('x', body)): the body is evaluated per element with lambdaVariables('x') bound.
    if (lower === "map" || lower === "filter") {
      const items = this.#eval(argNodes[0]!) as unknown[];
      const lambda = argNodes[1];
      if (lambda?.kind !== "call" || lambda.name.toLowerCase() !== "lambda") throw new Error(`${name}: the second argument is not a lambda`);
      const variable = this.#eval(lambda.args[0]!) as string;
      const results = items.map((item) => {
        this.#lambdaScope.set(variable, item);
        const out = this.#eval(lambda.args[1]!);
        this.#lambdaScope.delete(variable);
        return out;
      });
      return lower === "map" ? results : items.filter((_, i) => results[i] === true);
    }
    const args = argNodes.map((a) => this.#eval(a));
    const dot = name.indexOf(".");
    if (dot !== -1) return this.#userFunction(name.slice(0, dot), name.slice(dot + 1), args);
    const text = (i: number) => {
      const v = args[i];
      if (typeof v !== "string") throw new Error(`${name}: argument ${i + 1} is not a string`);
      return v;
    };
    switch (lower) {
      case "parameters":
        if (this.#locals.length > 0 && Object.hasOwn(this.#locals[0]!, text(0))) return this.#locals[0]![text(0)];
        return this.#parameter(text(0));
      case "variables":
        return this.#variable(text(0));
      case "copyindex": {
        const loop = args.length > 0 && typeof args[0] === "string" ? args[0] : undefined;
        const index = loop === undefined ? undefined : this.#copyIndexes.get(loop);
        if (index === undefined) throw new Error(`copyIndex(${loop ?? ""}) outside a loop the evaluator runs`);
        return index + (typeof args.at(-1) === "number" && args.length > (loop === undefined ? 0 : 1) ? Number(args.at(-1)) : 0);
      }
      case "items":
        // ARM: an array of { key, value }, sorted by key.
        return Object.entries(args[0] as Record<string, unknown>)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, value]) => ({ key, value }));
      case "lambdavariables":
        if (!this.#lambdaScope.has(text(0))) throw new Error(`lambdaVariables('${text(0)}') outside its lambda`);
        return this.#lambdaScope.get(text(0));
      case "resourceid":
      case "subscriptionresourceid": {
        // ARM: resourceId([subscriptionId], [resourceGroupName], type, name1, ...); the type is the first argument
        // with a '/'; subscriptionResourceId([subscriptionId], type, name1, ...).
        const typeIndex = args.findIndex((a) => typeof a === "string" && a.includes("/"));
        if (typeIndex === -1) throw new Error(`${name}: no resource type argument`);
        const scopeArgs = args.slice(0, typeIndex).map(String);
        const [namespace, ...types] = String(args[typeIndex]).split("/");
        const names = args.slice(typeIndex + 1).map(String);
        if (types.length !== names.length) throw new Error(`${name}: ${types.length} type segments but ${names.length} names`);
        const subscriptionId = lower === "resourceid" ? (scopeArgs.length === 2 ? scopeArgs[0]! : this.#deployment.subscriptionId) : (scopeArgs[0] ?? this.#deployment.subscriptionId);
        const group = lower === "resourceid" ? `/resourceGroups/${scopeArgs.at(-1) ?? this.#deployment.resourceGroup}` : "";
        return `/subscriptions/${subscriptionId}${group}/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join("")}`;
      }
      case "reference":
        return new DeploymentValue(`reference(${args.map((a) => JSON.stringify(String(a))).join(", ")})`);
      case "environment":
        return this.#deployment.environment;
      case "tenant":
        return { tenantId: this.#deployment.tenantId };
      case "subscription":
        return { id: `/subscriptions/${this.#deployment.subscriptionId}`, subscriptionId: this.#deployment.subscriptionId, tenantId: this.#deployment.tenantId };
      case "true":
        return true;
      case "false":
        return false;
      case "null":
        return null;
      case "createarray":
        return args;
      case "createobject": {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < args.length; i += 2) out[text(i)] = args[i + 1];
        return out;
      }
      case "concat":
        return args.every(Array.isArray) ? (args as unknown[][]).flat() : args.map((a) => String(a)).join("");
      case "union":
        if (args.every(Array.isArray)) return [...new Set((args as unknown[][]).flat().map((v) => JSON.stringify(v)))].map((v) => JSON.parse(v));
        return Object.assign({}, ...(args as Record<string, unknown>[]));
      case "empty": {
        const v = args[0];
        return v === null || v === undefined || v === "" || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0);
      }
      case "not":
        return args[0] !== true;
      case "and":
        return args.every((a) => a === true);
      case "or":
        return args.some((a) => a === true);
      case "equals":
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case "add":
        return Number(args[0]) + Number(args[1]);
      case "sub":
        return Number(args[0]) - Number(args[1]);
      case "tolower":
        return text(0).toLowerCase();
      case "toupper":
        return text(0).toUpperCase();
      case "replace":
        return text(0).split(text(1)).join(text(2));
      case "take": {
        const v = args[0];
        const n = Math.max(0, Number(args[1]));
        return Array.isArray(v) ? v.slice(0, n) : String(v).slice(0, n);
      }
      case "length": {
        const v = args[0];
        return Array.isArray(v) || typeof v === "string" ? v.length : Object.keys(v as object).length;
      }
      case "split":
        return text(0).split(text(1));
      case "first":
        return Array.isArray(args[0]) ? args[0][0] : text(0).slice(0, 1);
      case "last":
        return Array.isArray(args[0]) ? args[0].at(-1) : text(0).slice(-1);
      case "join":
        return (args[0] as unknown[]).join(text(1));
      case "string":
        return typeof args[0] === "string" ? args[0] : JSON.stringify(args[0]);
      case "endswith":
        return text(0).toLowerCase().endsWith(text(1).toLowerCase());
      case "startswith":
        return text(0).toLowerCase().startsWith(text(1).toLowerCase());
      case "contains": {
        const [container, item] = args;
        if (typeof container === "string") return container.toLowerCase().includes(String(item).toLowerCase());
        if (Array.isArray(container)) return container.some((v) => JSON.stringify(v) === JSON.stringify(item));
        return Object.keys(container as object).some((k) => k.toLowerCase() === String(item).toLowerCase());
      }
      case "tryget": {
        const [container, key] = args;
        if (container === null || container === undefined || typeof container !== "object") return null;
        return (container as Record<string | number, unknown>)[key as string | number] ?? null;
      }
      case "coalesce":
        return args.find((a) => a !== null && a !== undefined) ?? null;
      case "format":
        return text(0).replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i) + 1]));
      default:
        throw new Error(`the test evaluator does not implement the ARM function ${name}(); add it (with ARM's semantics) if a test needs it`);
    }
  }
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
        const m = /^[A-Za-z_$][\w$]*/.exec(source.slice(i));
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
