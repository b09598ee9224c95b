import type { Notification } from '@herald/protocol';

export interface NotificationPage {
  items: Notification[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

export interface UnreadCount {
  count: number;
  /** The user's latest seq when counted: stream events after it are not in `count`. */
  seq: number;
}

export interface ListOptions {
  status?: 'unread' | 'read' | 'all';
  limit?: number;
  cursor?: string;
}

/** A REST call Herald answered with an error status; `code` is Herald's error code (`unauthorized`, ...). */
export class HeraldApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HeraldApiError';
  }
}

export interface InboxApiOptions {
  baseUrl: string;
  /** The token to send; `fresh` asks for a new one after a 401. */
  token: (fresh: boolean) => Promise<string>;
  fetch: typeof fetch;
}

/** The user's inbox over Herald's REST API (list, count, mark read), authenticated with the same token. */
export class InboxApi {
  constructor(private readonly options: InboxApiOptions) {}

  list(options: ListOptions = {}): Promise<NotificationPage> {
    const query = new URLSearchParams();
    if (options.status !== undefined) query.set('status', options.status);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const search = query.size > 0 ? `?${query}` : '';
    return this.request<NotificationPage>('GET', `/notifications${search}`);
  }

  unreadCount(): Promise<UnreadCount> {
    return this.request<UnreadCount>('GET', '/notifications/unread-count');
  }

  /** Marks these notifications read; resolves to the ids that were unread until now. */
  async markRead(ids: readonly string[]): Promise<string[]> {
    const body = await this.request<{ notification_ids: string[] }>('POST', '/notifications/mark-read', { notification_ids: ids });
    return body.notification_ids;
  }

  /** Marks everything read; resolves to whether anything was unread. */
  async markAllRead(): Promise<boolean> {
    return (await this.request<{ changed: boolean }>('POST', '/notifications/mark-all-read', {})).changed;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response = await this.send(method, path, body, false);
    // A token that expired since it was fetched gets one fresh try, as a reconnect would.
    if (response.status === 401) response = await this.send(method, path, body, true);
    const text = await response.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      const error = (parsed ?? {}) as { error?: string; message?: string };
      throw new HeraldApiError(response.status, error.error ?? 'http_error', error.message ?? `HTTP ${response.status}`);
    }
    return parsed as T;
  }

  private async send(method: string, path: string, body: unknown, freshToken: boolean): Promise<Response> {
    const token = await this.options.token(freshToken);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Called detached: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    const { fetch: send } = this.options;
    return send(new URL(path, this.options.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
