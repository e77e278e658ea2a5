/**
 * Starts the Azure Monitor OpenTelemetry distro (traces and metrics exported to Application Insights) and returns
 * the telemetry port over it. Loaded by src/composition.ts only when APPLICATIONINSIGHTS_CONNECTION_STRING is set,
 * through a dynamic import, so an app without telemetry never loads, starts or connects any of it.
 *
 * - Every trace is kept (no rate-limited sampling): one trace per decision is the point, and decisions are few.
 * - With APPLICATIONINSIGHTS_AUTHENTICATION_STRING `Authorization=AAD` (infra sets it; the resource may refuse
 *   keys), the exporter authenticates with the app's identity, as the Functions host does.
 * - Automatic HTTP, Azure SDK, database and logging instrumentation stay off: the bundled SDKs cannot be patched reliably, and the
 *   spans Portcullis records itself name the ARM write that matters.
 */
import { metrics, trace } from "@opentelemetry/api";
import type { TokenCredential } from "@azure/core-auth";
import type { Telemetry } from "../../ports/telemetry.ts";
import { createOpenTelemetryTelemetry } from "./opentelemetry.ts";

export interface AzureMonitorTelemetryOptions {
  readonly connectionString: string;
  /** The identity to send with when ingestion requires Entra ID; undefined sends with the connection string only. */
  readonly credential: TokenCredential | undefined;
  readonly serviceVersion?: string;
}

/** The tracer and meter name Portcullis records under (Application Insights: the cloud role's instrumentation scope). */
export const INSTRUMENTATION_SCOPE = "portcullis";

interface Flushable {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => Flushable;
}

/** Starts the distro once per process and returns the port over it. */
export async function startAzureMonitorTelemetry(options: AzureMonitorTelemetryOptions): Promise<Telemetry> {
  // Imported here, not at the top: the bundle keeps the distro (vendor code only) in a chunk of its own.
  const { useAzureMonitor } = await import("@azure/monitor-opentelemetry");
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: options.connectionString,
      ...(options.credential !== undefined ? { credential: options.credential } : {}),
    },
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableLiveMetrics: false,
    instrumentationOptions: {
      http: { enabled: false },
      azureSdk: { enabled: false },
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
      bunyan: { enabled: false },
      winston: { enabled: false },
      // Logs go through the Functions host (context.log), redacted by the trigger wrapper; console output is not collected.
      console: { enabled: false },
    },
  });
  const flush = async (): Promise<void> => {
    const tracerProvider = trace.getTracerProvider() as Flushable;
    const meterProvider = metrics.getMeterProvider() as Flushable;
    await Promise.all([(tracerProvider.getDelegate?.() ?? tracerProvider).forceFlush?.(), meterProvider.forceFlush?.()]);
  };
  return createOpenTelemetryTelemetry({
    tracer: trace.getTracer(INSTRUMENTATION_SCOPE, options.serviceVersion),
    meter: metrics.getMeter(INSTRUMENTATION_SCOPE, options.serviceVersion),
    flush,
  });
}

/** Flushes and stops the distro (tests; the Functions host ends the process otherwise). */
export async function stopAzureMonitorTelemetry(): Promise<void> {
  const { shutdownAzureMonitor } = await import("@azure/monitor-opentelemetry");
  await shutdownAzureMonitor();
}
