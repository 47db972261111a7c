/**
 * A small SNS-compatible HTTP endpoint for demos and tests. It handles the Publish action, records
 * each message and can simulate failures. It does not check request signatures and keeps no topics.
 *
 * @aws-sdk/client-sns 3.1178 sends the AWS Query protocol: a form-encoded POST such as
 * `Action=Publish&Version=2010-03-31&TopicArn=…&Message=…&MessageAttributes.entry.1.Name=…`,
 * answered with XML. The server also accepts the AWS JSON 1.0 form (`X-Amz-Target:
 * AmazonSimpleNotificationService.Publish`), in case a later SDK switches to it.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const XML_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
const JSON_TARGET = 'AmazonSimpleNotificationService.Publish';
/** SNS's default maximum size of a message and its attributes, in bytes. */
const MAX_MESSAGE_BYTES = 262_144;
/** Requests above this size are rejected before parsing. Percent-encoding makes the Query form of a 256 KiB message up to three times as long. */
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** SNS requires subjects of fewer than 100 characters. */
const MAX_SUBJECT_LENGTH = 99;

export interface LocalSnsAttribute {
  dataType: string;
  /** StringValue, or BinaryValue in base64. */
  value: string;
}

export interface LocalSnsPublish {
  messageId: string;
  topicArn: string;
  subject: string | undefined;
  message: string;
  attributes: Record<string, LocalSnsAttribute>;
  /** Wire protocol of the request. */
  protocol: 'query' | 'json';
}

export interface LocalSnsServerOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default 0, which picks a free port. */
  port?: number;
  /** Called after each accepted publish is recorded. */
  onPublish?: (publish: LocalSnsPublish) => void;
}

/** An SNS error response: the HTTP status and the error code the SDK maps to an exception. */
interface SnsFailure {
  status: number;
  code: string;
  message: string;
}

interface PublishRequest {
  action: string | undefined;
  topicArn: string | undefined;
  subject: string | undefined;
  message: string | undefined;
  attributes: Record<string, LocalSnsAttribute>;
  protocol: 'query' | 'json';
}

export class LocalSnsServer {
  readonly published: LocalSnsPublish[] = [];
  onPublish: ((publish: LocalSnsPublish) => void) | undefined;
  private readonly host: string;
  private readonly port: number;
  private server: http.Server | undefined;
  private readonly failures: number[] = [];

  constructor(options: LocalSnsServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.onPublish = options.onPublish;
  }

  /** Starts listening and returns the endpoint URL, the value of an SNS client's `endpoint` option. */
  async start(): Promise<{ endpoint: string }> {
    const server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        respondError(response, 'query', { status: 500, code: 'InternalError', message: (error as Error).message });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { endpoint: `http://${host}:${address.port}` };
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) {
      return;
    }
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes the next `count` publish requests fail with this HTTP status, without recording them. */
  failNext(count: number, status = 500): void {
    for (let index = 0; index < count; index += 1) {
      this.failures.push(status);
    }
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const isJson = (request.headers['content-type'] ?? '').includes('application/x-amz-json');
    const protocol = isJson ? 'json' : 'query';
    if (request.method !== 'POST') {
      respondError(response, protocol, { status: 405, code: 'InvalidAction', message: `Method ${request.method ?? ''} is not supported; send a POST` });
      return;
    }

    const body = await readBody(request);
    if (body === undefined) {
      respondError(response, protocol, { status: 413, code: 'InvalidParameter', message: `Request body is larger than ${MAX_REQUEST_BYTES} bytes` });
      return;
    }

    const publish = isJson ? parseJsonRequest(body, request.headers['x-amz-target']) : parseQueryRequest(body);
    const failure = this.takeFailure() ?? validatePublish(publish);
    if (failure !== undefined) {
      respondError(response, protocol, failure);
      return;
    }

    const record: LocalSnsPublish = {
      messageId: randomUUID(),
      topicArn: publish.topicArn ?? '',
      subject: publish.subject,
      message: publish.message ?? '',
      attributes: publish.attributes,
      protocol,
    };
    this.published.push(record);
    this.onPublish?.(record);
    respondPublished(response, protocol, record.messageId);
  }

  private takeFailure(): SnsFailure | undefined {
    const status = this.failures.shift();
    if (status === undefined) {
      return undefined;
    }
    return { status, code: errorCodeForStatus(status), message: `Simulated failure with HTTP ${status}` };
  }
}

/** Reads the whole body, or returns undefined when it exceeds MAX_REQUEST_BYTES. */
async function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_REQUEST_BYTES) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseQueryRequest(body: string): PublishRequest {
  const form = new URLSearchParams(body);
  const attributes: Record<string, LocalSnsAttribute> = {};
  // Map entries are numbered from 1 without gaps: MessageAttributes.entry.1.Name, .entry.1.Value.DataType, ...
  for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index += 1) {
    const prefix = `MessageAttributes.entry.${index}`;
    const name = form.get(`${prefix}.Name`) ?? '';
    attributes[name] = {
      dataType: form.get(`${prefix}.Value.DataType`) ?? '',
      value: form.get(`${prefix}.Value.StringValue`) ?? form.get(`${prefix}.Value.BinaryValue`) ?? '',
    };
  }
  return {
    action: form.get('Action') ?? undefined,
    topicArn: form.get('TopicArn') ?? form.get('TargetArn') ?? undefined,
    subject: form.get('Subject') ?? undefined,
    message: form.get('Message') ?? undefined,
    attributes,
    protocol: 'query',
  };
}

