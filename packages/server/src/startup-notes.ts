import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DevSecrets } from './dev-secrets.js';
import { unknownVariables } from './unknown-variables.js';

export interface StartupFacts {
  config: Config;
  /** What withDevSecrets generated at this start. */
  created: DevSecrets['created'];
  env: NodeJS.ProcessEnv;
  address: AddressInfo;
}

/**
 * What a person starting Herald should read, as log lines in the same JSON stream as every other: the variables
 * it ignored (a typo leaves its setting at the default without a word otherwise), the secrets it generated in
 * development, and how to mint a token and connect.
 */
export function logStartupNotes(logger: Logger, { config, created, env, address }: StartupFacts): void {
  for (const variable of unknownVariables(env)) {
    logger.warn({ variable }, `${variable} is not a Herald variable and is ignored; see the configuration table in README.md`);
  }
  if (created.jwtSecretFile) logger.info({ file: created.jwtSecretFile }, `No HERALD_JWT_SECRET was set: generated one in ${created.jwtSecretFile}`);
  if (created.apiKeyFile) logger.info({ file: created.apiKeyFile }, `No HERALD_API_KEY was set: generated one in ${created.apiKeyFile}`);
  if (!env['HERALD_JWT_SECRET'] && !config.jwksUrl) {
    const inbox = `http://${address.address}:${address.port}/?token=<token>`;
    const websocket = `ws://${address.address}:${address.port}/ws/notifications?token=<token>`;
    logger.info({ inbox, websocket }, `Mint a user token with: npx herald token <user-id>, then open ${inbox} or connect to ${websocket}`);
  }
}
