/**
 * Rule files as people write them: YAML or JSON (JSON is YAML), holding one rule, or a rule set (a list of rules,
 * or `{ rules: [...] }`). Validation uses the one rule schema and reports EVERY problem at the line and column
 * where it is, by following each zod issue's path through the YAML document's source positions.
 */
import { readFileSync } from "node:fs";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from "yaml";
import { lintRules } from "../domain/rules/lint.ts";
import { ruleDraftSchema, type RuleDraft } from "../domain/rules/schema.ts";
import { CliError, EXIT } from "./exit-codes.ts";

export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

/** One problem in a file: where, which field (dotted path from the file's root), and what is wrong. */
export interface FileProblem {
  readonly location: SourceLocation | undefined;
  readonly path: string;
  readonly message: string;
}

export type RuleFileShape = "rule" | "rule-set";

/** A parsed file, its problems so far, and the rules it holds once it validates. */
export interface RuleFile {
  readonly path: string;
  readonly shape: RuleFileShape;
  readonly problems: readonly FileProblem[];
  /** The drafts in file order (defaults applied); empty when there are problems. */
  readonly drafts: readonly RuleDraft[];
  /** Valid but risky rules (src/domain/rules/lint.ts), at the line of the condition concerned; only for valid files. */
  readonly warnings: readonly FileProblem[];
}

type PathKey = string | number;

