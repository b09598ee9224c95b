import { parseArgs } from 'node:util';
import { fail, ok, type Result } from '../result.js';

/** One option a command takes: a flag, or one that needs a value (`--ttl 1h`, `--ttl=1h`). */
export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
}

export interface CommandSpec {
  /** As the user types it, for messages: `herald token`. */
  readonly name: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments the command takes, at least and at most. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** What the positionals are, for "missing" messages: `<user-id>`. */
  readonly positionalNames?: readonly string[];
}

export interface ParsedCommand {
  readonly values: Readonly<Record<string, string | true>>;
  readonly positionals: readonly string[];
}

/**
 * Parses one command's arguments with util.parseArgs, then refuses every form it lets through loosely: an unknown
 * option, a value missing or empty, a value given to a flag, an option given twice, too few or too many
 * positionals. parseArgs runs non-strict so that each refusal is one plain sentence of Herald's own, and so that
 * `--ttl -5m` reaches the ttl check (which says why a negative span is wrong) rather than a parser error.
 */
export function parseCommand(args: readonly string[], spec: CommandSpec): Result<ParsedCommand> {
  const { tokens } = parseArgs({ args: [...args], options: { ...spec.options }, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
    if (option === undefined) return fail(`${spec.name} has no option ${token.rawName}`);
    if (Object.hasOwn(values, token.name)) return fail(`${spec.name}: --${token.name} is given twice`);
    if (option.type === 'boolean') {
      if (token.value !== undefined) return fail(`${spec.name}: --${token.name} takes no value`);
      values[token.name] = true;
    } else {
      if (token.value === undefined || token.value === '') return fail(`${spec.name}: --${token.name} needs a value`);
      values[token.name] = token.value;
    }
  }
  // --help wins over everything else that is missing: `herald token --help` shows how to give the user id.
  if (values['help'] === true) return ok({ values, positionals });
  if (positionals.length < spec.positionals.min) {
    const missing = spec.positionalNames?.slice(positionals.length, spec.positionals.min).join(' ') ?? 'an argument';
    return fail(`${spec.name} needs ${missing}`);
  }
  if (positionals.length > spec.positionals.max) {
    const extra = positionals.slice(spec.positionals.max).map((value) => JSON.stringify(value)).join(' ');
    return fail(spec.positionals.max === 0 ? `${spec.name} takes no arguments, got ${extra}` : `${spec.name}: unexpected ${extra}`);
  }
  return ok({ values, positionals });
}
