/**
 * A tiny scripted HTTPS server for adapter tests that need answers the ARM emulator would never give
 * (malformed bodies, unknown statuses, exact page boundaries). Real SDK clients talk to it over real TLS.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createServerCertificate } from "../../../dev/tls.ts";

export interface StubRequest {
  readonly method: string;
  /** Path and query, e.g. "/subscriptions/…?api-version=2024-05-01". */
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface StubAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON unless it is a string (sent as is, to test malformed bodies). */
  readonly body?: unknown;
}

export interface HttpsStub {
  readonly url: string;
  readonly caPem: string;
  /** Every request received, in order. */
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1 with a fresh self-signed certificate; `handle` answers each request. */
export async function startHttpsStub(handle: (request: StubRequest, stub: { url: string }) => StubAnswer): Promise<HttpsStub> {
  const certificate = await createServerCertificate("portcullis-test-stub");
  const requests: StubRequest[] = [];
  let baseUrl = "";
  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const url = req.url ?? "/";
      const request: StubRequest = {
        method: req.method ?? "GET",
        url,
        path: new URL(url, "https://127.0.0.1").pathname,
        headers: req.headers,
        body: text === "" ? undefined : JSON.parse(text),
      };
      requests.push(request);
      const answer = handle(request, { url: baseUrl });
      const body = answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", ...answer.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    caPem: certificate.certPem,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
