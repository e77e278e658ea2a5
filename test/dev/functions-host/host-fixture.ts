/** Starts the local host on a free port for one test, collecting its log lines, and closes it afterwards. */
import type { TestContext } from "node:test";
import { startFunctionsHost, type LocalFunctionsHost, type StartFunctionsHostOptions } from "../../../dev/functions-host/index.ts";

export interface HostUnderTest extends LocalFunctionsHost {
  /** Every line the host logged so far. */
  readonly lines: string[];
}

/** A started host that the test context closes when the test ends. */
export async function startTestHost(t: TestContext, options: StartFunctionsHostOptions): Promise<HostUnderTest> {
  const lines: string[] = [];
  const host = await startFunctionsHost({ log: (line) => lines.push(line), ...options });
  t.after(() => host.close());
  return { ...host, lines };
}

/** A promise with its resolve function, to wait for a handler to be reached. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects when `promise` takes longer than `ms`, so a missing invocation fails fast instead of hanging. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref()),
  ]);
}
