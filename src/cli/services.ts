/**
 * The application's services for one CLI run, built by the same composition root as the Functions app
 * (src/composition.ts, `createComposition`) over the target's settings, so the CLI runs exactly the production
 * wiring. The composition root (and with it the Azure SDKs) is imported on first use, so `--help` and
 * `rules validate` start fast.
 */
import type { ManagedScope } from "../domain/decisions/decision-scope.ts";
import { managedScopeOf } from "../config.ts";
import { armScope } from "../adapters/arm/clients.ts";
import type { AzureArmPorts } from "../adapters/arm/index.ts";
import type { Composition, CompositionOptions } from "../composition.ts";
import type { RuleStore } from "../ports/rule-store.ts";
import type { AuditStore } from "../ports/audit-store.ts";
import { systemClock } from "../ports/clock.ts";
import type { AuditEstateDependencies } from "../workflows/audit-estate.ts";
import type { AuditReportSources } from "../workflows/audit-report.ts";
import type { EngineDeps, EngineLogger } from "../workflows/engine-deps.ts";
import { resolveAzureIdentity, type CliIdentity } from "./identity.ts";
import type { Target } from "./target.ts";

export type ReadDeps = Pick<EngineDeps, "privateLink" | "network" | "ruleStore" | "decisionLog" | "scope" | "armConcurrency" | "clock" | "defaultAction">;

export interface CliServices {
  /** The signed-in identity, read from an ARM token of the app credential (Azure targets). */
  identity(): Promise<CliIdentity>;
  /** The rule store, for reading. */
  ruleStore(): Promise<RuleStore>;
  /** The rule store after the engine's tables are ensured (writes). */
  ruleStoreForWriting(): Promise<RuleStore>;
  /** ARM ports and their call counter (progress lines report ARM calls and throttling). */
  arm(): Promise<AzureArmPorts>;
  /** The engine's dependencies (tables ensured), as the Functions use them: for decisions. */
  engine(log: EngineLogger): Promise<EngineDeps>;
  /** What the read workflows (connections, what-if) need, without creating any table: readers need no write role. */
  readDeps(): Promise<ReadDeps>;
  /** The compliance audit's dependencies (its tables ensured), as the timer uses them. */
  auditDeps(warn: (message: string) => void): Promise<AuditEstateDependencies>;
  auditStore(): Promise<AuditStore>;
  /** Where stored reports are read from: the audit's rows and the decision log (no table is created). */
  reportSources(): Promise<AuditReportSources>;
}

/**
 * The local ARM emulator finishes operations in milliseconds and sends no Retry-After, so polling it at the SDK's
 * 2-second default would only make every local approval slow; Azure keeps the SDK's default.
 */
function compositionOptions(target: Target): CompositionOptions {
  return target.kind === "local" ? { armPollIntervalInMs: 100 } : {};
}

function scopeOf(target: Target): ManagedScope {
  return managedScopeOf(target.settings);
}

/** The services for a target; nothing is built or contacted until a command asks for it. */
export function createCliServices(target: Target): CliServices {
  const quietLog: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };
  let built: Promise<Composition> | undefined;
  const root = () => (built ??= import("../composition.ts").then(({ createComposition }) => createComposition(target.settings, compositionOptions(target))));
  return {
    identity: async () => resolveAzureIdentity((await root()).appCredential(), armScope(target.settings.PORTCULLIS_ARM_ENDPOINT)),
    ruleStore: async () => (await root()).ruleStore(),
    ruleStoreForWriting: async () => {
      const composition = await root();
      await composition.engineDeps(quietLog);
      return composition.ruleStore();
    },
    arm: async () => (await root()).armPorts(),
    engine: async (log) => (await root()).engineDeps(log),
    readDeps: async () => {
      const composition = await root();
      const arm = composition.armPorts();
      return {
        privateLink: arm.privateLink,
        network: arm.network,
        ruleStore: composition.ruleStore(),
        decisionLog: composition.decisionLog(),
        scope: scopeOf(target),
        armConcurrency: target.settings.PORTCULLIS_ARM_CONCURRENCY,
        clock: systemClock,
        defaultAction: target.settings.PORTCULLIS_DEFAULT_ACTION,
      };
    },
    auditDeps: async (warn) => (await root()).auditDeps(warn),
    auditStore: async () => (await root()).auditStore(),
    reportSources: async () => {
      const composition = await root();
      return { auditStore: composition.auditStore(), decisionLog: composition.decisionLog() };
    },
  };
}
