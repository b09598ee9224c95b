/**
 * Classes of malformed input to the inbox API, each case with the message fragment that must name its field.
 * `item` cases are merged into an otherwise valid new_notification publish item.
 */

export interface BadItem {
  name: string;
  item: Record<string, unknown>;
  /** The item's field as the message names it, after `body` (one item) or `body[1]` (the second of a batch). */
  field: string;
  because: RegExp;
}

const PATTERN = /must match pattern/;
const INVALID_TIME = /is not a valid time/;
const NUL_TEXT = /holds a string with a NUL character \(U\+0000\), which Herald cannot store/;
const SURROGATE_TEXT = /holds a string with a lone surrogate/;

const times: Array<[string, unknown, RegExp]> = [
  ['a day past the end of February', '2026-02-30T00:00:00Z', INVALID_TIME],
  ['February 29th of a common year', '2026-02-29T00:00:00Z', INVALID_TIME],
  ['April 31st', '2026-04-31T10:00:00+02:00', INVALID_TIME],
  ['month 13', '2026-13-01T00:00:00Z', INVALID_TIME],
  ['month 00', '2026-00-10T00:00:00Z', INVALID_TIME],
  ['day 00', '2026-01-00T00:00:00Z', INVALID_TIME],
  ['hour 25', '2026-01-01T25:00:00Z', INVALID_TIME],
  ['hour 24 (which Date.parse rolls over)', '2026-01-01T24:00:00Z', INVALID_TIME],
  ['minute 60', '2026-01-01T23:60:00Z', INVALID_TIME],
  ['an offset of 24 hours', '2026-01-01T00:00:00+24:00', INVALID_TIME],
  ['the year 10000', '10000-01-01T00:00:00Z', PATTERN],
  ['the year 9999 in an offset that is 10000 in UTC', '9999-12-31T23:59:59-01:00', /must be in the years 0001 to 9999 \(UTC\)/],
  ['a date without a time', '2026-01-01', PATTERN],
  ['a time without an offset', '2026-01-01T00:00:00', PATTERN],
  ['a space for the T', '2026-01-01 00:00:00Z', PATTERN],
  ['one-digit month and day', '2026-1-1T00:00:00Z', PATTERN],
  ['ten fractional digits', '2026-01-01T00:00:00.0123456789Z', PATTERN],
  ['an offset without a colon', '2026-01-01T00:00:00+0100', PATTERN],
  ['words', 'tomorrow', PATTERN],
  ['an empty string', '', PATTERN],
  ['a number of seconds', 1767225600, /must be string/],
  ['null', null, /must be string/],
];

const ttls: Array<[string, unknown, RegExp]> = [
  ['0', 0, /must be >= 1/],
  ['-1', -1, /must be >= 1/],
  ['1.5', 1.5, /must be integer/],
  ['one past ten years', 315_360_001, /must be <= 315360000/],
  ['1e20', 1e20, /must be <= 315360000/],
  ['a numeric string', '60', /must be integer/],
  ['true', true, /must be integer/],
  ['null', null, /must be integer/],
];

const categories: Array<[string, unknown, RegExp]> = [
  ['empty', '', PATTERN],
  ['upper case', 'Alerts', PATTERN],
  ['a space', 'pull requests', PATTERN],
  ['a slash', 'a/b', PATTERN],
  ['a non-ASCII letter', 'café', PATTERN],
  ['65 characters', 'a'.repeat(65), PATTERN],
  ['a NUL', 'a\u0000', PATTERN],
  ['a number', 5, /must be string/],
  ['an array', ['a'], /must be string/],
  ['null', null, /must be string/],
];

const action = (fields: Record<string, unknown>) => ({ id: 'ok', label: 'OK', ...fields });

