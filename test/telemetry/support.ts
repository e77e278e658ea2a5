/**
 * A real OpenTelemetry SDK wired to in-memory exporters (spans as they end, metrics when collected), behind the
 * app's own adapter (src/adapters/telemetry/opentelemetry.ts): what a test sees is what Azure Monitor would get.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader, type DataPoint } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import azf from "@azure/functions";
import { createOpenTelemetryTelemetry } from "../../src/adapters/telemetry/opentelemetry.ts";
import type { Telemetry } from "../../src/ports/telemetry.ts";

// The async context (which span is active) is process-wide in OpenTelemetry, as the Azure Monitor distro sets it.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface MetricPoint {
  readonly name: string;
  readonly value: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface InMemoryTelemetry {
  readonly telemetry: Telemetry;
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
  metrics(): Promise<MetricPoint[]>;
}

export function createInMemoryTelemetry(): InMemoryTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const telemetry = createOpenTelemetryTelemetry({
    tracer: tracerProvider.getTracer("portcullis-test"),
    meter: meterProvider.getMeter("portcullis-test"),
    flush: async () => {
      await tracerProvider.forceFlush();
    },
  });
  return {
    telemetry,
    spans: () => exporter.getFinishedSpans(),
    span(name) {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one span ${name}, found ${found.length}: ${exporter.getFinishedSpans().map((s) => s.name).join(", ")}`);
      return found[0]!;
    },
    async metrics() {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          (metric.dataPoints as DataPoint<unknown>[]).map((point) => ({ name: metric.descriptor.name, value: point.value, attributes: point.attributes })),
        ),
      );
    },
  };
}

/** An InvocationContext whose log lines are kept, optionally continuing a host trace. */
export function invocation(options: { invocationId?: string; traceParent?: string } = {}): { context: azf.InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const context = new azf.InvocationContext({
    invocationId: options.invocationId ?? "inv-1",
    functionName: "test",
    ...(options.traceParent !== undefined ? { traceContext: { traceParent: options.traceParent } } : {}),
    logHandler: (level, ...args) => lines.push(`${level}: ${args.map(String).join(" ")}`),
  });
  return { context, lines };
}
