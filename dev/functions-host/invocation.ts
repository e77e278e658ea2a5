/**
 * One function invocation as the host runs it: a real `InvocationContext` whose log lines go to the
 * host's console, the handler awaited, and one summary line per invocation in the host's words:
 * `Executed 'Functions.NAME' (Succeeded|Failed, Trigger=..., Id=..., Duration=Nms)`.
 * A failure's message and stack go to the console only, never into a response.
 */
import { randomUUID } from "node:crypto";
import { format } from "node:util";
import azf from "@azure/functions";

/** The binding type names the host and library use for the three triggers Portcullis has. */
export type TriggerType = "httpTrigger" | "eventGridTrigger" | "timerTrigger";

/** How an invocation ended: its value, or the error the handler (or the conversion of its result) threw. */
export type InvocationOutcome<T> =
  | { readonly succeeded: true; readonly value: T }
  | { readonly succeeded: false; readonly error: unknown };

/** Where the host writes its lines, and the clock it stamps them with. */
export interface HostConsole {
  readonly log: (line: string) => void;
  readonly now: () => Date;
}

/** Runs `run` with a fresh context; never throws: a failure is logged and returned. */
export async function invokeFunction<T>(
  host: HostConsole,
  functionName: string,
  trigger: { readonly type: TriggerType; readonly options?: Readonly<Record<string, unknown>> },
  triggerMetadata: Readonly<Record<string, unknown>> | undefined,
  run: (context: azf.InvocationContext) => Promise<T>,
): Promise<InvocationOutcome<T>> {
  const invocationId = randomUUID();
  const stamp = (): string => `[${host.now().toISOString()}]`;
  const context = new azf.InvocationContext({
    invocationId,
    functionName,
    logHandler: (level, ...args) => host.log(`${stamp()} Functions.${functionName} ${level}: ${format(...args)}`),
    ...(triggerMetadata === undefined ? {} : { triggerMetadata: { ...triggerMetadata } }),
    options: { trigger: { type: trigger.type, name: triggerBindingName(trigger.type), ...trigger.options } },
  });
  const started = performance.now();
  let outcome: InvocationOutcome<T>;
  try {
    outcome = { succeeded: true, value: await run(context) };
  } catch (error) {
    outcome = { succeeded: false, error };
  }
  const duration = Math.round(performance.now() - started);
  host.log(
    `${stamp()} Executed 'Functions.${functionName}' (${outcome.succeeded ? "Succeeded" : "Failed"}, ` +
      `Trigger=${trigger.type}, Id=${invocationId}, Duration=${duration}ms)`,
  );
  if (!outcome.succeeded) host.log(`${stamp()} Functions.${functionName} error: ${describeError(outcome.error)}`);
  return outcome;
}

function triggerBindingName(type: TriggerType): string {
  return type === "httpTrigger" ? "request" : type === "eventGridTrigger" ? "event" : "timer";
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : format(error);
}
