/**
 * ARM's asynchronous operation protocol for a PUT, sent through an SDK client's own pipeline (so auth, retries,
 * TLS trust, user agent and the call counter all apply), because the SDK's pollers poll once more right after the
 * PUT whether or not anyone asked, and every poll spends a read from the subscription's throttling budget.
 * Here starting sends the PUT alone, `poll` sends one poll, resuming sends one poll, and `pollUntilDone` first waits
 * out ARM's Retry-After (or the configured interval) since the last answer. How an answer is read
 * (azure-resource-manager-rpc):
 *
 * - `Azure-AsyncOperation` (or `Operation-Location`): poll it; it answers 200 with `status` InProgress… until
 *   Succeeded (then GET the resource for the result), Failed or Canceled (then `error` says why).
 * - `Location` alone: poll it; it answers 202 while running, then the final result (200 + the resource).
 * - neither: a 200/201 whose body's provisioningState is terminal (or absent) is already done; a non-terminal one
 *   is followed by reading the resource until it is terminal.
 *
 * The state that survives a process is the polling mode and URL, so an operation can be serialized and resumed
 * elsewhere. Polling URLs must share the ARM endpoint's origin: the pipeline attaches the ARM token to every request.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { PipelineRequest, PipelineResponse } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import type { LongRunningOperation, OperationOptions } from "../../ports/arm.ts";
import { retryAfterInMs } from "./call-counter.ts";
import { malformed } from "./convert.ts";
import { armCall, writeConflictAsTransient } from "./sdk-calls.ts";

/** What an operation needs of an SDK client: its pipeline (core-client's ServiceClient.sendRequest). */
export interface PipelineClient {
  sendRequest(request: PipelineRequest): Promise<PipelineResponse>;
}

const POLLING_MODES = ["azure-async-operation", "location", "resource"] as const;

/** The serializable part of an operation: which URL to poll next and how to read its answers. */
export interface ArmOperationState {
  readonly mode: (typeof POLLING_MODES)[number];
  readonly pollingUrl: string;
}

/** Parses an ArmOperationState read back from storage (the URL's origin is checked by resumeArmPut). */
export const armOperationStateSchema = z.object({ mode: z.enum(POLLING_MODES), pollingUrl: z.string().min(1) });

/** The PUT an operation is about and how to read its result. */
export interface ArmPutTarget<T> {
  readonly client: PipelineClient;
  /** ARM's base URL; every URL the operation requests must share its origin. */
  readonly endpoint: string;
  /** The resource's URL (with api-version): the PUT goes there, and so does the final read after an async status. */
  readonly resourceUrl: string;
  /** Converts the final resource as ARM sends it (wire JSON) into the result; throws on a malformed body. */
  readonly toResult: (body: unknown) => T;
  /** Wait between polls when ARM sends no Retry-After. */
  readonly pollIntervalInMs: number;
  /** Wraps the operation state into the string `serialize()` returns. */
  readonly serialize: (state: ArmOperationState) => string;
  /** Names the operation in error messages, e.g. "setting <id> to Approved". */
  readonly description: string;
  /**
   * true for a type whose spec marks the PUT synchronous (registry connectionWrite.longRunning false): a 200/201 answer
   * without polling headers is the result at once, whatever provisioningState it shows. Polling headers are still
   * followed if ARM sends them (ARM's answer outranks the registry).
   */
  readonly synchronous?: boolean;
}

type Progress<T> =
  | { readonly kind: "running"; readonly state: ArmOperationState; readonly nextPollAt: number }
  | { readonly kind: "succeeded"; readonly state: ArmOperationState; readonly result: T }
  | { readonly kind: "failed"; readonly state: ArmOperationState; readonly error: PortcullisError };

/** One ARM answer, reduced to what the protocol reads. */
export interface ArmAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly asyncOperationUrl: string | undefined;
  readonly locationUrl: string | undefined;
  readonly retryAfterInMs: number | undefined;
}

const armErrorBodySchema = z.object({ error: z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough() });
const asyncStatusBodySchema = z.object({
  status: z.string().min(1),
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough().nullish(),
});
const provisioningStateSchema = z.object({
  provisioningState: z.string().optional().catch(undefined),
  properties: z.object({ provisioningState: z.string().optional().catch(undefined) }).nullish().catch(undefined),
});

let restPipeline: Promise<typeof import("@azure/core-rest-pipeline")> | undefined;

/** @azure/core-rest-pipeline, imported on first use (the SDK clients have loaded it by then). */
function loadRestPipeline(): Promise<typeof import("@azure/core-rest-pipeline")> {
  return (restPipeline ??= import("@azure/core-rest-pipeline"));
}

/** Resolves a polling URL from a header against the request URL; refuses one on another host than ARM's. */
function pollingUrlFrom(header: string, requestUrl: string, target: ArmPutTarget<unknown>): string {
  let url: URL;
  try {
    url = new URL(header, requestUrl);
  } catch {
    throw malformed(`answer to ${target.description}`, undefined, `the polling URL '${header}' is not a URL`);
  }
  if (!isUrlOfEndpoint(url.href, target.endpoint)) {
    throw malformed(`answer to ${target.description}`, undefined, `the polling URL '${url.href}' is not on the ARM endpoint ${target.endpoint}`);
  }
  return url.href;
}

