/**
 * `npm run bench [name…]`: runs every benchmark in bench/ (or the named ones) in this process, one after
 * another so they do not compete for the two cores, and prints each one's table. Each *.bench.ts exports
 * `run(): Promise<BenchResult>` and measures its own baseline in the same run, so figures are ratios that
 * hold across machines.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { printBenchResult, type BenchResult } from "./report.ts";

async function main(): Promise<void> {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const wanted = process.argv.slice(2);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
    .sort();
  if (files.length === 0) throw new Error(`no benchmark matches ${wanted.join(", ")}`);
  let missed = 0;
  for (const file of files) {
    const module = (await import(pathToFileURL(`${dir}${file}`).href)) as { run: () => Promise<BenchResult> };
    const result = await module.run();
    printBenchResult(result);
    missed += (result.targets ?? []).filter((t) => !t.met).length;
  }
  if (missed > 0) console.log(`\n${missed} target(s) missed`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main();
}
