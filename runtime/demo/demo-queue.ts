/**
 * The demo's search-sync queue: the in-process MongoDB wire server with a queue collection, and
 * POST /demo/queue to set how many documents are pending, so alerts can be made to fire.
 */
import type { FastifyInstance } from 'fastify';
import { MongoWireServer } from '../embedded/mongo-wire/server.js';
import { MongoConnection } from '../connectors/mongodb/mongo-connection.js';

export const QUEUE_DATABASE = 'toolshed_demo';
export const QUEUE_COLLECTION = 'search_sync_queue';
/** Pending documents at start: below the warning threshold of queue-backlog. */
export const INITIAL_PENDING = 420;
/** Largest queue the demo endpoint builds, to keep memory bounded. */
const MAX_PENDING = 200_000;

export interface DemoQueue {
  connection: MongoConnection;
  setPending(count: number): number;
  plugin: (app: FastifyInstance) => void;
  stop(): Promise<void>;
}

export async function startDemoQueue(): Promise<DemoQueue> {
  const server = new MongoWireServer();
  const { uri } = await server.start();
  const queue = server.collection(QUEUE_DATABASE, QUEUE_COLLECTION);

  const setPending = (count: number): number => {
    queue.deleteAll();
    const now = Date.now();
    const documents = Array.from({ length: count }, (_, index) => ({ entity: 'worker', entity_id: index + 1, status: 'pending', queued_at: new Date(now - index * 1_000) }));
    const done = Array.from({ length: 50 }, (_, index) => ({ entity: 'ticket', entity_id: index + 1, status: 'done', queued_at: new Date(now - 86_400_000) }));
    queue.insertMany([...documents, ...done]);
    return count;
  };
  setPending(INITIAL_PENDING);

  const connection = new MongoConnection({ url: uri, database: QUEUE_DATABASE });
  return {
    connection,
    setPending,
    plugin: (app) => {
      app.post<{ Body: { pending?: unknown } }>('/demo/queue', async (request, reply) => {
        const pending = Number((request.body as { pending?: unknown } | undefined)?.pending);
        if (!Number.isInteger(pending) || pending < 0 || pending > MAX_PENDING) {
          return reply.code(400).send({ ok: false, error: { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: `Send {"pending": N} with N from 0 to ${MAX_PENDING}.` } });
        }
        return { ok: true, pending: setPending(pending) };
      });
    },
    stop: async () => {
      await connection.close();
      await server.stop();
    },
  };
}
