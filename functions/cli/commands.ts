/**
 * The operations commands, selected by the first argument: `log`, `resend`, `backfill`, `pause`,
 * `resume`. They act on a deployed stack's table, bucket and functions with the caller's AWS
 * credentials; without a command the arguments are the report flags (args.ts), as always.
 * Pure: what each accepts, its usage text and its validated options; ops.ts does the I/O.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFINITION_NAME, DEFINITION_NAME_RULE, MAX_RECIPIENTS, REPORT_ID } from '../contract.js';
import {
  daysBetween,
  InvalidDateError,
  MAX_RANGE_DAYS,
  parseDay,
  tooEarlyDayProblem,
} from '../time/window.js';
import { COMMANDS, UsageError } from './args.js';

export { COMMANDS };
export type CommandName = (typeof COMMANDS)[number];

export function isCommand(arg: string | undefined): arg is CommandName {
  return (COMMANDS as readonly string[]).includes(arg ?? '');
}

/** SigV4 presigned URLs cannot outlive 7 days: links in mails the CLI sends are presigned S3 URLs. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * A request key, as the API's `Idempotency-Key` takes it (api/input.ts REQUEST_KEY): it becomes
 * part of a claim (`<report id>~<key>`, `<day>~<key>`) and of the scheduled event's `force`.
 */
export const REQUEST_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export const COMMAND_USAGE: Record<CommandName, string> = {
  log: `Usage: verifik-reports log <report-id> [--json]

The report's delivery log: its run (claim) state, then every entry one per line
(time, type, recipients, SES message id, detail): claims, files produced, sends,
SES events (delivery, bounce, complaint…), failures, re-sends.
Environment: STATE_TABLE.`,
  resend: `Usage: verifik-reports resend <report-id> [--to ADDR]... [--key K] [--json]

Mails a complete report again: the stored files, fresh presigned S3 links (valid
LINK_TTL_SECONDS, at most 7 days), to its own recipients or to each --to (allowed
domains only, at most ${MAX_RECIPIENTS}). Verifik is not read again.
  --key K   the request's key (1-64 letters, digits, "_" or "-"); the same key never
            sends twice. Default: a new random key, printed so a retry can reuse it.
Environment: STATE_TABLE, REPORTS_BUCKET, MAIL_FROM, ALLOWED_RECIPIENT_DOMAINS,
REPORT_DEFINITIONS (SES_CONFIGURATION_SET, LINK_TTL_SECONDS, ATTACHMENT_BUDGET_BYTES).`,
  backfill: `Usage: verifik-reports backfill --definition NAME --from YYYY-MM-DD --to YYYY-MM-DD [--force] [--key K] [--json]

Starts the deployed scheduled function once per day (asynchronously, as its schedule
does). Days already delivered are skipped unless --force; a forced day is reported
again under the key, so the same forced request twice still sends once per day.
Days are calendar days in the definition's zone, ended, at most ${MAX_RANGE_DAYS}.
  --key K   the request's key (default: a new random key, printed).
Environment: STATE_TABLE, REPORT_DEFINITIONS, SCHEDULED_FUNCTION_NAME.`,
  pause: `Usage: verifik-reports pause <definition> [--json]

Pauses a definition: its schedule still fires, and each run is skipped (logged in the
day's delivery log) until it is resumed. Pausing a paused definition changes nothing.
Environment: STATE_TABLE, REPORT_DEFINITIONS.`,
  resume: `Usage: verifik-reports resume <definition> [--json]

Resumes a paused definition: its next scheduled run reports as usual.
Environment: STATE_TABLE, REPORT_DEFINITIONS.`,
};

export type CommandOptions =
  | { command: 'log'; reportId: string; json: boolean }
  | { command: 'resend'; reportId: string; to: string[]; key?: string; json: boolean }
  | {
      command: 'backfill';
      definition: string;
      from: string;
      to: string;
      force: boolean;
      key?: string;
      json: boolean;
    }
  | { command: 'pause' | 'resume'; definition: string; json: boolean };

