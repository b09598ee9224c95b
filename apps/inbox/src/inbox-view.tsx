import { useNotifications, type InboxView as ListView } from '@herald/react';
import { useCallback, useEffect, useState } from 'react';
import { Bell } from './bell.js';
import { CategoryTabs } from './category-tabs.js';
import { ConnectionStatus } from './connection-status.js';
import { NotificationList } from './notification-list.js';
import { TokenForm } from './token-form.js';
import { forgetToken } from './token-storage.js';
import { useMarkSeenOnOpen } from './use-mark-seen-on-open.js';

export interface InboxViewProps {
  herald: string;
  token: string;
  onNewToken(token: string): void;
  onSignOut(): void;
}

const PAGE_SIZE = 20;

/** One user's inbox: the bell, the connection state, the category tabs, the list and its actions. */
export function InboxView({ herald, token, onNewToken, onSignOut }: InboxViewProps) {
  const [view, setView] = useState<ListView>({ category: null, archived: false });
  const inbox = useNotifications({ url: herald, token, pageSize: PAGE_SIZE, category: view.category, archived: view.archived });
  const { markSeen } = inbox;
  const markListedSeen = useCallback(() => void markSeen(), [markSeen]);

  // A refused token would be refused again after a reload; ask for a new one instead of keeping it.
  useEffect(() => {
    if (inbox.unauthorized) forgetToken();
  }, [inbox.unauthorized]);

  const shown = inbox.view.category === view.category && inbox.view.archived === view.archived;
  useMarkSeenOnOpen({
    loaded: shown && !inbox.loading && !view.archived,
    canAct: inbox.canAct,
    viewKey: `${view.archived}:${view.category ?? ''}`,
    markSeen: markListedSeen,
  });

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

      <CategoryTabs categories={inbox.categories} counts={inbox.counts} view={view} onSelect={setView} />

      <div className="inbox__toolbar">
        <button
          type="button"
          onClick={() => void inbox.markAllRead()}
          disabled={inbox.unreadCount === 0 || !inbox.canAct}
          data-testid="mark-all-read"
        >
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

      <NotificationList
        notifications={inbox.notifications}
        loading={inbox.loading || !shown}
        canAct={inbox.canAct}
        emptyText={view.archived ? 'Nothing archived.' : view.category === null ? 'No notifications yet.' : `Nothing in ${view.category}.`}
        onMarkRead={(id) => void inbox.markRead(id)}
        onMarkUnread={(id) => void inbox.markUnread(id)}
        onArchive={(id) => void inbox.archive(id)}
        onUnarchive={(id) => void inbox.unarchive(id)}
        onDelete={(id) => void inbox.remove(id)}
        onAct={(id, actionId) => void inbox.act(id, actionId)}
      />

      {inbox.hasMore && (
        <button type="button" className="inbox__more secondary" onClick={() => void inbox.loadMore()} data-testid="load-more">
          Load more
        </button>
      )}
    </section>
  );
}
