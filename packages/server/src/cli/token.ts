import { mintToken } from '../auth/mint-token.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { devJwtSecret } from '../dev-secrets.js';
import { isIdentifier, MAX_IDENTIFIER_LENGTH } from '../identifiers.js';
import { fail, ok, type Result } from '../result.js';
import { parseTtl } from './ttl.js';

/** What `herald token` prints, or why it cannot: `usage` for a wrong command line (exit 2), `config` (exit 1). */
export type TokenOutcome = Result<string, { kind: 'usage' | 'config'; message: string }>;

/** `herald token <user-id> [--ttl <span>]`, its arguments already split by parseCommand. */
export async function tokenCommand(userId: string, ttlText: string, env: NodeJS.ProcessEnv): Promise<TokenOutcome> {
  // A token for an id the gateway refuses would be refused on every connection.
  if (!isIdentifier(userId)) {
    const shown = JSON.stringify(userId).slice(1, -1);
    return fail({ kind: 'usage', message: `"${shown}" is not a user id: 1 to ${MAX_IDENTIFIER_LENGTH} characters, no control character` });
  }
  const ttl = parseTtl(ttlText);
  if (!ttl.ok) return fail({ kind: 'usage', message: ttl.error });
  let config: Config;
  try {
    config = loadTokenConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return fail({ kind: 'config', message: error.message });
    throw error;
  }
  const secret = signingSecret(config, env['NODE_ENV'] === 'production');
  if (!secret.ok) return fail({ kind: 'config', message: secret.error });
  // A token this server would refuse is no use to print.
  if (config.jwtMaxTtlS !== undefined && ttl.value > config.jwtMaxTtlS) {
    return fail({
      kind: 'config',
      message: `--ttl ${ttlText} is longer than HERALD_JWT_MAX_TTL_S (${config.jwtMaxTtlS} s), so Herald would refuse the token`,
    });
  }
  return ok(await mintToken(secret.value, userId, `${ttl.value}s`));
}

/**
 * Every variable is checked as for `herald start` (a typo is an error here too), but not production's demand for
 * HERALD_API_KEY: a token needs only the signing secret, and signingSecret applies production's rule for that.
 * NODE_ENV is given (not left out) because loadConfig's env-schema also reads process.env beneath `env`.
 */
function loadTokenConfig(env: NodeJS.ProcessEnv): Config {
  return loadConfig({ ...env, NODE_ENV: 'development' });
}

function signingSecret(config: Config, production: boolean): Result<string> {
  if (config.jwtSecret) return ok(config.jwtSecret);
  if (config.jwksUrl) {
    return fail('herald token signs with HERALD_JWT_SECRET; this configuration verifies tokens from HERALD_JWKS_URL instead');
  }
  // In production Herald refuses to start without a secret, so one generated here would sign tokens nobody checks.
  if (production) return fail('herald token needs HERALD_JWT_SECRET when NODE_ENV=production, the secret Herald checks tokens with');
  return ok(devJwtSecret(config.dataDir).value);
}
