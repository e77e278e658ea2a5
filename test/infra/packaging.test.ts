/**
 * What reaches Azure: azd deploys the staged package (the esbuild bundle of src/index.ts with its chunks and source
 * maps, host.json, a package.json for the host; no node_modules), and .funcignore keeps sources, tests, dev tooling,
 * infrastructure and local settings out of any package.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { BUNDLE_MAIN, HOST_PROVIDED_MODULES, OPTIONAL_MODULES_LEFT_OUT, type BundleResult } from "../../infra/scripts/bundle-function-app.ts";
import { STAGING_DIR, stageFunctionApp } from "../../infra/scripts/stage-function-app.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import { REPO_ROOT } from "../support/compiled-infra.ts";

const funcignore = readFileSync(path.join(REPO_ROOT, ".funcignore"), "utf8");

/** The bound on the deployment package (issue 14: "under 15 MB"). */
const PACKAGE_SIZE_LIMIT_BYTES = 15_000_000;
const sampleSettings = (JSON.parse(readFileSync(path.join(REPO_ROOT, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> }).Values;

/** Whether a gitignore-style ignore file excludes a path (relative, forward slashes); enough of gitignore for .funcignore. */
function isExcluded(ignoreFile: string, relativePath: string): boolean {
  const rules = ignoreFile
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const directoryOnly = line.endsWith("/");
      const pattern = line.replace(/\/$/, "").replace(/^\//, "");
      const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
      return { anchored: pattern.includes("/"), directoryOnly, regex: new RegExp(`^${source}$`) };
    });
  const segments = relativePath.split("/");
  return segments.some((segment, index) => {
    const isDirectory = index < segments.length - 1;
    const prefix = segments.slice(0, index + 1).join("/");
    return rules.some((rule) => (!rule.directoryOnly || isDirectory) && rule.regex.test(rule.anchored ? prefix : segment));
  });
}

async function listTree(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listTree(path.join(dir, e.name), base) : Promise.resolve([path.relative(base, path.join(dir, e.name))]))),
  );
  return nested.flat().map((p) => p.split(path.sep).join("/")).sort();
}

describe(".funcignore", () => {
  it("excludes dev/, test/, bench/, TypeScript sources, infra/, docs/ and local settings", () => {
    for (const excluded of [
      "dev/start.ts",
      "dev/emulator/server.js",
      "test/infra/packaging.test.ts",
      "bench/run.ts",
      "src/index.ts",
      "src/domain/model.ts",
      "infra/main.bicep",
      "infra/scripts/stage-function-app.ts",
      "docs/deploy.md",
      "local.settings.json",
      "local.settings.sample.json",
      "tsconfig.json",
      "tsconfig.all.json",
      ".artifacts/functionapp/host.json",
    ]) {
      assert.ok(isExcluded(funcignore, excluded), `${excluded} is excluded`);
    }
  });

  it("keeps the bundle, its chunks and source maps, host.json and package.json", () => {
    for (const kept of ["dist/index.js", "dist/index.js.map", "dist/chunks/esm-ABC123.js", "dist/chunks/esm-ABC123.js.map", "host.json", "package.json"]) {
      assert.ok(!isExcluded(funcignore, kept), `${kept} is deployed`);
    }
  });
});

