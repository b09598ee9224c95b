import type { Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Writes to one user's rows that several writers share: the append past HERALD_MAX_NOTIFICATIONS_PER_USER, a
 * user's delete and the retention sweep. Each runs under the user's stream lock, in the caller's transaction.
 */

type Trx = Transaction<Database>;

/** Removes the user's `count` oldest notifications (by seq); returns how many there were to remove. */
export async function deleteOldestNotifications(trx: Trx, userId: string, count: number): Promise<number> {
  const oldest = trx.selectFrom('notifications').select('seq').where('user_id', '=', userId).orderBy('seq').limit(count);
  const result = await trx.deleteFrom('notifications').where('user_id', '=', userId).where('seq', 'in', oldest).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Keeps user_streams.notification_count true after `removed` of the user's notifications were deleted. */
export async function lowerNotificationCount(trx: Trx, userId: string, removed: number): Promise<void> {
  if (removed === 0) return;
  await trx
    .updateTable('user_streams')
    .set((eb) => ({ notification_count: eb('notification_count', '-', removed) }))
    .where('user_id', '=', userId)
    .execute();
}
