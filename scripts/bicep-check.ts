/**
 * `npm run bicep`: compiles every Bicep entry point and lints every file under infra/ with the pinned official Bicep
 * CLI (installed on first use by scripts/ensure-bicep.sh), prints what the compiler and linter report, and exits 1 on
 * any error or warning. `npm test` runs it before the tests, which then read the compiled templates from the cache
 * it fills (.artifacts/bicep, keyed by the content of infra/ and the compiler version).
 */
import { BICEP_ENTRY_POINTS, bicepCli, bicepVersion, compileBicep, lintBicep, type BicepDiagnostic } from "../test/support/compiled-infra.ts";

const started = performance.now();
const seconds = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;

let diagnostics: BicepDiagnostic[] = [];
try {
  bicepCli();
  console.log(`bicep: Bicep CLI ${bicepVersion()}`);
  for (const entry of BICEP_ENTRY_POINTS) {
    const t = performance.now();
    const compiled = compileBicep(entry);
    diagnostics.push(...compiled.diagnostics);
    console.log(`bicep: built ${entry} (${seconds(t)})`);
  }
  const t = performance.now();
  diagnostics.push(...lintBicep());
  console.log(`bicep: linted infra/**/*.bicep (${seconds(t)})`);
} catch (error) {
  console.error(`bicep: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

diagnostics = diagnostics.filter((d, i) => diagnostics.findIndex((e) => JSON.stringify(e) === JSON.stringify(d)) === i);
for (const d of diagnostics) console.error(`${d.file}(${d.line},${d.column}) : ${d.level} ${d.code}: ${d.message}`);
if (diagnostics.length > 0) {
  console.error(`bicep: ${diagnostics.length} finding(s); errors and warnings both fail the build (${seconds(started)})`);
  process.exit(1);
}
console.log(`bicep: no error, no warning (${seconds(started)})`);
