import type { BrowserContext, Locator, Page } from 'playwright-core';

export interface ShownNotification {
  id: string;
  title: string;
  status: string;
}

export interface ShownTab {
  /** `all`, `category:<name>` or `archive`. */
  tab: string;
  /** The unread count the tab says ('' for the archive, which has none). */
  unread: string;
  selected: boolean;
}

/** The inbox page in one tab, read the way a person sees it: through its rendered elements. */
export class InboxPage {
  /** Uncaught errors in the page; a test expects none. */
  readonly errors: string[] = [];

  private constructor(readonly page: Page) {
    page.on('pageerror', (error) => this.errors.push(error.message));
  }

  /** A tab the test opened itself. */
  static of(page: Page): InboxPage {
    return new InboxPage(page);
  }

  /** Opens `/?token=...` in a new tab of `context`. */
  static async open(context: BrowserContext, baseUrl: string, token: string): Promise<InboxPage> {
    const inbox = new InboxPage(await context.newPage());
    await inbox.page.goto(`${baseUrl}/?token=${encodeURIComponent(token)}`);
    return inbox;
  }

  /** connecting | open | reconnecting | closed | unauthorized */
  state(): Promise<string | null> {
    return this.page.getByTestId('connection-state').getAttribute('data-state');
  }

  /** The number on the bell (0 when the badge is hidden). */
  async unread(): Promise<number> {
    return Number(await this.page.getByTestId('unread-badge').getAttribute('data-count'));
  }

  /** The list as shown, top to bottom. */
  notifications(): Promise<ShownNotification[]> {
    return this.page.getByTestId('notification').evaluateAll((items) =>
      items.map((item) => ({
        id: item.getAttribute('data-id') ?? '',
        title: item.querySelector('.item__title')?.lastChild?.textContent ?? '',
        status: item.getAttribute('data-status') ?? '',
      })),
    );
  }

  async titles(): Promise<string[]> {
    return (await this.notifications()).map((item) => item.title);
  }

  async statusOf(id: string): Promise<string | null> {
    return this.page.locator(`[data-testid="notification"][data-id="${id}"]`).getAttribute('data-status');
  }

  async markRead(id: string): Promise<void> {
    await this.page.locator(`[data-testid="notification"][data-id="${id}"]`).getByTestId('mark-read').click();
  }

  async markAllRead(): Promise<void> {
    await this.page.getByTestId('mark-all-read').click();
  }

  /** One notification's row. */
  item(id: string): Locator {
    return this.page.locator(`[data-testid="notification"][data-id="${id}"]`);
  }

  /** The tabs as shown, left to right. */
  tabs(): Promise<ShownTab[]> {
    return this.page.getByTestId('tab').evaluateAll((tabs) =>
      tabs.map((tab) => ({
        tab: tab.getAttribute('data-tab') ?? '',
        unread: tab.getAttribute('data-unread') ?? '',
        selected: tab.getAttribute('aria-selected') === 'true',
      })),
    );
  }

  async selectTab(tab: string): Promise<void> {
    await this.page.locator(`[data-testid="tab"][data-tab="${tab}"]`).click();
  }

  /** The error banner's text, or null when none is shown. */
  async error(): Promise<string | null> {
    const banner = this.page.getByTestId('error');
    return (await banner.count()) === 0 ? null : banner.textContent();
  }
}
