/**
 * Stages the Flex Consumption deployment package (`npm run package`, run by azd's prepackage hook): the esbuild
 * bundle of the app (infra/scripts/bundle-function-app.ts), host.json and a package.json written for the host, and
 * nothing else. azd zips `.artifacts/functionapp` (azure.yaml `dist`) as it is, so TypeScript sources, tests, dev
 * tooling, the operator CLI and every node_modules folder stay out: the bundle carries the code it runs.
 */
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BUNDLE_MAIN, bundleFunctionApp, type BundleResult } from "./bundle-function-app.ts";

/** Files copied from the project root as they are: what the host reads at start, and the deployment's ignore file. */
export const COPIED_ENTRIES: readonly string[] = ["host.json", ".funcignore"];

/** Where the package is staged, relative to the project root; azure.yaml's `dist` names the same folder. */
export const STAGING_DIR = path.join(".artifacts", "functionapp");

export interface StageFunctionAppOptions {
  /** Folder holding package.json, host.json and src/. */
  readonly projectRoot: string;
  /** Folder to (re)create with the package contents. */
  readonly outDir: string;
}

interface ProjectManifest {
  readonly name?: string;
  readonly version?: string;
  readonly description?: string;
  readonly license?: string;
  readonly engines?: Readonly<Record<string, string>>;
}

/**
 * The staged package.json: what the Functions worker reads (`main`, and `type` to import it as an ES module) and
 * what identifies the build; no dependencies, since the bundle has none left to install.
 */
export function packageManifest(project: ProjectManifest): Record<string, unknown> {
  return {
    name: project.name,
    version: project.version,
    description: project.description,
    license: project.license,
    private: true,
    type: "module",
    main: BUNDLE_MAIN,
    engines: project.engines,
  };
}

/** Recreates outDir with the bundle, host.json and the host's package.json; returns the bundle's metafile and sizes. */
export async function stageFunctionApp(options: StageFunctionAppOptions): Promise<BundleResult> {
  const { projectRoot, outDir } = options;
  const project = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as ProjectManifest;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const bundle = await bundleFunctionApp({ projectRoot, outDir });
  for (const entry of COPIED_ENTRIES) await cp(path.join(projectRoot, entry), path.join(outDir, entry));
  await writeFile(path.join(outDir, "package.json"), `${JSON.stringify(packageManifest(project), null, 2)}\n`);
  return bundle;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const outDir = path.join(projectRoot, STAGING_DIR);
  const bundle = await stageFunctionApp({ projectRoot, outDir });
  const megabytes = bundle.outputs.reduce((sum, output) => sum + output.bytes, 0) / 1_000_000;
  console.log(`Function app package staged in ${path.relative(projectRoot, outDir)} (${megabytes.toFixed(1)} MB, ${bundle.outputs.length} files)`);
}
