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

/** The parts of an ARM JSON template the tests read; the rest stays `unknown`. */
export interface ArmTemplate {
  readonly $schema: string;
  readonly parameters?: Record<string, unknown>;
  readonly variables?: Record<string, unknown>;
  readonly resources: unknown;
  readonly outputs?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Where the vendored Microsoft Graph type files are, or undefined when this machine has none. */
export function msgraphTypesDir(): string | undefined {
  const candidates = [
    process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES,
    path.join(REPO_ROOT, "..", "shared", "vendor", "msgraph-bicep-types"),
    "/work/shared/vendor/msgraph-bicep-types",
  ];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(path.join(dir, "v1.0", "1.0.0", "index.json")));
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

/**
 * Compiles one entry point (a path relative to the repository root, e.g. "infra/main.bicep") and returns its ARM
 * JSON with every diagnostic. Throws when the compile fails (with the compiler's output).
 */
export function compileBicep(entry: string): CompiledTemplate {
  const key = cacheKey();
  const cacheFile = path.join(CACHE_DIR, key, `${entry.replace(/[\\/]/g, "__")}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, "utf8")) as CompiledTemplate;

  const workDir = path.join(CACHE_DIR, key, `src-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  try {
    cpSync(INFRA_DIR, path.join(workDir, "infra"), { recursive: true });
    pointGraphExtensionAtLocalPackage(workDir);
    // bicep build exits non-zero only on errors; warnings (compiler and linter) come on stderr with exit 0.
    const build = spawnSync(bicepCli(), ["build", path.join(workDir, entry), "--stdout"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const stdout = build.stdout;
    const stderr = build.stderr;
    if (build.status !== 0) {
      throw new Error(`bicep build ${entry} failed (exit ${build.status}):\n${stderr.replaceAll(workDir + path.sep, "")}`);
    }
    const compiled: CompiledTemplate = {
      template: JSON.parse(stdout) as ArmTemplate,
      diagnostics: parseDiagnostics(stderr, workDir),
    };
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(compiled));
    renameSync(tmp, cacheFile);
    return compiled;
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
      "The Microsoft Graph Bicep extension cannot be restored offline and its vendored type files were not found " +
        "(looked in $PORTCULLIS_MSGRAPH_BICEP_TYPES, ../shared/vendor/msgraph-bicep-types, /work/shared/vendor/msgraph-bicep-types).",
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
