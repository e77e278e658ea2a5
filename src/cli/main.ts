/**
 * Entry point of the `portcullis` command (bin/portcullis.js imports it under Node 22's type stripping; the build
 * also compiles it to dist/cli/main.js, which the Functions host never loads). Exits with the documented exit code
 * once stdout and stderr have been flushed, so piped output is never cut short.
 */
import { runCli } from "./program.ts";

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(exitCode);