const actions: Array<[string, unknown, string, RegExp]> = [
  ['six actions', Array.from({ length: 6 }, (_, index) => action({ id: `a${index}` })), 'actions', /must not have more than 5 items/i],
  ['two with the same id', [action({ id: 'same' }), action({ id: 'other' }), action({ id: 'same' })], 'actions', /has the id "same" twice/],
  ['an object instead of a list', { id: 'a', label: 'A' }, 'actions', /must be array/],
  ['null', null, 'actions', /must be array/],
  ['a null action', [null], 'actions.0', /must be object/],
  ['an id that is empty', [action({ id: '' })], 'actions.0.id', PATTERN],
  ['an id with a space', [action({ id: 'a b' })], 'actions.0.id', PATTERN],
  ['an id of 65 characters', [action({ id: 'a'.repeat(65) })], 'actions.0.id', PATTERN],
  ['an id that is a number', [action({ id: 1 })], 'actions.0.id', /must be string/],
  ['no id', [{ label: 'A' }], 'actions.0.id', /is required/],
  ['no label', [{ id: 'a' }], 'actions.0.label', /is required/],
  ['an empty label', [action({ label: '' })], 'actions.0.label', /must not have fewer than 1 characters/i],
  ['a label of 101 characters', [action({ label: 'x'.repeat(101) })], 'actions.0.label', /must not have more than 100 characters/i],
  ['a label of 101 emoji', [action({ label: '😀'.repeat(101) })], 'actions.0.label', /must not have more than 100 characters/i],
  ['a label with a newline', [action({ label: 'a\nb' })], 'actions.0.label', PATTERN],
  ['a javascript: url', [action({ url: 'javascript:alert(1)' })], 'actions.0.url', PATTERN],
  ['a JavaScript: url in another case', [action({ url: 'JavaScript:alert(1)' })], 'actions.0.url', PATTERN],
  ['a data: url', [action({ url: 'data:text/html,<script>alert(1)</script>' })], 'actions.0.url', PATTERN],
  ['an ftp url', [action({ url: 'ftp://example.com/file' })], 'actions.0.url', PATTERN],
  ['a protocol-relative url', [action({ url: '//example.com' })], 'actions.0.url', PATTERN],
  ['a url with a leading space', [action({ url: ' https://example.com' })], 'actions.0.url', PATTERN],
  ['a url with a space', [action({ url: 'https://example.com/a b' })], 'actions.0.url', PATTERN],
  ['a url with nothing after the scheme', [action({ url: 'https://' })], 'actions.0.url', PATTERN],
  ['a url of 2049 characters', [action({ url: `https://example.com/${'a'.repeat(2029)}` })], 'actions.0.url', /must not have more than 2048 characters/i],
  ['an unknown action field', [action({ style: 'primary' })], 'actions.0.style', /is not allowed/],
  ['a lone surrogate in a label', [action({ label: 'ok \ud800' })], 'actions', SURROGATE_TEXT],
  ['a lone surrogate in a url', [action({ url: 'https://example.com/\udfff' })], 'actions', SURROGATE_TEXT],
];

const payloads: Array<[string, Record<string, unknown>, RegExp]> = [
  ['a NUL in a value', { title: 'a\u0000b' }, NUL_TEXT],
  ['a NUL alone', { title: '\u0000' }, NUL_TEXT],
  ['a NUL in a key', { 'ti\u0000tle': 'x' }, NUL_TEXT],
  ['a NUL in a nested key', { a: [{ b: { '\u0000': 1 } }] }, NUL_TEXT],
  ['a NUL deep in an array', { a: [[[['x', 'y\u0000']]]] }, NUL_TEXT],
  ['a lone high surrogate', { title: 'a\ud800' }, SURROGATE_TEXT],
  ['a lone low surrogate', { title: '\udc00b' }, SURROGATE_TEXT],
  ['a pair in the wrong order', { title: '\udc00\ud800' }, SURROGATE_TEXT],
  ['a lone surrogate in a key', { ['\ud83d']: 1 }, SURROGATE_TEXT],
  ['a lone surrogate in a nested value', { a: { b: ['ok', { c: '\udfff' }] } }, SURROGATE_TEXT],
];

