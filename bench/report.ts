/**
 * What every benchmark returns and how `npm run bench` prints it. Kept apart from bench/run.ts, which imports the
 * benchmarks: a benchmark importing run.ts back would deadlock on its top-level await.
 */
export interface BenchResult {
  readonly name: string;
  /** Rows of the printed table: metric, value, unit or note. */
  readonly rows: readonly (readonly [string, string | number, string?])[];
  /** Targets from the issues, each with whether this run met it. */
  readonly targets?: readonly { readonly description: string; readonly met: boolean }[];
}

export function printBenchResult(result: BenchResult): void {
  console.log(`\n## ${result.name}`);
  const width = Math.max(...result.rows.map(([metric]) => metric.length));
  for (const [metric, value, unit] of result.rows) {
    console.log(`  ${metric.padEnd(width)}  ${typeof value === "number" ? formatNumber(value) : value}${unit ? ` ${unit}` : ""}`);
  }
  for (const target of result.targets ?? []) console.log(`  [${target.met ? "met" : "MISSED"}] ${target.description}`);
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

