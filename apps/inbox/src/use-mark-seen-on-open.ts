import { useEffect, useRef, useState } from 'react';

export interface SeenTarget {
  /** The view's first page and the counts are in. */
  loaded: boolean;
  canAct: boolean;
  /** Changes whenever another list is shown (a tab chosen). */
  viewKey: string;
  /** Marks the listed notifications seen that are not yet. */
  markSeen(): void;
}

/**
 * Marks what the user has in front of them seen each time the panel opens: when it is first shown, when another
 * tab is chosen, and when the browser tab comes back to the front. What arrives while it stays open is left
 * unseen until it opens again, so that the unseen count means "arrived since you last looked".
 */
export function useMarkSeenOnOpen({ loaded, canAct, viewKey, markSeen }: SeenTarget): void {
  const [opened, setOpened] = useState(0);
  const handled = useRef(-1);

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') setOpened((count) => count + 1);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  useEffect(() => setOpened((count) => count + 1), [viewKey]);

  useEffect(() => {
    if (handled.current === opened || !loaded || !canAct || document.visibilityState !== 'visible') return;
    handled.current = opened;
    markSeen();
  }, [opened, loaded, canAct, markSeen]);
}
