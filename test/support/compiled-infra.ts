/**
 * The Bicep under infra/ compiled by the official Bicep CLI (pinned, restored from NuGet by scripts/ensure-bicep.sh),
 * so tests read the ARM JSON Azure would deploy instead of parsing Bicep text by hand.
 *
 * The Microsoft Graph extension that infra/app/api-registration.bicep uses is normally restored from a container
 * registry these machines cannot reach. Its type files (vendored under shared/vendor/msgraph-bicep-types, MIT) are
 * packaged with `bicep publish-extension` into a local extension, and a copy of infra/ with a bicepconfig.json that
 * points `microsoftGraphV1` at it is compiled. The committed bicepconfig.json keeps the registry reference users
 * restore online; only the extension entry is replaced in the copy.
 *
 * Compiled templates are cached under .artifacts/bicep/ keyed by a hash of infra/ and the compiler version, so the
 * test files (each its own process) compile each entry point once per change.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ArmTemplate } from "./arm-template.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const INFRA_DIR = path.join(REPO_ROOT, "infra");
const CACHE_DIR = path.join(REPO_ROOT, ".artifacts", "bicep");

/** One Bicep diagnostic as the CLI prints it: `file(line,col) : Level CODE: message`. */
export interface BicepDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: "Error" | "Warning" | "Info";
  readonly code: string;
  readonly message: string;
}

export interface CompiledTemplate {
  /** The ARM JSON template. */
  readonly template: ArmTemplate;
  /** Every diagnostic the compiler and its linter reported (an error fails the compile itself). */
  readonly diagnostics: readonly BicepDiagnostic[];
}

/** The ARM JSON template (languageVersion 2.0); test/support/arm-template.ts reads and evaluates it. */
export type { ArmTemplate } from "./arm-template.ts";

/**
 * Where the vendored Graph types are looked for: $PORTCULLIS_MSGRAPH_BICEP_TYPES, else next to the repository, else
 * this workplace's shared folder (/work/shared), so a clone made elsewhere (e.g. /tmp/fresh) still compiles.
 */
const MSGRAPH_TYPES_CANDIDATES = (): (string | undefined)[] =>
  process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES !== undefined
    ? [process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES]
    : [path.join(REPO_ROOT, "..", "shared", "vendor", "msgraph-bicep-types"), path.join(REPO_ROOT, "..", "..", "shared", "vendor", "msgraph-bicep-types"), "/work/shared/vendor/msgraph-bicep-types"];

/** Where the vendored Microsoft Graph type files are, or undefined when this machine has none. */
export function msgraphTypesDir(): string | undefined {
  return MSGRAPH_TYPES_CANDIDATES().find((dir): dir is string => dir !== undefined && existsSync(path.join(dir, "v1.0", "1.0.0", "index.json")));
}

let bicepPath: string | undefined;

