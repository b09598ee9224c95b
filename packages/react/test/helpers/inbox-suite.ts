import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { buildInbox } from '../../../../scripts/build-inbox.js';
import { launchChromium } from '../../../../scripts/chromium.js';
import { startGateway, type TestGateway } from '../../../server/test/helpers/gateway.js';

export interface InboxSuite {
  /** The file's gateway on SQLite, serving the freshly built page. */
  readonly gateway: TestGateway;
  /** A browser context of the current test's own (its own storage), closed after it. */
  readonly context: BrowserContext;
}

/**
 * Registers the hooks of a browser suite: the page built and one gateway and one Chromium for the file, a new
 * context for each test. Call it at the top of a `describe`; `env` configures the gateway (HERALD_* variables).
 */
export function inboxSuite(env: Record<string, string> = {}): InboxSuite {
  let gateway: TestGateway | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    await buildInbox();
    [gateway, browser] = await Promise.all([startGateway('sqlite', { env }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });
  beforeEach(async () => {
    context = await browser!.newContext();
  });
  afterEach(() => context?.close());
  return {
    get gateway() {
      return gateway!;
    },
    get context() {
      return context!;
    },
  };
}