export const BAD_ITEMS: BadItem[] = [
  ...times.map(([name, value, because]) => ({ name: `expires_at: ${name}`, item: { expires_at: value }, field: 'expires_at', because })),
  ...ttls.map(([name, value, because]) => ({ name: `ttl_s: ${name}`, item: { ttl_s: value }, field: 'ttl_s', because })),
  ...categories.map(([name, value, because]) => ({ name: `category: ${name}`, item: { category: value }, field: 'category', because })),
  ...actions.map(([name, value, field, because]) => ({ name: `actions: ${name}`, item: { actions: value }, field, because })),
  ...payloads.map(([name, payload, because]) => ({ name: `payload: ${name}`, item: { payload }, field: 'payload', because })),
  { name: 'both expires_at and ttl_s', item: { expires_at: '2099-01-01T00:00:00Z', ttl_s: 60 }, field: '', because: /must give expires_at or ttl_s, not both/ },
  ...['categories', 'ttl', 'expiresAt', 'action', 'seen_at', 'archived_at', 'status'].map((field) => ({
    name: `the unknown field ${field}`,
    item: { [field]: 'x' },
    field,
    because: /is not allowed/,
  })),
];

const task = { type: 'task_update', payload: { action: 'created', task: { id: 1 } } };

/** Inbox fields on a task_update, which is not kept in the inbox: refused, even when empty. */
export const TASK_UPDATE_ITEMS: BadItem[] = [
  { name: 'a category', item: { ...task, category: 'a' }, field: 'category', because: /is for new_notification only/ },
  { name: 'expires_at', item: { ...task, expires_at: '2099-01-01T00:00:00Z' }, field: 'expires_at', because: /is for new_notification only/ },
  { name: 'ttl_s', item: { ...task, ttl_s: 60 }, field: 'ttl_s', because: /is for new_notification only/ },
  { name: 'actions', item: { ...task, actions: [{ id: 'a', label: 'A' }] }, field: 'actions', because: /is for new_notification only/ },
  { name: 'no actions', item: { ...task, actions: [] }, field: 'actions', because: /is for new_notification only/ },
  { name: 'a NUL in its payload', item: { ...task, payload: { action: 'x\u0000', task: {} } }, field: 'payload', because: NUL_TEXT },
];

export interface BadChange {
  name: string;
  body?: unknown;
  rawBody?: string;
  because: RegExp;
}

