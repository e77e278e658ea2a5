/**
 * A tokenizer, parser and evaluator for the subset of Resource Graph's query language (KQL) that Portcullis sends, so
 * the emulator answers a query the way Azure Resource Graph does rather than by pattern matching.
 *
 * What Resource Graph's language is (Microsoft Learn, "Understanding the Azure Resource Graph query language",
 * governance/resource-graph/concepts/query-language): Kusto Query Language; a query is a table followed by `|`
 * separated tabular operators; a query that starts with an operator runs on the `Resources` table. Semantics follow
 * the Kusto reference (Microsoft Learn, kusto/query/*): `==`/`!=` compare case-sensitively, `=~`/`!~` case-
 * insensitively, `in~` is case-insensitive membership, `has` matches a whole term case-insensitively, `contains` a
 * substring case-insensitively, `order by` sorts descending unless `asc` is given (nulls last when descending, first
 * when ascending), a property of a dynamic value that does not exist is null, `mv-expand` emits one row per array
 * element (per property of a property bag), `take` is `limit`.
 *
 * Supported: tables `resources` (any case); operators `where`, `project`, `extend`, `mv-expand [limit N]` (also `mvexpand`),
 * `order by`/`sort by`, `limit`/`take`; operators `and`, `or`, `==`, `!=`, `=~`, `!~`, `has`, `!has`, `contains`,
 * `!contains`, `startswith`, `in`, `!in`, `in~`, `!in~`, `<`, `<=`, `>`, `>=`; functions `tostring`, `tolower`,
 * `toupper`, `not`, `isempty`, `isnotempty`, `isnull`, `isnotnull`, `strlen`; string, number, boolean literals and
 * `dynamic(null)`; property access `a.b`, `a['b']`, `a[0]`. Column names are resolved before evaluation (Kusto fails
 * a query that names an unknown column, so a typo is a 400 here too, not an empty result).
 *
 * Refusals carry Resource Graph's error detail codes as Azure sends them (seen in Azure's own trackers, e.g.
 * Azure/aztfexport#485, Azure/azure-powershell#13762; there is no published list): `ParserFailure` with `line`,
 * `characterPositionInLine` and `token` for a syntax error, `InvalidQueryLanguage` for an operator or function
 * Resource Graph does not run (here also for ones this emulator does not evaluate: the message says so), and
 * `DisallowedLogicalTableName` for an unknown table. The HTTP answer around them is built in ./service.ts.
 */

/** A value of a row cell: KQL's dynamic type as JSON. */
export type KqlValue = null | string | number | boolean | KqlValue[] | { [key: string]: KqlValue };
export type Row = Record<string, KqlValue>;

/** One refusal as Resource Graph reports it in `error.details[]`. */
export class KqlError extends Error {
  readonly code: "ParserFailure" | "InvalidQueryLanguage" | "DisallowedLogicalTableName" | "FailedToResolveScalarExpression";
  readonly line: number;
  readonly characterPositionInLine: number;
  readonly token: string;

  constructor(code: KqlError["code"], message: string, at: { line: number; column: number; text: string }) {
    super(message);
    this.name = "KqlError";
    this.code = code;
    this.line = at.line;
    this.characterPositionInLine = at.column;
    this.token = at.text;
  }

