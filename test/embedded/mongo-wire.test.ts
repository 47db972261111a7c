/** Tests for the in-process MongoDB wire server, driven by the official MongoClient over TCP. */

import { serialize, deserialize, type Document } from 'bson';
import { MongoClient, MongoNetworkError, type MongoClientOptions, MongoServerError, MongoServerSelectionError, type CommandStartedEvent } from 'mongodb';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../runtime/embedded/mongo-wire/crc32c.js';
import { MongoWireServer } from '../../runtime/embedded/mongo-wire/server.js';

const DB = 'toolshed_test';

function createClient(uri: string, options: MongoClientOptions = {}): MongoClient {
  return new MongoClient(uri, { serverSelectionTimeoutMS: 2000, ...options });
}

describe('MongoWireServer with MongoClient', () => {
  const server = new MongoWireServer();
  let uri: string;
  let client: MongoClient;

  beforeAll(async () => {
    ({ uri } = await server.start());
    client = createClient(uri);
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await server.stop();
  });

  it('answers ping', async () => {
    const reply = await client.db(DB).command({ ping: 1 });
    expect(reply['ok']).toBe(1);
  });

  it('start returns a direct-connection uri on 127.0.0.1', () => {
    expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/);
  });

  it('reports wire version and limits in hello', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello['isWritablePrimary']).toBe(true);
    expect(hello['maxWireVersion']).toBe(21);
    expect(hello['minWireVersion']).toBe(0);
    expect(hello['maxBsonObjectSize']).toBe(16 * 1024 * 1024);
    expect(hello['maxMessageSizeBytes']).toBe(48_000_000);
    expect(hello['maxWriteBatchSize']).toBe(100_000);
    expect(hello['logicalSessionTimeoutMinutes']).toBe(30);
    expect(typeof hello['connectionId']).toBe('number');
    expect(hello['localTime']).toBeInstanceOf(Date);
  });

  it('reports version 7.0.0 in buildInfo', async () => {
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info['version']).toBe('7.0.0');
  });

  it('countDocuments counts only matching documents', async () => {
    const queue = client.db(DB).collection('count_queue');
    await queue.insertMany([
      { status: 'pending', n: 1 },
      { status: 'done', n: 2 },
      { status: 'pending', n: 3 },
      { status: 'failed', n: 4 },
      { status: 'pending', n: 5 },
    ]);

    expect(await queue.countDocuments({ status: 'pending' })).toBe(3);
    expect(await queue.countDocuments({ status: 'missing' })).toBe(0);
    expect(await queue.countDocuments({ status: 'pending' }, { skip: 1, limit: 1 })).toBe(1);
  });

  it('estimatedDocumentCount counts the whole collection', async () => {
    const collection = client.db(DB).collection('estimated');
    await collection.insertMany(Array.from({ length: 7 }, (_, i) => ({ i })));

    expect(await collection.estimatedDocumentCount()).toBe(7);
    expect(await client.db(DB).collection('no_such_collection').estimatedDocumentCount()).toBe(0);
  });

  it('find applies filter, projection, sort and limit', async () => {
    const workers = client.db(DB).collection('find_workers');
    await workers.insertMany([
      { name: 'Ana', age: 31, city: 'Oakland' },
      { name: 'Ben', age: 25, city: 'Fresno' },
      { name: 'Cid', age: 44, city: 'Oakland' },
      { name: 'Dee', age: 38, city: 'Oakland' },
    ]);

    const found = await workers
      .find({ city: 'Oakland' }, { projection: { _id: 0, name: 1, age: 1 } })
      .sort({ age: -1 })
      .limit(2)
      .toArray();

    expect(found).toEqual([
      { name: 'Cid', age: 44 },
      { name: 'Dee', age: 38 },
    ]);
  });

  it('findOne returns an inserted document by _id', async () => {
    const collection = client.db(DB).collection('find_one');
    const { insertedId } = await collection.insertOne({ email: 'worker@example.com' });

    const found = await collection.findOne({ _id: insertedId });
    expect(found?.['email']).toBe('worker@example.com');
    expect(found?._id.equals(insertedId)).toBe(true);
  });

  it('find streams 350 documents across getMore in order', async () => {
    const monitored = createClient(uri, { monitorCommands: true });
    const commands: string[] = [];
    monitored.on('commandStarted', (event: CommandStartedEvent) => commands.push(event.commandName));
    try {
      const collection = monitored.db(DB).collection('many');
      await collection.insertMany(Array.from({ length: 350 }, (_, i) => ({ seq: i })));

      const seen: number[] = [];
      for await (const document of collection.find({}, { batchSize: 100 }).sort({ seq: 1 })) {
        seen.push(document['seq'] as number);
      }

      expect(seen).toEqual(Array.from({ length: 350 }, (_, i) => i));
      expect(commands.filter((name) => name === 'getMore')).toHaveLength(3);
    } finally {
      await monitored.close();
    }
  });

  it('closing a cursor early kills it on the server', async () => {
    const monitored = createClient(uri, { monitorCommands: true });
    const killReplies: Document[] = [];
    monitored.on('commandSucceeded', (event) => {
      if (event.commandName === 'killCursors') killReplies.push(event.reply as Document);
    });
    try {
      const collection = monitored.db(DB).collection('early_close');
      await collection.insertMany(Array.from({ length: 30 }, (_, i) => ({ seq: i })));

      const cursor = collection.find({}, { batchSize: 10 });
      expect((await cursor.next())?.['seq']).toBe(0);
      await cursor.close();

      expect(killReplies).toHaveLength(1);
      expect(killReplies[0]?.['cursorsKilled']).toHaveLength(1);
      expect(killReplies[0]?.['cursorsNotFound']).toHaveLength(0);
    } finally {
      await monitored.close();
    }
  });

  it('aggregate with $documents runs without a collection', async () => {
    const documents = await client
      .db(DB)
      .aggregate([{ $documents: Array.from({ length: 5 }, (_, i) => ({ i })) }, { $match: { i: { $gte: 1 } } }], { batchSize: 2 })
      .toArray();

    expect(documents.map((document) => document['i'])).toEqual([1, 2, 3, 4]);
  });

  it('find without batchSize returns 101 documents in the first batch', async () => {
    const monitored = createClient(uri, { monitorCommands: true });
    const firstBatchSizes: number[] = [];
    monitored.on('commandSucceeded', (event) => {
      if (event.commandName === 'find') firstBatchSizes.push((event.reply as Document)['cursor'].firstBatch.length);
    });
    try {
      const collection = monitored.db(DB).collection('default_batch');
      await collection.insertMany(Array.from({ length: 150 }, (_, i) => ({ seq: i })));

      const all = await collection.find().toArray();

      expect(all).toHaveLength(150);
      expect(firstBatchSizes).toEqual([101]);
    } finally {
      await monitored.close();
    }
  });

  it('aggregate runs $match, $group and $sort', async () => {
    const tickets = client.db(DB).collection('agg_tickets');
    await tickets.insertMany([
      { status: 'open', city: 'Oakland', pay: 10 },
      { status: 'open', city: 'Fresno', pay: 20 },
      { status: 'open', city: 'Oakland', pay: 30 },
      { status: 'closed', city: 'Oakland', pay: 99 },
    ]);

    const grouped = await tickets
      .aggregate([
        { $match: { status: 'open' } },
        { $group: { _id: '$city', total: { $sum: '$pay' }, count: { $sum: 1 } } },
        { $sort: { total: -1 } },
      ])
      .toArray();

    expect(grouped).toEqual([
      { _id: 'Oakland', total: 40, count: 2 },
      { _id: 'Fresno', total: 20, count: 1 },
    ]);
  });

  it('aggregate supports $count, $limit and $project', async () => {
    const collection = client.db(DB).collection('agg_count');
    await collection.insertMany([{ v: 1 }, { v: 2 }, { v: 3 }]);

    expect(await collection.aggregate([{ $match: { v: { $gte: 2 } } }, { $count: 'matched' }]).toArray()).toEqual([{ matched: 2 }]);
    expect(await collection.aggregate([{ $sort: { v: -1 } }, { $limit: 1 }, { $project: { _id: 0, doubled: { $multiply: ['$v', 2] } } }]).toArray()).toEqual([
      { doubled: 6 },
    ]);
  });

  it('aggregate does not modify stored documents', async () => {
    const collection = client.db(DB).collection('agg_immutable');
    await collection.insertOne({ name: 'kept' });

    await collection.aggregate([{ $addFields: { name: 'changed' } }]).toArray();

    expect(await collection.findOne({}, { projection: { _id: 0 } })).toEqual({ name: 'kept' });
  });

  it('$where in a find filter fails with BadValue', async () => {
    const collection = client.db(DB).collection('script_reject');
    await collection.insertOne({ a: 1 });

    const error = await collection.find({ $where: 'this.a == 1' }).toArray().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(2);
    expect((error as MongoServerError).codeName).toBe('BadValue');
  });

  it('$where in countDocuments fails with BadValue', async () => {
    const collection = client.db(DB).collection('script_reject');

    const error = await collection.countDocuments({ $where: 'true' }).catch((e: unknown) => e);

    expect((error as MongoServerError).code).toBe(2);
  });

  it('$function and $accumulator in a pipeline fail with BadValue', async () => {
    const collection = client.db(DB).collection('script_reject');
    const functionStage = { $addFields: { x: { $function: { body: 'function() { return 1 }', args: [], lang: 'js' } } } };
    const accumulatorStage = {
      $group: { _id: null, x: { $accumulator: { init: 'function() {}', accumulate: 'function() {}', accumulateArgs: [], merge: 'function() {}', lang: 'js' } } },
    };

    const functionError = await collection.aggregate([functionStage]).toArray().catch((e: unknown) => e);
    const accumulatorError = await collection.aggregate([accumulatorStage]).toArray().catch((e: unknown) => e);

    expect((functionError as MongoServerError).code).toBe(2);
    expect((accumulatorError as MongoServerError).code).toBe(2);
  });

  it('treats $-prefixed string values as plain strings', async () => {
    const collection = client.db(DB).collection('dollar_values');
    await collection.insertMany([{ name: '$where' }, { name: '$function' }, { name: 'plain' }]);

    expect(await collection.countDocuments({ name: '$where' })).toBe(1);
    const found = await collection.find({ name: { $in: ['$where', '$function'] } }, { projection: { _id: 0 } }).toArray();
    expect(found).toEqual([{ name: '$where' }, { name: '$function' }]);
  });

  it('maxTimeMS below the command delay fails with MaxTimeMSExpired', async () => {
    const collection = client.db(DB).collection('slow');
    await collection.insertOne({ a: 1 });
    server.setCommandDelay(200);
    try {
      const started = Date.now();
      const error = await collection.find({}, { maxTimeMS: 50 }).toArray().catch((e: unknown) => e);
      const elapsed = Date.now() - started;

      expect(error).toBeInstanceOf(MongoServerError);
      expect((error as MongoServerError).code).toBe(50);
      expect((error as MongoServerError).codeName).toBe('MaxTimeMSExpired');
      expect(elapsed).toBeLessThan(200);

      const countError = await collection.countDocuments({}, { maxTimeMS: 50 }).catch((e: unknown) => e);
      expect((countError as MongoServerError).code).toBe(50);
    } finally {
      server.setCommandDelay(0);
    }
  });

  it('command delay shorter than maxTimeMS succeeds', async () => {
    const collection = client.db(DB).collection('slow_ok');
    await collection.insertOne({ a: 1 });
    server.setCommandDelay(50);
    try {
      const started = Date.now();
      const count = await collection.countDocuments({}, { maxTimeMS: 2000 });

      expect(count).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    } finally {
      server.setCommandDelay(0);
    }
  });

  it('unknown command fails with CommandNotFound', async () => {
    const error = await client.db(DB).command({ frobnicate: 1 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(59);
    expect((error as MongoServerError).codeName).toBe('CommandNotFound');
    expect((error as MongoServerError).message).toBe("no such command: 'frobnicate'");
  });

  it('duplicate _id fails with code 11000', async () => {
    const collection = client.db(DB).collection('dup_ids');
    await collection.insertOne({ _id: 'a' } as Document);

    const error = await collection.insertOne({ _id: 'a' } as Document).catch((e: unknown) => e);

    expect((error as MongoServerError).code).toBe(11000);
    expect(await collection.countDocuments()).toBe(1);
  });

  it('deleteMany and deleteOne remove matching documents', async () => {
    const collection = client.db(DB).collection('deletes');
    await collection.insertMany([{ k: 'x' }, { k: 'x' }, { k: 'x' }, { k: 'y' }]);

    expect((await collection.deleteOne({ k: 'x' })).deletedCount).toBe(1);
    expect((await collection.deleteMany({ k: 'x' })).deletedCount).toBe(2);
    expect(await collection.countDocuments()).toBe(1);
  });

  it('listCollections, listDatabases and drop', async () => {
    const db = client.db('listing_db');
    await db.collection('first').insertOne({ a: 1 });
    await db.collection('second').insertOne({ a: 1 });

    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['first', 'second']);
    const pagedNames = (await db.listCollections({}, { batchSize: 1 }).toArray()).map((c) => c.name).sort();
    expect(pagedNames).toEqual(['first', 'second']);
    const databases = await client.db('admin').admin().listDatabases();
    expect(databases.databases.map((d) => d.name)).toContain('listing_db');

    expect(await db.collection('first').drop()).toBe(true);
    const remaining = (await db.listCollections().toArray()).map((c) => c.name);
    expect(remaining).toEqual(['second']);
  });

  it('seeding API inserts, counts and clears', async () => {
    const seeded = server.collection(DB, 'seeded');
    seeded.insertMany([{ status: 'pending' }, { status: 'pending' }, { status: 'done' }]);

    expect(seeded.count()).toBe(3);
    expect(await client.db(DB).collection('seeded').countDocuments({ status: 'pending' })).toBe(2);

    seeded.deleteAll();
    expect(seeded.count()).toBe(0);
    expect(await client.db(DB).collection('seeded').countDocuments()).toBe(0);
  });

  it('two clients work concurrently', async () => {
    const second = createClient(uri);
    try {
      await second.connect();
      const first = client.db(DB).collection('shared');
      const other = second.db(DB).collection('shared');

      await Promise.all([
        first.insertMany(Array.from({ length: 50 }, (_, i) => ({ from: 'first', i }))),
        other.insertMany(Array.from({ length: 50 }, (_, i) => ({ from: 'second', i }))),
      ]);
      const [firstCount, secondCount, total] = await Promise.all([
        other.countDocuments({ from: 'first' }),
        first.countDocuments({ from: 'second' }),
        first.estimatedDocumentCount(),
      ]);

      expect(firstCount).toBe(50);
      expect(secondCount).toBe(50);
      expect(total).toBe(100);
    } finally {
      await second.close();
    }
  });
});

