import type { Notification } from '@herald/protocol';

/** Whether the notification's expires_at has passed at `now` (ms since the epoch); Herald lists and counts it no more. */
export function isExpired(notification: Pick<Notification, 'expires_at'>, now: number): boolean {
  return notification.expires_at !== null && Date.parse(notification.expires_at) <= now;
}

/** The earliest expiry still to come among these notifications, in ms since the epoch; undefined when none expires. */
export function nextExpiry(notifications: readonly Notification[], now: number): number | undefined {
  let next: number | undefined;
  for (const notification of notifications) {
    if (notification.expires_at === null) continue;
    const at = Date.parse(notification.expires_at);
    if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}
