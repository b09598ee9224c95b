import Type from 'typebox';
import { NotificationId, UserId } from '../identifiers.js';
import { BroadcastBody as BroadcastInput, PublishBody as PublishInput } from '../ingest/decode-publish.js';
import { ActionId, Category } from '../ingest/inbox-fields.js';
import { Payload } from '../ingest/publish-item.js';

/**
 * The REST API's schemas: @fastify/swagger turns them into /openapi.json, and Fastify validates requests with
 * them, except the publish and broadcast bodies. Those come from ingest/, where the one decoder of each is, the
 * same for HTTP, Kafka and the library, so the document cannot drift from what is enforced.
 *
 * A schema with a `title` is one of the document's shared schemas: openapi.ts moves it under
 * components.schemas by that name and refers to it from every operation that uses it.
 */

export const PublishBody = { ...PublishInput, title: 'PublishRequest' };
export const BroadcastBody = { ...BroadcastInput, title: 'BroadcastRequest' };

export const PublishResponse = Type.Object({
  accepted: Type.Integer({ description: 'Items in the request' }),
  stored: Type.Integer({ description: 'Items stored now; the others were duplicates of an earlier id' }),
  events: Type.Array(
    Type.Object({
      user_id: Type.String(),
      seq: Type.Integer(),
      type: Type.String(),
      notification_id: Type.Optional(Type.String()),
    }),
  ),
}, { title: 'PublishResponse' });

export const BroadcastResponse = Type.Object({ connections: Type.Integer() }, { title: 'BroadcastResponse' });

const Time = Type.String({ format: 'date-time' });
const OptionalTime = Type.Union([Time, Type.Null()]);

export const Actioned = Type.Object({ id: Type.String(), at: Time }, { title: 'Actioned' });

export const Notification = Type.Object({
  id: Type.String(),
  key: Type.Union([Type.String(), Type.Null()]),
  category: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('unread'), Type.Literal('read')]),
  seen_at: OptionalTime,
  read_at: OptionalTime,
  archived_at: OptionalTime,
  expires_at: OptionalTime,
  created_at: Time,
  actions: Type.Array(Type.Object({ id: Type.String(), label: Type.String(), url: Type.Optional(Type.String()) })),
  actioned: Type.Union([Actioned, Type.Null()]),
  payload: Payload,
}, { title: 'Notification' });

export const ListQuery = Type.Object(
  {
    status: Type.Enum(['unread', 'read', 'all'], { default: 'all' }),
    category: Type.Optional(Category),
    archived: Type.Enum(['false', 'true', 'all'], { default: 'false', description: 'Archived notifications: left out (false), only them (true), or both' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    // Digits only, so `1e3`, ` 2` or `0x10` are refused rather than read as numbers; the route refuses what is past
    // MAX_SAFE_INTEGER (a pattern cannot say that simply), as `since` on the WebSocket does.
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'next_cursor of the previous page' })),
  },
  // An unknown parameter is refused, not ignored: `?user_id=<other>` must not look as if it were honoured.
  { additionalProperties: false },
);

/** The query of a route that takes no parameters: any parameter at all is a 400. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** The body of a POST that takes none: absent, or an empty JSON object (what the client sends). */
export const NoBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

export const NotificationPage = Type.Object({
  items: Type.Array(Notification),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
}, { title: 'NotificationPage' });

export const UnreadCount = Type.Object({
  count: Type.Integer(),
  seq: Type.Integer({ description: "The user's latest seq when counted: stream events after it are not in the count" }),
}, { title: 'UnreadCount' });

export const MarkReadBody = Type.Object(
  { notification_ids: Type.Array(NotificationId, { maxItems: 1000 }) },
  { title: 'MarkReadRequest', additionalProperties: false },
);

export const MarkReadResponse = Type.Object({
  notification_ids: Type.Array(Type.String(), { description: 'The ids that were unread and are now read' }),
}, { title: 'MarkReadResponse' });

const CategoryCounts = Type.Object({ unread: Type.Integer(), unseen: Type.Integer() });

export const Counts = Type.Object({
  unread: Type.Integer({ description: 'Unread, unarchived, unexpired notifications' }),
  unseen: Type.Integer({ description: 'Those of them never seen' }),
  categories: Type.Record(Type.String(), CategoryCounts, { description: 'Per category with an unread notification; uncategorised ones count only in the totals' }),
  seq: Type.Integer({ description: "The user's latest seq when counted: stream events after it are not in the counts" }),
}, { title: 'Counts' });

/** Which notifications a change applies to: these ids, or every one that matches the filter. */
export const ChangeBody = Type.Object(
  {
    notification_ids: Type.Optional(Type.Array(NotificationId, { maxItems: 1000 })),
    filter: Type.Optional(
      Type.Object(
        { category: Type.Optional(Category), status: Type.Optional(Type.Enum(['unread', 'read'])) },
        { additionalProperties: false },
      ),
    ),
  },
  { title: 'ChangeRequest', additionalProperties: false, description: 'Either notification_ids or filter' },
);

export const ChangeResponse = Type.Object({
  notification_ids: Type.Array(Type.String(), { description: 'The ids that changed' }),
}, { title: 'ChangeResponse' });

export const ActionParams = Type.Object({ id: NotificationId, action_id: ActionId }, { additionalProperties: false });

export const ActionResponse = Type.Object({ notification_id: Type.String(), actioned: Actioned }, { title: 'ActionResponse' });

export const EraseParams = Type.Object({ user_id: UserId }, { additionalProperties: false });

export const EraseResponse = Type.Object({
  erased: Type.Boolean({ description: 'Whether anything was stored for the user' }),
}, { title: 'EraseResponse' });

export const MarkAllReadResponse = Type.Object({ changed: Type.Boolean() }, { title: 'MarkAllReadResponse' });

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { title: 'Error' });

export const HealthStatus = Type.Object({ status: Type.Literal('ok') }, { title: 'HealthStatus' });

/** /readyz's answer: 200 when the database answers, 503 while it does not or while the node drains. */
export const ReadyStatus = Type.Object(
  {
    status: Type.Enum(['ready', 'unavailable', 'draining']),
    database: Type.Optional(Type.Enum(['ok', 'unreachable'], { description: 'Absent while draining' })),
    redis: Type.Optional(Type.Enum(['ok', 'reconnecting'], { description: 'Cluster mode only; never makes the node unready' })),
    kafka: Type.Optional(
      Type.Enum(['running', 'connecting', 'waiting', 'retrying', 'failed'], {
        description: 'With HERALD_KAFKA_BROKERS only; only failed (the consumer stopped) makes the node unready',
      }),
    ),
  },
  // Each ingest source reports its state under its own name, and why it waits, retries or failed as <name>_reason.
  { title: 'ReadyStatus', additionalProperties: Type.String() },
);

export const MetricsText = Type.String({ description: 'Prometheus text exposition format 0.0.4' });
