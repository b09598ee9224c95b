import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

export interface DevSecrets {
  config: Config;
  /** Files created on this call, so start-up can say where they are and what to do with them. */
  created: { jwtSecretFile?: string; apiKeyFile?: string };
}

/**
 * Outside production, a missing HS256 secret or publish key is generated once and kept in the data
 * directory, so `npm start` works on a fresh clone and tokens minted by `herald token` stay valid across restarts.
 */
export function withDevSecrets(config: Config): DevSecrets {
  const created: DevSecrets['created'] = {};
  let { jwtSecret, apiKey } = config;
  if (!jwtSecret && !config.jwksUrl) {
    const secret = devJwtSecret(config.dataDir);
    if (secret.created) created.jwtSecretFile = secret.file;
    jwtSecret = secret.value;
  }
  if (!apiKey) {
    const file = join(config.dataDir, 'api-key');
    const key = readOrCreate(file);
    if (key.created) created.apiKeyFile = file;
    apiKey = key.value;
  }
  return { config: { ...config, jwtSecret, apiKey }, created };
}

/** The generated HS256 secret kept in `dataDir`, created on first use: `herald token` needs it and nothing else. */
export function devJwtSecret(dataDir: string): { value: string; file: string; created: boolean } {
  const file = join(dataDir, 'jwt-secret');
  return { ...readOrCreate(file), file };
}

function readOrCreate(file: string): { value: string; created: boolean } {
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length >= 32) return { value, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = randomBytes(32).toString('base64url');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}