function parseJsonRequest(body: string, target: string | string[] | undefined): PublishRequest {
  const action = target === JSON_TARGET ? 'Publish' : String(target ?? '');
  let input: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(body === '' ? '{}' : body);
    if (typeof parsed === 'object' && parsed !== null) {
      input = parsed as Record<string, unknown>;
    }
  } catch {
    return { action, topicArn: undefined, subject: undefined, message: undefined, attributes: {}, protocol: 'json' };
  }

  const attributes: Record<string, LocalSnsAttribute> = {};
  const rawAttributes = input.MessageAttributes;
  if (typeof rawAttributes === 'object' && rawAttributes !== null) {
    for (const [name, raw] of Object.entries(rawAttributes as Record<string, Record<string, unknown>>)) {
      attributes[name] = { dataType: stringOrEmpty(raw.DataType), value: stringOrEmpty(raw.StringValue ?? raw.BinaryValue) };
    }
  }
  return {
    action,
    topicArn: optionalString(input.TopicArn) ?? optionalString(input.TargetArn),
    subject: optionalString(input.Subject),
    message: optionalString(input.Message),
    attributes,
    protocol: 'json',
  };
}

/** Applies the checks SNS makes on a Publish request that this server can reproduce. */
function validatePublish(publish: PublishRequest): SnsFailure | undefined {
  const invalid = (message: string): SnsFailure => ({ status: 400, code: 'InvalidParameter', message: `Invalid parameter: ${message}` });
  if (publish.action !== 'Publish') {
    return { status: 400, code: 'InvalidAction', message: `Action ${publish.action ?? '(missing)'} is not supported; only Publish is` };
  }
  if (publish.topicArn === undefined || publish.topicArn === '') {
    return invalid('TopicArn is missing');
  }
  if (publish.message === undefined || publish.message === '') {
    return { status: 400, code: 'InvalidParameter', message: 'Empty message' };
  }
  if (publish.subject !== undefined && !/^[\x21-\x7E][\x20-\x7E]*$/.test(publish.subject)) {
    return invalid('Subject must be printable ASCII that starts with a letter, digit or punctuation mark');
  }
  if (publish.subject !== undefined && publish.subject.length > MAX_SUBJECT_LENGTH) {
    return invalid(`Subject is ${publish.subject.length} characters; it must be fewer than 100`);
  }
  const size = messageSize(publish);
  if (size > MAX_MESSAGE_BYTES) {
    return invalid(`Message too long: ${size} bytes with attributes, above ${MAX_MESSAGE_BYTES}`);
  }
  return undefined;
}

function messageSize(publish: PublishRequest): number {
  let size = Buffer.byteLength(publish.message ?? '');
  for (const [name, attribute] of Object.entries(publish.attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(attribute.dataType) + Buffer.byteLength(attribute.value);
  }
  return size;
}

/** Returns the error code SNS sends with a status. The SDK maps each code to an exception, such as Throttled to ThrottledException. */
function errorCodeForStatus(status: number): string {
  switch (status) {
    case 403:
      return 'AuthorizationError';
    case 404:
      return 'NotFound';
    case 429:
      return 'Throttled';
    default:
      return status >= 500 ? 'InternalError' : 'InvalidParameter';
  }
}

function respondPublished(response: http.ServerResponse, protocol: 'query' | 'json', messageId: string): void {
  const requestId = randomUUID();
  response.setHeader('x-amzn-requestid', requestId);
  if (protocol === 'json') {
    response.setHeader('content-type', 'application/x-amz-json-1.0');
    response.end(JSON.stringify({ MessageId: messageId }));
    return;
  }
  response.setHeader('content-type', 'text/xml');
  response.end(
    `<PublishResponse xmlns="${XML_NAMESPACE}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
  );
}

function respondError(response: http.ServerResponse, protocol: 'query' | 'json', failure: SnsFailure): void {
  const requestId = randomUUID();
  const type = failure.status >= 500 ? 'Receiver' : 'Sender';
  response.statusCode = failure.status;
  response.setHeader('x-amzn-requestid', requestId);
  if (protocol === 'json') {
    response.setHeader('content-type', 'application/x-amz-json-1.0');
    response.setHeader('x-amzn-query-error', `${failure.code};${type}`);
    response.end(JSON.stringify({ __type: failure.code, message: failure.message }));
    return;
  }
  response.setHeader('content-type', 'text/xml');
  response.end(
    `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${failure.code}</Code>` +
      `<Message>${escapeXml(failure.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringOrEmpty(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
