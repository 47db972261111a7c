/** MongoDB wire protocol framing: parses OP_MSG and OP_QUERY requests, encodes OP_MSG and OP_REPLY responses. */

import { deserialize, serialize, type Document } from 'bson';
import { crc32c } from './crc32c.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** Size of the standard message header: messageLength, requestID, responseTo, opCode (int32 each). */
export const HEADER_SIZE = 16;

/** Largest message accepted, in bytes, and the `maxMessageSizeBytes` that hello reports. */
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;

/** Largest BSON document accepted, in bytes, and the `maxBsonObjectSize` that hello reports. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

const FLAG_CHECKSUM_PRESENT = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;
const FLAG_EXHAUST_ALLOWED = 1 << 16;
/** OP_MSG flag bits 0-15 are required: a receiver must reject a message that sets one it does not know. */
const REQUIRED_FLAG_MASK = 0xffff;
const KNOWN_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME | FLAG_EXHAUST_ALLOWED;

/** A malformed or unsupported message. The server closes the connection, as mongod does. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A command sent as OP_MSG, with every kind-1 document sequence merged into the body as an array field. */
export interface OpMsgRequest {
  opCode: typeof OP_MSG;
  requestId: number;
  /** The client expects no reply (moreToCome), as for unacknowledged writes. */
  moreToCome: boolean;
  body: Document;
}

/** A legacy OP_QUERY, which the driver still uses for the first `ismaster` of every connection. */
export interface OpQueryRequest {
  opCode: typeof OP_QUERY;
  requestId: number;
  fullCollectionName: string;
  query: Document;
}

export type WireRequest = OpMsgRequest | OpQueryRequest;

export function readHeader(frame: Uint8Array): MessageHeader {
  const view = viewOf(frame);
  return {
    messageLength: view.getInt32(0, true),
    requestId: view.getInt32(4, true),
    responseTo: view.getInt32(8, true),
    opCode: view.getInt32(12, true),
  };
}

/**
 * Parses one complete message (header included).
 * Throws ProtocolError for an unknown opcode, a bad checksum or a section that does not fit the frame.
 */
export function parseRequest(frame: Uint8Array): WireRequest {
  const header = readHeader(frame);
  if (header.messageLength !== frame.length) {
    throw new ProtocolError(`message length ${header.messageLength} does not match the ${frame.length} bytes received`);
  }

  switch (header.opCode) {
    case OP_MSG:
      return parseOpMsg(frame, header);
    case OP_QUERY:
      return parseOpQuery(frame, header);
    case OP_COMPRESSED:
      throw new ProtocolError('OP_COMPRESSED is not supported: the server advertises no compressors');
    default:
      throw new ProtocolError(`unsupported opcode ${header.opCode}`);
  }
}

