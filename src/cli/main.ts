/**
 * Entry point of the `portcullis` command (bin/portcullis.js imports it under Node 22's type stripping; the build
 * also compiles it to dist/cli/main.js, which the Functions host never loads). Exits with the documented exit code
 * once stdout and stderr have been flushed, so piped output is never cut short.
 */
import { runCli } from "./program.ts";

/**
 * A reader that stops early (`| head`) closes the pipe; writing on is pointless, not an error. End quietly with
 * success, as Unix tools do, instead of crashing on EPIPE.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

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
