import { COMMAND_HELP, MAIN_HELP } from './cli/help.js';
import { parseCommand, type CommandSpec } from './cli/parse.js';
import { tokenCommand } from './cli/token.js';
import { HERALD_VERSION } from './version.js';

const HELP = { type: 'boolean', short: 'h' } as const;

const GLOBAL: CommandSpec = {
  name: 'herald',
  options: { help: HELP, version: { type: 'boolean', short: 'v' } },
  positionals: { min: 0, max: 0 },
};
const START: CommandSpec = { name: 'herald start', options: { help: HELP }, positionals: { min: 0, max: 0 } };
const TOKEN: CommandSpec = {
  name: 'herald token',
  options: { help: HELP, ttl: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  positionalNames: ['<user-id>'],
};
const HELP_COMMAND: CommandSpec = { name: 'herald help', options: {}, positionals: { min: 0, max: 1 } };

/** Exit codes: 0 done, 1 Herald could not do it (configuration), 2 the command line is wrong. */
const USAGE_ERROR = 2;

/** Where the command reads its environment and writes its output: the process's own, unless a test gives others. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const PROCESS_IO: CliIo = {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * The `herald` command: `herald [options] [command] [arguments]`. Options before the command are Herald's own
 * (--help, --version); after it, the command's. Help goes to stdout with exit 0; a wrong command line is one line
 * on stderr naming what is wrong, a pointer to the help, and exit 2.
 */
export async function runCli(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  const { print, usageError } = writers(io);
  let at = 0;
  while (at < argv.length && argv[at]!.startsWith('-') && argv[at] !== '--') at++;
  const global = parseCommand(argv.slice(0, at), GLOBAL);
  if (!global.ok) return usageError(global.error, 'herald --help');
  if (argv[at] === '--') at++;
  const [command, ...rest] = argv.slice(at);

  if (global.value.values['version'] === true) {
    if (command !== undefined || global.value.values['help'] === true) return usageError('herald --version takes nothing else', 'herald --help');
    return print(`${HERALD_VERSION}\n`);
  }
  if (global.value.values['help'] === true) return showHelp(command === undefined ? [] : [command, ...rest], io);

  switch (command ?? 'start') {
    case 'start': {
      const parsed = parseCommand(rest, START);
      if (!parsed.ok) return usageError(parsed.error, 'herald start --help');
      if (parsed.value.values['help'] === true) return print(COMMAND_HELP['start']!);
      // Loaded only to serve: help, --version and token stay quick.
      const { serve } = await import('./main.js');
      await serve();
      return 0;
    }
    case 'token': {
      const parsed = parseCommand(rest, TOKEN);
      if (!parsed.ok) return usageError(parsed.error, 'herald token --help');
      if (parsed.value.values['help'] === true) return print(COMMAND_HELP['token']!);
      const ttl = parsed.value.values['ttl'];
      const outcome = await tokenCommand(parsed.value.positionals[0]!, typeof ttl === 'string' ? ttl : '1h', io.env);
      if (outcome.ok) return print(`${outcome.value}\n`);
      if (outcome.error.kind === 'usage') return usageError(outcome.error.message, 'herald token --help');
      io.err(`${outcome.error.message}\n`);
      return 1;
    }
    case 'help':
      return showHelp(rest, io);
    default:
      return usageError(`"${command}" is not a herald command (start, token, help)`, 'herald --help');
  }
}

/** `herald help [command]`, also reached as `herald --help [command]`. */
function showHelp(args: readonly string[], io: CliIo): number {
  const { print, usageError } = writers(io);
  const parsed = parseCommand(args, HELP_COMMAND);
  if (!parsed.ok) return usageError(parsed.error, 'herald --help');
  const [command] = parsed.value.positionals;
  if (command === undefined) return print(MAIN_HELP);
  const help = Object.hasOwn(COMMAND_HELP, command) ? COMMAND_HELP[command] : undefined;
  if (help === undefined) return usageError(`"${command}" is not a herald command (start, token, help)`, 'herald --help');
  return print(help);
}

function writers(io: CliIo) {
  return {
    /** Help and results: stdout, exit 0. */
    print(text: string): number {
      io.out(text);
      return 0;
    },
    /** A wrong command line: what is wrong and where the usage is, on stderr, exit 2. */
    usageError(message: string, helpCommand: string): number {
      io.err(`${message}\nRun \`${helpCommand}\` for usage.\n`);
      return USAGE_ERROR;
    },
  };
}
