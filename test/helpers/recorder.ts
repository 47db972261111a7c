/** A local HTTP server that records JSON posts, in place of Slack's response_url and Web API. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  body: Record<string, unknown>;
}

export class Recorder {
  readonly posts: Recorded[] = [];
  private server: http.Server | undefined;
  private waiters: Array<() => void> = [];
  /** Answers for GET requests by path, such as Slack Web API methods. */
  readonly answers = new Map<string, unknown>();
  port = 0;

  async start(): Promise<string> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = (request.url ?? '/').split('?')[0] ?? '/';
        if (request.method === 'GET') {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify(this.answers.get(path) ?? { ok: false, error: 'unknown_method' }));
          return;
        }
        this.posts.push({ path, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> });
        response.end('ok');
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  /** Resolves once at least `count` posts have arrived. */
  async waitForPosts(count: number): Promise<Recorded[]> {
    while (this.posts.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.posts;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
