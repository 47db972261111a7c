/** Registers a Slack route whose body reaches the handler as the raw bytes Slack signed, and verifies them. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifySlackSignature } from './signature.js';

/** Slack's payloads are small; anything larger is not from Slack. */
export const MAX_SLACK_BODY_BYTES = 64 * 1024;

export type VerifiedHandler = (request: FastifyRequest, reply: FastifyReply, form: URLSearchParams) => Promise<FastifyReply>;

export async function registerVerifiedRoute(app: FastifyInstance, url: string, secrets: readonly string[], handler: VerifiedHandler): Promise<void> {
  await app.register(async (scope) => {
    // Slack signs the raw bytes, so the body must reach the handler unparsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_SLACK_BODY_BYTES }, (_request, body, done) => done(null, body));
    scope.post(url, async (request, reply) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verification = verifySlackSignature({ rawBody, timestamp: header(request, 'x-slack-request-timestamp'), signature: header(request, 'x-slack-signature'), secrets });
      if (!verification.ok) {
        request.log.warn({ reason: verification.reason, route: url }, 'slack request rejected: signature not verified');
        return reply.code(401).send({ ok: false, error: { code: 'TOOLSHED_ERR_UNAUTHORIZED', message: 'The request is not signed by Slack.' } });
      }
      return handler(request, reply, new URLSearchParams(rawBody.toString('utf8')));
    });
  });
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
