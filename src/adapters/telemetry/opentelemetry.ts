/**
 * The telemetry port over the OpenTelemetry API: spans through a Tracer, metrics through a Meter. Whatever SDK is
 * registered behind them decides where they go (Azure Monitor in the app: azure-monitor.ts; an in-memory exporter in
 * tests). Every string attribute and failure message is redacted (src/telemetry/redact.ts) before the SDK sees it.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { MetricDefinition, SpanKind, StartSpanOptions, Telemetry, TelemetryAttributes, TelemetrySpan } from "../../ports/telemetry.ts";
import { redactAttributes, redactSecrets } from "../../telemetry/redact.ts";

export interface OpenTelemetryParts {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** Exports what the SDK buffers (the providers' forceFlush). */
  readonly flush: () => Promise<void>;
}

const KINDS: Record<SpanKind, OtelSpanKind> = {
  internal: OtelSpanKind.INTERNAL,
  server: OtelSpanKind.SERVER,
  consumer: OtelSpanKind.CONSUMER,
  client: OtelSpanKind.CLIENT,
};

/** OpenTelemetry attributes from ours: undefined values dropped, strings redacted. */
function attributesOf(attributes: TelemetryAttributes): Attributes {
  const defined: Record<string, string | number | boolean | string[]> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    defined[key] = Array.isArray(value) ? [...(value as readonly string[])] : (value as string | number | boolean);
  }
  return redactAttributes(defined);
}

/** The context a W3C `traceparent` names (version 00), or undefined when it does not parse. */
export function contextFromTraceParent(traceParent: string): Context | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceParent.trim());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  const sampled = (Number.parseInt(match[3]!, 16) & 1) === 1;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

class OpenTelemetrySpan implements TelemetrySpan {
  private ended = false;
  readonly span: Span;
  constructor(span: Span) {
    this.span = span;
  }
  setAttributes(attributes: TelemetryAttributes): void {
    this.span.setAttributes(attributesOf(attributes));
  }
  fail(message: string): void {
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: redactSecrets(message) });
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
  run<T>(fn: () => Promise<T>): Promise<T> {
    return context.with(trace.setSpan(context.active(), this.span), fn);
  }
}

/** The port over a tracer and a meter. */
export function createOpenTelemetryTelemetry(parts: OpenTelemetryParts): Telemetry {
  const instruments = new Map<string, Counter | Histogram | Gauge>();
  const instrument = (metric: MetricDefinition): Counter | Histogram | Gauge => {
    let existing = instruments.get(metric.name);
    if (existing === undefined) {
      const options = { unit: metric.unit, description: metric.description };
      existing =
        metric.kind === "counter"
          ? parts.meter.createCounter(metric.name, options)
          : metric.kind === "histogram"
            ? parts.meter.createHistogram(metric.name, options)
            : parts.meter.createGauge(metric.name, options);
      instruments.set(metric.name, existing);
    }
    return existing;
  };

  return {
    enabled: true,
    startSpan(name: string, attributes: TelemetryAttributes, options: StartSpanOptions = {}): TelemetrySpan {
      const parent =
        options.parent instanceof OpenTelemetrySpan
          ? trace.setSpan(context.active(), options.parent.span)
          : options.traceParent !== undefined && trace.getSpan(context.active()) === undefined
            ? (contextFromTraceParent(options.traceParent) ?? context.active())
            : context.active();
      const span = parts.tracer.startSpan(name, { kind: KINDS[options.kind ?? "internal"], attributes: attributesOf(attributes) }, parent);
      return new OpenTelemetrySpan(span);
    },
    record(metric: MetricDefinition, value: number, attributes: TelemetryAttributes): void {
      const target = instrument(metric);
      const recorded = attributesOf(attributes);
      if (metric.kind === "counter") (target as Counter).add(value, recorded);
      else (target as Histogram | Gauge).record(value, recorded);
    },
    flush: () => parts.flush().catch(() => undefined),
  };
}
