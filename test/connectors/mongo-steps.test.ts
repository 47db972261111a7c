/** MongoDB steps run through the engine against the in-process wire server: queries, load-time rejections, timeouts and an unreachable server. */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MongoConnection } from '../../runtime/connectors/mongodb/mongo-connection.js';
import { MongoWireServer } from '../../runtime/embedded/mongo-wire/server.js';
import { Engine, type RunOutcome, type RunFailure, type RunSuccess } from '../../runtime/engine/engine.js';
import { loadTool, type LoadResult } from '../../runtime/tool/load-tool.js';
import { formatProblem } from '../../runtime/tool/problem.js';
import type { Tool } from '../../runtime/tool/types.js';
import { memoryLogger, SUPPORT } from '../helpers/tools.js';

const DATABASE = 'app';
const COLLECTION = 'search_sync_queue';

/** The connections of a toolshed.yaml with a PostgreSQL default and a MongoDB queue. */
const CONTEXT = { connections: ['default', 'queue'], connectionTypes: { default: 'postgres', queue: 'mongodb' } } as const;

const FIND_TOOL = `
name: queue-items
title: Queue items by status
inputs:
  status:
    type: string
steps:
  - id: items
    connection: queue
    mongodb:
      collection: search_sync_queue
      find:
        filter: { status: ":status" }
        projection: { _id: 0, key: 1, status: 1, seq: 1 }
        sort: { seq: -1 }
        limit: 2
output:
  text: "{{count items}} items with status {{status}}"
`;

const AGGREGATE_TOOL = `
name: queue-by-entity
title: Pending queue items per entity
steps:
  - id: groups
    connection: queue
    mongodb:
      collection: search_sync_queue
      aggregate:
        - $match: { status: pending }
        - $group: { _id: "$entity", n: { $sum: 1 } }
        - $sort: { _id: 1 }
output:
  text: "{{count groups}} entities"
`;

const SLOW_TOOL = `
name: queue-count-slow
title: Counts with a short timeout
timeout: 200ms
steps:
  - id: pending
    connection: queue
    mongodb:
      collection: search_sync_queue
      count: { status: pending }
output:
  text: "{{pending.count}} pending"
`;

function load(text: string, file = 'test-tool.yaml'): LoadResult {
  return loadTool(file, text, CONTEXT);
}

function mongoTool(text: string, file = 'test-tool.yaml'): Tool {
  const { tool, problems } = load(text, file);
  if (tool === undefined) throw new Error(`test tool is invalid:\n${problems.map(formatProblem).join('\n')}`);
  return tool;
}

function queueBacklog(): Tool {
  return mongoTool(readFileSync(new URL('../../tools/queue-backlog.yaml', import.meta.url), 'utf8'), 'tools/queue-backlog.yaml');
}