describe('MongoWireServer shutdown', () => {
  it('commands fail with a driver error after stop', async () => {
    const server = new MongoWireServer();
    const { uri } = await server.start();
    const client = createClient(uri);
    try {
      await client.db(DB).command({ ping: 1 });
      await server.stop();

      const started = Date.now();
      const error = await client.db(DB).collection('gone').countDocuments().catch((e: unknown) => e);

      expect(Date.now() - started).toBeLessThan(5000);
      expect(error instanceof MongoServerSelectionError || error instanceof MongoNetworkError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('stop during a delayed command fails that command', async () => {
    const server = new MongoWireServer();
    const { uri } = await server.start();
    const client = createClient(uri);
    try {
      await client.db(DB).command({ ping: 1 });
      server.setCommandDelay(1000);

      const pending = client.db(DB).collection('slow_stop').countDocuments().catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await server.stop();
      const error = await pending;

      expect(Date.now() - started).toBeLessThan(5000);
      expect(error instanceof MongoServerSelectionError || error instanceof MongoNetworkError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('can start again after stop and keeps its data', async () => {
    const server = new MongoWireServer();
    await server.start();
    server.collection(DB, 'kept').insertMany([{ a: 1 }]);
    await server.stop();

    const { uri } = await server.start();
    const client = createClient(uri);
    try {
      expect(await client.db(DB).collection('kept').countDocuments()).toBe(1);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('MongoWireServer raw wire protocol', () => {
  // Silent, because the checksum test makes the server log a warning on purpose.
  const server = new MongoWireServer({ logger: pino({ level: 'silent' }) });
  let port: number;

  beforeAll(async () => {
    ({ port } = await server.start());
  });

  afterAll(async () => {
    await server.stop();
  });

  it('crc32c matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('accepts an OP_MSG with a checksum', async () => {
    const reply = await sendRaw(port, buildOpMsg({ ping: 1, $db: 'admin' }, { checksum: 'valid' }));

    expect(reply).toBeDefined();
    expect(deserialize((reply as Buffer).subarray(21))['ok']).toBe(1);
  });

  it('closes the connection on a checksum mismatch', async () => {
    const reply = await sendRaw(port, buildOpMsg({ ping: 1, $db: 'admin' }, { checksum: 'corrupt' }));

    expect(reply).toBeUndefined();
  });

  it('merges a kind-1 document sequence into the command', async () => {
    const documents = [{ seq: 1 }, { seq: 2 }, { seq: 3 }];
    const message = buildOpMsg({ insert: 'sequenced', ordered: true, $db: DB }, { sequence: { identifier: 'documents', documents } });

    const reply = await sendRaw(port, message);

    const body = deserialize((reply as Buffer).subarray(21));
    expect(body['ok']).toBe(1);
    expect(body['n']).toBe(3);
    expect(server.collection(DB, 'sequenced').count()).toBe(3);
  });

  it('answers OP_QUERY isMaster with OP_REPLY', async () => {
    const reply = await sendRaw(port, buildOpQuery('admin.$cmd', { isMaster: 1, helloOk: true }));

    expect((reply as Buffer).readInt32LE(12)).toBe(1);
    const body = deserialize((reply as Buffer).subarray(36));
    expect(body['ok']).toBe(1);
    expect(body['ismaster']).toBe(true);
    expect(body['helloOk']).toBe(true);
    expect(body['maxWireVersion']).toBe(21);
  });

  it('rejects OP_QUERY commands other than hello', async () => {
    const reply = await sendRaw(port, buildOpQuery(`${DB}.$cmd`, { find: 'x' }));

    const body = deserialize((reply as Buffer).subarray(36));
    expect(body['ok']).toBe(0);
    expect(body['code']).toBe(352);
  });
});

describe('MongoWireServer unacknowledged writes', () => {
  it('applies a w:0 insert without replying', async () => {
    const server = new MongoWireServer();
    const { uri } = await server.start();
    const client = createClient(uri, { maxPoolSize: 1 });
    try {
      const collection = client.db(DB).collection('unacknowledged');
      await collection.insertOne({ a: 1 }, { writeConcern: { w: 0 } });

      // With one pooled connection the count arrives after the insert, and the server handles a connection's messages in order.
      expect(await collection.countDocuments()).toBe(1);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

interface OpMsgOptions {
  checksum?: 'valid' | 'corrupt';
  sequence?: { identifier: string; documents: Document[] };
}

/**
 * Builds an OP_MSG with a kind-0 body, an optional kind-1 document sequence and an optional
 * CRC-32C checksum (corrupted on request).
 */
function buildOpMsg(command: Document, options: OpMsgOptions = {}): Buffer {
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(serialize(command))];
  if (options.sequence) {
    const identifier = Buffer.from(`${options.sequence.identifier}\0`, 'utf8');
    const documents = options.sequence.documents.map((document) => Buffer.from(serialize(document)));
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + identifier.length + documents.reduce((total, document) => total + document.length, 0));
    sections.push(Buffer.from([1]), size, identifier, ...documents);
  }
  const checksumBytes = options.checksum ? 4 : 0;
  const header = Buffer.alloc(20);
  const sectionBytes = sections.reduce((total, section) => total + section.length, 0);
  header.writeInt32LE(20 + sectionBytes + checksumBytes, 0);
  header.writeInt32LE(7, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(options.checksum ? 1 : 0, 16);
  const message = Buffer.concat([header, ...sections, Buffer.alloc(checksumBytes)]);
  if (options.checksum) {
    const checksum = crc32c(message.subarray(0, message.length - 4));
    message.writeUInt32LE(options.checksum === 'valid' ? checksum : checksum ^ 1, message.length - 4);
  }
  return message;
}

/** Builds a legacy OP_QUERY for a command on `namespace` (such as admin.$cmd). */
function buildOpQuery(namespace: string, command: Document): Buffer {
  const name = Buffer.from(`${namespace}\0`, 'utf8');
  const query = Buffer.from(serialize(command));
  const fixed = Buffer.alloc(20);
  fixed.writeInt32LE(0, 16);
  const numbers = Buffer.alloc(8);
  numbers.writeInt32LE(0, 0);
  numbers.writeInt32LE(-1, 4);
  const message = Buffer.concat([fixed, name, numbers, query]);
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(9, 4);
  message.writeInt32LE(0, 8);
  message.writeInt32LE(2004, 12);
  return message;
}

/** Sends one message and returns the first complete reply, or undefined when the server closes the connection. */
function sendRaw(port: number, message: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= received.readInt32LE(0)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(undefined));
    socket.on('error', reject);
    socket.setTimeout(2000, () => {
      socket.destroy();
      reject(new Error('no reply and no close within 2000 ms'));
    });
  });
}
