/**
 * The HTTP surface: a Fastify app that lists tools, describes them and runs them through the
 * engine. Every response is JSON; errors have a code from the catalogue and never a stack trace
 * or SQL.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { Logger } from 'pino';
import { ERROR_STATUS, type ErrorCode, type FieldError } from '../../errors.js';
import type { Engine } from '../../engine/engine.js';
import type { Principal } from '../../engine/principal.js';
import { ApiKeys } from './api-keys.js';
import { registerToolRoutes } from './tool-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { UsageLog } from '../../audit/usage-log.js';
import type { ChecksService } from '../../checks/checks-service.js';
import { registerCheckRoutes } from './check-routes.js';

export interface HttpServerOptions {
  engine: Engine;
  apiKeys: ApiKeys;
  logger: Logger;
  bodyLimit: number;
  audit?: AuditLog;
  usage?: UsageLog;
  checks?: ChecksService;
  /** Extra routes (Slack and others) that authenticate in their own way. */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Route prefixes served without an API key. */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/slack/'];

export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  });

  await app.register(formbody, { bodyLimit: options.bodyLimit });

  app.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_PREFIXES.some((prefix) => request.url.startsWith(prefix))) return;
    const result = options.apiKeys.authenticate(request.headers.authorization);
    if (result.ok) {
      request.principal = result.principal;
      return;
    }
    request.log.info({ reason: result.reason }, 'request rejected: not authenticated');
    const message =
      result.reason === 'missing'
        ? 'This endpoint needs an API key. Send it as the header: Authorization: Bearer YOUR_KEY.'
        : result.reason === 'malformed'
          ? 'The Authorization header must be "Bearer YOUR_KEY".'
          : 'The API key is not valid. Check it, or ask whoever runs toolshed for a new one.';
    const challenge = result.reason === 'missing' ? 'Bearer realm="toolshed"' : 'Bearer realm="toolshed", error="invalid_token"';
    reply.header('www-authenticate', challenge);
    return sendError(reply, request.id, 'TOOLSHED_ERR_UNAUTHORIZED', message);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = mapFrameworkError(error, options.bodyLimit);
    if (mapped.code === 'TOOLSHED_ERR_INTERNAL') request.log.error({ err: error }, 'request failed');
    else request.log.info({ error_code: mapped.code, detail: error.message }, 'request rejected');
    return sendError(reply, request.id, mapped.code, mapped.message);
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, request.id, 'TOOLSHED_ERR_ROUTE_NOT_FOUND', `There is nothing at ${request.method} ${truncate(request.url)}. The API is GET /tools, GET /tools/NAME and POST /tools/NAME/run.`));

  registerHealthRoutes(app, options.engine);
  registerToolRoutes(app, options.engine);
  if (options.audit !== undefined) registerAuditRoutes(app, options.engine, options.audit, options.usage);
  if (options.checks !== undefined) registerCheckRoutes(app, options.engine, options.checks);
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}

export function sendError(reply: FastifyReply, runId: string, code: ErrorCode, message: string, fields?: FieldError[]): FastifyReply {
  return reply
    .code(ERROR_STATUS[code])
    .type('application/json; charset=utf-8')
    .send({ run_id: runId, ok: false, error: { code, message, ...(fields === undefined ? {} : { fields }) } });
}

/** Principal of an authenticated request; the onRequest hook guarantees one on private routes. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new Error('route reached without an authenticated principal');
  return request.principal;
}

function mapFrameworkError(error: FastifyError, bodyLimit: number): { code: ErrorCode; message: string } {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'TOOLSHED_ERR_BODY_TOO_LARGE', message: `The request body is larger than the limit of ${bodyLimit} bytes. Send only the tool's inputs.` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'TOOLSHED_ERR_UNSUPPORTED_MEDIA_TYPE', message: 'Send the inputs as application/json or application/x-www-form-urlencoded.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: 'The body is empty but the Content-Type says JSON. Send {} for a tool without inputs.' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: 'The Content-Length header does not match the body.' };
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: 'The body is not valid JSON. Send an object of inputs, such as {"email": "name@example.com"}.' };
  }
  if (error.statusCode === 413) return { code: 'TOOLSHED_ERR_BODY_TOO_LARGE', message: `The request body is larger than the limit of ${bodyLimit} bytes.` };
  if (error.statusCode === 415) return { code: 'TOOLSHED_ERR_UNSUPPORTED_MEDIA_TYPE', message: 'Send the inputs as application/json or application/x-www-form-urlencoded.' };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: 'The request is malformed. Check the method, headers and body.' };
  }
  return { code: 'TOOLSHED_ERR_INTERNAL', message: 'Something went wrong inside toolshed. Share the run id with whoever runs toolshed.' };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
