/**
 * Reads the Bicep under infra/ as text: there is no Bicep compiler here, so the infra tests check the templates with
 * this small, string-aware reader (comments, single-quoted strings with ${...} interpolation, balanced blocks).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const INFRA_DIR = path.join(REPO_ROOT, "infra");

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes. */
  readonly path: string;
  /** The text with comments blanked out (line structure kept), so patterns never match commented-out code. */
  readonly code: string;
  /** The text as written. */
  readonly source: string;
}

/** Every .bicep file under infra/, sorted by path. */
export function readBicepFiles(): readonly BicepFile[] {
  return listFiles(INFRA_DIR)
    .filter((file) => file.endsWith(".bicep"))
    .sort()
    .map((file) => readBicep(path.relative(REPO_ROOT, file)));
}

/** One Bicep file by its path relative to the repository root. */
export function readBicep(relativePath: string): BicepFile {
  const source = readFileSync(path.join(REPO_ROOT, relativePath), "utf8");
  return { path: relativePath.split(path.sep).join("/"), source, code: blankComments(source) };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

/** Index just past the single-quoted string starting at `start` (which holds the opening quote). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === "'") return i + 1;
    else if (c === "$" && text[i + 1] === "{") i = endOfInterpolation(text, i + 2);
    else i += 1;
  }
  throw new Error(`unterminated string at offset ${start}`);
}

function endOfInterpolation(text: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      i = endOfString(text, i);
      continue;
    }
    if (c === "{") depth += 1;
    if (c === "}") {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  throw new Error(`unterminated interpolation at offset ${start}`);
}

/** The text with // and /* *\/ comments replaced by spaces (newlines kept), strings untouched. */
export function blankComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out += " ".repeat(stop - i);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The block from the bracket at `open` (`{` or `[`) to its matching bracket, inclusive; strings are skipped. */
export function balancedBlock(code: string, open: number): string {
  const opening = code[open];
  const closing = opening === "{" ? "}" : opening === "[" ? "]" : opening === "(" ? ")" : undefined;
  if (closing === undefined) throw new Error(`no bracket at offset ${open}`);
  let depth = 0;
  let i = open;
  while (i < code.length) {
    const c = code[i];
    if (c === "'") {
      i = endOfString(code, i);
      continue;
    }
    if (c === opening) depth += 1;
    if (c === closing) {
      depth -= 1;
      if (depth === 0) return code.slice(open, i + 1);
    }
    i += 1;
  }
  throw new Error(`unbalanced ${opening} at offset ${open}`);
}

/** Plain string literals (no interpolation) in a piece of code, in order, unescaped. */
export function stringLiterals(code: string): string[] {
  const literals: string[] = [];
  let i = 0;
  while (i < code.length) {
    if (code[i] === "'") {
      const end = endOfString(code, i);
      const raw = code.slice(i + 1, end - 1);
      if (!raw.includes("${")) literals.push(raw.replace(/\\(.)/g, "$1"));
      i = end;
    } else {
      i += 1;
    }
  }
  return literals;
}

/** The expression assigned by `var <name> =`, up to the end of its line or of its bracketed block. */
export function variableExpression(file: BicepFile, name: string): string {
  const match = new RegExp(`^var ${name} = `, "m").exec(file.code);
  if (!match) throw new Error(`${file.path}: no var ${name}`);
  const start = match.index + match[0].length;
  const first = file.code[start];
  if (first === "{" || first === "[") return balancedBlock(file.code, start);
  const lineEnd = file.code.indexOf("\n", start);
  return file.code.slice(start, lineEnd === -1 ? undefined : lineEnd).trim();
}

/** Keys of an object literal at its top level (`{ KEY: value ... }`), in order. */
export function objectKeys(objectLiteral: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  let lineStart = true;
  while (i < objectLiteral.length) {
    const c = objectLiteral[i];
    if (lineStart && depth === 1) {
      const key = /^\s*([A-Za-z_][A-Za-z0-9_]*|'[^'$]*')\s*:/.exec(objectLiteral.slice(i));
      if (key?.[1] !== undefined) keys.push(key[1].replace(/^'|'$/g, ""));
    }
    lineStart = false;
    if (c === "'") {
      i = endOfString(objectLiteral, i);
      continue;
    }
    if (c === "{" || c === "[" || c === "(") depth += 1;
    if (c === "}" || c === "]" || c === ")") depth -= 1;
    if (c === "\n") lineStart = true;
    i += 1;
  }
  return keys;
}

/** The value text of a top-level property (`key: value`) of an object literal, or undefined. */
export function propertyValue(objectLiteral: string, key: string): string | undefined {
  let depth = 0;
  let i = 0;
  let lineStart = true;
  while (i < objectLiteral.length) {
    const c = objectLiteral[i];
    if (lineStart && depth === 1) {
      const match = new RegExp(`^\\s*${key}\\s*:\\s*`).exec(objectLiteral.slice(i));
      if (match) {
        const start = i + match[0].length;
        const opener = objectLiteral[start];
        if (opener === "{" || opener === "[" || opener === "(") return balancedBlock(objectLiteral, start);
        const lineEnd = objectLiteral.indexOf("\n", start);
        return objectLiteral.slice(start, lineEnd === -1 ? undefined : lineEnd).trim();
      }
    }
    lineStart = false;
    if (c === "'") {
      i = endOfString(objectLiteral, i);
      continue;
    }
    if (c === "{" || c === "[" || c === "(") depth += 1;
    if (c === "}" || c === "]" || c === ")") depth -= 1;
    if (c === "\n") lineStart = true;
    i += 1;
  }
  return undefined;
}

export interface ResourceDeclaration {
  readonly file: string;
  readonly symbol: string;
  /** `Microsoft.Provider/type[/child...]`, as written before the `@`. */
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  /** The object body `{ ... }` of the declaration (for a loop, the body of one element). */
  readonly body: string;
}

const RESOURCE_LINE = /^resource\s+(\w+)\s+'([^']*)'\s*(existing)?\s*=\s*/gm;

