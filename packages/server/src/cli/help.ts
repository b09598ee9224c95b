import { HERALD_HOMEPAGE } from '../version.js';

/** The README's table of every HERALD_* variable, what each does and its default. */
const CONFIGURATION = new URL('#configuration', HERALD_HOMEPAGE).href;

export const MAIN_HELP = `Usage: herald [command] [options]

Herald, a self-hosted real-time notification gateway.

Commands:
  start                          serve the gateway, REST API and inbox page (the default command)
  token <user-id> [--ttl <span>] print an HS256 token for that user, signed with HERALD_JWT_SECRET
  help [command]                 show this help, or a command's

Options:
  -h, --help     show help; after a command, that command's (herald token --help)
  -v, --version  print Herald's version

Herald is configured by HERALD_* environment variables (HERALD_PORT, HERALD_DATABASE_URL, HERALD_JWT_SECRET,
HERALD_API_KEY, ...), each listed with its default in the Configuration table of the README:
  ${CONFIGURATION}
`;

export const START_HELP = `Usage: herald start

Serves Herald until SIGTERM or SIGINT, then closes its connections gracefully and exits 0. Outside production
a missing HERALD_JWT_SECRET or HERALD_API_KEY is generated once into HERALD_DATA_DIR (./data by default).

It takes no options: HERALD_* environment variables configure it, each listed with its default in the
Configuration table of the README:
  ${CONFIGURATION}
`;

export const TOKEN_HELP = `Usage: herald token <user-id> [--ttl <span>]

Prints an HS256 token whose sub is <user-id>, with iat now and exp the span later, signed with HERALD_JWT_SECRET
(outside production, when it is not set, with the secret generated into HERALD_DATA_DIR). Use it to try Herald
or in tests; production tokens come from your own backend. A <user-id> that starts with "-" goes after "--".

Options:
  --ttl <span>  how long the token is valid: a whole number and a unit, s, m, h or d (default 1h, at most 3650d,
                and not longer than HERALD_JWT_MAX_TTL_S when that is set)
  -h, --help    show this help

Configuration: ${CONFIGURATION}
`;

/** Each command's help, by name: what `herald help <command>` and `herald <command> --help` print. */
export const COMMAND_HELP: Readonly<Record<string, string>> = { start: START_HELP, token: TOKEN_HELP, help: MAIN_HELP };
