import Type from 'typebox';
import { fail, ok, type Result } from '../result.js';

/**
 * The inbox fields of a publish item: a notification's category, its expiry (`expires_at`, or `ttl_s` from
 * now) and its actions. The schemas check each alone; inboxFieldsOf checks what they cannot say: that only a
 * new_notification takes them, one expiry at most, action ids unique, a time that exists.
 */

export const Category = Type.String({
  pattern: '^[a-z0-9_.-]{1,64}$',
  description: "The notification's category: 1-64 characters of a-z, 0-9, _ . -; the inbox counts each apart",
});

/** RFC 3339 with a 4-digit year: what toISOString writes back (and SQLite compares as text) for every such time. */
export const ExpiresAt = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$',
  description: 'When the notification expires (RFC 3339): from then on it is neither listed nor counted',
});

/** Ten years: longer than any retention worth having, short enough that no expiry overflows a date. */
export const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

export const TtlSeconds = Type.Integer({
  minimum: 1,
  maximum: MAX_TTL_SECONDS,
  description: 'Seconds from now until the notification expires (instead of expires_at)',
});

export const ActionId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Unique within the notification' });

export const Action = Type.Object(
  {
    id: ActionId,
    label: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001F]*$', description: "The button's text" }),
    url: Type.Optional(Type.String({ maxLength: 2048, pattern: '^https?://[^\\u0000-\\u0020]+$', description: 'Where the action leads (http or https)' })),
  },
  { additionalProperties: false },
);

export const Actions = Type.Array(Action, { maxItems: 5, description: 'At most 5 buttons; the user takes one of them, once' });

interface InboxFields {
  type: string;
  expires_at?: string;
  ttl_s?: number;
  category?: string;
  actions?: readonly { id: string }[];
}

/** The item as it is when its inbox fields agree with each other; otherwise what is wrong, naming the field. */
export function inboxFieldsOf<Item extends InboxFields>(item: Item, root: string): Result<Item> {
  const given = (['category', 'expires_at', 'ttl_s', 'actions'] as const).filter((field) => item[field] !== undefined);
  if (item.type !== 'new_notification' && given.length > 0) {
    return fail(`${root}.${given[0]} is for new_notification only: a ${item.type} is not kept in the inbox`);
  }
  if (item.expires_at !== undefined && item.ttl_s !== undefined) return fail(`${root} must give expires_at or ttl_s, not both`);
  if (item.expires_at !== undefined) {
    const time = Date.parse(item.expires_at);
    // The pattern passes 2026-02-30 and 25:00: a time that does not exist is refused, not rolled over.
    if (Number.isNaN(time) || !sameCalendar(item.expires_at, time)) return fail(`${root}.expires_at is not a valid time`);
    // Years 1 to 9999 in UTC: what toISOString writes in 24 characters, SQLite compares as text and PostgreSQL's
    // timestamptz takes (an offset can move 0001-01-01 into year 0, which it refuses).
    const year = new Date(time).getUTCFullYear();
    if (year < 1 || year > 9999) return fail(`${root}.expires_at must be in the years 0001 to 9999 (UTC)`);
  }
  const ids = item.actions?.map((action) => action.id) ?? [];
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) return fail(`${root}.actions has the id ${JSON.stringify(repeated)} twice`);
  return ok(item);
}

/** Whether the date and time written in `text` are the ones `time` is, in the text's own offset. */
function sameCalendar(text: string, time: number): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})/.exec(text)!;
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const offsetMs = offset === null ? 0 : (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
  const local = new Date(time + offsetMs);
  return (
    local.getUTCFullYear() === Number(match[1]) &&
    local.getUTCMonth() + 1 === Number(match[2]) &&
    local.getUTCDate() === Number(match[3]) &&
    local.getUTCHours() === Number(match[4]) &&
    local.getUTCMinutes() === Number(match[5]) &&
    local.getUTCSeconds() === Number(match[6])
  );
}
