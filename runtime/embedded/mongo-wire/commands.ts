/** Command dispatch by name, plus the handshake and administrative commands the driver sends. */

import { calculateObjectSize, type Document } from 'bson';
import { optionalBoolean, optionalDocument } from './arguments.js';
import type { CommandContext, CommandHandler } from './context.js';
import { CommandError } from './errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES } from './protocol.js';
import { createMatcher } from './query.js';
import { READ_COMMANDS } from './read-commands.js';
import { MAX_WRITE_BATCH_SIZE, WRITE_COMMANDS } from './write-commands.js';

/** Wire version of MongoDB 7.0, the version this server reports. */
export const MAX_WIRE_VERSION = 21;

/** The names a legacy OP_QUERY may carry: mongod 5.1 and later accept no other command that way. */
export const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

function createHelloHandler(legacy: boolean): CommandHandler {
  return (body, context) => {
    const reply: Document = legacy ? { ismaster: true } : { isWritablePrimary: true };
    // A client that sends helloOk with a legacy hello learns that it may switch to `hello`.
    if (legacy && optionalBoolean(body, 'helloOk') === true) reply['helloOk'] = true;
    // NOTE: the reply carries no topologyVersion, so the driver polls hello instead of
    // streaming it with moreToCome replies, which this server does not send.
    return {
      ...reply,
      maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: context.connectionId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
    };
  };
}

const buildInfo: CommandHandler = () => ({
  version: '7.0.0',
  versionArray: [7, 0, 0, 0],
  gitVersion: 'toolshed-embedded',
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['memory'],
});

/** Parameters that getParameter can return. Other names fail with InvalidOptions, as in mongod. */
const PARAMETERS: Document = {
  featureCompatibilityVersion: { version: '7.0' },
};

const getParameter: CommandHandler = (body) => {
  const requested = Object.keys(body).filter((key) => key !== 'getParameter' && !key.startsWith('$') && key !== 'lsid');
  const everything = body['getParameter'] === '*';
  const reply: Document = {};
  for (const name of everything ? Object.keys(PARAMETERS) : requested) {
    if (!(name in PARAMETERS)) throw new CommandError('InvalidOptions', `no option found to get: ${name}`);
    reply[name] = PARAMETERS[name];
  }
  return reply;
};

const listDatabases: CommandHandler = (body, context) => {
  if (context.database !== 'admin') {
    throw new CommandError('Unauthorized', 'listDatabases may only be run against the admin database.');
  }
  const nameOnly = optionalBoolean(body, 'nameOnly') ?? false;
  const filter = optionalDocument(body, 'filter') ?? {};

  const databases = context.store.listDatabases().map((name) => {
    // An estimate: the BSON size of the documents, without indexes or storage overhead.
    const sizeOnDisk = context.store
      .listCollections(name)
      .reduce((total, collection) => total + collection.documents.reduce((sum, document) => sum + calculateObjectSize(document), 0), 0);
    return { name, sizeOnDisk, empty: sizeOnDisk === 0 };
  });
  const matches = createMatcher(filter);
  const listed = databases.filter((database) => matches(database));

  if (nameOnly) return { databases: listed.map((database) => ({ name: database.name })) };
  const totalSize = listed.reduce((total, database) => total + database.sizeOnDisk, 0);
  return { databases: listed, totalSize, totalSizeMb: Math.floor(totalSize / (1024 * 1024)) };
};

const COMMANDS: Record<string, CommandHandler> = {
  hello: createHelloHandler(false),
  isMaster: createHelloHandler(true),
  ismaster: createHelloHandler(true),
  ping: () => ({}),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: () => ({}),
  listDatabases,
  ...READ_COMMANDS,
  ...WRITE_COMMANDS,
};

/** Returns the command name, which is the first field of the body. */
export function commandName(body: Document): string {
  return Object.keys(body)[0] ?? '';
}

/**
 * Runs one command and returns its reply, with `ok: 1` on success. A CommandError becomes an
 * `ok: 0` reply. Any other error is rethrown, so the server can log it as a defect.
 */
export async function runCommand(body: Document, context: CommandContext): Promise<Document> {
  const name = commandName(body);
  const handler = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!handler) return new CommandError('CommandNotFound', `no such command: '${name}'`).toReply();

  try {
    const reply = await handler(body, context);
    return { ...reply, ok: 1 };
  } catch (error) {
    if (error instanceof CommandError) return error.toReply();
    throw error;
  }
}
