/**
 * Telemetry the app emits for operators: spans (one trace per trigger invocation, a span per decision and per ARM
 * write) and metrics. Implemented over OpenTelemetry and Azure Monitor by src/adapters/telemetry/, loaded only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set; otherwise `noTelemetry` records nothing and sends nothing.
 *
 * Names of spans, attributes and metrics are in src/telemetry/names.ts (docs/operations.md's queries use them).
 * Attribute values and error messages pass through src/telemetry/redact.ts before they reach a port, so no token
 * or key is ever exported.
 */

export type TelemetryValue = string | number | boolean | readonly string[];
export type TelemetryAttributes = Readonly<Record<string, TelemetryValue | undefined>>;

/** Who started the work a span measures: an incoming request or event (server/consumer) or the app itself. */
export type SpanKind = "internal" | "server" | "consumer" | "client";

export interface StartSpanOptions {
  readonly kind?: SpanKind;
  /** The parent span; default: the span active in this async context (the trigger's span), if any. */
  readonly parent?: TelemetrySpan;
  /** A W3C traceparent to continue (the Functions host's invocation trace), used when no parent span is given. */
  readonly traceParent?: string;
}

export interface TelemetrySpan {
  setAttributes(attributes: TelemetryAttributes): void;
  /** Marks the span failed with a (redacted) message. */
  fail(message: string): void;
  /** Ends the span; later calls are ignored. */
  end(): void;
  /** Runs fn with this span active, so spans started inside it (without a parent) are its children. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** The metrics Portcullis records: counters add, histograms record a distribution, gauges the latest value. */
export type MetricKind = "counter" | "histogram" | "gauge";

export interface MetricDefinition {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  readonly description: string;
}

export interface Telemetry {
  /** False for noTelemetry: callers skip work (extra reads) that only feeds telemetry. */
  readonly enabled: boolean;
  startSpan(name: string, attributes: TelemetryAttributes, options?: StartSpanOptions): TelemetrySpan;
  record(metric: MetricDefinition, value: number, attributes: TelemetryAttributes): void;
  /** Sends what is buffered (before the process may be frozen); resolves when done or failed. */
  flush(): Promise<void>;
}

const noSpan: TelemetrySpan = {
  setAttributes: () => {},
  fail: () => {},
  end: () => {},
  run: (fn) => fn(),
};

/** Used when telemetry is not configured: records nothing, starts no SDK, opens no connection. */
export const noTelemetry: Telemetry = {
  enabled: false,
  startSpan: () => noSpan,
  record: () => {},
  flush: async () => {},
};