describe("npm run package (staging the bundled deployment package)", () => {
  let outDir: string;
  let bundle: BundleResult;
  before(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), "portcullis-package-"));
    bundle = await stageFunctionApp({ projectRoot: REPO_ROOT, outDir });
  });
  after(async () => {
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });

  it("stages the bundle with its source maps, host.json and the host's package.json, and no node_modules", async () => {
    const files = await listTree(outDir);
    const outside = files.filter((file) => !file.startsWith("dist/"));
    assert.deepEqual(outside, [".funcignore", "host.json", "package.json"]);
    assert.ok(files.includes("dist/index.js") && files.includes("dist/index.js.map"), "entry and its source map");
    const withOwnCode = Object.entries(bundle.metafile.outputs)
      .filter(([file, output]) => file.endsWith(".js") && Object.keys(output.inputs).some((input) => input.startsWith("src/")))
      .map(([file]) => path.relative(outDir, path.resolve(REPO_ROOT, file)).split(path.sep).join("/"));
    assert.ok(withOwnCode.length >= 2, "the entry and the lazily loaded adapters");
    for (const file of withOwnCode) {
      assert.ok(files.includes(`${file}.map`), `${file} has a source map`);
      const map = JSON.parse(await readFile(path.join(outDir, `${file}.map`), "utf8")) as { sources: string[] };
      assert.ok(map.sources.some((source) => /(^|\/)src\/.*\.ts$/.test(source)), `${file}.map maps to the TypeScript sources`);
    }
    for (const file of files.filter((f) => f.endsWith(".map"))) assert.ok(files.includes(file.replace(/\.map$/, "")), `${file} belongs to a staged file`);
    assert.ok(!files.some((file) => file.includes("node_modules/")), "nothing to install: the bundle carries its code");
    for (const file of files) {
      if (file !== ".funcignore") assert.ok(!isExcluded(funcignore, file), `azd keeps staged ${file}`);
    }
  });

  it("writes a package.json whose main is the bundle, loaded as an ES module, with no dependencies to install", async () => {
    const staged = JSON.parse(await readFile(path.join(outDir, "package.json"), "utf8")) as Record<string, unknown>;
    const project = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string; engines: unknown };
    assert.equal(staged["main"], BUNDLE_MAIN);
    assert.equal(staged["type"], "module");
    assert.equal(staged["version"], project.version);
    assert.deepEqual(staged["engines"], project.engines);
    assert.equal(staged["dependencies"], undefined);
    assert.equal(staged["devDependencies"], undefined);
  });

  /** Loads the staged package the way the Functions worker does (test/support/load-built-app.cjs), from its own folder. */
  function loadStagedApp(env: Record<string, string>) {
    return spawnSync(process.execPath, [path.join(REPO_ROOT, "test", "support", "load-built-app.cjs"), path.join(outDir, BUNDLE_MAIN)], {
      cwd: outDir,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      encoding: "utf8",
    });
  }

  it("starts on plain node from the bundle alone and registers every function in the table with its trigger", () => {
    const result = loadStagedApp(sampleSettings);
    assert.equal(result.status, 0, result.stderr);
    const output = JSON.parse(result.stdout) as { exported: string[]; registrations: { name: string; bindings: Record<string, { type: string }> }[] };
    const expected = functionDefinitions.map((d) => d.name).sort();
    assert.deepEqual(output.registrations.map((r) => r.name).sort(), expected);
    assert.deepEqual([...output.exported].sort(), expected);
    const triggerType = { http: "httpTrigger", eventGrid: "eventGridTrigger", timer: "timerTrigger" } as const;
    for (const definition of functionDefinitions) {
      const registration = output.registrations.find((r) => r.name === definition.name)!;
      assert.ok(Object.values(registration.bindings).some((b) => b.type === triggerType[definition.kind]), definition.name);
    }
  });

  it("refuses to start from the bundle with bad settings, naming each one (zod's messages survive bundling)", () => {
    const result = loadStagedApp({ PORTCULLIS_MODE: "sometimes" });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /PORTCULLIS_MODE: Invalid option: expected one of "enforce"\|"dry-run"/);
    assert.match(result.stderr, /PORTCULLIS_AUTH_ISSUER/);
  });

  it("stays under 15 MB in all (it was 196 MB with production node_modules)", () => {
    const bytes = bundle.outputs.reduce((sum, output) => sum + output.bytes, 0);
    assert.ok(bytes < PACKAGE_SIZE_LIMIT_BYTES, `bundle is ${(bytes / 1e6).toFixed(1)} MB`);
  });

  it("holds no operator CLI, dev, test or bench code and no package that only devDependencies bring", async () => {
    const listed = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: REPO_ROOT, encoding: "utf8" });
    const production = new Set(listed.stdout.split("\n").map((line) => line.match(/node_modules\/((?:@[^/]+\/)?[^/]+)$/)?.[1]).filter((name) => name !== undefined));
    assert.ok(production.has("@azure/functions") && production.has("zod"), "npm ls lists the production dependencies");
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.some((input) => input === "src/index.ts"), "the entry is src/index.ts");
    for (const input of inputs) {
      assert.ok(!/^(dev|test|bench|src\/cli)\//.test(input), `${input} is not app code`);
      const dependency = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
      if (dependency !== undefined) assert.ok(production.has(dependency), `${input} comes from ${dependency}, which no production dependency needs`);
    }
    for (const dependency of ["commander", "typescript", "azurite", "fast-check", "playwright-core", "selfsigned", "esbuild"]) {
      assert.ok(!inputs.some((input) => input.includes(`node_modules/${dependency}/`)), `${dependency} is not bundled`);
    }
  });

  it("keeps OpenTelemetry and the Azure Monitor distro out of the entry: they load only when telemetry is configured", () => {
    const [, entry] = Object.entries(bundle.metafile.outputs).find(([, output]) => output.entryPoint === "src/index.ts")!;
    const telemetryInputs = Object.keys(entry.inputs).filter((input) => /node_modules\/(@opentelemetry|@azure\/monitor-opentelemetry)|src\/adapters\/telemetry\//.test(input));
    assert.deepEqual(telemetryInputs, []);
    assert.ok(Object.keys(bundle.metafile.inputs).some((input) => input.includes("node_modules/@azure/monitor-opentelemetry/")), "the distro is in the package, in a lazy chunk");
  });

  it("keeps only the worker's own @azure/functions-core (and optional modules the SDKs do without) external; every chunk loads under plain node", async () => {
    const imported = Object.values(bundle.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
    for (const specifier of new Set(imported)) {
      assert.ok(specifier.startsWith("node:") || builtinModules.includes(specifier) || HOST_PROVIDED_MODULES.includes(specifier) || OPTIONAL_MODULES_LEFT_OUT.includes(specifier), `external import ${specifier}`);
    }
    const chunks = (await listTree(outDir)).filter((file) => file.startsWith("dist/chunks/") && file.endsWith(".js"));
    assert.ok(chunks.length > 0, "lazily loaded SDKs are split into chunks");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", chunks.map((c) => `await import(${JSON.stringify(pathToFileURL(path.join(outDir, c)).href)});`).join("\n")], {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] ?? "" },
    });
    assert.equal(result.status, 0, result.stderr);
  });
});

