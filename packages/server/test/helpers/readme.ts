import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The first sh block after the README line that starts with `anchor` (a heading, or the text just above it). */
export function readmeBlockAfter(anchor: string): string {
  const readme = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8');
  const at = readme.indexOf(`\n${anchor}`);
  if (at < 0) throw new Error(`README has no line starting with ${anchor}`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`README has no sh block after ${anchor}`);
  return block[1]!;
}
