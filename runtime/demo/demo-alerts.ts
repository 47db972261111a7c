/**
 * Where the demo's alerts go: a local SNS-compatible endpoint and a local stand-in for a Slack
 * incoming webhook, both on 127.0.0.1, printing every alert they receive.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalSnsServer } from '../notify/local-sns-server.js';
import { SnsClientCache } from '../notify/sns-clients.js';
import type { NotifierOptions } from '../notify/create-notifier.js';

/** A topic ARN in AWS's documentation account, used only by the demo's local SNS endpoint. */
export const DEMO_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:toolshed-demo-alerts';

export interface DemoAlerts {
  /** Environment the tools' `${env:...}` notifier settings are read from. */
  env: NodeJS.ProcessEnv;
  notifierOptions: NotifierOptions;
  stop(): Promise<void>;
}

export async function startDemoAlerts(print: (line: string) => void): Promise<DemoAlerts> {
  const sns = new LocalSnsServer({
    onPublish: (publish) => print(`[alert via SNS] ${publish.subject ?? ''} | severity=${publish.attributes.severity?.value ?? '-'}\n  ${publish.message.replace(/\n/g, '\n  ')}`),
  });
  const { endpoint } = await sns.start();

  const slack = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { text?: string };
      print(`[alert via Slack webhook] ${body.text ?? ''}`);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  const slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/demo`;

  return {
    env: { ...process.env, TOOLSHED_ALERT_TOPIC_ARN: DEMO_TOPIC_ARN, TOOLSHED_ALERT_SLACK_WEBHOOK: slackUrl, TOOLSHED_SNS_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' },
    notifierOptions: {
      // Static credentials: the local endpoint accepts any, and the demo must never reach AWS.
      sns: { clients: new SnsClientCache({ credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } }), env: { TOOLSHED_SNS_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' } },
      slack: { allowInsecureLocal: true },
    },
    stop: async () => {
      await sns.stop();
      await new Promise<void>((resolve) => slack.close(() => resolve()));
    },
  };
}
