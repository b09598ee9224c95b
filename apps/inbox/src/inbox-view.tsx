import { useNotifications } from '@herald/react';
import { useEffect } from 'react';
import { Bell } from './bell.js';
import { ConnectionStatus } from './connection-status.js';
import { NotificationList } from './notification-list.js';
import { TokenForm } from './token-form.js';
import { forgetToken } from './token-storage.js';

export interface InboxViewProps {
  herald: string;
  token: string;
  onNewToken(token: string): void;
  onSignOut(): void;
}

const PAGE_SIZE = 20;

/** One user's inbox: the bell, the connection state, the list and its actions. */
export function InboxView({ herald, token, onNewToken, onSignOut }: InboxViewProps) {
  const inbox = useNotifications({ url: herald, token, pageSize: PAGE_SIZE });

  // A refused token would be refused again after a reload; ask for a new one instead of keeping it.
  useEffect(() => {
    if (inbox.unauthorized) forgetToken();
  }, [inbox.unauthorized]);

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <header className="inbox__header">
        <Bell count={inbox.unreadCount} />
        <h1 id="inbox-title">Inbox</h1>
        <ConnectionStatus state={inbox.state} unauthorized={inbox.unauthorized} />
      </header>

      {inbox.unauthorized && (
        <TokenForm
          title="Token refused"
          reason="Herald refused this token: it expired, or it was signed with another secret. Paste a new one."
          onSubmit={onNewToken}
        />
      )}

      <div className="inbox__toolbar">
        <button type="button" onClick={() => void inbox.markAllRead()} disabled={inbox.unreadCount === 0} data-testid="mark-all-read">
          Mark all read
        </button>
        <button type="button" className="secondary" onClick={onSignOut} data-testid="sign-out">
          Use another token
        </button>
      </div>

      {inbox.error !== null && (
        <p className="inbox__error" role="alert" data-testid="error">
          {inbox.error}
        </p>
      )}

      <NotificationList notifications={inbox.notifications} loading={inbox.loading} onMarkRead={(id) => void inbox.markRead(id)} />

      {inbox.hasMore && (
        <button type="button" className="inbox__more secondary" onClick={() => void inbox.loadMore()} data-testid="load-more">
          Load more
        </button>
      )}
    </section>
  );
}