  toDetail(): Record<string, unknown> {
    const base = { code: this.code, message: this.code === "ParserFailure" ? "ParserFailure" : this.message };
    return { ...base, line: this.line, characterPositionInLine: this.characterPositionInLine, token: this.token };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type TokenKind = "ident" | "string" | "number" | "op" | "eof";
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** For strings: the decoded value. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

/** Longest first, so `!in~` is not read as `!in` then `~`. */
const OPERATORS = ["!contains", "!has", "!in~", "!in", "in~", "==", "!=", "=~", "!~", "<=", ">=", "|", "(", ")", "[", "]", ",", ".", "=", "<", ">", "-"];

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (start: number) => ({ line, column: start - lineStart });
  while (i < query.length) {
    const ch = query[i]!;
    if (ch === "\n") {
      i += 1;
      line += 1;
      lineStart = i;
      continue;
    }
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === "/" && query[i + 1] === "/") {
      while (i < query.length && query[i] !== "\n") i += 1;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"') {
      let value = "";
      i += 1;
      for (;;) {
        if (i >= query.length || query[i] === "\n") {
          throw new KqlError("ParserFailure", "unterminated string literal", { ...at(start), text: query.slice(start, i) });
        }
        const c = query[i]!;
        if (c === "\\") {
          const next = query[i + 1] ?? "";
          value += next === "n" ? "\n" : next === "t" ? "\t" : next;
          i += 2;
          continue;
        }
        if (c === ch) {
          i += 1;
          break;
        }
        value += c;
        i += 1;
      }
      tokens.push({ kind: "string", text: query.slice(start, i), value, ...at(start) });
      continue;
    }
    if (/[0-9]/.test(ch)) {
      while (i < query.length && /[0-9.]/.test(query[i]!)) i += 1;
      const text = query.slice(start, i);
      tokens.push({ kind: "number", text, value: text, ...at(start) });
      continue;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      // A '-' belongs to an identifier only in the operator names KQL spells with one (mv-expand, project-away).
      while (i < query.length && /[A-Za-z0-9_$]/.test(query[i]!)) i += 1;
      if (query.slice(start, i).toLowerCase() === "mv" && query[i] === "-") {
        i += 1;
        while (i < query.length && /[A-Za-z0-9_]/.test(query[i]!)) i += 1;
      }
      if (query.slice(start, i).toLowerCase() === "project" && query[i] === "-") {
        i += 1;
        while (i < query.length && /[A-Za-z0-9_]/.test(query[i]!)) i += 1;
      }
      if (query.slice(start, i).toLowerCase() === "in" && query[i] === "~") {
        i += 1;
        tokens.push({ kind: "op", text: "in~", value: "in~", ...at(start) });
        continue;
      }
      const text = query.slice(start, i);
      tokens.push({ kind: "ident", text, value: text, ...at(start) });
      continue;
    }
    const op = OPERATORS.find((o) => query.startsWith(o, i) && !(/[a-z]$/i.test(o) && /[A-Za-z0-9_]/.test(query[i + o.length] ?? "")));
    if (op === undefined) throw new KqlError("ParserFailure", `unexpected character '${ch}'`, { ...at(start), text: ch });
    i += op.length;
    tokens.push({ kind: "op", text: op, value: op, ...at(start) });
  }
  tokens.push({ kind: "eof", text: "<EOF>", value: "", line, column: i - lineStart });
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Syntax tree

export type Expr =
  | { readonly kind: "literal"; readonly value: KqlValue }
  | { readonly kind: "column"; readonly name: string; readonly at: Token }
  | { readonly kind: "member"; readonly target: Expr; readonly key: string | number }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Expr[]; readonly at: Token }
  | { readonly kind: "binary"; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly kind: "in"; readonly op: "in" | "in~" | "!in" | "!in~"; readonly left: Expr; readonly list: readonly Expr[] };

interface NamedExpr {
  readonly name: string;
  readonly expr: Expr;
}

export type Stage =
  | { readonly kind: "where"; readonly predicate: Expr }
  | { readonly kind: "project"; readonly columns: readonly NamedExpr[] }
  | { readonly kind: "extend"; readonly columns: readonly NamedExpr[] }
  | { readonly kind: "mv-expand"; readonly column: NamedExpr; readonly limit: number }
  | { readonly kind: "order"; readonly keys: readonly { readonly expr: Expr; readonly descending: boolean }[] }
  | { readonly kind: "limit"; readonly count: number };

export interface Query {
  /** Lower-case table name. */
  readonly table: string;
  readonly stages: readonly Stage[];
}

/** Tables of Resource Graph (Microsoft Learn, "Azure Resource Graph table and resource type reference"). */
const KNOWN_TABLES = new Set([
  "resources",
  "resourcecontainers",
  "advisorresources",
  "alertsmanagementresources",
  "authorizationresources",
  "extendedlocationresources",
  "guestconfigurationresources",
  "healthresources",
  "iotsecurityresources",
  "kubernetesconfigurationresources",
  "maintenanceresources",
  "networkresources",
  "patchassessmentresources",
  "patchinstallationresources",
  "policyresources",
  "recoveryservicesresources",
  "securityresources",
  "servicehealthresources",
  "spotresources",
]);

/** Tabular operators Resource Graph runs but this emulator does not: a refusal that names the gap. */
const UNEVALUATED_OPERATORS = new Set(["summarize", "count", "distinct", "join", "union", "top", "sample", "sample-distinct", "project-away", "project-rename", "parse", "mv-apply", "extend-away"]);
/**
 * Rows mv-expand makes from one source row unless `limit N` says otherwise: 128, as Resource Graph answers
 * (MicrosoftDocs/azure-docs#82030: "the row limit of 128 ... is the behaviour we see ... in azure resource graph"),
 * and the most it may be told: Microsoft's own queries raise it to 1000 (microsoft/AzureMonitorCommunity#269, citing
 * Learn's "Supported tabular/top level operators"); the emulator accepts up to 2000 (the upper end is not verified).
 */
