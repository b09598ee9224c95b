import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkCompose, checkDockerfile, checkRenderedChart, checkUnit, composeDurationMs } from '../../../../scripts/deploy/checks.js';
import { HERALD_VERSION } from '../../src/version.js';

/** The deployment files' checks (scripts/deploy/checks.ts) on the real files, and on broken copies of them. */

const repoFile = (path: string): string => readFileSync(new URL(`../../../../${path}`, import.meta.url), 'utf8');
const compose = repoFile('compose.yaml');
const dockerfile = repoFile('Dockerfile');
const unit = repoFile('deploy/systemd/herald.service');

/** `text` with `from` replaced by `to`, which must be there: a broken copy that does not differ would prove nothing. */
function broken(text: string, from: string | RegExp, to: string): string {
  const changed = text.replace(from, to);
  expect(changed, `${String(from)} is in the file`).not.toBe(text);
  return changed;
}

describe('compose.yaml', () => {
  it('passes the Compose schema and describes a cluster Herald accepts', () => {
    expect(checkCompose(compose)).toEqual([]);
  });

  it.each([
    ['a key the Compose schema does not have', (text: string) => broken(text, 'restart: unless-stopped\n  environment', 'restrat: unless-stopped\n  environment'), /compose schema: .* must NOT have additional properties: restrat/],
    ['a wrong type', (text: string) => broken(text, 'retries: 3', 'retries: three'), /compose schema: \/services\/herald-1\/healthcheck\/retries must be number/],
    ['a duration that is none', (text: string) => broken(text, 'stop_grace_period: 20s', 'stop_grace_period: soon'), /compose schema: .*stop_grace_period must match format "duration"/],
    ['YAML that does not parse', (text: string) => `${text}\n  : - [\n`, /compose YAML/],
    ['a variable Herald does not read', (text: string) => broken(text, 'HERALD_LOG_LEVEL: info', 'HERALD_LOGLEVEL: info'), /HERALD_LOGLEVEL is not a variable Herald reads/],
    ['a stop grace shorter than the drain', (text: string) => broken(text, 'stop_grace_period: 20s', 'stop_grace_period: 10s'), /stop_grace_period \(10000 ms\) is not longer than HERALD_SHUTDOWN_TIMEOUT_MS \(10000 ms\)/],
    ['a healthcheck on liveness', (text: string) => broken(text, "fetch('http://127.0.0.1:8000/readyz')", "fetch('http://127.0.0.1:8000/healthz')"), /does not ask \/readyz/],
    ['nodes without Redis', (text: string) => broken(text, '    HERALD_REDIS_URL: redis://redis:6379\n', ''), /no HERALD_REDIS_URL/],
    ['a SQLite database', (text: string) => broken(text, /HERALD_DATABASE_URL: postgres:\S+/, 'HERALD_DATABASE_URL: /var/lib/herald/herald.db'), /HERALD_DATABASE_URL is not PostgreSQL/],
    ['one node only', (text: string) => broken(text, / {2}herald-2:\n( {4}.*\n)+/, ''), /1 Herald node\(s\)/],
    ['no balancer', (text: string) => broken(text, '  balancer:', '  front:'), /no balancer service/],
  ])('refuses %s', (_name, breakIt, problem) => {
    expect(checkCompose(breakIt(compose)).join('\n')).toMatch(problem);
  });

  it('reads Compose durations', () => {
    expect([composeDurationMs('20s'), composeDurationMs('1m30s'), composeDurationMs('500ms'), composeDurationMs('1.5h')]).toEqual([20_000, 90_000, 500, 5_400_000]);
    for (const bad of ['', '20', 's', '20 s', '-5s', '5d']) expect(composeDurationMs(bad), bad).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  it('builds in stages, keeps production dependencies only, runs unprivileged, probes /readyz', () => {
    expect(checkDockerfile(dockerfile)).toEqual([]);
  });

  it.each([
    ['one stage', (text: string) => broken(text, /FROM \$\{NODE_IMAGE\} AS build[\s\S]*?(?=FROM \$\{NODE_IMAGE\} AS runtime)/, ''), /1 stage\(s\)/],
    ['the root user', (text: string) => broken(text, 'USER herald:herald', 'USER root'), /runs as root/],
    ['no USER at all', (text: string) => broken(text, 'USER herald:herald\n', ''), /runs as root/],
    ['a health check on liveness', (text: string) => broken(text, "'/readyz'", "'/healthz'"), /no HEALTHCHECK on \/readyz/],
    ['another stop signal', (text: string) => broken(text, 'STOPSIGNAL SIGTERM', 'STOPSIGNAL SIGKILL'), /STOPSIGNAL is not SIGTERM/],
    ['data outside the volume', (text: string) => broken(text, 'VOLUME ["/var/lib/herald"]', 'VOLUME ["/data"]'), /HERALD_DATA_DIR \(\/var\/lib\/herald\) is not a VOLUME/],
    ['development dependencies', (text: string) => broken(text, 'npm prune --omit=dev', 'npm prune'), /production dependencies only/],
    ['a variable Herald does not read', (text: string) => broken(text, 'HERALD_PORT=8000', 'HERALD_PORT=8000 HERALD_LISTEN_PORT=8000'), /HERALD_LISTEN_PORT is not a variable Herald reads/],
    ['a loopback address', (text: string) => broken(text, 'HERALD_HOST=0.0.0.0', 'HERALD_HOST=127.0.0.1'), /HERALD_HOST is not 0.0.0.0/],
    ['an unexposed port', (text: string) => broken(text, 'EXPOSE 8000', 'EXPOSE 8080'), /HERALD_PORT 8000 is not EXPOSEd/],
  ])('refuses %s', (_name, breakIt, problem) => {
    expect(checkDockerfile(breakIt(dockerfile)).join('\n')).toMatch(problem);
  });
});

describe('systemd unit', () => {
  it("runs herald start unprivileged and gives it longer than Herald's drain to stop", () => {
    expect(checkUnit(unit)).toEqual([]);
  });

  it.each([
    ['a stop timeout shorter than the drain', (text: string) => broken(text, 'TimeoutStopSec=30', 'TimeoutStopSec=5'), /TimeoutStopSec \(5\) is not longer/],
    ['another kill signal', (text: string) => broken(text, 'KillSignal=SIGTERM', 'KillSignal=SIGKILL'), /KillSignal is not SIGTERM/],
    ['root', (text: string) => broken(text, 'User=herald\n', ''), /runs as root/],
    ['a variable Herald does not read', (text: string) => broken(text, 'Environment=HERALD_PORT=8000', 'Environment=HERALD_PROT=8000'), /HERALD_PROT is not a variable Herald reads/],
    ['another command', (text: string) => broken(text, 'herald.js start', 'herald.js token'), /does not run `herald start`/],
  ])('refuses %s', (_name, breakIt, problem) => {
    expect(checkUnit(breakIt(unit)).join('\n')).toMatch(problem);
  });
});

describe('Helm chart', () => {
  const chart = parse(repoFile('deploy/helm/herald/Chart.yaml')) as { appVersion: string };
  const values = parse(repoFile('deploy/helm/herald/values.yaml')) as { config: Record<string, string> };

  it("is Herald's version and sets only variables Herald reads", () => {
    expect(chart.appVersion).toBe(HERALD_VERSION);
    const rendered = manifests();
    (rendered[1]!['data'] as Record<string, string>) = { ...values.config };
    expect(checkRenderedChart(render(rendered))).toEqual([]);
  });

  /** The shape `helm template` gives (scripts/check-deploy.sh checks the real output against the same function). */
  function manifests(): Array<Record<string, unknown>> {
    return [
      {
        kind: 'Deployment',
        spec: {
          template: {
            spec: {
              securityContext: { runAsNonRoot: true },
              terminationGracePeriodSeconds: 25,
              containers: [
                {
                  ports: [{ name: 'http', containerPort: 8000 }],
                  readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
                  livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
                  lifecycle: { preStop: { sleep: { seconds: 5 } } },
                },
              ],
            },
          },
        },
      },
      { kind: 'ConfigMap', data: { HERALD_PORT: '8000', HERALD_SHUTDOWN_TIMEOUT_MS: '10000' } },
      { kind: 'Secret', stringData: { HERALD_JWT_SECRET: 'x', HERALD_API_KEY: 'y' } },
      { kind: 'Service', spec: { ports: [{ port: 80, targetPort: 'http' }] } },
      { kind: 'PodDisruptionBudget', spec: { maxUnavailable: 1 } },
    ];
  }
  const render = (documents: Array<Record<string, unknown>>): string => documents.map((document) => `---\n${stringify(document)}`).join('');
  const container = (documents: Array<Record<string, unknown>>): Record<string, any> => (documents[0] as any).spec.template.spec.containers[0];

  it('passes a well-formed rendering', () => {
    expect(checkRenderedChart(render(manifests()))).toEqual([]);
  });

  it.each([
    ['a grace no longer than the pause and the drain', (documents: any[]) => (documents[0].spec.template.spec.terminationGracePeriodSeconds = 15), /terminationGracePeriodSeconds \(15000 ms\) is not longer than the preStop pause and HERALD_SHUTDOWN_TIMEOUT_MS \(15000 ms\)/],
    ['readiness on /healthz', (documents: any[]) => (container(documents)['readinessProbe'].httpGet.path = '/healthz'), /readiness probe does not ask \/readyz/],
    ['liveness on /readyz', (documents: any[]) => (container(documents)['livenessProbe'].httpGet.path = '/readyz'), /liveness probe does not ask \/healthz/],
    ['another port', (documents: any[]) => (container(documents)['ports'][0].containerPort = 8080), /http port is 8080, Herald listens on 8000/],
    ['no budget', (documents: any[]) => documents.pop(), /0 PodDisruptionBudget\(s\)/],
    ['a secret in the ConfigMap', (documents: any[]) => (documents[1].data.HERALD_API_KEY = 'k'), /HERALD_API_KEY is in the ConfigMap/],
    ['a variable Herald does not read', (documents: any[]) => (documents[1].data.HERALD_SHUTDOWN_MS = '1'), /HERALD_SHUTDOWN_MS is not a variable Herald reads/],
    ['root', (documents: any[]) => (documents[0].spec.template.spec.securityContext = {}), /may run as root/],
    ['a Service to nowhere', (documents: any[]) => (documents[3].spec.ports[0].targetPort = 9000), /Service does not send traffic/],
  ])('refuses %s', (_name, breakIt, problem) => {
    const documents = manifests();
    breakIt(documents);
    expect(checkRenderedChart(render(documents)).join('\n')).toMatch(problem);
  });
});
