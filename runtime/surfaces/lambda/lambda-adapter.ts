/**
 * Serves the same Fastify app from AWS Lambda behind API Gateway. @fastify/aws-lambda turns each
 * event into an in-process request; API Gateway delivers form bodies base64-encoded, and the
 * adapter decodes them to the exact bytes Slack signed.
 */
import awsLambdaFastify from '@fastify/aws-lambda';
import type { FastifyInstance } from 'fastify';

export type LambdaHandler = ReturnType<typeof awsLambdaFastify>;

export function lambdaHandlerFor(app: FastifyInstance): LambdaHandler {
  // NOTE: Lambda freezes the process once the response is returned, so a Slack answer deferred to
  // response_url is only delivered while the environment stays warm; give slow tools a budget
  // (slack.ack_budget_ms) that lets them answer in the response.
  return awsLambdaFastify(app, { callbackWaitsForEmptyEventLoop: false });
}
