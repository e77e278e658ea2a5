/**
 * HTTP trigger routes in the Functions (ASP.NET Core) route template syntax, so a route that works
 * under the real host works here:
 * - literal segments, compared case-insensitively;
 * - `{name}`, `{name?}` (optional, trailing segments only), `{name=default}`;
 * - `{*rest}` / `{**rest}` catch-all in the last segment (the remaining path, `/`-joined);
 * - complex segments such as `{file}.{ext}`;
 * - constraints `int long bool guid alpha decimal double float datetime required minlength(n) maxlength(n)
 *   length(n) length(min,max) min(n) max(n) range(min,max) regex(pattern)`, chained with `:`
 *   (`{id:int:min(1)}`). An unknown constraint fails at start-up, as it fails function indexing.
 * - `{{` and `}}` are literal braces.
 * When several routes match, the most specific wins (literal > complex > constrained > plain parameter >
 * catch-all, segment by segment), as ASP.NET Core orders them.
 */

/** A compiled route template. */
export interface RouteTemplate {
  readonly template: string;
  /** Per-segment specificity; lower sorts first. */
  readonly precedence: readonly number[];
  /** Route values when the decoded path segments match, otherwise undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

/** Thrown for a template the host would refuse at start-up. */
export class RouteTemplateError extends Error {
  constructor(template: string, problem: string) {
    super(`route template '${template}' is invalid: ${problem}`);
    this.name = "RouteTemplateError";
  }
}

type Constraint = (value: string) => boolean;

interface Parameter {
  readonly name: string;
  readonly optional: boolean;
  readonly defaultValue: string | undefined;
  readonly catchAll: boolean;
  readonly constraints: readonly Constraint[];
}

type Part = { readonly literal: string } | { readonly parameter: Parameter };

interface Segment {
  readonly parts: readonly Part[];
  /** Set for a multi-part segment: anchored, case-insensitive, one group per parameter. */
  readonly pattern: RegExp | undefined;
}

const PRECEDENCE = { literal: 1, complex: 2, constrained: 3, parameter: 4, catchAll: 5 } as const;

/** Compiles a route template; throws RouteTemplateError for syntax the host would reject. */
export function compileRouteTemplate(template: string): RouteTemplate {
  const body = template.replace(/^~?\//, "").replace(/\/$/, "");
  const segments = body.length === 0 ? [] : body.split("/").map((text) => parseSegment(template, text));
  const names = new Set<string>();
  segments.forEach((segment, index) => {
    for (const part of segment.parts) {
      if (!("parameter" in part)) continue;
      const key = part.parameter.name.toLowerCase();
      if (names.has(key)) throw new RouteTemplateError(template, `the parameter '${part.parameter.name}' appears twice`);
      names.add(key);
      if (part.parameter.catchAll && index !== segments.length - 1) {
        throw new RouteTemplateError(template, "a catch-all parameter may only be in the last segment");
      }
      if (part.parameter.optional && segment.parts.length > 1) {
        throw new RouteTemplateError(template, "an optional parameter must be a whole segment here");
      }
    }
  });
  const optionalFrom = segments.findIndex(isOmissible);
  if (optionalFrom !== -1 && segments.slice(optionalFrom).some((s) => !isOmissible(s))) {
    throw new RouteTemplateError(template, "optional parameters may only be followed by optional parameters");
  }
  return {
    template,
    precedence: segments.map(segmentPrecedence),
    match: (path) => matchSegments(segments, path),
  };
}

/** Sorts most specific first, as ASP.NET Core orders candidate routes. */
export function compareRoutePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.min(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const difference = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.precedence.length - b.precedence.length || a.template.localeCompare(b.template);
}

function parseSegment(template: string, text: string): Segment {
  if (text.length === 0) throw new RouteTemplateError(template, "it has an empty segment ('//')");
  const parts: Part[] = [];
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === "{" && text[i + 1] === "{") || (c === "}" && text[i + 1] === "}")) {
      literal += c;
      i++;
    } else if (c === "{") {
      const close = findParameterEnd(text, i + 1);
      if (close === -1) throw new RouteTemplateError(template, `'{' without a matching '}' in '${text}'`);
      if (literal.length > 0) parts.push({ literal });
      literal = "";
      parts.push({ parameter: parseParameter(template, text.slice(i + 1, close)) });
      i = close;
    } else if (c === "}") {
      throw new RouteTemplateError(template, `'}' without a matching '{' in '${text}'`);
    } else {
      literal += c;
    }
  }
  if (literal.length > 0) parts.push({ literal });
  for (let i = 1; i < parts.length; i++) {
    if ("parameter" in parts[i - 1]! && "parameter" in parts[i]!) {
      throw new RouteTemplateError(template, `two parameters in '${text}' need a literal between them`);
    }
  }
  const complex = parts.length > 1;
  if (complex && parts.some((p) => "parameter" in p && p.parameter.catchAll)) {
    throw new RouteTemplateError(template, "a catch-all parameter must be a whole segment");
  }
  return { parts, pattern: complex ? complexSegmentPattern(parts) : undefined };
}

