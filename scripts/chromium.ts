import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (apt-get install chromium; .ci/run installs it): playwright-core cannot download a browser
 * here. HERALD_CHROMIUM points at another build.
 */
export const CHROMIUM_PATH = process.env['HERALD_CHROMIUM'] ?? '/usr/bin/chromium';

/** A headless Chromium with the background services that would call out to the network turned off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
