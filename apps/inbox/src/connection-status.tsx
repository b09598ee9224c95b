import type { ConnectionState } from '@herald/react';

export interface ConnectionStatusProps {
  state: ConnectionState;
  unauthorized: boolean;
}

const LABELS: Record<ConnectionState | 'unauthorized', string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
  unauthorized: 'Unauthorized',
};

/** The connection state in words and colour; `data-state` is the same state as a word, for tests and styling. */
export function ConnectionStatus({ state, unauthorized }: ConnectionStatusProps) {
  // Only a client that stopped is shown as refused: one still retrying shows what it is doing.
  const shown = unauthorized && state === 'closed' ? 'unauthorized' : state;
  return (
    <p className={`status status--${shown}`} role="status" data-testid="connection-state" data-state={shown}>
      <span className="status__dot" aria-hidden="true" />
      {LABELS[shown]}
    </p>
  );
}
