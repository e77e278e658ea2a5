/**
 * A scriptable loopback webhook for Event Grid delivery tests: answers the validation handshakes as told,
 * answers notifications with a scripted list of statuses, and records every request it gets.
 */
import http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (performance.now()). */
  atMs: number;
}

export interface WebhookScript {
  /** How to answer an Event Grid SubscriptionValidation POST (default "echo"). */
  validation?: "echo" | "echo-with-202" | "wrong-code" | "empty-200";
  /** WebHook-Allowed-Origin on OPTIONS: a value, the request's origin (default), or null to leave it out. */
  allowedOrigin?: string | null;
  /** Statuses for successive notifications; once used up every notification gets 200. */
  notificationStatuses?: number[];
  /** Called with the validation code before the SubscriptionValidation POST is answered. */
  onValidation?: (validationCode: string) => void;
  /** How many first notifications get no answer at all (to make the sender time out). */
  hangFirst?: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Notification deliveries only (no handshakes). */
  notifications(): ReceivedRequest[];
  /** Every event of every notification, in arrival order (arrays flattened, single CloudEvents included). */
  events(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1; with `tls` it speaks HTTPS with that key and certificate. */
export async function startWebhookReceiver(script: WebhookScript = {}, tls?: { key: string; cert: string }): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const statuses = [...(script.notificationStatuses ?? [])];
  let toHang = script.hangFirst ?? 0;
  const hanging: ServerResponse[] = [];

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: request.method ?? "", headers: request.headers, body, atMs: performance.now() });
      if (request.method === "OPTIONS") return answerOptions(request, response, script.allowedOrigin);
      if (request.headers["aeg-event-type"] === "SubscriptionValidation") {
        const [event] = JSON.parse(body) as [{ data: { validationCode: string } }];
        script.onValidation?.(event.data.validationCode);
        return answerValidation(event.data.validationCode, response, script.validation ?? "echo");
      }
      if (toHang > 0) {
        toHang -= 1;
        hanging.push(response);
        return;
      }
      response.writeHead(statuses.shift() ?? 200).end();
    });
  };
  const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const notifications = (): ReceivedRequest[] =>
    requests.filter((request) => request.method === "POST" && request.headers["aeg-event-type"] === "Notification");
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}/api/events?code=secret`,
    requests,
    notifications,
    events: () =>
      notifications().flatMap((request) => {
        const parsed = JSON.parse(request.body) as Record<string, unknown> | Record<string, unknown>[];
        return Array.isArray(parsed) ? parsed : [parsed];
      }),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerOptions(request: IncomingMessage, response: ServerResponse, allowedOrigin: string | null | undefined): void {
  const origin = request.headers["webhook-request-origin"];
  if (allowedOrigin !== null) response.setHeader("WebHook-Allowed-Origin", allowedOrigin ?? origin ?? "");
  response.writeHead(200).end();
}

function answerValidation(code: string, response: ServerResponse, mode: NonNullable<WebhookScript["validation"]>): void {
  if (mode === "empty-200") return void response.writeHead(200).end();
  const answer = JSON.stringify({ validationResponse: mode === "wrong-code" ? `${code}-not` : code });
  response.writeHead(mode === "echo-with-202" ? 202 : 200, { "content-type": "application/json" }).end(answer);
}
