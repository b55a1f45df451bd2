/** The chat namespace the load driver publishes and subscribes in (`chat:<room>`). */
export const centrifugoNamespace = 'chat';

export interface CentrifugoNodeOptions {
  port: number;
  internalPort: number;
  redisUrl: string;
  hmacSecret: string;
}

/**
 * One node's configuration (Centrifugo v6 key names, as `centrifugo defaultconfig` prints them):
 * the Redis engine shared by every node, client JWTs checked with an HMAC secret, and a `chat`
 * namespace where any connected client may subscribe and subscribers may publish, with history and
 * recovery on (so a publication gets a per-channel offset and a reconnecting client can catch
 * up, as a Chorus client can). Loopback only; usage statistics off, so nothing leaves the machine.
 */
export function centrifugoNodeConfig(options: CentrifugoNodeOptions): Record<string, unknown> {
  return {
    http_server: {
      address: '127.0.0.1',
      port: options.port,
      internal_address: '127.0.0.1',
      internal_port: String(options.internalPort),
    },
    log: { level: 'warn' },
    client: { token: { hmac_secret_key: options.hmacSecret } },
    engine: { type: 'redis', redis: { address: [options.redisUrl] } },
    channel: {
      namespaces: [
        {
          name: centrifugoNamespace,
          allow_subscribe_for_client: true,
          allow_publish_for_subscriber: true,
          history_size: 1000,
          history_ttl: '600s',
          force_recovery: true,
        },
      ],
    },
    health: { enabled: true },
    usage_stats: { disabled: true },
  };
}
