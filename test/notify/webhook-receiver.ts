/** A local HTTP server that records the raw bytes and headers of every POST and responds with a chosen status. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Body exactly as received. */
  body: Buffer;
}

export interface ReceiverAnswer {
  status: number;
  body: string;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Responses to the next requests, used in order. Once they run out, every request gets 200 "ok". */
  readonly answers: ReceiverAnswer[] = [];
  private server: http.Server | undefined;

  /** Starts on a free port of 127.0.0.1 and returns the base URL, such as http://127.0.0.1:4321. */
  async start(): Promise<string> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) });
        const answer = this.answers.shift() ?? { status: 200, body: 'ok' };
        response.statusCode = answer.status;
        response.setHeader('content-type', 'text/plain');
        response.end(answer.body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Returns a port on 127.0.0.1 that nothing listens on, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
