import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Module specifiers a file imports; `typeOnly` drops `import type` statements (erased at build, no runtime code). */
function importsOf(path: string, options: { typeOnly?: "skip" } = {}): string[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/(?:import|export)([^'"]*?)from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)]
    .filter((m) => !(options.typeOnly === "skip" && /^\s*type\b/.test(m[1] ?? "")))
    .map((m) => (m[2] ?? m[3])!);
}

const layerOf = (path: string) => relative(join(root, "src"), path).split("/")[0]!;

test("nothing under src/ imports dev/ or test/ code (they never ship)", () => {
  for (const file of sourceFiles(join(root, "src"))) {
    for (const spec of importsOf(file)) {
      assert.ok(!/(^|\/)(dev|test|bench)\//.test(spec), `${relative(root, file)} imports ${spec}`);
    }
  }
});

// Domain code is pure: besides itself it may use zod and node:crypto (hashing for stable IDs), nothing with I/O.
test("domain code imports no SDK and no other layer; only adapters import @azure/* SDKs", () => {
  for (const file of sourceFiles(join(root, "src"))) {
    const layer = layerOf(file);
    // The composition root wires adapters together and may name SDK types (erased at build), never call SDKs.
    for (const spec of importsOf(file, layer === "composition.ts" ? { typeOnly: "skip" } : {})) {
      if (layer === "domain") {
        assert.ok(spec.startsWith("./") || spec.startsWith("../") ? !/\.\.\/(workflows|adapters|functions|ports)\//.test(spec) && !spec.includes("composition") : spec === "zod" || spec === "node:crypto", `${relative(root, file)} imports ${spec}`);
      }
      const sdk = (spec.startsWith("@azure/") && spec !== "@azure/functions") || spec.startsWith("@opentelemetry/");
      if (sdk) assert.ok(layer === "adapters", `${relative(root, file)} imports ${spec}; only src/adapters may`);
      if (layer === "workflows") assert.ok(!/\/(adapters|functions)\//.test(spec), `${relative(root, file)} imports ${spec}`);
    }
  }
});
