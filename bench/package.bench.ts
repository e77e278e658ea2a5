/**
 * Benchmark: the deployment package, bundled (what `npm run package` stages: the esbuild bundle) against unbundled
 * (the TypeScript compiler's output with the production node_modules the package used to carry), in the same run.
 *
 * - Size: every file of each staged package (unbundled: dist/ without the CLI, package.json, host.json, plus every
 *   production dependency `npm ls --omit=dev` lists, counted in this clone's node_modules: what
 *   `npm ci --omit=dev` would install). The unbundled package reaches them through a node_modules symlink, so
 *   nothing is copied.
 * - Cold import: a fresh `node` process per sample imports the package's `main` the way the Functions worker does
 *   (test/support/load-built-app.cjs's stand-in for @azure/functions-core) with the sample settings, and reports the
 *   time from before the import to every function registered; process start-up is left out (the worker is already
 *   running when it loads the app). Samples alternate between the two packages so load on the machine hits both.
 *
 * Targets (issue 14): bundled under 15 MB, median cold import under 300 ms, at least 2x faster than unbundled.
 * Run standalone: `node bench/package.bench.ts`; BENCH_PACKAGE_SAMPLES sets the samples per package (default 15).
 */
import { execFile, spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { stageFunctionApp } from "../infra/scripts/stage-function-app.ts";
import { printBenchResult, type BenchResult } from "./report.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIZE_TARGET_BYTES = 15_000_000;
const IMPORT_TARGET_MS = 300;
const SPEEDUP_TARGET = 2;

export interface PackageBenchFigures {
  readonly bundledBytes: number;
  readonly unbundledBytes: number;
  readonly bundledFiles: number;
  readonly unbundledFiles: number;
  readonly bundledImportMs: readonly number[];
  readonly unbundledImportMs: readonly number[];
}

/** Bytes and file count of everything under dir. */
async function treeSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
    files += 1;
  }
  return { bytes, files };
}

/** Bytes and files of the production dependencies `npm ls --omit=dev` lists (each folder without nested node_modules, which are listed themselves). */
async function productionDependencySize(): Promise<{ bytes: number; files: number }> {
  const listed = spawnSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" });
  const dependencyDirs = [...new Set(listed.stdout.split("\n").filter((line) => line.startsWith(path.join(ROOT, "node_modules"))))];
  if (dependencyDirs.length === 0) throw new Error(`npm ls --omit=dev listed no dependencies: ${listed.stderr}`);
  let bytes = 0;
  let files = 0;
  for (const dir of dependencyDirs) {
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || path.relative(dir, entry.parentPath).split(path.sep).includes("node_modules")) continue;
      bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** The unbundled package as `npm run package` staged it before the bundle: tsc output (no CLI), package.json, host.json. */
async function stageUnbundled(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const tsc = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.json"), "--outDir", path.join(outDir, "dist")], { encoding: "utf8" });
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  await rm(path.join(outDir, "dist", "cli"), { recursive: true, force: true });
  for (const file of ["package.json", "host.json"]) await cp(path.join(ROOT, file), path.join(outDir, file));
}

/** One cold import of packageDir's main in a fresh process: ms from before the import to every function registered. */
async function coldImportMs(packageDir: string, settings: Record<string, string>): Promise<number> {
  const main = (JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8")) as { main: string }).main;
  const probe = `
    const Module = require("node:module");
    let registered = 0;
    const core = { setProgrammingModel() {}, registerFunction() { registered += 1; return { dispose() {} }; }, registerHook() { return { dispose() {} }; } };
    const original = Module.prototype.require;
    Module.prototype.require = function (id) { return id === "@azure/functions-core" ? core : original.apply(this, arguments); };
    const started = performance.now();
    import(${JSON.stringify(pathToFileURL(path.join(packageDir, main)).href)}).then(() => {
      if (registered === 0) throw new Error("no function registered");
      process.stdout.write(String(performance.now() - started));
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", probe], { cwd: packageDir, env: { PATH: process.env["PATH"] ?? "", ...settings } });
  return Number(stdout);
}

export async function measurePackage(samples: number): Promise<PackageBenchFigures> {
  const work = await mkdtemp(path.join(tmpdir(), "portcullis-package-bench-"));
  try {
    const bundledDir = path.join(work, "bundled");
    const unbundledDir = path.join(work, "unbundled");
    await stageFunctionApp({ projectRoot: ROOT, outDir: bundledDir });
    await stageUnbundled(unbundledDir);
    const bundled = await treeSize(bundledDir);
    const unbundledOwn = await treeSize(unbundledDir);
    const dependencies = await productionDependencySize();
    const unbundled = { bytes: unbundledOwn.bytes + dependencies.bytes, files: unbundledOwn.files + dependencies.files };
    await symlink(path.join(ROOT, "node_modules"), path.join(unbundledDir, "node_modules"), "dir");
    const settings = (JSON.parse(await readFile(path.join(ROOT, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> }).Values;
    // One warm-up each: the first read of the files from disk is not what a cold start on a warm disk cache costs.
    await coldImportMs(bundledDir, settings);
    await coldImportMs(unbundledDir, settings);
    const bundledImportMs: number[] = [];
    const unbundledImportMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      bundledImportMs.push(await coldImportMs(bundledDir, settings));
      unbundledImportMs.push(await coldImportMs(unbundledDir, settings));
    }
    return { bundledBytes: bundled.bytes, unbundledBytes: unbundled.bytes, bundledFiles: bundled.files, unbundledFiles: unbundled.files, bundledImportMs, unbundledImportMs };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function resultOf(figures: PackageBenchFigures): BenchResult {
  const bundledMedian = median(figures.bundledImportMs);
  const unbundledMedian = median(figures.unbundledImportMs);
  const speedup = unbundledMedian / bundledMedian;
  const mb = (bytes: number) => bytes / 1_000_000;
  return {
    name: "package: deployment package size and cold import, bundled vs unbundled",
    rows: [
      ["bundled package", mb(figures.bundledBytes), `MB (${figures.bundledFiles} files)`],
      ["unbundled package (tsc + production node_modules)", mb(figures.unbundledBytes), `MB (${figures.unbundledFiles} files)`],
      ["size: unbundled / bundled", figures.unbundledBytes / figures.bundledBytes, "x"],
      ["bundled cold import, median", bundledMedian, `ms (${figures.bundledImportMs.length} runs, min ${Math.min(...figures.bundledImportMs).toFixed(0)}, max ${Math.max(...figures.bundledImportMs).toFixed(0)})`],
      ["unbundled cold import, median", unbundledMedian, `ms (${figures.unbundledImportMs.length} runs, min ${Math.min(...figures.unbundledImportMs).toFixed(0)}, max ${Math.max(...figures.unbundledImportMs).toFixed(0)})`],
      ["cold import: unbundled / bundled", speedup, "x"],
    ],
    targets: [
      { description: `bundled package under 15 MB (${mb(figures.bundledBytes).toFixed(1)} MB)`, met: figures.bundledBytes < SIZE_TARGET_BYTES },
      { description: `bundled cold import under ${IMPORT_TARGET_MS} ms median (${bundledMedian.toFixed(0)} ms)`, met: bundledMedian < IMPORT_TARGET_MS },
      { description: `bundled cold import at least ${SPEEDUP_TARGET}x faster than unbundled (${speedup.toFixed(2)}x)`, met: speedup >= SPEEDUP_TARGET },
    ],
  };
}

export async function run(): Promise<BenchResult> {
  const samples = Number(process.env["BENCH_PACKAGE_SAMPLES"] ?? 15);
  return resultOf(await measurePackage(samples));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  printBenchResult(await run());
}

