import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { mintToken } from './auth/mint-token.js';
import { isIdentifier, MAX_IDENTIFIER_LENGTH } from './identifiers.js';
import { ConfigError, loadConfig } from './config.js';
import { withDevSecrets } from './dev-secrets.js';
import { serve } from './main.js';

const USAGE = `Usage:
  herald [start]                       serve (configuration from HERALD_* variables)
  herald token <user-id> [--ttl 1h]    print an HS256 token for that user, signed with the configured secret`;

/** The `herald` command. */
export async function runCli(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  switch (command) {
    case 'start':
      await serve();
      return 0;
    case 'token':
      return printToken(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`Unknown command "${command}".\n${USAGE}`);
      return 2;
  }
}

async function printToken(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ttl: { type: 'string', default: '1h' } }, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [userId] = parsed.positionals;
  if (!userId || parsed.positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  // A token for an id the gateway refuses would be refused on every connection.
  if (!isIdentifier(userId)) {
    console.error(`"${JSON.stringify(userId).slice(1, -1)}" is not a user id: 1 to ${MAX_IDENTIFIER_LENGTH} characters, no control character`);
    return 2;
  }
  try {
    const { config } = withDevSecrets(loadConfig());
    if (!config.jwtSecret) {
      console.error('herald token signs with HERALD_JWT_SECRET; this configuration verifies tokens from HERALD_JWKS_URL instead');
      return 1;
    }
    const token = await mintToken(config.jwtSecret, userId, parsed.values.ttl);
    // A token this server would refuse is no use to print.
    const { iat, exp } = decodeJwt(token);
    if (config.jwtMaxTtlS !== undefined && exp! - iat! > config.jwtMaxTtlS) {
      console.error(`--ttl ${parsed.values.ttl} is longer than HERALD_JWT_MAX_TTL_S (${config.jwtMaxTtlS} s), so Herald would refuse the token`);
      return 1;
    }
    console.log(token);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(`Could not mint a token: ${(error as Error).message}`);
    return 1;
  }
}