/** true when `url` is an absolute URL with the same origin as the ARM endpoint (where the token may go). */
export function isUrlOfEndpoint(url: string, endpoint: string): boolean {
  try {
    return new URL(url).origin === new URL(endpoint).origin;
  } catch {
    return false;
  }
}

function parseJsonBody(response: PipelineResponse, what: string): unknown {
  const text = response.bodyAsText;
  if (text === undefined || text === null || text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw malformed(what, undefined, `the body of the ${response.status} answer is not JSON`);
  }
}

/** The `{ error: { code, message } }` of an ARM error answer, when its body has one. */
function armErrorOf(response: PipelineResponse): { code?: string | undefined; message?: string | undefined } | undefined {
  try {
    return armErrorBodySchema.safeParse(JSON.parse(response.bodyAsText ?? "")).data?.error;
  } catch {
    return undefined;
  }
}

/**
 * Sends one request through the client's pipeline; an HTTP error answer leaves as a PortcullisError (a PUT's 409 as
 * transient). `target.description` names the request in errors. Also used for plain reads the SDK models do not fit.
 */
export async function sendArmRequest(
  target: Pick<ArmPutTarget<unknown>, "client" | "description">,
  method: "GET" | "PUT",
  url: string,
  body: unknown,
  abortSignal: AbortSignal | undefined,
): Promise<ArmAnswer> {
  const { createHttpHeaders, createPipelineRequest, RestError } = await loadRestPipeline();
  const headers = createHttpHeaders({ accept: "application/json", ...(body !== undefined ? { "content-type": "application/json; charset=utf-8" } : {}) });
  const request = createPipelineRequest({
    url,
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(abortSignal !== undefined ? { abortSignal } : {}),
  });
  const response = await armCall(() => target.client.sendRequest(request));
  if (response.status >= 400) {
    const armError = armErrorOf(response);
    const message = armError?.message ?? `ARM answered ${response.status} to ${method} ${new URL(url).pathname}.`;
    const error = new RestError(message, { statusCode: response.status, request, response, ...(armError?.code !== undefined ? { code: armError.code } : {}) });
    throw method === "PUT" ? writeConflictAsTransient(error) : toPortcullisError(error);
  }
  return {
    status: response.status,
    body: parseJsonBody(response, `answer to ${target.description}`),
    asyncOperationUrl: response.headers.get("azure-asyncoperation") ?? response.headers.get("operation-location"),
    locationUrl: response.headers.get("location"),
    retryAfterInMs: retryAfterInMs(response.headers.get("retry-after")),
  };
}

/** A failure ARM reported for the operation itself (Failed / Canceled); classed like any unknown failure: transient. */
function operationFailure(target: ArmPutTarget<unknown>, outcome: string, error: { code?: string | undefined; message?: string | undefined } | null | undefined): PortcullisError {
  const message = error?.message ?? `ARM reports ${target.description} ${outcome}.`;
  return toPortcullisError(Object.assign(new Error(message), { code: error?.code ?? `Operation${outcome}` }));
}

/** A 4xx answer from a polling URL means the operation failed; 429, 5xx and network trouble only mean "ask again". */
function isOperationFailure(error: PortcullisError): boolean {
  return error.statusCode !== undefined && error.statusCode >= 400 && error.kind !== "transient";
}

function provisioningStateOf(body: unknown): string | undefined {
  const parsed = provisioningStateSchema.safeParse(body);
  return parsed.success ? (parsed.data.properties?.provisioningState ?? parsed.data.provisioningState) : undefined;
}

function running<T>(state: ArmOperationState, answer: ArmAnswer, target: ArmPutTarget<T>): Progress<T> {
  return { kind: "running", state, nextPollAt: Date.now() + (answer.retryAfterInMs ?? target.pollIntervalInMs) };
}

/** Reads a resource body: done when its provisioningState is terminal or absent, else still running. */
function fromResourceAnswer<T>(answer: ArmAnswer, state: ArmOperationState, target: ArmPutTarget<T>): Progress<T> {
  if (answer.body === undefined) return running(state, answer, target);
  const provisioningState = provisioningStateOf(answer.body)?.toLowerCase();
  switch (provisioningState) {
    case undefined:
    case "succeeded":
      return { kind: "succeeded", state, result: target.toResult(answer.body) };
    case "failed":
      return { kind: "failed", state, error: operationFailure(target, "Failed", undefined) };
    case "canceled":
    case "cancelled":
      return { kind: "failed", state, error: operationFailure(target, "Canceled", undefined) };
    default:
      return running(state, answer, target);
  }
}

