/**
 * What reaches Azure: azd deploys the staged bundle (dist/, host.json, package.json, production node_modules) and
 * .funcignore keeps sources, tests, dev tooling, infrastructure and local settings out of any package.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { BUNDLE_ENTRIES, STAGING_DIR, stageFunctionApp } from "../../infra/scripts/stage-function-app.ts";
import { REPO_ROOT } from "../support/compiled-infra.ts";

const funcignore = readFileSync(path.join(REPO_ROOT, ".funcignore"), "utf8");

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

  it("keeps the built bundle and its production dependencies (the package carries them: no remote build)", () => {
    for (const kept of ["dist/index.js", "dist/functions/health.js", "host.json", "package.json", "node_modules/@azure/functions/package.json", "node_modules/zod/index.js"]) {
      assert.ok(!isExcluded(funcignore, kept), `${kept} is deployed`);
    }
  });
});

describe("npm run package (staging the deployment package)", () => {
  const temporaryDirs: string[] = [];
  after(async () => {
    await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function fixtureProject(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), "portcullis-package-"));
    temporaryDirs.push(root);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content);
    }
    return root;
  }

  const builtProject = {
    "package.json": JSON.stringify({ name: "fixture", type: "module", main: "dist/index.js" }),
    "package-lock.json": "{}",
    "host.json": JSON.stringify({ version: "2.0" }),
    ".funcignore": funcignore,
    "dist/index.js": "export {};",
    "dist/functions/health.js": "export {};",
    "dist/cli/main.js": "export {};",
    "src/index.ts": "export {};",
    "test/x.test.ts": "",
    "dev/start.ts": "",
    "bench/run.ts": "",
    "infra/main.bicep": "",
    "docs/deploy.md": "",
    "local.settings.json": "{}",
    "node_modules/typescript/package.json": "{}",
  };

  it("stages the build output and what the host reads, and nothing else (not the operator CLI)", async () => {
    const root = await fixtureProject(builtProject);
    const outDir = path.join(root, STAGING_DIR);
    await stageFunctionApp({ projectRoot: root, outDir, installProductionDependencies: false });
    assert.deepEqual(await listTree(outDir), [
      ".funcignore",
      "dist/functions/health.js",
      "dist/index.js",
      "host.json",
      "package-lock.json",
      "package.json",
    ]);
    for (const file of await listTree(outDir)) {
      if (file !== ".funcignore") assert.ok(!isExcluded(funcignore, file), `azd keeps staged ${file}`);
    }
  });

  it("replaces a previous staging instead of mixing old files in", async () => {
    const root = await fixtureProject(builtProject);
    const outDir = path.join(root, STAGING_DIR);
    await mkdir(path.join(outDir, "dist"), { recursive: true });
    await writeFile(path.join(outDir, "dist", "removed-function.js"), "");
    await stageFunctionApp({ projectRoot: root, outDir, installProductionDependencies: false });
    assert.ok(!(await listTree(outDir)).includes("dist/removed-function.js"));
  });

  it("refuses to stage an unbuilt project, naming what is missing", async () => {
    const { ["dist/index.js"]: _built, ...unbuilt } = builtProject;
    const root = await fixtureProject(unbuilt);
    await assert.rejects(
      stageFunctionApp({ projectRoot: root, outDir: path.join(root, STAGING_DIR), installProductionDependencies: false }),
      /dist\/index\.js is missing/,
    );
  });

  it("stages every entry the real project's host needs, starting with package.json main", async () => {
    const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { main: string; scripts: Record<string, string> };
    assert.ok(manifest.main.startsWith("dist/"), "package.json main points into the build output");
    assert.ok(BUNDLE_ENTRIES.includes("dist") && BUNDLE_ENTRIES.includes("host.json"));
    assert.equal(manifest.scripts["package"], "npm run build && node infra/scripts/stage-function-app.ts");
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

  it("runs postdeploy hooks that exist", () => {
    for (const platform of ["posix", "windows"]) {
      const run = azureYaml.hooks["postdeploy"]?.[platform]?.run ?? "";
      assert.ok(readFileSync(path.join(REPO_ROOT, run), "utf8").includes("PORTCULLIS_EVENT_SUBSCRIPTIONS_ENABLED"), `${platform} hook ${run}`);
    }
  });
});
