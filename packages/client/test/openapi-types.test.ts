import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../../server/test/helpers/gateway.js';

/**
 * The client's REST types against the server's own /openapi.json: openapi-typescript turns the document into
 * types, and TypeScript checks that each of the client's types and InboxApi's methods is the same as the
 * document's (mutually assignable, with the same keys). A field renamed, added, made optional or retyped on either
 * side fails here.
 */

const clientIndex = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const inboxApi = fileURLToPath(new URL('../src/inbox-api.ts', import.meta.url));
const protocolIndex = fileURLToPath(new URL('../../protocol/src/index.ts', import.meta.url));

const ASSERTIONS = `
import type { components, operations } from './openapi.js';
import type { ActionAnswer, ListOptions, NotificationCounts, NotificationFilter, NotificationPage, UnreadCount } from ${JSON.stringify(clientIndex.replace(/\.ts$/, '.js'))};
import type { InboxApi } from ${JSON.stringify(inboxApi.replace(/\.ts$/, '.js'))};
import type { Notification } from ${JSON.stringify(protocolIndex.replace(/\.ts$/, '.js'))};

type S = components['schemas'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
type Answer<M extends keyof InboxApi> = InboxApi[M] extends (...args: never[]) => Promise<infer R> ? R : never;
type Argument<M extends keyof InboxApi> = InboxApi[M] extends (arg: infer A, ...rest: never[]) => unknown ? A : never;
type Json<O extends keyof operations, Code extends keyof operations[O]['responses']> = operations[O]['responses'][Code] extends { content: { 'application/json': infer T } } ? T : never;
type Body<O extends keyof operations> = operations[O] extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never;
`;

const CHECKS = `
export const checks: [
  Same<Notification, S['Notification']>,
  Same<NotificationPage, S['NotificationPage']>,
  Same<UnreadCount, S['UnreadCount']>,
  Same<NotificationCounts, S['Counts']>,
  Same<ActionAnswer, S['ActionResponse']>,
  Same<ListOptions, NonNullable<operations['listNotifications']['parameters']['query']>>,
  Same<Answer<'list'>, Json<'listNotifications', 200>>,
  Same<Answer<'unreadCount'>, Json<'getUnreadCount', 200>>,
  Same<Answer<'counts'>, Json<'getCounts', 200>>,
  Same<Answer<'markRead'>, Json<'markRead', 200>['notification_ids']>,
  Same<Answer<'change'>, Json<'markSeen', 200>['notification_ids']>,
  Same<Answer<'change'>, Json<'deleteNotifications', 200>['notification_ids']>,
  Same<Answer<'act'>, Json<'takeAction', 200>>,
  Same<NotificationFilter, NonNullable<Body<'markSeen'>['filter']>>,
  Same<Readonly<Exclude<Argument<'markRead'>, NotificationFilter>>, Readonly<NonNullable<Body<'markRead'>['notification_ids']>>>,
  Same<Answer<'markAllRead'>, Json<'markAllRead', 200>['changed']>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
`;

/** TypeScript's errors for the generated types and these checks, one line each. */
function typeErrors(dir: string, generated: string, checks: string): string[] {
  writeFileSync(join(dir, 'openapi.ts'), generated);
  writeFileSync(join(dir, 'checks.ts'), `${ASSERTIONS}${checks}`);
  const program = ts.createProgram([join(dir, 'checks.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: false,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
}

describe("the client's REST types", () => {
  let gateway: TestGateway;
  let generated: string;
  let dir: string;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
    const document = (await (await fetch(`${gateway.baseUrl}/openapi.json`)).json()) as Parameters<typeof openapiTS>[0];
    generated = astToString(await openapiTS(document));
    dir = mkdtempSync(join(tmpdir(), 'herald-openapi-types-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await gateway.close();
  });

  it('are the types of the OpenAPI document the server serves', () => {
    expect(typeErrors(dir, generated, CHECKS)).toEqual([]);
  });

  it.each([
    ['a field of another type', "count: number;", 'count: string;'],
    ['a field the client lacks', 'count: number;', 'count: number;\n            extra: boolean;'],
    ['a required field made optional', 'next_cursor: string | null;', 'next_cursor?: string | null;'],
    ['a status the client does not know', '"unread" | "read" | "all"', '"unread" | "read" | "all" | "archived"'],
  ])('would fail on %s in the document', (_name, from, to) => {
    const changed = generated.replace(from, to);
    expect(changed, `the generated types contain ${from}`).not.toBe(generated);
    expect(typeErrors(dir, changed, CHECKS)).not.toEqual([]);
  });
});