/** What the PUT's answer means: polling by Azure-AsyncOperation, by Location, by the resource, or done. */
function fromPutAnswer<T>(answer: ArmAnswer, target: ArmPutTarget<T>): Progress<T> {
  if (answer.asyncOperationUrl !== undefined) {
    return running({ mode: "azure-async-operation", pollingUrl: pollingUrlFrom(answer.asyncOperationUrl, target.resourceUrl, target) }, answer, target);
  }
  if (answer.locationUrl !== undefined) {
    return running({ mode: "location", pollingUrl: pollingUrlFrom(answer.locationUrl, target.resourceUrl, target) }, answer, target);
  }
  if (answer.status === 202) {
    throw malformed(`answer to ${target.description}`, undefined, "202 Accepted came without a Location or Azure-AsyncOperation header");
  }
  const state: ArmOperationState = { mode: "resource", pollingUrl: target.resourceUrl };
  if (target.synchronous === true) {
    if (answer.body === undefined) throw malformed(`answer to ${target.description}`, undefined, `the synchronous ${answer.status} answer has no body`);
    return { kind: "succeeded", state, result: target.toResult(answer.body) };
  }
  return fromResourceAnswer(answer, state, target);
}

/** Sends one poll of a running operation and reads its answer. */
async function pollOnce<T>(state: ArmOperationState, target: ArmPutTarget<T>, abortSignal: AbortSignal | undefined): Promise<Progress<T>> {
  const get = (url: string) => sendArmRequest(target, "GET", url, undefined, abortSignal);
  try {
    const answer = await get(state.pollingUrl);
    switch (state.mode) {
      case "location": {
        if (answer.status === 202) {
          const pollingUrl = answer.locationUrl !== undefined ? pollingUrlFrom(answer.locationUrl, state.pollingUrl, target) : state.pollingUrl;
          return running({ mode: "location", pollingUrl }, answer, target);
        }
        if (answer.body === undefined) return fromResourceAnswer(await get(target.resourceUrl), state, target);
        return { kind: "succeeded", state, result: target.toResult(answer.body) };
      }
      case "azure-async-operation": {
        const parsed = asyncStatusBodySchema.safeParse(answer.body);
        if (!parsed.success) throw malformed(`operation status of ${target.description}`, undefined, "the body has no status");
        switch (parsed.data.status.toLowerCase()) {
          case "succeeded":
            return fromResourceAnswer(await get(target.resourceUrl), state, target);
          case "failed":
            return { kind: "failed", state, error: operationFailure(target, "Failed", parsed.data.error) };
          case "canceled":
          case "cancelled":
            return { kind: "failed", state, error: operationFailure(target, "Canceled", parsed.data.error) };
          default: {
            const pollingUrl = answer.asyncOperationUrl !== undefined ? pollingUrlFrom(answer.asyncOperationUrl, state.pollingUrl, target) : state.pollingUrl;
            return running({ mode: "azure-async-operation", pollingUrl }, answer, target);
          }
        }
      }
      case "resource":
        return fromResourceAnswer(answer, state, target);
    }
  } catch (error) {
    const failure = toPortcullisError(error);
    if (isOperationFailure(failure)) return { kind: "failed", state, error: failure };
    throw failure;
  }
}

function operationOver<T>(target: ArmPutTarget<T>, initial: Progress<T>): LongRunningOperation<T> {
  let progress = initial;
  const operation: LongRunningOperation<T> = {
    async poll(options?: OperationOptions) {
      if (progress.kind !== "running") return;
      progress = await pollOnce(progress.state, target, options?.abortSignal);
    },
    isDone: () => progress.kind !== "running",
    result() {
      if (progress.kind === "failed") throw progress.error;
      return progress.kind === "succeeded" ? progress.result : undefined;
    },
    async pollUntilDone(options?: OperationOptions) {
      while (progress.kind === "running") {
        const waitInMs = progress.nextPollAt - Date.now();
        if (waitInMs > 0) await armCall(() => sleep(waitInMs, undefined, options?.abortSignal !== undefined ? { signal: options.abortSignal } : {}));
        await operation.poll(options);
      }
      return operation.result()!;
    },
    serialize: () => target.serialize(progress.state),
  };
  return operation;
}

/** Sends the PUT (nothing else) and returns the operation its answer describes. */
export async function beginArmPut<T>(target: ArmPutTarget<T>, body: unknown, options?: OperationOptions): Promise<LongRunningOperation<T>> {
  const answer = await sendArmRequest(target, "PUT", target.resourceUrl, body, options?.abortSignal);
  return operationOver(target, fromPutAnswer(answer, target));
}

/**
 * Continues an operation from its serialized state with one poll at once, as the SDK's `resumeFrom` does: an
 * operation is resumed by a later request whose first question is whether ARM has finished meanwhile.
 */
export async function resumeArmPut<T>(target: ArmPutTarget<T>, state: ArmOperationState, options?: OperationOptions): Promise<LongRunningOperation<T>> {
  if (!isUrlOfEndpoint(state.pollingUrl, target.endpoint)) {
    throw new PortcullisError("invalid-input", "The serialized operation state polls a URL outside the ARM endpoint.", { code: "InvalidOperationState" });
  }
  const operation = operationOver(target, { kind: "running", state, nextPollAt: Date.now() });
  await operation.poll(options);
  return operation;
}