/** The pinned Bicep CLI, installed on first use. Throws with the installer's reason when it cannot be had. */
export function bicepCli(): string {
  bicepPath ??= execFileSync(path.join(REPO_ROOT, "scripts", "ensure-bicep.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  return bicepPath;
}

/** The compiler's version string, e.g. "0.49.2". */
export function bicepVersion(): string {
  const out = execFileSync(bicepCli(), ["--version"], { encoding: "utf8" });
  return /\d+\.\d+\.\d+/.exec(out)?.[0] ?? out.trim();
}

/** The Bicep files `npm test` compiles on their own: main.bicep (azd) and the files docs/deploy.md deploys alone. */
export const BICEP_ENTRY_POINTS: readonly string[] = ["infra/main.bicep", "infra/subscription-wiring.bicep"];

/**
 * Compiles one entry point (a path relative to the repository root, e.g. "infra/main.bicep") and returns its ARM
 * JSON with every diagnostic. Throws when the compile fails (with the compiler's output).
 */
export function compileBicep(entry: string): CompiledTemplate {
  return cached(`${entry.replace(/[\\/]/g, "__")}.json`, () =>
    inPreparedCopy((workDir) => {
      // bicep build exits non-zero only on errors; warnings (compiler and linter) come on stderr with exit 0.
      const build = runBicep(["build", path.join(workDir, entry), "--stdout"], workDir, `bicep build ${entry}`);
      return { template: JSON.parse(build.stdout) as ArmTemplate, diagnostics: parseDiagnostics(build.stderr, workDir) };
    }),
  );
}

/** Lints every .bicep file under infra/ (modules included, as `bicep lint --pattern` does) and returns the diagnostics. */
export function lintBicep(): readonly BicepDiagnostic[] {
  return cached("lint.json", () =>
    inPreparedCopy((workDir) => {
      const lint = spawnSync(bicepCli(), ["lint", "--pattern", "infra/**/*.bicep"], { cwd: workDir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      // bicep lint exits 1 when it reports an error-level diagnostic; both are read from its output.
      if (lint.status !== 0 && lint.status !== 1) throw new Error(`bicep lint failed (exit ${lint.status}):\n${lint.stderr}`);
      const all = parseDiagnostics(`${lint.stdout}\n${lint.stderr}`, workDir);
      return all.filter((d, i) => all.findIndex((e) => JSON.stringify(e) === JSON.stringify(d)) === i);
    }),
  );
}

/**
 * Builds a .bicepparam file written into a copy of infra/ next to `extraFiles` (paths relative to infra/), so that
 * its parameter expressions are evaluated by the real compiler (for example calls of functions exported by
 * infra/shared.bicep). Returns the parameter values; cached by the probe's content and the key of infra/.
 */
export function buildBicepParams(extraFiles: Readonly<Record<string, string>>, paramsFile: string): Record<string, unknown> {
  return buildBicepParamsWithDiagnostics(extraFiles, paramsFile).parameters;
}

/**
 * As buildBicepParams, with every diagnostic the compiler and its linter report on the parameters file and the
 * template it uses (`bicep build-params` compiles both).
 */
export function buildBicepParamsWithDiagnostics(
  extraFiles: Readonly<Record<string, string>>,
  paramsFile: string,
): { parameters: Record<string, unknown>; diagnostics: readonly BicepDiagnostic[] } {
  const probeKey = createHash("sha256").update(JSON.stringify([extraFiles, paramsFile])).digest("hex").slice(0, 16);
  return cached(`params-${probeKey}.v2.json`, () => inPreparedCopy((workDir) => {
    for (const [file, text] of Object.entries(extraFiles)) writeFileSync(path.join(workDir, "infra", file), text);
    const build = runBicep(["build-params", path.join(workDir, "infra", paramsFile), "--stdout"], workDir, `bicep build-params ${paramsFile}`);
    const output = JSON.parse(build.stdout) as { parametersJson: string };
    const parameters = (JSON.parse(output.parametersJson) as { parameters: Record<string, { value: unknown }> }).parameters;
    return {
      parameters: Object.fromEntries(Object.entries(parameters).map(([name, p]) => [name, p.value])),
      diagnostics: parseDiagnostics(build.stderr, workDir),
    };
  }, "params"));
}

function runBicep(args: string[], workDir: string, what: string): { stdout: string; stderr: string } {
  const run = spawnSync(bicepCli(), args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${what} failed (exit ${run.status}):\n${run.stderr.replaceAll(workDir + path.sep, "")}`);
  return { stdout: run.stdout, stderr: run.stderr };
}

/** A result cached on disk under the content key of infra/ and the compiler (each test file is its own process). */
function cached<T>(name: string, produce: () => T): T {
  const cacheFile = path.join(CACHE_DIR, cacheKey(), name);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, "utf8")) as T;
  const value = produce();
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, cacheFile);
  return value;
}

/** Runs `work` in a fresh copy of infra/ whose bicepconfig.json points the Graph extension at the local package. */
function inPreparedCopy<T>(work: (workDir: string) => T, label = "src"): T {
  const workDir = path.join(CACHE_DIR, "work", `${label}-${process.pid}-${Date.now()}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  try {
    cpSync(INFRA_DIR, path.join(workDir, "infra"), { recursive: true });
    pointGraphExtensionAtLocalPackage(workDir);
    return work(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const DIAGNOSTIC = /^(.*)\((\d+),(\d+)\) : (Error|Warning|Info) ([A-Za-z0-9-]+): (.*)$/;

function parseDiagnostics(output: string, workDir: string): BicepDiagnostic[] {
  const diagnostics: BicepDiagnostic[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = DIAGNOSTIC.exec(line.trim());
    if (!m) continue;
    diagnostics.push({
      file: path.relative(workDir, m[1]!).split(path.sep).join("/"),
      line: Number(m[2]),
      column: Number(m[3]),
      level: m[4] as BicepDiagnostic["level"],
      code: m[5]!,
      message: m[6]!,
    });
  }
  return diagnostics;
}

/** Replaces the Graph extension's registry reference in the copy's bicepconfig.json with a local package. */
function pointGraphExtensionAtLocalPackage(workDir: string): void {
  const configFile = path.join(workDir, "infra", "bicepconfig.json");
  const config = parseJsonWithComments(readFileSync(configFile, "utf8")) as { extensions?: Record<string, string> };
  if (config.extensions?.microsoftGraphV1 === undefined) return;
  const types = msgraphTypesDir();
  if (types === undefined) {
    throw new Error(
      "infra/app/api-registration.bicep uses the Microsoft Graph Bicep extension, which cannot be restored from its " +
        "registry offline, and its vendored type files were not found: no v1.0/1.0.0/index.json under " +
        `${MSGRAPH_TYPES_CANDIDATES().filter((c) => c !== undefined).join(", ")}. Put the msgraph-bicep-types folder ` +
        "(generated/microsoftgraph/microsoft.graph of github.com/microsoftgraph/msgraph-bicep-types, MIT) at " +
        "../shared/vendor/msgraph-bicep-types next to the repository, or point PORTCULLIS_MSGRAPH_BICEP_TYPES at it.",
    );
  }
  const packageFile = path.join(CACHE_DIR, "msgraph-v1.0-1.0.0.tgz");
  if (!existsSync(packageFile)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${packageFile}.${process.pid}.tmp.tgz`;
    execFileSync(bicepCli(), ["publish-extension", path.join(types, "v1.0", "1.0.0", "index.json"), "--target", tmp, "--force"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    renameSync(tmp, packageFile);
  }
  config.extensions.microsoftGraphV1 = path.relative(path.dirname(configFile), packageFile).split(path.sep).join("/");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
}

/** bicepconfig.json allows // and block comments. */
function parseJsonWithComments(text: string): unknown {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
    } else out += c;
  }
  return JSON.parse(out);
}

/** Hash of every file under infra/ and the pinned compiler version: a new key whenever either changes. */
function cacheKey(): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(path.join(REPO_ROOT, "scripts", "bicep-cli", "restore.csproj")));
  hash.update(msgraphTypesDir() ?? "no-graph-types");
  for (const file of listFiles(INFRA_DIR).sort()) {
    hash.update(path.relative(INFRA_DIR, file));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex").slice(0, 16);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}
