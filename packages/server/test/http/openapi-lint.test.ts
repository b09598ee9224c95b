import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_VERSION } from '../../src/version.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operationsOf(doc: { paths: Record<string, Record<string, Operation>> }): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

describe('/openapi.json', () => {
  let gateway: TestGateway;
  let text: string;
  let doc: any;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
    const response = await httpRequest(gateway.baseUrl, '/openapi.json');
    expect(response.status).toBe(200);
    text = response.text;
    doc = response.body;
  });
  afterAll(() => gateway.close());

  it("passes Redocly's recommended rules with no error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: text, absoluteRef: `${gateway.baseUrl}/openapi.json`, config });
    const described = problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`);
    // The one warning allowed: the probes and /metrics have no 4xx answer to document, since they take no input.
    const probeWithout4xx = /^warn operation-4xx-response at #\/paths\/~1(healthz|readyz|metrics)\/get\/responses:/;
    expect(described.filter((problem) => !probeWithout4xx.test(problem))).toEqual([]);
  });

  it('names its version, licence and server, and tags and names every operation', () => {
    expect(doc.info.version).toBe(HERALD_VERSION);
    const { license } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { license: string };
    expect(doc.info.license).toEqual({ name: license, identifier: license });
    expect(doc.servers).toEqual([expect.objectContaining({ url: expect.any(String) })]);
    const tagNames = doc.tags.map((tag: { name: string }) => tag.name);
    const ids = new Set<string>();
    for (const [name, operation] of operationsOf(doc)) {
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      ids.add(operation.operationId!);
      expect(operation.tags, name).toHaveLength(1);
      expect(tagNames, name).toContain(operation.tags![0]);
    }
    expect(ids.size).toBe(operationsOf(doc).length);
  });

  it('documents the operations endpoints, open to anyone', () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect(doc.paths[path]?.get, path).toMatchObject({ tags: ['operations'], security: [] });
    }
    expect(Object.keys(doc.paths['/readyz'].get.responses).sort()).toEqual(['200', '503']);
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual([expect.stringMatching(/^text\/plain/)]);
  });

  it("documents /readyz's and /healthz's answers as they are", async () => {
    const ajv = new Ajv2020({ strict: false });
    for (const path of ['/readyz', '/healthz']) {
      // The answer's schema is a $ref into components: compiled with the components beside it.
      const { $ref } = doc.paths[path].get.responses['200'].content['application/json'].schema as { $ref: string };
      const validate = ajv.compile({ $ref, components: doc.components });
      const { body } = await httpRequest(gateway.baseUrl, path);
      expect(validate(body), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('answers 503 on every API operation and 415 on every one that takes a body', () => {
    // Each answer says what it means, not @fastify/swagger's placeholder.
    expect(text).not.toContain('Default Response');
    for (const [name, operation] of operationsOf(doc)) {
      if (operation.tags?.[0] === 'operations') continue;
      expect(Object.keys(operation.responses), name).toContain('503');
      if (operation.requestBody !== undefined) expect(Object.keys(operation.responses), name).toContain('415');
    }
  });

  it('requires no input a client may leave out', () => {
    const parameters = doc.paths['/notifications'].get.parameters as Array<{ name: string; required: boolean }>;
    // Each has a default, filled in when absent.
    expect(Object.fromEntries(parameters.map((parameter) => [parameter.name, parameter.required]))).toEqual({ status: false, category: false, archived: false, limit: false, cursor: false });
    expect(doc.paths['/notifications/mark-all-read'].post.requestBody.required).toBe(false);
    expect(doc.paths['/notifications/mark-read'].post.requestBody.required).toBe(true);
    expect(doc.paths['/publish'].post.requestBody.required).toBe(true);
  });

  it('keeps the shared schemas under components and refers to them', () => {
    const schemas = doc.components.schemas as Record<string, unknown>;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Error', 'Notification', 'NotificationPage', 'UnreadCount', 'PublishRequest', 'PublishResponse']),
    );
    // The error body is written once and referred to from every error response.
    const errorRefs = text.split('"$ref":"#/components/schemas/Error"').length - 1;
    expect(errorRefs).toBeGreaterThan(10);
    expect(text.match(/"required":\["error","message"\]/g)).toHaveLength(1);
    const page = schemas['NotificationPage'] as { properties: { items: { items: unknown } } };
    expect(page.properties.items.items).toEqual({ $ref: '#/components/schemas/Notification' });
  });
});
