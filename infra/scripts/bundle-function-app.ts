/**
 * Bundles the Function App for deployment with esbuild: src/index.ts and everything it imports, tree-shaken and
 * minified into ES modules with source maps, so the package needs no node_modules and cold start compiles one file.
 *
 * The host contract this keeps (Azure Functions Node.js worker, programming model v4):
 * - The worker imports the files package.json `main` names (ESM because the staged package.json says
 *   `"type": "module"`), so `main` is `dist/index.js`, the bundle's entry.
 * - `@azure/functions` is CommonJS and is bundled with the app; at run time it requires `@azure/functions-core`,
 *   a module the worker provides by intercepting `Module.prototype.require` (it is no npm package). That one name
 *   stays external, and the banner gives the ES module a real `require` (createRequire), so the library's
 *   `require("@azure/functions-core")` reaches the worker's interception exactly as it does unbundled.
 * - SDKs the adapters import lazily (`await import(...)`: the ARM clients, identity, Event Grid, telemetry) become
 *   separate chunks that load on first use, so registering the functions does not compile them.
 *
 * Source maps: kept for every file that holds Portcullis's own code (src/), so its stack frames map to the
 * TypeScript (run with NODE_OPTIONS=--enable-source-maps); chunks made only of SDK code ship without (their maps
 * were half the package and map only into minified vendor code).
 *
 * Fences: the bundle starts at src/index.ts, which never imports src/cli, dev/ or test/ (test/architecture checks
 * it); the packaging tests read the metafile this returns and fail if such code or a devDependency got in.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

/** Modules provided by the Functions worker at run time, never bundled. */
export const HOST_PROVIDED_MODULES: readonly string[] = ["@azure/functions-core"];

/**
 * Optional modules an SDK dependency tries to require inside try/catch and works without: left out rather than
 * bundled, since no production dependency installs them (here they come with dev tools). `debug` (under the
 * Azure SDKs' HTTP agents) colours its output with supports-color when it is present.
 */
export const OPTIONAL_MODULES_LEFT_OUT: readonly string[] = ["supports-color"];

/** The bundle's entry relative to the package root; the staged package.json `main` names it. */
export const BUNDLE_MAIN = "dist/index.js";

export interface BundleFunctionAppOptions {
  /** Folder holding package.json and src/. */
  readonly projectRoot: string;
  /** Package root to write dist/ into (created if missing; existing files under dist/ with the same names are replaced). */
  readonly outDir: string;
  /** Minify (default true). The benchmark and the tests use what is deployed. */
  readonly minify?: boolean;
}

export interface BundleResult {
  /** esbuild's metafile: every input and output with its size (the packaging tests read it). */
  readonly metafile: Metafile;
  /** Output files relative to outDir (forward slashes), with their sizes in bytes. */
  readonly outputs: readonly { readonly file: string; readonly bytes: number }[];
}

/**
 * zod's classic namespace (`import { z } from "zod"`) re-exports every locale's messages (about 370 kB, half of zod),
 * which no tree-shaker can drop from a namespace object. Portcullis uses zod's default English messages only, so
 * the locale index resolves to English alone; `z.locales` then lists only `en`.
 */
function zodEnglishOnly(projectRoot: string): Plugin {
  return {
    name: "zod-english-only",
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
        if (!args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)) return undefined;
        return { path: path.join(path.dirname(args.importer), "..", "locales", "index.js"), namespace: "zod-english-only" };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), "en.js"))};`,
        resolveDir: projectRoot,
        loader: "js",
      }));
    },
  };
}

/** Bundles src/index.ts into outDir/dist; throws with esbuild's messages when the build fails. */
export async function bundleFunctionApp(options: BundleFunctionAppOptions): Promise<BundleResult> {
  const { projectRoot, outDir } = options;
  const manifest = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")) as { engines?: { node?: string } };
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: { index: path.join(projectRoot, "src", "index.ts") },
    outdir: path.join(outDir, path.dirname(BUNDLE_MAIN)),
    bundle: true,
    platform: "node",
    target: nodeTarget(manifest.engines?.node),
    format: "esm",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    treeShaking: true,
    minify: options.minify ?? true,
    // Error classes and stack frames keep their names: logs and `error.name` checks read them.
    keepNames: true,
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "linked",
    metafile: true,
    external: [...HOST_PROVIDED_MODULES, ...OPTIONAL_MODULES_LEFT_OUT],
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    plugins: [zodEnglishOnly(projectRoot)],
    logLevel: "silent",
  });
  if (result.errors.length > 0) throw new Error(`esbuild failed: ${result.errors.map((e) => e.text).join("; ")}`);
  await dropVendorOnlySourceMaps(projectRoot, result.metafile);
  const outputs = Object.entries(result.metafile.outputs).map(([file, output]) => ({
    file: path.relative(outDir, path.resolve(projectRoot, file)).split(path.sep).join("/"),
    bytes: output.bytes,
  }));
  return { metafile: result.metafile, outputs };
}

/** Deletes the source map of every output without code from src/ (and its sourceMappingURL); updates the metafile. */
async function dropVendorOnlySourceMaps(projectRoot: string, metafile: Metafile): Promise<void> {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith(".js") || Object.keys(output.inputs).some((input) => input.startsWith("src/"))) continue;
    const mapFile = `${file}.map`;
    if (!(mapFile in metafile.outputs)) continue;
    const jsPath = path.resolve(projectRoot, file);
    const code = await readFile(jsPath, "utf8");
    const stripped = code.replace(/\n\/\/# sourceMappingURL=[^\n]*\n?$/, "\n");
    await writeFile(jsPath, stripped);
    await rm(path.resolve(projectRoot, mapFile));
    output.bytes = Buffer.byteLength(stripped);
    delete metafile.outputs[mapFile];
  }
}

/** esbuild's target from package.json engines (">=22.12.0 <23" -> node22.12.0). */
function nodeTarget(engines: string | undefined): string {
  const version = engines?.match(/(\d+\.\d+\.\d+)/)?.[1];
  if (version === undefined) throw new Error('package.json "engines.node" names no version to target');
  return `node${version}`;
}
