/**
 * The local stack the CLI tests run against, started in the test process: in-memory Azurite and the ARM emulator
 * (real HTTPS, its own CA), plus the `.local/stack.json`-shaped file `--local --stack-file` reads. The CLI itself
 * always runs as a child process (`node bin/portcullis.js ...`), piped, or under a pseudo-terminal with
 * util-linux `script` for the TTY cases. Children are spawned asynchronously: the servers live in this process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createComposition } from "../../src/composition.ts";
import { parseSettings } from "../../src/config.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const BIN = join(ROOT, "bin", "portcullis.js");

export const TENANT = "11111111-1111-4111-8111-111111111111";
export const PROVIDER_SUB = "a1a1a1a1-0000-4000-8000-000000000001";
export const CONSUMER_SUB = "c1c1c1c1-0000-4000-8000-000000000002";
export const HUB_SUB = "d1d1d1d1-0000-4000-8000-000000000003";
export const APIM_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-cli`;
export const ZONE_ID = `/subscriptions/${HUB_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;
const SUBNET_ID = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/virtualNetworks/vnet-consumer/subnets/snet-pe`;

/** One Premium stv2 instance with three Pending connections and one Approved, and a hub zone without records. */
export const CLI_TOPOLOGY: TopologyInput = {
  tenants: [{ id: TENANT }],
  subscriptions: [
    {
      id: PROVIDER_SUB,
      tenantId: TENANT,
      resourceGroups: [{ name: "rg-apim", location: "westeurope", apimServices: [{ name: "apim-cli", location: "West Europe", sku: { name: "Premium", capacity: 1 } }] }],
    },
    {
      id: CONSUMER_SUB,
      tenantId: TENANT,
      resourceGroups: [
        {
          name: "rg-consumer",
          location: "westeurope",
          virtualNetworks: [{ name: "vnet-consumer", location: "westeurope", addressPrefixes: ["10.40.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.40.1.0/24" }] }],
          privateEndpoints: [
            { name: "pe-orders", location: "westeurope", subnetId: SUBNET_ID, privateLinkServiceId: APIM_ID, requestMessage: "Orders team, CHG0012345" },
            { name: "pe-billing", location: "westeurope", subnetId: SUBNET_ID, privateLinkServiceId: APIM_ID, requestMessage: "Billing" },
            { name: "pe-legacy", location: "westeurope", subnetId: SUBNET_ID, privateLinkServiceId: APIM_ID, status: "Approved", description: "approved by hand" },
            { name: "pe-trial", location: "westeurope", subnetId: SUBNET_ID, privateLinkServiceId: APIM_ID, requestMessage: "Trial" },
          ],
        },
      ],
    },
    {
      id: HUB_SUB,
      tenantId: TENANT,
      resourceGroups: [{ name: "rg-dns", location: "westeurope", privateDnsZones: [{ name: "privatelink.azure-api.net" }] }],
    },
  ],
};

export interface CliStack {
  readonly dir: string;
  readonly stackFile: string;
  readonly emulator: ArmEmulator;
  readonly tables: LocalTableStorage;
  readonly settings: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** Starts Azurite and the emulator and writes a stack file with every PORTCULLIS_* setting pointing at them. */
export async function startCliStack(options: { topology?: TopologyInput; settings?: Record<string, string>; requiredArmToken?: string } = {}): Promise<CliStack> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-cli-"));
  const [tables, emulator] = await Promise.all([
    startAzuriteTables(),
    startArmEmulator({ topology: options.topology ?? CLI_TOPOLOGY, lroDelayMs: 20, ...(options.requiredArmToken !== undefined ? { requiredToken: options.requiredArmToken } : {}) }),
  ]);
  writeFileSync(join(dir, "arm-ca.pem"), emulator.caPem);
  const settings: Record<string, string> = {
    PORTCULLIS_MODE: "enforce",
    PORTCULLIS_DEFAULT_ACTION: "manual",
    PORTCULLIS_MANAGED_SUBSCRIPTIONS: PROVIDER_SUB,
    PORTCULLIS_TABLES_CONNECTION_STRING: tables.connectionString,
    PORTCULLIS_TABLE_PREFIX: "clitest",
    PORTCULLIS_ARM_ENDPOINT: emulator.url,
    PORTCULLIS_ARM_CREDENTIAL: "local-emulator",
    PORTCULLIS_ARM_CA_FILE: "arm-ca.pem",
    PORTCULLIS_AUTH_ISSUER: "https://127.0.0.1:1/local-tenant/v2.0",
    PORTCULLIS_AUTH_AUDIENCE: "api://portcullis-local",
    PORTCULLIS_DNS_ZONE_IDS: ZONE_ID,
    ...options.settings,
  };
  // As after `npm start`: the app has run once, so its tables exist.
  await createComposition(parseSettings({ ...settings, PORTCULLIS_ARM_CA_FILE: join(dir, "arm-ca.pem") })).engineDeps({ info() {}, warn() {}, error() {} });
  const stackFile = join(dir, "stack.json");
  writeFileSync(stackFile, JSON.stringify({ settings, functionsHostUrl: "http://127.0.0.1:1", keys: {}, oidc: {} }, null, 2));
  return {
    dir,
    stackFile,
    emulator,
    tables,
    settings,
    async close() {
      await Promise.all([emulator.close(), tables.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Extra environment (the child gets only PATH, HOME and these). */
  readonly env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string;
  readonly cwd?: string;
  /** runInTerminal: the pseudo-terminal's width (stty cols), for the table-fitting cases. */
  readonly columns?: number;
}

function baseEnv(extra: Record<string, string> | undefined): Record<string, string> {
  return { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? tmpdir(), ...extra };
}

function collectChild(command: string, args: readonly string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: baseEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** Runs `portcullis ARGS` with stdout and stderr piped (not a TTY). */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return collectChild(NODE, [BIN, ...args], options);
}

/** `portcullis --local --stack-file STACK ARGS`, piped. */
export function runLocal(stack: CliStack, args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runCli(["--local", "--stack-file", stack.stackFile, ...args], options);
}

const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`), so stdin, stdout and stderr are all TTYs. The
 * terminal merges stdout and stderr into one stream with CRLF line ends; `output` has them as "\n".
 */
export async function runInTerminal(args: readonly string[], options: RunOptions = {}): Promise<{ code: number | null; output: string }> {
  const cli = [NODE, BIN, ...args].map(shellQuote).join(" ");
  const command = options.columns === undefined ? cli : `stty cols ${options.columns} rows 50; ${cli}`;
  const result = await collectChild("script", ["-qfec", command, "/dev/null"], options).catch((error: NodeJS.ErrnoException) => {
    throw error.code === "ENOENT" ? new Error("the TTY tests need `script` from util-linux (Debian: apt-get install bsdutils)") : error;
  });
  return { code: result.code, output: result.stdout.replace(/\r\n/g, "\n") };
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function parseJson<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