const OPTIONS = {
  log: { json: { type: 'boolean' } },
  resend: { to: { type: 'string', multiple: true }, key: { type: 'string' }, json: { type: 'boolean' } },
  backfill: {
    definition: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    force: { type: 'boolean' },
    key: { type: 'string' },
    json: { type: 'boolean' },
  },
  pause: { json: { type: 'boolean' } },
  resume: { json: { type: 'boolean' } },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(command: CommandName, argv: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { ...OPTIONS[command], help: { type: 'boolean', short: 'h' } },
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message} (verifik-reports ${command} --help)`);
  }
}

function onePositional(command: CommandName, positionals: string[], what: string): string {
  const [first, ...more] = positionals;
  if (first === undefined || first.trim() === '')
    throw new UsageError(`${command} needs the ${what}: verifik-reports ${command} <${what}>.`);
  if (more.length > 0) throw new UsageError(`${command}: unexpected argument "${more[0]}".`);
  return first;
}

function reportIdOf(command: CommandName, positionals: string[]): string {
  const id = onePositional(command, positionals, 'report-id');
  if (!REPORT_ID.test(id))
    throw new UsageError(
      `${command}: "${id.slice(0, 60)}" is not a report id (letters, digits, "_" and "-").`,
    );
  return id;
}

function definitionOf(name: string, flag: string): string {
  if (!DEFINITION_NAME.test(name))
    throw new UsageError(
      `${flag}: "${name.slice(0, 60)}" is not a definition name (${DEFINITION_NAME_RULE}).`,
    );
  return name;
}

function keyOf(command: CommandName, key: unknown): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !REQUEST_KEY.test(key)) {
    throw new UsageError(`${command} --key: use 1-64 letters, digits, "_" or "-".`);
  }
  return key;
}

/** Parses a command's arguments (after the command name); throws UsageError naming the flag. */
export function parseCommandArgs(command: CommandName, argv: string[]): CommandOptions | 'help' {
  const { values: v, positionals } = parse(command, argv);
  if (v.help) return 'help';
  for (const [name, value] of Object.entries(v)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.some((x) => typeof x === 'string' && x.trim() === '')) {
      throw new UsageError(`${command} --${name} was given an empty value; give one, or leave the flag out.`);
    }
  }
  const json = v.json === true;
  switch (command) {
    case 'log':
      return { command, reportId: reportIdOf(command, positionals), json };
    case 'resend': {
      const reportId = reportIdOf(command, positionals);
      const to = [...new Set((v.to as string[] | undefined) ?? [])];
      const bad = to.filter((a) => !z.email().safeParse(a).success);
      if (bad.length > 0)
        throw new UsageError(`resend --to: "${bad[0]?.slice(0, 60)}" is not an email address.`);
      if (to.length > MAX_RECIPIENTS)
        throw new UsageError(`resend --to: at most ${MAX_RECIPIENTS} recipients.`);
      const key = keyOf(command, v.key);
      return { command, reportId, to, ...(key ? { key } : {}), json };
    }
    case 'backfill': {
      if (positionals.length > 0) throw new UsageError(`backfill: unexpected argument "${positionals[0]}".`);
      for (const flag of ['definition', 'from', 'to'] as const) {
        if (v[flag] === undefined)
          throw new UsageError(`backfill needs --${flag} (verifik-reports backfill --help).`);
      }
      const definition = definitionOf(String(v.definition), '--definition');
      const from = String(v.from);
      const to = String(v.to);
      for (const [flag, day] of [
        ['--from', from],
        ['--to', to],
      ] as const) {
        try {
          parseDay(day);
        } catch (err) {
          throw new InvalidDateError(`backfill ${flag}: ${(err as Error).message}`);
        }
      }
      const tooEarly = tooEarlyDayProblem(from);
      if (tooEarly) throw new InvalidDateError(`backfill --from: ${tooEarly}.`);
      const days = daysBetween(from, to);
      if (days < 1) throw new InvalidDateError(`backfill --to: ${to} is before --from (${from}).`);
      if (days > MAX_RANGE_DAYS) {
        throw new InvalidDateError(
          `backfill: the range is ${days} days; at most ${MAX_RANGE_DAYS} are allowed.`,
        );
      }
      const key = keyOf(command, v.key);
      return { command, definition, from, to, force: v.force === true, ...(key ? { key } : {}), json };
    }
    case 'pause':
    case 'resume':
      return {
        command,
        definition: definitionOf(onePositional(command, positionals, 'definition'), command),
        json,
      };
  }
}
