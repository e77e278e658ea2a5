/**
 * The trigger-level half of telemetry: every function in the table runs inside a span of its own (the root of
 * the invocation's trace, continuing the Functions host's trace when it passes one), and every line it logs is
 * redacted of tokens and secrets first. Decision spans (src/telemetry/engine.ts) become its children through the
 * async context, so one trace runs from the event, sweep or API call to the ARM write.
 *
 * With telemetry off (no APPLICATIONINSIGHTS_CONNECTION_STRING) the spans are no-ops; redaction always applies.
 */
import type azf from "@azure/functions";
import type { Telemetry, TelemetryAttributes } from "../ports/telemetry.ts";
import { ATTR } from "../telemetry/names.ts";
import { redactSecrets } from "../telemetry/redact.ts";
import type { EventGridFunctionDefinition, FunctionDefinition, HttpFunctionDefinition, TimerFunctionDefinition } from "./definition.ts";

const LOG_METHODS = new Set(["log", "trace", "debug", "info", "warn", "error"]);

/** Strings redacted; errors by their (redacted) stack or message; everything else as it is. */
function redactedArgument(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (value instanceof Error) return redactSecrets(value.stack ?? `${value.name}: ${value.message}`);
  return value;
}

/** The invocation context with its log methods redacting what they are given. */
export function redactingContext(context: azf.InvocationContext): azf.InvocationContext {
  return new Proxy(context, {
    get(target, property, _receiver) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof property === "string" && LOG_METHODS.has(property) && typeof value === "function") {
        return (...args: unknown[]) => (value as (...a: unknown[]) => void).apply(target, args.map(redactedArgument));
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The ID and type of a delivered event (Event Grid schema or CloudEvents), when it has them. */
function eventAttributes(event: unknown): TelemetryAttributes {
  if (typeof event !== "object" || event === null) return {};
  const fields = event as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value.length <= 200 ? value : undefined);
  return { [ATTR.eventId]: text(fields["id"]), [ATTR.eventType]: text(fields["eventType"]) ?? text(fields["type"]) };
}

function invocationAttributes(definition: FunctionDefinition, context: azf.InvocationContext): TelemetryAttributes {
  return {
    [ATTR.functionName]: definition.name,
    [ATTR.trigger]: definition.kind === "http" ? "http" : definition.kind === "timer" ? "timer" : "pubsub",
    [ATTR.invocationId]: context.invocationId,
    // Workflows use the invocation ID as the correlation ID of everything the run records.
    [ATTR.correlationId]: context.invocationId,
  };
}

/**
 * The definition with its handler traced and its logs redacted. `getTelemetry` is called per invocation (it
 * resolves at once after the first), so nothing about telemetry is loaded at import time.
 */
export function withTelemetry(definition: FunctionDefinition, getTelemetry: () => Promise<Telemetry>): FunctionDefinition {
  const traced = async <T>(
    context: azf.InvocationContext,
    attributes: TelemetryAttributes,
    run: (context: azf.InvocationContext) => Promise<T>,
    describe: (result: T) => { readonly attributes?: TelemetryAttributes; readonly failure?: string } = () => ({}),
  ): Promise<T> => {
    const telemetry = await getTelemetry();
    const traceParent = context.traceContext?.traceParent ?? undefined;
    // Kind server for every trigger: Application Insights files server spans under `requests`, named by the span.
    const span = telemetry.startSpan(definition.name, { ...invocationAttributes(definition, context), ...attributes }, {
      kind: "server",
      ...(traceParent ? { traceParent } : {}),
    });
    try {
      const result = await span.run(() => run(redactingContext(context)));
      const described = describe(result);
      if (described.attributes) span.setAttributes(described.attributes);
      if (described.failure) span.fail(described.failure);
      return result;
    } catch (error) {
      span.fail(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      span.end();
      // Timer and event invocations may be followed by a frozen instance: send what they recorded now.
      if (telemetry.enabled && definition.kind !== "http") await telemetry.flush();
    }
  };

  switch (definition.kind) {
    case "http": {
      const http: HttpFunctionDefinition = {
        ...definition,
        handler: (request, context) =>
          traced(context, { [ATTR.httpMethod]: request.method, [ATTR.httpRoute]: definition.route }, (ctx) => definition.handler(request, ctx), (response) => {
            const status = response.status ?? 200;
            return { attributes: { [ATTR.httpStatus]: status }, ...(status >= 500 ? { failure: `HTTP ${status}` } : {}) };
          }),
      };
      return http;
    }
    case "eventGrid": {
      const eventGrid: EventGridFunctionDefinition = { ...definition, handler: (event, context) => traced(context, eventAttributes(event), (ctx) => definition.handler(event, ctx)) };
      return eventGrid;
    }
    case "timer": {
      const timer: TimerFunctionDefinition = { ...definition, handler: (tick, context) => traced(context, {}, (ctx) => definition.handler(tick, ctx)) };
      return timer;
    }
  }
}