export const MV_EXPAND_DEFAULT_LIMIT = 128;
export const MV_EXPAND_MAX_LIMIT = 2000;
const SUPPORTED_FUNCTIONS = new Set(["tostring", "tolower", "toupper", "not", "isempty", "isnotempty", "isnull", "isnotnull", "strlen", "dynamic"]);
const STRING_OPERATORS = new Set(["has", "!has", "contains", "!contains", "startswith", "=~", "!~", "==", "!="]);

class Parser {
  readonly #tokens: Token[];
  #pos = 0;
  #generated = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parseQuery(): Query {
    let table = "resources";
    const first = this.#peek();
    if (first.kind === "ident" && !isOperatorKeyword(first.text)) {
      this.#next();
      table = first.text.toLowerCase();
      if (table !== "resources") {
        throw new KqlError(
          "DisallowedLogicalTableName",
          KNOWN_TABLES.has(table)
            ? `Table ${first.text} is not served by the ARM emulator's Resource Graph (only 'resources').`
            : `Table ${first.text} is invalid, unsupported or disallowed.`,
          first,
        );
      }
      if (this.#peek().kind !== "eof") this.#expectOp("|");
    }
    const stages: Stage[] = [];
    while (this.#peek().kind !== "eof") {
      stages.push(this.#stage());
      if (this.#peek().kind === "eof") break;
      this.#expectOp("|");
    }
    return { table, stages };
  }

  #stage(): Stage {
    const token = this.#next();
    if (token.kind !== "ident") throw this.#failure(token);
    const keyword = token.text.toLowerCase();
    switch (keyword) {
      case "where":
        return { kind: "where", predicate: this.#expr() };
      case "project":
        return { kind: "project", columns: this.#namedList() };
      case "extend":
        return { kind: "extend", columns: this.#namedList() };
      case "mv-expand":
      case "mvexpand": {
        let limit = MV_EXPAND_DEFAULT_LIMIT;
        if (this.#acceptKeyword("limit")) {
          const n = this.#next();
          if (n.kind !== "number" || !/^\d+$/.test(n.text)) throw this.#failure(n);
          limit = Number.parseInt(n.text, 10);
          if (limit > MV_EXPAND_MAX_LIMIT) throw new KqlError("InvalidQueryLanguage", `mv-expand limit ${limit} exceeds the maximum of ${MV_EXPAND_MAX_LIMIT}.`, n);
        }
        return { kind: "mv-expand", column: this.#named(), limit };
      }
      case "order":
      case "sort": {
        const by = this.#next();
        if (by.kind !== "ident" || by.text.toLowerCase() !== "by") throw this.#failure(by);
        const keys: { expr: Expr; descending: boolean }[] = [];
        do {
          const expr = this.#expr();
          let descending = true;
          const dir = this.#peek();
          if (dir.kind === "ident" && (dir.text.toLowerCase() === "asc" || dir.text.toLowerCase() === "desc")) {
            this.#next();
            descending = dir.text.toLowerCase() === "desc";
          }
          keys.push({ expr, descending });
        } while (this.#acceptOp(","));
        return { kind: "order", keys };
      }
      case "limit":
      case "take": {
        const n = this.#next();
        if (n.kind !== "number" || !/^\d+$/.test(n.text)) throw this.#failure(n);
        return { kind: "limit", count: Number.parseInt(n.text, 10) };
      }
      default:
        if (UNEVALUATED_OPERATORS.has(keyword)) {
          throw new KqlError("InvalidQueryLanguage", `The ARM emulator's Resource Graph does not evaluate the '${token.text}' operator.`, token);
        }
        throw this.#failure(token);
    }
  }

  #namedList(): NamedExpr[] {
    const out: NamedExpr[] = [this.#named()];
    while (this.#acceptOp(",")) out.push(this.#named());
    return out;
  }

  #named(): NamedExpr {
    const first = this.#peek();
    const second = this.#tokens[this.#pos + 1];
    if (first.kind === "ident" && second?.kind === "op" && second.text === "=") {
      this.#pos += 2;
      return { name: first.text, expr: this.#expr() };
    }
    const expr = this.#expr();
    return { name: this.#derivedName(expr), expr };
  }

  /** Kusto names an unnamed column after its path (`properties.a.b` -> `properties_a_b`), else Column1, Column2... */
  #derivedName(expr: Expr): string {
    const path = pathOf(expr);
    if (path !== undefined) return path.join("_");
    this.#generated += 1;
    return `Column${this.#generated}`;
  }

  #expr(): Expr {
    let left = this.#and();
    while (this.#acceptKeyword("or")) left = { kind: "binary", op: "or", left, right: this.#and() };
    return left;
  }

  #and(): Expr {
    let left = this.#comparison();
    while (this.#acceptKeyword("and")) left = { kind: "binary", op: "and", left, right: this.#comparison() };
    return left;
  }

  #comparison(): Expr {
    const left = this.#primary();
    const token = this.#peek();
    const text = token.text.toLowerCase();
    if ((token.kind === "op" && ["in~", "!in", "!in~"].includes(token.text)) || (token.kind === "ident" && text === "in")) {
      this.#next();
      this.#expectOp("(");
      const list: Expr[] = [];
      if (!this.#acceptOp(")")) {
        do list.push(this.#primary());
        while (this.#acceptOp(","));
        this.#expectOp(")");
      }
      return { kind: "in", op: (token.kind === "ident" ? "in" : token.text) as "in" | "in~" | "!in" | "!in~", left, list };
    }
    const isComparison =
      (token.kind === "op" && ["==", "!=", "=~", "!~", "<", "<=", ">", ">=", "!has", "!contains"].includes(token.text)) ||
      (token.kind === "ident" && ["has", "contains", "startswith"].includes(text));
    if (!isComparison) return left;
    this.#next();
    return { kind: "binary", op: token.kind === "ident" ? text : token.text, left, right: this.#primary() };
  }

  #primary(): Expr {
    const token = this.#next();
    let expr: Expr;
    if (token.kind === "string") expr = { kind: "literal", value: token.value };
    else if (token.kind === "number") expr = { kind: "literal", value: Number(token.text) };
    else if (token.kind === "op" && token.text === "-" && this.#peek().kind === "number") expr = { kind: "literal", value: -Number(this.#next().text) };
    else if (token.kind === "op" && token.text === "(") {
      expr = this.#expr();
      this.#expectOp(")");
    } else if (token.kind === "ident") {
      const lower = token.text.toLowerCase();
      if (lower === "true" || lower === "false") expr = { kind: "literal", value: lower === "true" };
      else if (this.#acceptOp("(")) {
        if (!SUPPORTED_FUNCTIONS.has(lower)) {
          throw new KqlError("InvalidQueryLanguage", `The ARM emulator's Resource Graph does not evaluate the function '${token.text}'.`, token);
        }
        const args: Expr[] = [];
        if (lower === "dynamic") {
          const inner = this.#next();
          if (inner.kind !== "ident" || inner.text !== "null") {
            throw new KqlError("InvalidQueryLanguage", "The ARM emulator's Resource Graph evaluates dynamic(null) only.", inner);
          }
          this.#expectOp(")");
          expr = { kind: "literal", value: null };
        } else {
          if (!this.#acceptOp(")")) {
            do args.push(this.#expr());
            while (this.#acceptOp(","));
            this.#expectOp(")");
          }
          if (args.length !== 1) throw new KqlError("ParserFailure", `${token.text}() takes one argument`, token);
          expr = { kind: "call", name: lower, args, at: token };
        }
      } else expr = { kind: "column", name: token.text, at: token };
    } else throw this.#failure(token);
    // Member access: a.b, a['b'], a[0]
    for (;;) {
      if (this.#acceptOp(".")) {
        const key = this.#next();
        if (key.kind !== "ident") throw this.#failure(key);
        expr = { kind: "member", target: expr, key: key.text };
      } else if (this.#acceptOp("[")) {
        const key = this.#next();
        if (key.kind === "string") expr = { kind: "member", target: expr, key: key.value };
        else if (key.kind === "number" && /^\d+$/.test(key.text)) expr = { kind: "member", target: expr, key: Number(key.text) };
        else throw this.#failure(key);
        this.#expectOp("]");
      } else return expr;
    }
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }
  #next(): Token {
    const token = this.#tokens[this.#pos]!;
    if (token.kind !== "eof") this.#pos += 1;
    return token;
  }
  #acceptOp(op: string): boolean {
    const token = this.#peek();
    if (token.kind === "op" && token.text === op) {
      this.#pos += 1;
      return true;
    }
    return false;
  }
  #acceptKeyword(word: string): boolean {
    const token = this.#peek();
    if (token.kind === "ident" && token.text.toLowerCase() === word) {
      this.#pos += 1;
      return true;
    }
    return false;
  }
  #expectOp(op: string): void {
    if (!this.#acceptOp(op)) throw this.#failure(this.#peek());
  }
  #failure(token: Token): KqlError {
    return new KqlError("ParserFailure", `unexpected '${token.text}'`, token);
  }
}

function isOperatorKeyword(word: string): boolean {
  const lower = word.toLowerCase();
  return ["where", "project", "extend", "mv-expand", "mvexpand", "order", "sort", "limit", "take"].includes(lower) || UNEVALUATED_OPERATORS.has(lower);
}

function pathOf(expr: Expr): string[] | undefined {
  if (expr.kind === "column") return [expr.name];
  if (expr.kind === "member" && typeof expr.key === "string") {
    const parent = pathOf(expr.target);
    return parent === undefined ? undefined : [...parent, expr.key];
  }
  return undefined;
}

/** Parses a query and resolves every column it names against the table's columns; throws KqlError. */
export function parseQuery(query: string, tableColumns: readonly string[]): Query {
  const parsed = new Parser(tokenize(query)).parseQuery();
  let columns = new Set(tableColumns);
  const resolve = (expr: Expr): void => {
    switch (expr.kind) {
      case "literal":
        return;
      case "column":
        if (!columns.has(expr.name)) {
          throw new KqlError("FailedToResolveScalarExpression", `Failed to resolve scalar expression named '${expr.name}'`, expr.at);
        }
        return;
      case "member":
        return resolve(expr.target);
      case "call":
        return expr.args.forEach(resolve);
      case "binary":
        resolve(expr.left);
        return resolve(expr.right);
      case "in":
        resolve(expr.left);
        return expr.list.forEach(resolve);
    }
  };
  for (const stage of parsed.stages) {
    switch (stage.kind) {
      case "where":
        resolve(stage.predicate);
        break;
      case "project":
        stage.columns.forEach((c) => resolve(c.expr));
        columns = new Set(stage.columns.map((c) => c.name));
        break;
      case "extend":
        stage.columns.forEach((c) => resolve(c.expr));
        columns = new Set([...columns, ...stage.columns.map((c) => c.name)]);
        break;
      case "mv-expand":
        resolve(stage.column.expr);
        columns = new Set([...columns, stage.column.name]);
        break;
      case "order":
        stage.keys.forEach((k) => resolve(k.expr));
        break;
      case "limit":
        break;
    }
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

export interface Evaluation {
  readonly rows: Row[];
  /** The output columns, in order. */
  readonly columns: readonly string[];
  /** The query limits its rows (limit/take): Resource Graph then returns no $skipToken. */
  readonly limited: boolean;
}

/** Runs a parsed query over the table's rows (not modified). */
export function evaluate(query: Query, table: readonly Row[], tableColumns: readonly string[]): Evaluation {
  let rows: Row[] = [...table];
  let columns: string[] = [...tableColumns];
  let limited = false;
  for (const stage of query.stages) {
    switch (stage.kind) {
      case "where":
        rows = rows.filter((row) => truthy(evalExpr(stage.predicate, row)));
        break;
      case "project":
        rows = rows.map((row) => Object.fromEntries(stage.columns.map((c) => [c.name, evalExpr(c.expr, row)])));
        columns = stage.columns.map((c) => c.name);
        break;
      case "extend":
        rows = rows.map((row) => {
          const next = { ...row };
          for (const c of stage.columns) next[c.name] = evalExpr(c.expr, next);
          return next;
        });
        columns = [...columns, ...stage.columns.map((c) => c.name).filter((n) => !columns.includes(n))];
        break;
      case "mv-expand": {
        const { name, expr } = stage.column;
        rows = rows.flatMap((row) => expandValues(evalExpr(expr, row)).slice(0, stage.limit).map((value) => ({ ...row, [name]: value })));
        if (!columns.includes(name)) columns = [...columns, name];
        break;
      }
      case "order":
        rows = [...rows].sort((a, b) => {
          for (const key of stage.keys) {
            const c = compareForSort(evalExpr(key.expr, a), evalExpr(key.expr, b), key.descending);
            if (c !== 0) return c;
          }
          return 0;
        });
        break;
      case "limit":
        rows = rows.slice(0, stage.count);
        limited = true;
        break;
    }
  }
  return { rows, columns, limited };
}

/** mv-expand: one value per array element, one single-property bag per property of a bag; a scalar stays one row. */
function expandValues(value: KqlValue): KqlValue[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object") return Object.entries(value).map(([k, v]) => ({ [k]: v }));
  // Kusto documents no output row for an empty array; a null (missing property) expands to no row either.
  return value === null ? [] : [value];
}

function evalExpr(expr: Expr, row: Row): KqlValue {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "column":
      return row[expr.name] ?? null;
    case "member": {
      const target = evalExpr(expr.target, row);
      if (target === null || typeof target !== "object") return null;
      if (Array.isArray(target)) return typeof expr.key === "number" ? (target[expr.key] ?? null) : null;
      if (typeof expr.key === "number") return null;
      return target[expr.key] ?? null;
    }
    case "call":
      return callFunction(expr.name, evalExpr(expr.args[0]!, row));
    case "binary":
      return binary(expr.op, expr.op === "and" || expr.op === "or" ? null : evalExpr(expr.left, row), expr, row);
    case "in": {
      const left = evalExpr(expr.left, row);
      if (left === null) return false;
      const insensitive = expr.op.endsWith("~");
      const needle = insensitive ? toKqlString(left).toLowerCase() : left;
      const found = expr.list.some((item) => {
        const value = evalExpr(item, row);
        if (insensitive) return value !== null && toKqlString(value).toLowerCase() === needle;
        return scalarEquals(left, value);
      });
      return expr.op.startsWith("!") ? !found : found;
    }
  }
}

function binary(op: string, left: KqlValue, expr: Extract<Expr, { kind: "binary" }>, row: Row): KqlValue {
  if (op === "and") return truthy(evalExpr(expr.left, row)) && truthy(evalExpr(expr.right, row));
  if (op === "or") return truthy(evalExpr(expr.left, row)) || truthy(evalExpr(expr.right, row));
  const right = evalExpr(expr.right, row);
  if (STRING_OPERATORS.has(op) && op !== "==" && op !== "!=") {
    if (left === null) return op.startsWith("!");
    const l = toKqlString(left).toLowerCase();
    const r = toKqlString(right).toLowerCase();
    switch (op) {
      case "=~":
        return l === r;
      case "!~":
        return l !== r;
      case "has":
        return hasTerm(l, r);
      case "!has":
        return !hasTerm(l, r);
      case "contains":
        return l.includes(r);
      case "!contains":
        return !l.includes(r);
      case "startswith":
        return l.startsWith(r);
    }
  }
  switch (op) {
    case "==":
      return left !== null && right !== null && scalarEquals(left, right);
    case "!=":
      return left !== null && right !== null && !scalarEquals(left, right);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      if (left === null || right === null || typeof left === "object" || typeof right === "object") return false;
      const c = left < right ? -1 : left > right ? 1 : 0;
      return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
    }
  }
  throw new Error(`unhandled operator ${op}`);
}

/** Kusto's `has`: the needle is a whole term (terms are runs of letters and digits); case-insensitive. */
function hasTerm(haystack: string, needle: string): boolean {
  if (needle === "") return true;
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, "u").test(haystack);
}

function scalarEquals(a: KqlValue, b: KqlValue): boolean {
  if (typeof a === "object" || typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function callFunction(name: string, value: KqlValue): KqlValue {
  switch (name) {
    case "tostring":
      return toKqlString(value);
    case "tolower":
      return toKqlString(value).toLowerCase();
    case "toupper":
      return toKqlString(value).toUpperCase();
    case "not":
      return !truthy(value);
    case "isnull":
      return value === null;
    case "isnotnull":
      return value !== null;
    case "isempty":
      return value === null || value === "";
    case "isnotempty":
      return !(value === null || value === "");
    case "strlen":
      return toKqlString(value).length;
  }
  throw new Error(`unhandled function ${name}`);
}

/** Kusto's tostring: null is the empty string, a bag or array its JSON. */
export function toKqlString(value: KqlValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function truthy(value: KqlValue): boolean {
  return value === true;
}

function compareForSort(a: KqlValue, b: KqlValue, descending: boolean): number {
  // Nulls last when descending, first when ascending (Kusto's defaults).
  if (a === null || b === null) {
    if (a === b) return 0;
    return a === null ? (descending ? 1 : -1) : descending ? -1 : 1;
  }
  const x = typeof a === "object" ? JSON.stringify(a) : a;
  const y = typeof b === "object" ? JSON.stringify(b) : b;
  const c = x < y ? -1 : x > y ? 1 : 0;
  return descending ? -c : c;
}
