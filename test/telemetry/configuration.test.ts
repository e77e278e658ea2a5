/**
 * Telemetry is off unless APPLICATIONINSIGHTS_CONNECTION_STRING is set, and then goes to that connection string's
 * ingestion endpoint. Each case runs the app's function table in a fresh process (OpenTelemetry's registration is
 * process-wide), with a resolve hook that records every module the process loads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { createServerCertificate } from "../../dev/tls.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sample = (JSON.parse(readFileSync(new URL("../../local.settings.sample.json", import.meta.url), "utf8")) as { Values: Record<string, string> }).Values;

/** Delivers one event the trigger acknowledges without ARM or storage (an operation it ignores), through the table. */
const PROBE = `
  import module from "node:module";
  const loaded = [];
  module.registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); loaded.push(result.url); return result; } });
  const azf = (await import("@azure/functions")).default;
  const { functionDefinitions } = await import("./src/functions/index.ts");
  const { composition } = await import("./src/composition.ts");
  const events = functionDefinitions.find((d) => d.name === "privateEndpointEvents");
  const lines = [];
  const context = new azf.InvocationContext({ invocationId: "probe-1", functionName: "privateEndpointEvents", logHandler: (level, ...args) => lines.push(args.join(" ")) });
  await events.handler({ id: "probe-event", subject: "/x", eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: "2025-06-01T12:00:00Z", dataVersion: "2",
    data: { operationName: "Microsoft.Network/networkInterfaces/write" } }, context);
  const telemetry = await composition().telemetry();
  process.stdout.write(JSON.stringify({
    enabled: telemetry.enabled,
    telemetryModules: loaded.filter((url) => /@opentelemetry|monitor-opentelemetry|applicationinsights|adapters\\/telemetry/.test(url)),
    openTelemetryRegistered: Symbol.for("opentelemetry.js.api.1") in globalThis,
    lines,
  }), () => process.exit(0));
`;

function runProbe(env: Record<string, string>): Promise<{ enabled: boolean; telemetryModules: string[]; openTelemetryRegistered: boolean; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", PROBE], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", ...sample, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`probe exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test("without APPLICATIONINSIGHTS_CONNECTION_STRING no telemetry code is loaded, no SDK registered and nothing sent", async () => {
  const result = await runProbe({ APPLICATIONINSIGHTS_CONNECTION_STRING: "" });
  assert.equal(result.enabled, false);
  assert.deepEqual(result.telemetryModules, [], "neither OpenTelemetry nor the Azure Monitor distro nor our adapter was imported");
  assert.equal(result.openTelemetryRegistered, false, "no OpenTelemetry provider or context manager was registered");
  assert.ok(result.lines.some((line) => line.includes("Ignored event probe-event")), result.lines.join("\n"));
});

test("with a connection string the trigger's span reaches that ingestion endpoint through the Azure Monitor distro", async () => {
  const received: { path: string; body: string }[] = [];
  // The exporter sends over HTTPS only: a local ingestion endpoint with its own CA, trusted by the child process.
  const certificate = await createServerCertificate("ingestion.local");
  const work = await mkdtemp(path.join(tmpdir(), "portcullis-ingestion-"));
  const caFile = path.join(work, "ca.pem");
  await writeFile(caFile, certificate.certPem);
  const server = createHttpsServer({ key: certificate.keyPem, cert: certificate.certPem }, (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: request.url ?? "", body: (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8") });
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const result = await runProbe({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-4000-8000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/`,
      NODE_EXTRA_CA_CERTS: caFile,
      // The SDK's own usage statistics go to Microsoft's endpoint, which a test must not call.
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
    });
    assert.equal(result.enabled, true);
    assert.ok(result.telemetryModules.some((url) => url.includes("monitor-opentelemetry")), "the distro was loaded");
    const track = received.filter((r) => r.path.includes("/track"));
    assert.ok(track.length > 0, `telemetry was posted to the ingestion endpoint: ${received.map((r) => r.path).join(", ")}`);
    const items = track.flatMap((r) => JSON.parse(r.body) as { name: string; iKey: string; data: { baseType: string; baseData: { name?: string; properties?: Record<string, string> } } }[]);
    const request = items.find((item) => item.data.baseType === "RequestData" && item.data.baseData.name === "privateEndpointEvents");
    assert.ok(request, `the trigger span arrived as a request: ${JSON.stringify(items.map((i) => [i.data.baseType, i.data.baseData.name]))}`);
    assert.equal(request.iKey, "00000000-0000-4000-8000-000000000001");
    assert.equal(request.data.baseData.properties?.["portcullis.event.id"], "probe-event");
    assert.equal(request.data.baseData.properties?.["portcullis.correlation.id"], "probe-1");
  } finally {
    server.close();
    await rm(work, { recursive: true, force: true });
  }
});
