import { useSyncExternalStore } from 'react';

/** Often enough that "1 min ago" turns into "2 min ago" within a quarter of a minute of being true. */
const TICK_MS = 15_000;

const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  now = Date.now();
  for (const listener of [...listeners]) listener();
}

function onVisible(): void {
  if (document.visibilityState === 'visible') tick();
}

/** One timer for every relative time on the page, running only while one is shown. */
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === undefined) {
    now = Date.now();
    timer = setInterval(tick, TICK_MS);
    // A tab in the background may have its timers slowed down; coming back shows the right times at once.
    document.addEventListener('visibilitychange', onVisible);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
      document.removeEventListener('visibilitychange', onVisible);
    }
  };
}

/** The current time in ms, updated every few seconds for as long as the component is mounted. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