function parseOpMsg(frame: Uint8Array, header: MessageHeader): OpMsgRequest {
  const view = viewOf(frame);
  const flags = view.getUint32(HEADER_SIZE, true);
  const unknownRequired = flags & REQUIRED_FLAG_MASK & ~KNOWN_FLAGS;
  if (unknownRequired !== 0) {
    throw new ProtocolError(`OP_MSG sets unknown required flag bits 0x${unknownRequired.toString(16)}`);
  }

  let end = frame.length;
  if (flags & FLAG_CHECKSUM_PRESENT) {
    end -= 4;
    if (end < HEADER_SIZE + 4) throw new ProtocolError('OP_MSG is too short to carry a checksum');
    const expected = view.getUint32(end, true);
    const actual = crc32c(frame.subarray(0, end));
    if (expected !== actual) {
      throw new ProtocolError(`OP_MSG checksum mismatch: message carries 0x${expected.toString(16)}, computed 0x${actual.toString(16)}`);
    }
  }

  let body: Document | undefined;
  const sequences: Array<{ identifier: string; documents: Document[] }> = [];
  let offset = HEADER_SIZE + 4;
  while (offset < end) {
    const kind = frame[offset];
    offset += 1;
    if (kind === 0) {
      if (body !== undefined) throw new ProtocolError('OP_MSG contains more than one kind-0 section');
      const size = readDocumentSize(frame, offset, end);
      body = deserialize(frame.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('OP_MSG document sequence is truncated');
      const sectionSize = view.getInt32(offset, true);
      const sectionEnd = offset + sectionSize;
      if (sectionSize < 5 || sectionEnd > end) throw new ProtocolError(`OP_MSG document sequence size ${sectionSize} is out of range`);
      const [identifier, afterName] = readCString(frame, offset + 4, sectionEnd);
      const documents: Document[] = [];
      let position = afterName;
      while (position < sectionEnd) {
        const size = readDocumentSize(frame, position, sectionEnd);
        documents.push(deserialize(frame.subarray(position, position + size)));
        position += size;
      }
      sequences.push({ identifier, documents });
      offset = sectionEnd;
    } else {
      throw new ProtocolError(`OP_MSG section kind ${String(kind)} is not supported`);
    }
  }

  if (body === undefined) throw new ProtocolError('OP_MSG has no kind-0 body section');
  for (const sequence of sequences) {
    if (sequence.identifier in body) {
      throw new ProtocolError(`OP_MSG field '${sequence.identifier}' appears both in the body and as a document sequence`);
    }
    body[sequence.identifier] = sequence.documents;
  }

  return {
    opCode: OP_MSG,
    requestId: header.requestId,
    moreToCome: (flags & FLAG_MORE_TO_COME) !== 0,
    body,
  };
}

function parseOpQuery(frame: Uint8Array, header: MessageHeader): OpQueryRequest {
  const end = frame.length;
  // Layout after the header: int32 flags, cstring fullCollectionName, int32 numberToSkip,
  // int32 numberToReturn, query document, optional returnFieldsSelector document.
  const [fullCollectionName, afterName] = readCString(frame, HEADER_SIZE + 4, end);
  const queryOffset = afterName + 8;
  const size = readDocumentSize(frame, queryOffset, end);
  let query = deserialize(frame.subarray(queryOffset, queryOffset + size));

  // Drivers that send read preferences wrap the command as { $query: command, $readPreference: ... }.
  const wrapped: unknown = query['$query'];
  if (isPlainDocument(wrapped)) query = wrapped;

  return { opCode: OP_QUERY, requestId: header.requestId, fullCollectionName, query };
}

/** Encodes an OP_MSG reply with one kind-0 section and no checksum. */
export function encodeOpMsg(requestId: number, responseTo: number, document: Document): Buffer {
  const body = serialize(document);
  const message = Buffer.alloc(HEADER_SIZE + 4 + 1 + body.length);
  writeHeader(message, requestId, responseTo, OP_MSG);
  message.writeUInt32LE(0, HEADER_SIZE);
  message[HEADER_SIZE + 4] = 0;
  message.set(body, HEADER_SIZE + 5);
  return message;
}

/** Encodes an OP_REPLY carrying one document, the reply to a legacy OP_QUERY command. */
export function encodeOpReply(requestId: number, responseTo: number, document: Document): Buffer {
  const body = serialize(document);
  // After the header: int32 responseFlags, int64 cursorID, int32 startingFrom, int32 numberReturned.
  const prefixSize = 4 + 8 + 4 + 4;
  const message = Buffer.alloc(HEADER_SIZE + prefixSize + body.length);
  writeHeader(message, requestId, responseTo, OP_REPLY);
  message.writeInt32LE(0, HEADER_SIZE);
  message.writeBigInt64LE(0n, HEADER_SIZE + 4);
  message.writeInt32LE(0, HEADER_SIZE + 12);
  message.writeInt32LE(1, HEADER_SIZE + 16);
  message.set(body, HEADER_SIZE + prefixSize);
  return message;
}

/**
 * Splits a TCP byte stream into complete messages. Chunks are joined only once a whole message
 * has arrived, so a large message that comes in many chunks is copied once.
 */
export class MessageFramer {
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** Adds received bytes and returns every message they complete. Throws ProtocolError for an invalid length. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;

    const frames: Buffer[] = [];
    while (this.#buffered >= 4) {
      const length = this.#peekLength();
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE_BYTES) {
        throw new ProtocolError(`message length ${length} is outside ${HEADER_SIZE}..${MAX_MESSAGE_SIZE_BYTES} bytes`);
      }
      if (this.#buffered < length) break;
      frames.push(this.#take(length));
    }
    return frames;
  }

  #peekLength(): number {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32LE(0);
    return Buffer.concat(this.#chunks).readInt32LE(0);
  }

  #take(length: number): Buffer {
    const joined = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const frame = joined.subarray(0, length);
    const rest = joined.subarray(length);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return frame;
  }
}

export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function writeHeader(message: Buffer, requestId: number, responseTo: number, opCode: number): void {
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(requestId, 4);
  message.writeInt32LE(responseTo, 8);
  message.writeInt32LE(opCode, 12);
}

function readDocumentSize(frame: Uint8Array, offset: number, end: number): number {
  if (offset + 4 > end) throw new ProtocolError('BSON document is truncated');
  const size = viewOf(frame).getInt32(offset, true);
  if (size < 5 || offset + size > end) throw new ProtocolError(`BSON document size ${size} does not fit the message`);
  if (size > MAX_BSON_OBJECT_SIZE) throw new ProtocolError(`BSON document size ${size} exceeds ${MAX_BSON_OBJECT_SIZE} bytes`);
  return size;
}

/** Reads a NUL-terminated UTF-8 string, returning it and the offset just past the NUL. */
function readCString(frame: Uint8Array, offset: number, end: number): [string, number] {
  const nul = frame.indexOf(0, offset);
  if (nul === -1 || nul >= end) throw new ProtocolError('string field has no terminating NUL byte');
  return [Buffer.from(frame.buffer, frame.byteOffset + offset, nul - offset).toString('utf8'), nul + 1];
}

function viewOf(frame: Uint8Array): DataView {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
}