/** Index of the `}` closing a parameter that starts at `from`, skipping `}}` and brackets inside constraint arguments. */
function findParameterEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === "}" && text[i + 1] === "}") i++;
    else if (c === "}" && depth === 0) return i;
  }
  return -1;
}

function parseParameter(template: string, raw: string): Parameter {
  const text = raw.replaceAll("{{", "{").replaceAll("}}", "}");
  const catchAll = text.startsWith("*");
  const rest = text.replace(/^\*{1,2}/, "");
  const nameMatch = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
  if (!nameMatch) throw new RouteTemplateError(template, `'{${raw}}' needs a parameter name`);
  const name = nameMatch[0];
  let tail = rest.slice(name.length);
  let optional = false;
  let defaultValue: string | undefined;
  const equals = findTopLevel(tail, "=");
  if (equals !== -1) {
    defaultValue = tail.slice(equals + 1);
    tail = tail.slice(0, equals);
  } else if (tail.endsWith("?")) {
    optional = true;
    tail = tail.slice(0, -1);
  }
  const constraints = tail.length === 0 ? [] : splitConstraints(template, tail).map((c) => parseConstraint(template, c));
  if (catchAll && optional) throw new RouteTemplateError(template, `a catch-all parameter cannot be optional ('{${raw}}')`);
  return { name, optional, defaultValue, catchAll, constraints };
}

function findTopLevel(text: string, char: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth = Math.max(0, depth - 1);
    else if (text[i] === char && depth === 0) return i;
  }
  return -1;
}

/** `:int:min(1)` -> ["int", "min(1)"], keeping `:` inside parentheses (regex arguments). */
function splitConstraints(template: string, tail: string): string[] {
  if (!tail.startsWith(":")) throw new RouteTemplateError(template, `unexpected '${tail}' after a parameter name`);
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of tail.slice(1)) {
    if (c === ":" && depth === 0) {
      out.push(current);
      current = "";
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    current += c;
  }
  out.push(current);
  return out;
}

