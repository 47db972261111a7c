/** Tests for the local SNS server: the Query and JSON wire forms, validation and simulated failures. */
import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { LocalSnsServer, type LocalSnsPublish } from '../../runtime/notify/local-sns-server.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:toolshed-alerts';

const seen: LocalSnsPublish[] = [];
const server = new LocalSnsServer({ onPublish: (publish) => seen.push(publish) });
let endpoint = '';
let client: SNSClient;

function postForm(fields: Record<string, string>): Promise<Response> {
  return fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
}

beforeAll(async () => {
  ({ endpoint } = await server.start());
  client = new SNSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

beforeEach(() => {
  server.published.length = 0;
  seen.length = 0;
});

describe('LocalSnsServer', () => {
  it('records an SDK publish', async () => {
    const output = await client.send(
      new PublishCommand({
        TopicArn: TOPIC_ARN,
        Subject: 'Hello & welcome',
        Message: 'line one\nline two +=&%',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'info' }, count: { DataType: 'Number', StringValue: '3' } },
      }),
    );

    expect(server.published).toHaveLength(1);
    const [published] = server.published;
    expect(output.MessageId).toBe(published?.messageId);
    expect(published).toMatchObject({
      topicArn: TOPIC_ARN,
      subject: 'Hello & welcome',
      message: 'line one\nline two +=&%',
      protocol: 'query',
      attributes: { severity: { dataType: 'String', value: 'info' }, count: { dataType: 'Number', value: '3' } },
    });
    expect(seen).toEqual(server.published);
  });

  it('maps simulated failures to SDK exceptions', async () => {
    server.failNext(1, 429);
    const error = await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'x' })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ThrottledException);
    expect((error as ThrottledException).$metadata.httpStatusCode).toBe(429);
    expect(server.published).toHaveLength(0);

    await client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'x' }));
    expect(server.published).toHaveLength(1);
  });

  it('answers the JSON protocol', async () => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSimpleNotificationService.Publish' },
      body: JSON.stringify({ TopicArn: TOPIC_ARN, Message: 'json body', Subject: 'Json', MessageAttributes: { tool: { DataType: 'String', StringValue: 'queue-backlog' } } }),
    });

    expect(response.status).toBe(200);
    const body = (await response.json()) as { MessageId: string };
    expect(body.MessageId).toBe(server.published[0]?.messageId);
    expect(server.published[0]).toMatchObject({ protocol: 'json', message: 'json body', subject: 'Json', attributes: { tool: { dataType: 'String', value: 'queue-backlog' } } });
  });

  it('answers JSON errors for JSON requests', async () => {
    server.failNext(1, 500);
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSimpleNotificationService.Publish' },
      body: JSON.stringify({ TopicArn: TOPIC_ARN, Message: 'x' }),
    });

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ __type: 'InternalError', message: 'Simulated failure with HTTP 500' });
  });

  it.each([
    ['an unknown action', { Action: 'Subscribe', TopicArn: TOPIC_ARN }, 'InvalidAction'],
    ['a missing topic', { Action: 'Publish', Message: 'x' }, 'TopicArn is missing'],
    ['an empty message', { Action: 'Publish', TopicArn: TOPIC_ARN, Message: '' }, 'Empty message'],
    ['a subject with a newline', { Action: 'Publish', TopicArn: TOPIC_ARN, Message: 'x', Subject: 'a\nb' }, 'Subject must be printable ASCII'],
    ['a subject of 100 characters', { Action: 'Publish', TopicArn: TOPIC_ARN, Message: 'x', Subject: 'a'.repeat(100) }, 'Subject is 100 characters'],
    ['a message above 256 KiB', { Action: 'Publish', TopicArn: TOPIC_ARN, Message: 'x'.repeat(262_145) }, 'Message too long'],
  ])('rejects %s', async (_name, fields, expected) => {
    const response = await postForm(fields);
    const body = await response.text();

    expect(response.status).toBe(400);
    expect(body).toContain('<ErrorResponse');
    expect(body).toContain(expected);
    expect(server.published).toHaveLength(0);
  });

  it('rejects GET', async () => {
    const response = await fetch(`${endpoint}/?Action=Publish`);
    expect(response.status).toBe(405);
  });

  it('stops twice without error', async () => {
    const other = new LocalSnsServer();
    await other.start();
    await other.stop();
    await expect(other.stop()).resolves.toBeUndefined();
  });
});
