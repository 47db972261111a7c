/** GET /healthz (the process is up) and GET /readyz (every database responds to a ping). */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';

/** How long /readyz waits for each database. */
const READY_TIMEOUT_MS = 2_000;

export function registerHealthRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (request, reply) => {
    const connections: Array<[string, { ping(): Promise<void> }]> = [...engine.databases.entries(), ...engine.mongo.entries()];
    const checks = await Promise.all(
      connections.map(async ([name, database]) => {
        try {
          await withTimeout(database.ping(), READY_TIMEOUT_MS);
          return { name, ok: true };
        } catch (error) {
          request.log.warn({ connection: name, detail: (error as Error).message }, 'readiness check failed');
          return { name, ok: false };
        }
      }),
    );
    const ok = checks.every((check) => check.ok);
    return reply.code(ok ? 200 : 503).send({ ok, connections: checks, tools: engine.tools.size });
  });
}

async function withTimeout<T>(work: Promise<T>, milliseconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within ${milliseconds} ms`)), milliseconds);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
