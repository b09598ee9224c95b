/** The two ways Centrifugo is run beside Herald: a personal channel per user, with or without a stream to recover from. */
export type CentrifugoMode = 'plain' | 'history';

/** The namespace of the personal channels; a user's channel is `personal:#<user>`. */
export const PERSONAL_NAMESPACE = 'personal';

export function personalChannel(user: string): string {
  return `${PERSONAL_NAMESPACE}:#${user}`;
}

export interface CentrifugoSettings {
  mode: CentrifugoMode;
  port: number;
  /** HS256 secret of the client tokens (`sub` is the user). */
  jwtSecret: string;
  /** The HTTP API's key, sent as `X-API-Key`. */
  apiKey: string;
}

/**
 * Centrifugo 6's configuration doing Herald's job: every connection authenticated by an HS256 JWT and subscribed
 * by the server to its user's personal channel, publishing through the HTTP API. In `history` mode the channel
 * keeps the last 100 publications for 300 s and clients recover from them, which is the part of Herald's job
 * that stores (in memory here, where Herald stores durably). Health and pprof are on, for readiness and for
 * forcing a GC before memory is read; nothing else is changed from the defaults.
 */
export function centrifugoConfig(settings: CentrifugoSettings): Record<string, unknown> {
  const history = settings.mode === 'history' ? { history_size: 100, history_ttl: '300s', force_recovery: true } : {};
  return {
    http_server: { address: '127.0.0.1', port: settings.port },
    // Info logs the start-up (GOMAXPROCS among it) and nothing per connection or publication.
    log: { level: 'info' },
    usage_stats: { disabled: true },
    health: { enabled: true },
    debug: { enabled: true },
    http_api: { key: settings.apiKey },
    client: {
      token: { hmac_secret_key: settings.jwtSecret },
      subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: PERSONAL_NAMESPACE },
    },
    channel: { namespaces: [{ name: PERSONAL_NAMESPACE, ...history }] },
  };
}
