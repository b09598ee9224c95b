/**
 * The inbox page's policy. The built page is index.html with one external script and one external stylesheet
 * (no inline script, no inline style, no style attribute: React sets styles through the CSSOM, which CSP does not
 * govern), so nothing needs 'unsafe-inline' or a nonce.
 *
 * - connect-src 'self': the page talks only to the origin that served it (main.tsx passes
 *   `window.location.origin` to the client; nothing configures another). Since CSP Level 3, 'self' also matches
 *   ws:/wss: on the same host and port: Chromium 71, Firefox 2018, Safari 15.5 (WebKit r292266). A bare
 *   `ws: wss:` would let the page open a socket to any host, so it is left out.
 * - img-src 'self': the page shows no image (the bell is inline SVG markup, which is not a load).
 * - form-action 'none': the page's one form is handled in script and never submitted anywhere.
 * - frame-ancestors 'none': no other site may frame the page and lure clicks onto "Mark all read".
 * - base-uri 'none' and object-src 'none': an injected `<base>` or plugin cannot redirect the page's loads.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** Set on `/`, on every `/assets/*` answer, and on their 404s and errors. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
  // A file is only ever what its Content-Type says: a JSON error or a text file is never run as script or CSS.
  'x-content-type-options': 'nosniff',
  // The page is opened as `/?token=<jwt>` and removes the token from the address bar only once its script runs.
  // Until then the document's URL, token included, is the referrer of its own requests: with the browsers'
  // default (strict-origin-when-cross-origin) a same-origin request for /assets/inbox.js carries it in full, and
  // reverse proxies log Referer. no-referrer sends nothing, to this origin or any other.
  'referrer-policy': 'no-referrer',
};
