/**
 * The URL a producer put in a payload or an action, when it is an absolute http or https URL: anything else
 * (`javascript:`, `data:`, a relative path) is not opened, since the producer's data is not the page's to run.
 */
export function safeUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
