import type { CountsBody, Notification, NotificationActioned } from '@herald/protocol';

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

/** GET /notifications/counts: the unread and unseen counts, in total and per category, as of `seq`. */
export interface NotificationCounts extends CountsBody {
  /** The user's latest seq when counted: stream events after it are not in these counts. */
  seq: number;
}

export interface ListOptions {
  status?: 'unread' | 'read' | 'all';
  /** Only this category's notifications. */
  category?: string;
  /** `false` (Herald's default) lists the inbox, `true` the archive, `all` both. */
  archived?: 'false' | 'true' | 'all';
  limit?: number;
  cursor?: string;
}

/** Which notifications a bulk call changes, when not named by id: all of the user's that match every field given. */
export interface NotificationFilter {
  category?: string;
  status?: 'unread' | 'read';
}

/** The notifications a bulk call changes: these ids, or every one a filter matches. */
export type NotificationSelection = readonly string[] | NotificationFilter;

/** The bulk calls, each POST /notifications/<change> with the same body and answer. */
export type NotificationChange = 'mark-seen' | 'mark-read' | 'mark-unread' | 'archive' | 'unarchive' | 'delete';

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

/** The user's inbox over Herald's REST API (list, counts, the changes and actions), authenticated with the same token. */
export class InboxApi {
  constructor(private readonly options: InboxApiOptions) {}

  list(options: ListOptions = {}): Promise<NotificationPage> {
    const query = new URLSearchParams();
    for (const name of ['status', 'category', 'archived', 'limit', 'cursor'] as const) {
      const value = options[name];
      if (value !== undefined) query.set(name, String(value));
    }
    const search = query.size > 0 ? `?${query}` : '';
    return this.request<NotificationPage>('GET', `/notifications${search}`);
  }

  unreadCount(): Promise<UnreadCount> {
    return this.request<UnreadCount>('GET', '/notifications/unread-count');
  }

  counts(): Promise<NotificationCounts> {
    return this.request<NotificationCounts>('GET', '/notifications/counts');
  }

  /** Marks these notifications read (and seen); resolves to the ids that were unread until now. */
  markRead(selection: NotificationSelection): Promise<string[]> {
    return this.change('mark-read', selection);
  }

  /** Marks everything read; resolves to whether anything was unread. */
  async markAllRead(): Promise<boolean> {
    return (await this.request<{ changed: boolean }>('POST', '/notifications/mark-all-read', {})).changed;
  }

  /** One of the bulk changes; resolves to the ids it changed (those already so are left out). */
  async change(change: NotificationChange, selection: NotificationSelection): Promise<string[]> {
    const body = isIdList(selection) ? { notification_ids: selection } : { filter: selection };
    return (await this.request<{ notification_ids: string[] }>('POST', `/notifications/${change}`, body)).notification_ids;
  }

  /** Records that the user took action `actionId` of notification `id`; Herald keeps the first one only. */
  act(id: string, actionId: string): Promise<ActionAnswer> {
    return this.request<ActionAnswer>('POST', `/notifications/${encodeURIComponent(id)}/actions/${encodeURIComponent(actionId)}`, {});
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

/** What POST /notifications/{id}/actions/{action_id} answers: the action recorded (the first one, if taken before). */
export interface ActionAnswer {
  notification_id: string;
  actioned: NotificationActioned;
}

function isIdList(selection: NotificationSelection): selection is readonly string[] {
  return Array.isArray(selection);
}