/** Returns the 1-based line and column where `needle` first appears in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`"${needle}" is not in the tool text`);
  return { line: index + 1, column: (lines[index] as string).indexOf(needle) + 1 };
}

function expectSuccess(outcome: RunOutcome): RunSuccess {
  if (!outcome.ok) throw new Error(`run failed: ${outcome.error.code} ${outcome.error.message}`);
  return outcome;
}

function expectFailure(outcome: RunOutcome): RunFailure {
  if (outcome.ok) throw new Error(`run succeeded with "${outcome.text}", but a failure was expected`);
  return outcome;
}

/** Finds a free TCP port on 127.0.0.1, so a server can be stopped and started again on it. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function seedQueue(server: MongoWireServer): void {
  const queue = server.collection(DATABASE, COLLECTION);
  queue.deleteAll();
  queue.insertMany([
    { key: 'w-1', entity: 'worker', status: 'pending', seq: 1 },
    { key: 'w-2', entity: 'worker', status: 'pending', seq: 2 },
    { key: 't-1', entity: 'ticket', status: 'pending', seq: 3 },
    { key: 'w-3', entity: 'worker', status: 'done', seq: 4 },
    { key: 't-2', entity: 'ticket', status: 'done', seq: 5 },
  ]);
}

describe('MongoDB steps through the engine', () => {
  const server = new MongoWireServer();
  const log = memoryLogger();
  let connection: MongoConnection;
  let engine: Engine;

  beforeAll(async () => {
    const { uri } = await server.start();
    connection = new MongoConnection({ url: uri, database: DATABASE });
    engine = new Engine({
      tools: [queueBacklog(), mongoTool(FIND_TOOL), mongoTool(AGGREGATE_TOOL), mongoTool(SLOW_TOOL)],
      databases: new Map(),
      logger: log.logger,
      mongo: new Map([['queue', connection]]),
    });
  });

  afterAll(async () => {
    await connection?.close();
    await server.stop();
  });

  beforeEach(() => {
    server.setCommandDelay(0);
    seedQueue(server);
  });

  it('queue-backlog counts pending documents', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.results?.pending).toEqual({ count: 3 });
    expect(outcome.data.pending).toEqual({ count: 3 });
    expect(outcome.text).toBe('3 documents are waiting in the search-sync queue.');
  });

  it('queue-backlog counts an empty collection as zero', async () => {
    server.collection(DATABASE, COLLECTION).deleteAll();

    const outcome = expectSuccess(await engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.results?.pending).toEqual({ count: 0 });
  });

  it('find applies filter, projection, sort and limit', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-items', inputs: { status: 'pending' }, surface: 'http', principal: SUPPORT }));

    expect(outcome.data.items).toEqual([
      { key: 't-1', status: 'pending', seq: 3 },
      { key: 'w-2', status: 'pending', seq: 2 },
    ]);
    expect(outcome.truncated).toEqual([{ step: 'items', limit: 2 }]);
    expect(outcome.text).toContain('2 items with status pending');
  });

  it('find binds the input as a value', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-items', inputs: { status: 'done' }, surface: 'http', principal: SUPPORT }));

    expect(outcome.data.items).toEqual([
      { key: 't-2', status: 'done', seq: 5 },
      { key: 'w-3', status: 'done', seq: 4 },
    ]);
  });

  it('find keeps an operator in an input as text', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-items', inputs: { status: '{"$ne": null}' }, surface: 'http', principal: SUPPORT }));

    expect(outcome.data.items).toEqual([]);
    expect(outcome.truncated).toEqual([]);
  });

  it('find rejects a mapping given as an input', async () => {
    const outcome = expectFailure(await engine.run({ tool: 'queue-items', inputs: { status: { $ne: null } }, surface: 'http', principal: SUPPORT }));

    expect(outcome.error.code).toBe('TOOLSHED_ERR_INVALID_INPUT');
    expect(outcome.error.fields?.[0]?.field).toBe('status');
  });

  it('aggregate runs $match, $group and $sort', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-by-entity', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.data.groups).toEqual([
      { _id: 'ticket', n: 1 },
      { _id: 'worker', n: 2 },
    ]);
    expect(outcome.text).toBe('2 entities');
  });

  it('a slow server fails the run as a timeout', async () => {
    server.setCommandDelay(1_000);

    const outcome = expectFailure(await engine.run({ tool: 'queue-count-slow', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.error.code).toBe('TOOLSHED_ERR_TIMEOUT');
    expect(outcome.error.status).toBe(504);
    expect(outcome.error.message).toContain('200 ms');
  });

  it('the same tool runs again once the delay is gone', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-count-slow', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.results?.pending).toEqual({ count: 3 });
  });
});

describe('MongoDB steps at load time', () => {
  const cases = [
    {
      operator: '$where',
      text: `
name: js-where
title: Filters with JavaScript
steps:
  - id: items
    connection: queue
    mongodb:
      collection: search_sync_queue
      find:
        filter:
          $where: "this.status == 'pending'"
output:
  text: "{{count items}}"
`,
    },
    {
      operator: '$function',
      text: `
name: js-function
title: Filters with a JavaScript function
steps:
  - id: items
    connection: queue
    mongodb:
      collection: search_sync_queue
      find:
        filter:
          $expr:
            $function:
              body: "function (status) { return status === 'pending' }"
              args: ["$status"]
              lang: js
output:
  text: "{{count items}}"
`,
    },
    {
      operator: '$accumulator',
      text: `
name: js-accumulator
title: Groups with a JavaScript accumulator
steps:
  - id: groups
    connection: queue
    mongodb:
      collection: search_sync_queue
      aggregate:
        - $group:
            _id: "$entity"
            total:
              $accumulator:
                init: "function () { return 0 }"
                accumulate: "function (state) { return state + 1 }"
                accumulateArgs: []
                merge: "function (a, b) { return a + b }"
                lang: js
output:
  text: "{{count groups}}"
`,
    },
  ];

  for (const { operator, text } of cases) {
    it(`rejects ${operator} with its position`, () => {
      const { tool, problems } = load(text, 'js.yaml');

      expect(tool).toBeUndefined();
      expect(problems).toHaveLength(1);
      const [found] = problems;
      expect(found?.code).toBe('TOOLSHED_ERR_MONGO_OPERATOR');
      expect(found?.file).toBe('js.yaml');
      expect({ line: found?.line, column: found?.column }).toEqual(positionOf(text, `${operator}:`));
      expect(found?.message).toContain(operator);
      expect(found?.message).toContain('JavaScript');
    });
  }

  it('rejects a MongoDB step on a postgres connection', () => {
    const text = `
name: wrong-connection
title: Counts on PostgreSQL
steps:
  - id: pending
    connection: default
    mongodb:
      collection: search_sync_queue
      count: { status: pending }
output:
  text: "{{pending.count}}"
`;
    const { tool, problems } = load(text, 'wrong.yaml');

    expect(tool).toBeUndefined();
    expect(problems.map((found) => found.code)).toEqual(['TOOLSHED_ERR_UNKNOWN_CONNECTION']);
    expect(problems[0]?.message).toContain('MongoDB step');
    expect(problems[0]?.message).toContain('postgres');
    expect({ line: problems[0]?.line, column: problems[0]?.column }).toEqual(positionOf(text, 'default'));
  });

  it('rejects a SQL step on a mongodb connection', () => {
    const text = `
name: sql-on-queue
title: Runs SQL on MongoDB
steps:
  - id: pending
    connection: queue
    sql: select 1 as n
output:
  text: "{{pending}}"
`;
    const { tool, problems } = load(text, 'sql.yaml');

    expect(tool).toBeUndefined();
    expect(problems.map((found) => found.code)).toEqual(['TOOLSHED_ERR_UNKNOWN_CONNECTION']);
    expect(problems[0]?.message).toContain('SQL step');
    expect(problems[0]?.message).toContain('mongodb');
  });

  it('rejects a placeholder that names no input', () => {
    const text = FIND_TOOL.replace('":status"', '":state"');
    const { tool, problems } = load(text, 'typo.yaml');

    expect(tool).toBeUndefined();
    expect(problems.map((found) => found.code)).toEqual(['TOOLSHED_ERR_SQL_PARAM']);
    expect(problems[0]?.message).toContain(':state');
  });
});

describe('MongoDB steps with the server down', () => {
  const log = memoryLogger();
  let port: number;
  let server: MongoWireServer;
  let connection: MongoConnection;
  let engine: Engine;

  beforeAll(async () => {
    port = await freePort();
    server = new MongoWireServer({ port });
    const { uri } = await server.start();
    seedQueue(server);
    connection = new MongoConnection({ url: uri, database: DATABASE });
    engine = new Engine({ tools: [queueBacklog()], databases: new Map(), logger: log.logger, mongo: new Map([['queue', connection]]) });
  });

  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('runs before the server stops', async () => {
    const outcome = expectSuccess(await engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.results?.pending).toEqual({ count: 3 });
  });

  it('fails as unavailable while the server is stopped', async () => {
    await server.stop();

    const outcome = expectFailure(await engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.error.code).toBe('TOOLSHED_ERR_DB_UNAVAILABLE');
    expect(outcome.error.status).toBe(503);
    expect(outcome.error.message).toContain('MongoDB');
    expect(outcome.error.message).not.toContain(String(port));
  });

  it('runs again after the server restarts on its port', async () => {
    const { port: restartedPort } = await server.start();
    expect(restartedPort).toBe(port);

    const outcome = expectSuccess(await engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT }));

    expect(outcome.results?.pending).toEqual({ count: 3 });
  });

  it('fails as unavailable when the server stops during a query', async () => {
    server.setCommandDelay(2_000);
    const running = engine.run({ tool: 'queue-backlog', inputs: {}, surface: 'http', principal: SUPPORT });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.stop();

    const outcome = expectFailure(await running);

    expect(outcome.error.code).toBe('TOOLSHED_ERR_DB_UNAVAILABLE');
    server.setCommandDelay(0);
    await server.start();
  });
});
