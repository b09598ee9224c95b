import type { Notification } from '@herald/react';
import { safeUrl } from './safe-url.js';

export interface NotificationActionsProps {
  notification: Notification;
  canAct: boolean;
  onAct(id: string, actionId: string): void;
}

/**
 * A notification's actions as buttons, until one is taken; then which one it was. Herald records the first
 * action only, so the buttons do not come back. An action with a URL opens it as well.
 */
export function NotificationActions({ notification, canAct, onAct }: NotificationActionsProps) {
  const { actions, actioned } = notification;
  if (actions.length === 0) return null;
  if (actioned !== null) {
    const taken = actions.find((action) => action.id === actioned.id);
    return (
      <p className="item__actioned" data-testid="actioned" data-action-id={actioned.id}>
        ✓ {taken?.label ?? actioned.id}
      </p>
    );
  }
  return (
    <div className="item__actions" role="group" aria-label="Actions">
      {actions.map((action) => (
        <button
          key={action.id}
          type="button"
          disabled={!canAct}
          data-testid="action"
          data-action-id={action.id}
          onClick={() => {
            onAct(notification.id, action.id);
            // Opened in the click itself, where the browser allows a new tab.
            const url = safeUrl(action.url);
            if (url !== undefined) window.open(url, '_blank', 'noopener,noreferrer');
          }}
        >
          {action.label}
        </button>
      ))}
    </div>
  );
}
