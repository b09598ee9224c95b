/** sessionStorage, not localStorage: the token lives as long as the tab, survives a reload, and is not shared. */
const KEY = 'herald.token';

/**
 * The token this page starts with: one given as `?token=` (stored, then removed from the address bar so that it
 * does not stay in the history, in bookmarks or on screen), else the one kept from earlier in this tab.
 */
export function takeInitialToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    if (fromUrl.trim() !== '') {
      saveToken(fromUrl.trim());
      return fromUrl.trim();
    }
  }
  return readToken();
}

export function saveToken(token: string): void {
  try {
    window.sessionStorage.setItem(KEY, token);
  } catch {
    // Storage can be disabled (private modes, policies); the page still works until it is reloaded.
  }
}

export function forgetToken(): void {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was stored, then.
  }
}

function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}