describe("azure.yaml", () => {
  const azureYaml = parse(readFileSync(path.join(REPO_ROOT, "azure.yaml"), "utf8")) as {
    infra: { path: string; module: string };
    services: Record<string, { project: string; language: string; host: string; dist: string; remoteBuild: boolean; hooks: Record<string, Record<string, { run: string }>> }>;
    hooks: Record<string, Record<string, { run: string }>>;
  };

  it("deploys the staged package of one TypeScript function app, built locally", () => {
    const api = azureYaml.services["api"];
    assert.ok(api, "service api");
    assert.equal(api.host, "function");
    assert.equal(api.language, "ts");
    assert.equal(api.project, ".");
    assert.equal(api.dist, STAGING_DIR.split(path.sep).join("/"));
    assert.equal(api.remoteBuild, false);
    assert.equal(api.hooks["prepackage"]?.["posix"]?.run, "npm run package");
    assert.equal(api.hooks["prepackage"]?.["windows"]?.run, "npm run package");
    assert.deepEqual(azureYaml.infra, { provider: "bicep", path: "infra", module: "main" });
  });

  it("stages through npm run package: type-check, then bundle (no tsc output or npm install in the package)", () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(manifest.scripts["package"], "npm run typecheck && node infra/scripts/stage-function-app.ts");
  });

  it("runs postdeploy hooks that exist", () => {
    for (const platform of ["posix", "windows"]) {
      const run = azureYaml.hooks["postdeploy"]?.[platform]?.run ?? "";
      assert.ok(readFileSync(path.join(REPO_ROOT, run), "utf8").includes("PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED"), `${platform} hook ${run}`);
    }
  });
});
