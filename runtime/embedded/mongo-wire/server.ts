/** An in-process MongoDB wire-protocol server on a local TCP port, for tests and the embedded demo. */

import type { Document } from 'bson';
import net, { type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createLogger } from '../../logger.js';
import { requireDatabaseName } from './arguments.js';
import { commandName, HANDSHAKE_COMMANDS, runCommand } from './commands.js';
import type { CommandContext } from './context.js';
import { CursorRegistry } from './cursors.js';
import { CommandError } from './errors.js';
import { encodeOpMsg, encodeOpReply, MessageFramer, OP_MSG, parseRequest, type WireRequest } from './protocol.js';
import { Store } from './store.js';

export interface MongoWireServerOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port. Default 0, which picks a free ephemeral port. */
  port?: number;
  /** Receives connection, protocol and defect logs. Default: the toolshed logger at level `warn`. */
  logger?: Logger;
}

export interface MongoWireAddress {
  host: string;
  port: number;
  /** A connection string for MongoClient, such as mongodb://127.0.0.1:PORT/?directConnection=true. */
  uri: string;
}

/** Direct access to one collection, for seeding test data without a driver. */
export interface SeedCollection {
  /** Inserts copies of the documents, adding an ObjectId `_id` where missing. Throws on a duplicate `_id`. */
  insertMany(documents: object[]): void;
  deleteAll(): void;
  count(): number;
}

/**
 * A MongoDB server that the official driver can use over TCP. Data lives in memory and survives
 * stop() and start() on the same instance. What it covers and leaves out is listed in README.md.
 */
export class MongoWireServer {
  readonly #host: string;
  readonly #port: number;
  readonly #logger: Logger;
  readonly #store = new Store();
  readonly #cursors = new CursorRegistry();
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #stopping = new AbortController();
  #commandDelayMs = 0;
  #nextConnectionId = 1;
  #nextRequestId = 1;

  constructor(options: MongoWireServerOptions = {}) {
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#logger = options.logger ?? createLogger({ level: 'warn' }).child({ component: 'mongo-wire' });
  }

  /** Starts listening. Rejects when the server is already running or the port cannot be bound. */
  async start(): Promise<MongoWireAddress> {
    if (this.#server) throw new Error('MongoWireServer is already running; call stop() before start().');

    this.#stopping = new AbortController();
    const server = net.createServer((socket) => this.#acceptConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#host, port: this.#port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'MongoDB wire server error'));
    this.#server = server;

    const { port } = server.address() as AddressInfo;
    const uriHost = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    const uri = `mongodb://${uriHost}:${port}/?directConnection=true`;
    this.#logger.info({ host: this.#host, port }, 'MongoDB wire server started');
    return { host: this.#host, port, uri };
  }

  /** Stops listening and closes every open connection, so clients see a network error at once. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;

    this.#stopping.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#cursors.clear();
    await closed;
    this.#logger.info('MongoDB wire server stopped');
  }

  collection(database: string, name: string): SeedCollection {
    const store = this.#store;
    return {
      insertMany(documents) {
        const result = store.ensureCollection(database, name).insert(documents as Document[], true);
        const failure = result.writeErrors[0];
        if (failure) {
          throw new Error(`insertMany into ${database}.${name} failed at document ${failure.index}: ${failure.errmsg}`);
        }
      },
      deleteAll() {
        store.getCollection(database, name)?.deleteAll();
      },
      count() {
        return store.getCollection(database, name)?.count() ?? 0;
      },
    };
  }

  /** Delays every find, aggregate and count reply by `ms` milliseconds. A value of 0 turns the delay off. */
  setCommandDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`command delay must be a non-negative number of milliseconds, got ${ms}`);
    }
    this.#commandDelayMs = ms;
  }

  #acceptConnection(socket: net.Socket): void {
    const connectionId = this.#nextConnectionId++;
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    this.#logger.debug({ connectionId, remote }, 'MongoDB wire connection opened');

    const framer = new MessageFramer();
    // Replies on one connection go out in request order, even when one request waits for a command delay.
    let queue = Promise.resolve();

    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (error) {
        this.#logger.warn({ err: error, connectionId }, 'Closing MongoDB wire connection: invalid message framing');
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        queue = queue
          .then(() => this.#handleFrame(socket, connectionId, frame))
          .catch((error: unknown) => {
            this.#logger.error({ err: error, connectionId }, 'Closing MongoDB wire connection: failed to send a reply');
            socket.destroy();
          });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const level = error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'debug' : 'warn';
      this.#logger[level]({ err: error, connectionId }, 'MongoDB wire connection error');
    });
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#logger.debug({ connectionId }, 'MongoDB wire connection closed');
    });
  }

  async #handleFrame(socket: net.Socket, connectionId: number, frame: Buffer): Promise<void> {
    if (socket.destroyed) return;

    let request: WireRequest;
    try {
      request = parseRequest(frame);
    } catch (error) {
      // ProtocolError for bad framing or flags, BSONError for a corrupt document.
      this.#logger.warn({ err: error, connectionId }, 'Closing MongoDB wire connection: invalid message');
      socket.destroy();
      return;
    }

    const body = request.opCode === OP_MSG ? request.body : request.query;
    const reply = await this.#runRequest(request, connectionId);

    if (request.opCode === OP_MSG && request.moreToCome) return;
    if (socket.destroyed || !socket.writable) return;
    const requestId = this.#nextRequestId++;
    const message =
      request.opCode === OP_MSG ? encodeOpMsg(requestId, request.requestId, reply) : encodeOpReply(requestId, request.requestId, reply);
    socket.write(message);
    this.#logger.debug({ connectionId, command: commandName(body), ok: reply['ok'] }, 'MongoDB wire command response sent');
  }

  /** Runs the request's command and returns the reply document, converting every failure into an `ok: 0` reply. */
  async #runRequest(request: WireRequest, connectionId: number): Promise<Document> {
    try {
      const context = this.#createContext(request, connectionId);
      const body = request.opCode === OP_MSG ? request.body : request.query;
      return await runCommand(body, context);
    } catch (error) {
      if (error instanceof CommandError) return error.toReply();
      if (this.#stopping.signal.aborted) return new CommandError('InternalError', 'the server is shutting down').toReply();

      this.#logger.error({ err: error, connectionId }, 'MongoDB wire command failed with an unexpected error');
      const message = error instanceof Error ? error.message : String(error);
      return new CommandError('InternalError', message).toReply();
    }
  }

  #createContext(request: WireRequest, connectionId: number): CommandContext {
    let database: string;
    if (request.opCode === OP_MSG) {
      database = requireDatabaseName(request.body);
    } else {
      database = legacyCommandDatabase(request.fullCollectionName, request.query);
    }
    return {
      store: this.#store,
      cursors: this.#cursors,
      database,
      connectionId,
      commandDelayMs: this.#commandDelayMs,
      signal: this.#stopping.signal,
    };
  }
}

/**
 * Returns the database of a legacy OP_QUERY command. Only the handshake commands are accepted
 * this way, and only on a `<db>.$cmd` namespace, as in mongod 5.1 and later.
 */
function legacyCommandDatabase(fullCollectionName: string, query: Document): string {
  const name = commandName(query);
  if (!fullCollectionName.endsWith('.$cmd') || !HANDSHAKE_COMMANDS.has(name)) {
    throw new CommandError(
      'UnsupportedOpQueryCommand',
      `Unsupported OP_QUERY command: ${name || '(empty)'} on ${fullCollectionName}. Send commands other than hello and isMaster as OP_MSG.`,
    );
  }
  return fullCollectionName.slice(0, -'.$cmd'.length);
}
