import { CONFIG_VARIABLES } from './config.js';

const KNOWN = new Set(CONFIG_VARIABLES);

/**
 * The HERALD_* variables in `env` that Herald does not read, sorted: most often a typo (HERALD_LOG_LEVL), whose
 * setting is then silently the default. Start-up warns about each; an empty one too, since it was still meant.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('HERALD_') && !KNOWN.has(name))
    .sort();
}
