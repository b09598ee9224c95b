import { fullTime, relativeTime } from './relative-time.js';
import { useNow } from './use-now.js';

export interface RelativeTimeLabelProps {
  /** An ISO 8601 time, as Herald gives it. */
  dateTime: string;
}

/** "2 min ago", kept current; the exact time in the tooltip and the `dateTime` attribute. */
export function RelativeTimeLabel({ dateTime }: RelativeTimeLabelProps) {
  const now = useNow();
  const then = Date.parse(dateTime);
  return (
    <time className="item__time" dateTime={dateTime} title={fullTime(then)} data-testid="notification-time">
      {relativeTime(then, now)}
    </time>
  );
}