/** Reads and parses a file; a file that cannot be read is a usage error (exit 2). */
export function readRuleFile(path: string, expected: RuleFileShape | "either"): RuleFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(EXIT.usage, `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseRuleFile(path, text, expected);
}

/** Parses rule file text; pure (no I/O), so the positions can be tested on strings. */
export function parseRuleFile(path: string, text: string, expected: RuleFileShape | "either"): RuleFile {
  const { file, locate, base } = parseAndValidate(path, text, expected);
  if (file.drafts.length === 0) return file;
  const itemPath = (index: number): PathKey[] => (file.shape === "rule" ? [] : [...base, index]);
  const indexOf = new Map(file.drafts.map((d, i) => [d.id, i]));
  const warnings = lintRules(file.drafts).map((w) => {
    const keys: PathKey[] = [...itemPath(indexOf.get(w.ruleId) ?? 0), ...w.field.split(".")];
    return { location: locate(keys, true), path: dotted(keys), message: w.message };
  });
  return { ...file, warnings };
}

type Locate = (keys: readonly PathKey[], atKey?: boolean) => SourceLocation | undefined;

function parseAndValidate(path: string, text: string, expected: RuleFileShape | "either"): { file: RuleFile; locate: Locate; base: PathKey[] } {
  const noLocation: Locate = () => undefined;
  const done = (file: Omit<RuleFile, "warnings">, locate: Locate = noLocation, base: PathKey[] = []) => ({ file: { ...file, warnings: [] }, locate, base });
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntaxProblems: FileProblem[] = [...document.errors, ...document.warnings].map((e) => ({
    location: e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : undefined,
    path: "",
    message: firstLine(e.message).replace(/ at line \d+, column \d+:?$/, ""),
  }));
  const shapeOf = (value: unknown): RuleFileShape => (Array.isArray(value) || (isRecord(value) && "rules" in value) ? "rule-set" : "rule");
  if (document.errors.length > 0) return done({ path, shape: expected === "either" ? "rule" : expected, problems: syntaxProblems, drafts: [] });
  const value: unknown = document.toJS();
  const shape = expected === "either" ? shapeOf(value) : expected;
  const locate = (keys: readonly PathKey[], atKey = false) => locationOf(document, lineCounter, keys, atKey);

  if (shape === "rule") {
    if (!isRecord(value)) {
      return done({ path, shape, problems: [...syntaxProblems, { location: locate([]), path: "", message: "expected one rule: a mapping with id, priority, action, reason, ..." }], drafts: [] });
    }
    const { problems, drafts } = validateDrafts([value], [], locate, false);
    return done({ path, shape, problems: byPosition([...syntaxProblems, ...problems]), drafts: problems.length === 0 && syntaxProblems.length === 0 ? drafts : [] }, locate);
  }

  let items: unknown[];
  let base: PathKey[];
  const envelope: FileProblem[] = [];
  if (Array.isArray(value)) {
    items = value;
    base = [];
  } else if (isRecord(value) && Array.isArray(value["rules"])) {
    items = value["rules"];
    base = ["rules"];
    for (const key of Object.keys(value).filter((k) => k !== "rules")) {
      envelope.push({ location: locate([key], true), path: key, message: `unknown top-level field "${key}"; a rule set file holds only "rules"` });
    }
  } else {
    return done({
      path,
      shape,
      problems: [...syntaxProblems, { location: locate(isRecord(value) && "rules" in value ? ["rules"] : []), path: isRecord(value) && "rules" in value ? "rules" : "", message: "expected a rule set: a list of rules, or a mapping with a \"rules\" list" }],
      drafts: [],
    });
  }
  const { problems, drafts } = validateDrafts(items, base, locate, true);
  const all = byPosition([...syntaxProblems, ...envelope, ...problems]);
  return done({ path, shape, problems: all, drafts: all.length === 0 ? drafts : [] }, locate, base);
}

/** Parses each item with the rule schema and checks ids are unique; collects every problem. */
function validateDrafts(
  items: readonly unknown[],
  base: readonly PathKey[],
  locate: (keys: readonly PathKey[], atKey?: boolean) => SourceLocation | undefined,
  inSet: boolean,
): { problems: FileProblem[]; drafts: RuleDraft[] } {
  const problems: FileProblem[] = [];
  const drafts: RuleDraft[] = [];
  const firstIndexOfId = new Map<string, number>();
  items.forEach((item, index) => {
    const itemPath: PathKey[] = inSet ? [...base, index] : [...base];
    const result = ruleDraftSchema.safeParse(item);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const keys: PathKey[] = [...itemPath, ...issue.path.map((k) => (typeof k === "symbol" ? String(k) : k))];
        if (issue.code === "unrecognized_keys") {
          for (const key of issue.keys) {
            problems.push({ location: locate([...keys, key], true), path: dotted([...keys, key]), message: `unknown field "${key}"; ${validFieldsHint(issue.message)}` });
          }
          continue;
        }
        const missing = issue.code === "invalid_type" && / received undefined$/.test(issue.message);
        problems.push({ location: locate(keys), path: dotted(keys), message: missing ? `"${String(keys.at(-1))}" is required` : issue.message });
      }
      return;
    }
    const earlier = firstIndexOfId.get(result.data.id);
    if (earlier !== undefined) {
      problems.push({
        location: locate([...itemPath, "id"]),
        path: dotted([...itemPath, "id"]),
        message: `the id "${result.data.id}" is already used by ${dotted([...base, earlier]) || "an earlier rule"}; rule ids must be unique`,
      });
      return;
    }
    firstIndexOfId.set(result.data.id, index);
    drafts.push(result.data);
  });
  return { problems, drafts };
}

/** The "valid fields are ..." part of the schema's unknown-field message, when it has one. */
function validFieldsHint(message: string): string {
  const at = message.indexOf("valid ");
  return at >= 0 ? message.slice(at) : message;
}

/**
 * The source position of the node at `keys`, or of its deepest existing ancestor (a missing field is reported
 * at the mapping that lacks it). `atKey` points at a mapping key rather than its value (unknown fields).
 */
export function locationOf(document: Document, lineCounter: LineCounter, keys: readonly PathKey[], atKey: boolean): SourceLocation | undefined {
  let node: unknown = document.contents;
  let offset = rangeStart(node);
  for (const [i, key] of keys.entries()) {
    const last = i === keys.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      if (last && atKey) {
        offset = rangeStart(pair.key) ?? offset;
        break;
      }
      node = pair.value;
      offset = rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

/** `rules[2].conditions.target-instances[0]` */
export function dotted(keys: readonly PathKey[]): string {
  return keys.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text === "" ? key : `${text}.${key}`), "");
}

/** One problem per line: `file:line:column  path: message`, the form editors and CI annotations recognise. */
export function formatProblem(file: string, problem: FileProblem): string {
  const where = problem.location ? `${file}:${problem.location.line}:${problem.location.column}` : file;
  return `${where}  ${problem.path ? `${problem.path}: ` : ""}${problem.message}`;
}

/** Throws a usage error listing every problem, when the file has any. */
export function requireValid(file: RuleFile): RuleFile {
  if (file.problems.length === 0) return file;
  const lines = file.problems.map((p) => `  ${formatProblem(file.path, p)}`);
  throw new CliError(EXIT.usage, `${file.path} has ${file.problems.length} problem(s):\n${lines.join("\n")}`);
}

/** Problems in file order (those without a position last), so the list reads top to bottom. */
function byPosition(problems: readonly FileProblem[]): FileProblem[] {
  const key = (p: FileProblem) => (p.location ? p.location.line * 1e6 + p.location.column : Number.MAX_SAFE_INTEGER);
  return [...problems].sort((a, b) => key(a) - key(b));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