/** Bodies that no change route takes: the one rule is exactly one of notification_ids and filter. */
export const BAD_CHANGE_BODIES: BadChange[] = [
  { name: 'neither form', body: {}, because: /body must have notification_ids or filter$/ },
  { name: 'both forms', body: { notification_ids: ['a'], filter: {} }, because: /not both/ },
  { name: 'both forms, both empty', body: { notification_ids: [], filter: {} }, because: /not both/ },
  { name: 'both forms, the filter null', body: { notification_ids: ['a'], filter: null }, because: /body\.filter must be object/ },
  { name: 'ids instead of notification_ids', body: { ids: ['a'] }, because: /body\.ids is not allowed/ },
  { name: 'an unknown field beside the ids', body: { notification_ids: ['a'], all: true }, because: /body\.all is not allowed/ },
  { name: 'an unknown field beside the filter', body: { filter: {}, user_id: 'someone-else' }, because: /body\.user_id is not allowed/ },
  { name: 'notification_ids null', body: { notification_ids: null }, because: /body\.notification_ids must be array/ },
  { name: 'notification_ids a string', body: { notification_ids: 'a' }, because: /body\.notification_ids must be array/ },
  { name: 'notification_ids an object', body: { notification_ids: { 0: 'a' } }, because: /body\.notification_ids must be array/ },
  { name: 'a number among the ids', body: { notification_ids: ['a', 1] }, because: /body\.notification_ids\.1 must be string/ },
  { name: 'an empty id', body: { notification_ids: [''] }, because: /body\.notification_ids\.0 must NOT have fewer than 1 characters/ },
  { name: 'an id with a NUL', body: { notification_ids: ['a\u0000'] }, because: /body\.notification_ids\.0 must match pattern/ },
  { name: 'an id with a lone surrogate', body: { notification_ids: ['\ud800'] }, because: /body\.notification_ids\.0 must match pattern/ },
  { name: '1001 ids', body: { notification_ids: Array.from({ length: 1001 }, (_, index) => `n${index}`) }, because: /must NOT have more than 1000 items/ },
  { name: 'the filter null', body: { filter: null }, because: /body\.filter must be object/ },
  { name: 'the filter a list', body: { filter: [] }, because: /body\.filter must be object/ },
  { name: 'the filter a string', body: { filter: 'unread' }, because: /body\.filter must be object/ },
  { name: 'an unknown filter field', body: { filter: { archived: true } }, because: /body\.filter\.archived is not allowed/ },
  { name: 'an id in the filter', body: { filter: { notification_ids: ['a'] } }, because: /body\.filter\.notification_ids is not allowed/ },
  { name: 'filter status all', body: { filter: { status: 'all' } }, because: /body\.filter\.status must be equal to one of the allowed values \(unread, read\)/ },
  { name: 'filter status archived', body: { filter: { status: 'archived' } }, because: /body\.filter\.status must be equal to one of the allowed values/ },
  { name: 'filter status null', body: { filter: { status: null } }, because: /body\.filter\.status/ },
  { name: 'filter category empty', body: { filter: { category: '' } }, because: /body\.filter\.category must match pattern/ },
  { name: 'filter category upper case', body: { filter: { category: 'Alerts' } }, because: /body\.filter\.category must match pattern/ },
  { name: 'filter category 65 characters', body: { filter: { category: 'a'.repeat(65) } }, because: /body\.filter\.category must match pattern/ },
  { name: 'filter category a number', body: { filter: { category: 1 } }, because: /body\.filter\.category must be string/ },
  { name: 'a body that is a list', body: [{ filter: {} }], because: /body must be object/ },
  { name: 'a body that is null', rawBody: 'null', because: /body must be object/ },
  { name: 'malformed JSON', rawBody: '{"filter": {', because: /JSON/ },
];

/** Query strings GET /notifications refuses, with the parameter the message names. */
export const BAD_LIST_QUERIES: Array<[string, RegExp]> = [
  ['archived=no', /querystring\.archived must be equal to one of the allowed values \(false, true, all\)/],
  ['archived=TRUE', /querystring\.archived must be equal to one of the allowed values/],
  ['archived=1', /querystring\.archived must be equal to one of the allowed values/],
  ['archived=', /querystring\.archived must be equal to one of the allowed values/],
  ['archived=true&archived=false', /querystring\.archived/],
  ['category=', /querystring\.category must match pattern/],
  ['category=Alerts', /querystring\.category must match pattern/],
  ['category=a%20b', /querystring\.category must match pattern/],
  [`category=${'a'.repeat(65)}`, /querystring\.category must match pattern/],
  ['category=a&category=b', /querystring\.category must be string/],
  ['status=archived', /querystring\.status must be equal to one of the allowed values \(unread, read, all\)/],
  ['status=seen', /querystring\.status must be equal to one of the allowed values/],
  ['user_id=someone-else', /querystring\.user_id is not allowed/],
  ['seen=false', /querystring\.seen is not allowed/],
  ['expired=true', /querystring\.expired is not allowed/],
  ['categories=a', /querystring\.categories is not allowed/],
  ['limit=0', /querystring\.limit must be >= 1/],
  ['cursor=-1', /querystring\.cursor must match pattern/],
];
