import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { ErrorCode } from '@herald/protocol';
import type { Delivery } from '../deliver.js';
import { badRequest, HeraldError } from '../errors.js';
import type { InboxChange, NotificationTarget } from '../store/store.js';
import { ActionParams, ActionResponse, ChangeBody, ChangeResponse, ErrorBody, NoBody, NoQuery } from './schemas.js';

export interface InboxChangeRoutesOptions {
  delivery: Delivery;
}

const security = [{ userToken: [] }];
const tags = ['inbox'];
const errors = { 400: ErrorBody, 401: ErrorBody, 415: ErrorBody, 503: ErrorBody };

/** Each change's path, with what it does as the OpenAPI document says it. */
const CHANGES: readonly { path: string; change: InboxChange; operationId: string; summary: string }[] = [
  { path: 'mark-seen', change: 'seen', operationId: 'markSeen', summary: 'Marks notifications seen (notification_updated with seen_at)' },
  { path: 'mark-read', change: 'read', operationId: 'markRead', summary: 'Marks notifications read, and so seen, and tells every tab (notification_read)' },
  { path: 'mark-unread', change: 'unread', operationId: 'markUnread', summary: 'Marks read notifications unread (notification_updated)' },
  { path: 'archive', change: 'archive', operationId: 'archive', summary: 'Archives notifications: left out of lists and counts (notification_updated)' },
  { path: 'unarchive', change: 'unarchive', operationId: 'unarchive', summary: 'Brings archived notifications back (notification_updated)' },
  { path: 'delete', change: 'delete', operationId: 'deleteNotifications', summary: 'Deletes notifications (notification_deleted)' },
];

/**
 * The user's changes to their own notifications (the parent plugin has checked the token): each takes ids or a
 * filter, changes only the caller's, answers with the ids that changed, and pushes the stream events that tell
 * every tab (none when nothing changed).
 */
export const inboxChangeRoutes: FastifyPluginAsync<InboxChangeRoutesOptions> = async (app, { delivery }) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  for (const { path, change, operationId, summary } of CHANGES) {
    api.post(
      `/notifications/${path}`,
      {
        schema: { operationId, tags, summary, security, querystring: NoQuery, body: ChangeBody, response: { 200: ChangeResponse, ...errors } },
      },
      async (request) => ({ notification_ids: await delivery.change(request.userId, change, targetOf(request.body)) }),
    );
  }

  api.post(
    '/notifications/:id/actions/:action_id',
    {
      schema: {
        operationId: 'takeAction',
        tags,
        summary: 'Records the action the user took on a notification, once, and tells every tab (notification_updated)',
        security,
        params: ActionParams,
        querystring: NoQuery,
        // Nothing to say but the path: a field (`user_id`) must not look as if it were honoured.
        body: NoBody,
        response: { 200: ActionResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 415: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const { id, action_id: actionId } = request.params;
      const result = await delivery.recordAction(request.userId, id, actionId);
      switch (result.outcome) {
        case 'recorded':
        case 'repeated':
          return { notification_id: id, actioned: result.actioned };
        case 'no_notification':
          throw new HeraldError(ErrorCode.NotFound, `no notification ${JSON.stringify(id)} in this inbox`);
        case 'no_action':
          throw new HeraldError(ErrorCode.NotFound, `notification ${JSON.stringify(id)} has no action ${JSON.stringify(actionId)}`);
        case 'other_action_taken':
          throw new HeraldError(ErrorCode.Conflict, `action ${JSON.stringify(result.actioned.id)} was taken on this notification already, at ${result.actioned.at}`);
      }
    },
  );
};

/** The body's target: exactly one of its two forms (the schema allows each, and neither or both are refused here). */
function targetOf(body: Static<typeof ChangeBody>): NotificationTarget {
  const { notification_ids: ids, filter } = body;
  if (ids !== undefined && filter !== undefined) throw badRequest('body must have notification_ids or filter, not both');
  if (ids !== undefined) return { ids };
  if (filter !== undefined) return { filter };
  throw badRequest('body must have notification_ids or filter');
}
