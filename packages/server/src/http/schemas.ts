import { PUBLISHABLE_TYPES } from '@herald/protocol';
import Type from 'typebox';
import { PublishItem } from '../ingest/publish-item.js';

export { PublishItem };

/**
 * The REST API's schemas: Fastify validates requests with them and @fastify/swagger turns the same objects into
 * /openapi.json, so the document cannot drift from what is enforced.
 */

const Payload = Type.Record(Type.String(), Type.Unknown(), { description: "The producer's JSON object, delivered as is" });

export const MAX_PUBLISH_BATCH = 1000;

export const PublishBody = Type.Union([PublishItem, Type.Array(PublishItem, { minItems: 1, maxItems: MAX_PUBLISH_BATCH })]);

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
});

export const BroadcastBody = Type.Object(
  {
    type: Type.Enum([...PUBLISHABLE_TYPES]),
    payload: Payload,
  },
  { additionalProperties: false },
);

export const BroadcastResponse = Type.Object({ connections: Type.Integer() });

export const Notification = Type.Object({
  id: Type.String(),
  key: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('unread'), Type.Literal('read')]),
  created_at: Type.String({ format: 'date-time' }),
  read_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  payload: Payload,
});

export const ListQuery = Type.Object(
  {
    status: Type.Enum(['unread', 'read', 'all'], { default: 'all' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'next_cursor of the previous page' })),
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
});

export const UnreadCount = Type.Object({
  count: Type.Integer(),
  seq: Type.Integer({ description: "The user's latest seq when counted: stream events after it are not in the count" }),
});

export const MarkReadBody = Type.Object(
  { notification_ids: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000 }) },
  { additionalProperties: false },
);

export const MarkReadResponse = Type.Object({
  notification_ids: Type.Array(Type.String(), { description: 'The ids that were unread and are now read' }),
});

export const MarkAllReadResponse = Type.Object({ changed: Type.Boolean() });

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
