/** SNS clients shared by every SNS notifier: one per region and endpoint, created on first use. */
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';

export interface SnsClientCacheOptions {
  /** Credentials or a credential provider. Default: the SDK's default chain (environment, profile, SSO, container or instance role). */
  credentials?: SNSClientConfig['credentials'];
}

export class SnsClientCache {
  private readonly clients = new Map<string, SNSClient>();

  constructor(private readonly options: SnsClientCacheOptions = {}) {}

  /**
   * Returns the client for a region and endpoint. An undefined region leaves it to the SDK's region
   * chain (`AWS_REGION`, then the profile's region), and an undefined endpoint means AWS.
   */
  get(region: string | undefined, endpoint: string | undefined): SNSClient {
    const key = `${region ?? ''}\n${endpoint ?? ''}`;
    const existing = this.clients.get(key);
    if (existing !== undefined) {
      return existing;
    }

    // Delivery retries are done by deliverAll, which also records the attempts. SDK retries on top
    // of those would multiply them.
    const config: SNSClientConfig = { maxAttempts: 1 };
    // Unset keys are left out, so that the SDK runs its own chains for them.
    if (region !== undefined) config.region = region;
    if (endpoint !== undefined) config.endpoint = endpoint;
    if (this.options.credentials !== undefined) config.credentials = this.options.credentials;

    const client = new SNSClient(config);
    this.clients.set(key, client);
    return client;
  }

  /** Number of clients created so far. */
  get size(): number {
    return this.clients.size;
  }

  /** Closes every client's connections and empties the cache. */
  destroy(): void {
    for (const client of this.clients.values()) {
      client.destroy();
    }
    this.clients.clear();
  }
}

/** The cache SNS notifiers use when none is passed, with the SDK's default credential chain. */
export const defaultSnsClients = new SnsClientCache();
