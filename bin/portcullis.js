#!/usr/bin/env node
// The `portcullis` command. It runs the CLI straight from source (src/cli/main.ts) under Node 22's type
// stripping, so a clone works right after `npm ci`, with no build step. Started by a Node without type
// stripping (e.g. a system Node 20), it runs itself again with the Node 22 that the `node` devDependency
// installs in node_modules, passing arguments, stdio, exit code and signals through.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

if (process.features.typescript) {
  await import("../src/cli/main.ts");
} else {
  const node22 = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(node22) || process.env.PORTCULLIS_CLI_REEXEC === "1") {
    process.stderr.write(`portcullis needs Node.js 22.18 or later (this is ${process.version}). Run \`npm ci\` in the Portcullis clone first.\n`);
    process.exit(2);
  }
  const child = spawn(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, PORTCULLIS_CLI_REEXEC: "1" },
  });
  // Ctrl-C reaches the child from the terminal itself; other signals are passed on.
  const relay = { SIGINT: () => {}, SIGTERM: () => child.kill("SIGTERM"), SIGHUP: () => child.kill("SIGHUP") };
  for (const [signal, handler] of Object.entries(relay)) process.on(signal, handler);
  child.on("exit", (code, signal) => {
    for (const [name, handler] of Object.entries(relay)) process.off(name, handler);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