/** Every `resource` declaration of a file, with its type, api-version and body. */
export function resourceDeclarations(file: BicepFile): ResourceDeclaration[] {
  const declarations: ResourceDeclaration[] = [];
  for (const match of file.code.matchAll(RESOURCE_LINE)) {
    const [, symbol = "", typeAndVersion = "", existing] = match;
    const at = typeAndVersion.lastIndexOf("@");
    const bodyStart = file.code.indexOf("{", match.index + match[0].length);
    declarations.push({
      file: file.path,
      symbol,
      type: at === -1 ? typeAndVersion : typeAndVersion.slice(0, at),
      apiVersion: at === -1 ? "" : typeAndVersion.slice(at + 1),
      existing: existing !== undefined,
      body: balancedBlock(file.code, bodyStart),
    });
  }
  return declarations;
}

export interface ParamDeclaration {
  readonly file: string;
  readonly name: string;
  readonly declaration: string;
  /** Decorator names (`description`, `allowed`, ...) written above the param. */
  readonly decorators: readonly string[];
}

/** Every `param` of a file with the decorators above it (multi-line decorators included). */
export function paramDeclarations(file: BicepFile): ParamDeclaration[] {
  const params: ParamDeclaration[] = [];
  const lines = file.code.split("\n");
  let pending: string[] = [];
  let openBrackets = 0;
  for (const line of lines) {
    const trimmed = line.trim();
    if (openBrackets > 0) {
      openBrackets += bracketBalance(trimmed);
      continue;
    }
    const decorator = /^@(\w+)/.exec(trimmed);
    if (decorator?.[1] !== undefined) {
      pending.push(decorator[1]);
      openBrackets = bracketBalance(trimmed);
      continue;
    }
    const param = /^param\s+(\w+)\s/.exec(trimmed);
    if (param?.[1] !== undefined) params.push({ file: file.path, name: param[1], declaration: trimmed, decorators: pending });
    if (trimmed !== "") pending = [];
  }
  return params;
}

function bracketBalance(line: string): number {
  const code = line.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  return (code.match(/[([{]/g) ?? []).length - (code.match(/[)\]}]/g) ?? []).length;
}

/** Names of the `output`s of a file. */
export function outputNames(file: BicepFile): string[] {
  return [...file.code.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1] ?? "");
}
