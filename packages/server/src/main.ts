import { ConfigError, loadConfig } from './config.js';
import { withDevSecrets } from './dev-secrets.js';
import { Herald } from './gateway.js';
import { redactSecretsInText } from './logger.js';
import { logStartupNotes } from './startup-notes.js';
import { HERALD_VERSION } from './version.js';

/** `npm start` / `herald start`: serve until SIGTERM or SIGINT, then stop gracefully and exit 0. */
export async function serve(): Promise<void> {
  let herald: Herald;
  try {
    const { config, created } = withDevSecrets(loadConfig());
    herald = await Herald.create({ config });
    const address = await herald.listen();
    const base = `http://${address.address}:${address.port}`;
    herald.logger.info({ url: base, version: HERALD_VERSION, database: describeDatabase(config.databaseUrl) }, 'Herald is listening');
    logStartupNotes(herald.logger, { config, created, env: process.env, address });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else {
      // A driver's error can quote the connection string it was given: never its password.
      console.error(`Herald could not start: ${redactSecretsInText((error as Error).message)}`);
    }
    process.exit(1);
  }
  const stop = (signal: string): void => {
    herald.logger.info({ signal }, 'shutting down');
    herald.close().then(
      () => process.exit(0),
      (error: unknown) => {
        herald.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function describeDatabase(url: string): string {
  // Never log a PostgreSQL password (nor the user name beside it).
  return /^postgres(ql)?:\/\//.test(url) ? url.replace(/\/\/[^@/]*@/, '//***@') : url;
}
