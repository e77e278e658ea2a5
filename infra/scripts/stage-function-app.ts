/**
 * Stages the Flex Consumption deployment package (`npm run package`, run by azd's prepackage hook): the built
 * bundle and nothing else. azd zips `.artifacts/functionapp` (azure.yaml `dist`) as it is, so dev-only code,
 * TypeScript sources, tests and devDependencies never reach Azure.
 */
import { spawnSync } from "node:child_process";
import { access, cp, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What the package holds besides production node_modules: the build output and what the host reads at start. */
export const BUNDLE_ENTRIES: readonly string[] = ["dist", "host.json", "package.json", "package-lock.json", ".funcignore"];

/**
 * Built code that is not part of the Function App: the operator CLI (src/cli) is compiled with the app but runs on
 * operators' machines, and it needs devDependencies (commander, yaml) that the package does not carry.
 */
export const BUNDLE_EXCLUDES: readonly string[] = [path.join("dist", "cli")];

/** Where the package is staged, relative to the project root; azure.yaml's `dist` names the same folder. */
export const STAGING_DIR = path.join(".artifacts", "functionapp");

export interface StageFunctionAppOptions {
  /** Folder holding package.json, host.json and the built dist/. */
  readonly projectRoot: string;
  /** Folder to (re)create with the package contents. */
  readonly outDir: string;
  /** Run `npm ci --omit=dev` in outDir; off in tests, which have no registry. */
  readonly installProductionDependencies: boolean;
}

/** Recreates outDir with the bundle entries and, optionally, production dependencies; throws if the build is missing. */
export async function stageFunctionApp(options: StageFunctionAppOptions): Promise<void> {
  const { projectRoot, outDir } = options;
  await assertBuilt(projectRoot);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const entry of BUNDLE_ENTRIES) {
    await cp(path.join(projectRoot, entry), path.join(outDir, entry), {
      recursive: true,
      filter: (source) => !BUNDLE_EXCLUDES.some((excluded) => isWithin(source, path.join(projectRoot, excluded))),
    });
  }
  if (options.installProductionDependencies) installProductionDependencies(outDir);
}

function isWithin(candidate: string, folder: string): boolean {
  const relative = path.relative(folder, candidate);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

async function assertBuilt(projectRoot: string): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as { main?: unknown };
  if (typeof manifest.main !== "string") throw new Error("package.json has no \"main\": the Functions host cannot find the app");
  const required = [manifest.main, ...BUNDLE_ENTRIES];
  for (const entry of required) {
    try {
      await access(path.join(projectRoot, entry));
    } catch {
      throw new Error(`cannot stage the function app: ${entry} is missing (run npm run build first)`);
    }
  }
}

function installProductionDependencies(outDir: string): void {
  const result = spawnSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: outDir,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (result.status !== 0) throw new Error(`npm ci --omit=dev failed in ${outDir} (exit ${result.status ?? "signal"})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const outDir = path.join(projectRoot, STAGING_DIR);
  await stageFunctionApp({ projectRoot, outDir, installProductionDependencies: true });
  console.log(`Function app package staged in ${path.relative(projectRoot, outDir)}`);
}