function parseConstraint(template: string, text: string): Constraint {
  const match = /^([A-Za-z]+)(?:\((.*)\))?$/s.exec(text);
  if (!match) throw new RouteTemplateError(template, `'${text}' is not a constraint`);
  const name = (match[1] ?? "").toLowerCase();
  const args = match[2];
  const numbers = (count: number): number[] => {
    const values = (args ?? "").split(",").map((a) => Number(a.trim()));
    if (args === undefined || values.length !== count || values.some((v) => !Number.isInteger(v))) {
      throw new RouteTemplateError(template, `the constraint '${text}' needs ${count} whole-number argument(s)`);
    }
    return values;
  };
  const noArgs = (check: Constraint): Constraint => {
    if (args !== undefined) throw new RouteTemplateError(template, `the constraint '${name}' takes no arguments`);
    return check;
  };
  switch (name) {
    case "int":
      return noArgs((v) => /^-?\d+$/.test(v) && Number(v) >= -(2 ** 31) && Number(v) < 2 ** 31);
    case "long":
      return noArgs((v) => /^-?\d+$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n);
    case "bool":
      return noArgs((v) => /^(true|false)$/i.test(v));
    case "guid":
      return noArgs((v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v));
    case "alpha":
      return noArgs((v) => /^[a-z]+$/i.test(v));
    case "decimal":
    case "double":
    case "float":
      return noArgs((v) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v));
    case "datetime":
      return noArgs((v) => !Number.isNaN(Date.parse(v)));
    case "required":
      return noArgs((v) => v.length > 0);
    case "minlength": {
      const [min] = numbers(1) as [number];
      return (v) => v.length >= min;
    }
    case "maxlength": {
      const [max] = numbers(1) as [number];
      return (v) => v.length <= max;
    }
    case "length": {
      const values = (args ?? "").includes(",") ? numbers(2) : numbers(1);
      const [min, max] = [values[0] ?? 0, values[1] ?? values[0] ?? 0];
      return (v) => v.length >= min && v.length <= max;
    }
    case "min": {
      const [min] = numbers(1) as [number];
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min;
    }
    case "max": {
      const [max] = numbers(1) as [number];
      return (v) => /^-?\d+$/.test(v) && Number(v) <= max;
    }
    case "range": {
      const [min, max] = numbers(2) as [number, number];
      return (v) => /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
    }
    case "regex": {
      if (args === undefined) throw new RouteTemplateError(template, "the constraint 'regex' needs a pattern");
      let pattern: RegExp;
      try {
        pattern = new RegExp(args, "i");
      } catch (error) {
        throw new RouteTemplateError(template, `the regex '${args}' does not compile: ${(error as Error).message}`);
      }
      return (v) => pattern.test(v);
    }
    default:
      throw new RouteTemplateError(template, `unknown constraint '${name}'`);
  }
}

function complexSegmentPattern(parts: readonly Part[]): RegExp {
  const source = parts
    .map((part) => ("literal" in part ? part.literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : "(.+)"))
    .join("");
  // Greedy groups put each literal at its last occurrence, as ASP.NET matches complex segments right to left.
  return new RegExp(`^${source}$`, "is");
}

function isOmissible(segment: Segment): boolean {
  const [only] = segment.parts;
  return segment.parts.length === 1 && only !== undefined && "parameter" in only &&
    (only.parameter.optional || only.parameter.defaultValue !== undefined || only.parameter.catchAll);
}

function segmentPrecedence(segment: Segment): number {
  const [only] = segment.parts;
  if (segment.parts.length > 1) return PRECEDENCE.complex;
  if (only === undefined || "literal" in only) return PRECEDENCE.literal;
  if (only.parameter.catchAll) return PRECEDENCE.catchAll;
  return only.parameter.constraints.length > 0 ? PRECEDENCE.constrained : PRECEDENCE.parameter;
}

function accepts(parameter: Parameter, value: string): boolean {
  return parameter.constraints.every((check) => check(value));
}

function matchSegments(segments: readonly Segment[], path: readonly string[]): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const [only] = segment.parts;
    if (only !== undefined && "parameter" in only && only.parameter.catchAll) {
      const rest = path.slice(i).join("/");
      if (rest.length > 0 && !accepts(only.parameter, rest)) return undefined;
      if (rest.length > 0) values[only.parameter.name] = rest;
      else if (only.parameter.defaultValue !== undefined) values[only.parameter.name] = only.parameter.defaultValue;
      return values;
    }
    const text = path[i];
    if (text === undefined) {
      if (!isOmissible(segment)) return undefined;
      if (only !== undefined && "parameter" in only && only.parameter.defaultValue !== undefined) {
        values[only.parameter.name] = only.parameter.defaultValue;
      }
      continue;
    }
    if (!matchSegment(segment, text, values)) return undefined;
  }
  return path.length > segments.length ? undefined : values;
}

function matchSegment(segment: Segment, text: string, values: Record<string, string>): boolean {
  const [only] = segment.parts;
  if (only === undefined) return false;
  if (segment.pattern === undefined) {
    if ("literal" in only) return only.literal.toLowerCase() === text.toLowerCase();
    if (text.length === 0 || !accepts(only.parameter, text)) return false;
    values[only.parameter.name] = text;
    return true;
  }
  const match = segment.pattern.exec(text);
  if (!match) return false;
  let group = 1;
  for (const part of segment.parts) {
    if (!("parameter" in part)) continue;
    const value = match[group++] ?? "";
    if (!accepts(part.parameter, value)) return false;
    values[part.parameter.name] = value;
  }
  return true;
}
