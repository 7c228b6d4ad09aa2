/**
 * The command's flags: what it accepts, its usage text, and the validated options a run gets.
 * Pure: no I/O, so every rule is tested without a terminal.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CLI_DEFINITION, DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../contract.js';
import { ReportsError } from '../errors/kinds.js';
import { ReportDefinition, ReportFormat } from '../settings/definitions.js';
import { parseConcurrency, ReadConcurrency } from '../settings/read-concurrency.js';
import { MAX_SCOPES, Scope, SplitBy } from '../settings/scopes.js';
import { type Cadence, type Period, periodContaining, periodFor } from '../time/period.js';
import {
  addDays,
  InvalidDateError,
  parseDay,
  reportWindow,
  tooEarlyDayProblem,
  unfinishedDayProblem,
  yesterday,
} from '../time/window.js';
import { assertTimeZone } from '../time/zone.js';

/** The operations commands (commands.ts); named here too, so a misplaced one is told where it goes. */
export const COMMANDS = ['log', 'resend', 'backfill', 'pause', 'resume'] as const;
const COMMAND_NAMES: readonly string[] = COMMANDS;

export class UsageError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'UsageError';
}

export const USAGE = `Usage: verifik-reports [options]                 run a report (the options below)
       verifik-reports <command> [args]          act on the deployed stack (--help after a command)

Commands:
  log <report-id>          the report's delivery log: run state, sends, SES events
  resend <report-id> [--to ADDR]... [--key K]
                           mail a stored report again (idempotent per key)
  backfill --definition NAME --from D --to D [--force] [--key K]
                           start the scheduled function for each day not yet delivered
  pause <definition>       skip its scheduled runs until resumed
  resume <definition>

Report window (days are calendar days in --tz):
  --date YYYY-MM-DD        one day (default: yesterday in --tz)
  --from YYYY-MM-DD --to YYYY-MM-DD
                           an inclusive range of days
  --tz ZONE                IANA time zone (default: $REPORT_TIME_ZONE, else UTC)
  --cadence daily|weekly|monthly
                           report a whole period: the one containing --date, else the last
                           one that ended (weeks Monday-Sunday unless --week-start 1-7)
Filters:
  --status S               only this status (repeatable)
  --type T                 only this type (repeatable)
  --client ID              only this client id (repeatable)
Scopes (one read, one report per project or client, plus the overall report):
  --split-by project|client
  --scope NAME=ID          a scope: its report is DIR/<report id of cli--NAME>/ (repeatable)
Reading:
  --concurrency N          requests open at Verifik at once, 1-${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY}); lower it
                           to be gentler with Verifik (429 answers lower it by themselves)
Output:
  --format xlsx,csv        files to produce (default: both)
  --out DIR                local directory (default: ./reports); the report goes in DIR/<report id>/
  --bucket NAME            store in this S3 bucket instead of a directory
  --mail-to ADDR           mail the report to ADDR (repeatable; needs --bucket and $MAIL_FROM)
  --definition NAME        name used in the report id and S3 keys (default: cli)
  --json                   print the manifest as JSON on stdout
  -V, --version            print the version and exit
  -h, --help               this help

Environment: VERIFIK_TOKEN (required), VERIFIK_BASE_URL (default https://api.verifik.co),
AWS_REGION / AWS_ENDPOINT_URL_* and credentials for --bucket and --mail-to.`;

export const CliOptions = z
  .object({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    statuses: z.array(z.string().min(1)),
    types: z.array(z.string().min(1)),
    clients: z.array(z.string().min(1)),
    formats: z.array(ReportFormat).min(1),
    out: z.string().min(1),
    bucket: z.string().min(3).optional(),
    mailTo: z.array(z.email()),
    definition: ReportDefinition.shape.name,
    json: z.boolean(),
    concurrency: ReadConcurrency,
    /** One report per scope from one read (settings/scopes.ts rules for names). */
    split: z
      .object({
        by: SplitBy.shape.by,
        scopes: z
          .array(Scope.pick({ name: true, id: true }))
          .min(1)
          .max(MAX_SCOPES),
      })
      .optional(),
  })
  .refine((o) => o.mailTo.length === 0 || o.bucket !== undefined, {
    message: '--mail-to needs --bucket: mails link to files stored in S3',
  })
  .refine((o) => !o.split || o.mailTo.length === 0, {
    message: '--mail-to mails one report; scoped reports are mailed by a definition with splitBy',
  });
export type CliOptions = z.infer<typeof CliOptions>;

/** Parses argv into validated options; throws UsageError with a message that says what to fix. */
export function parseCliArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): CliOptions | 'help' | 'version' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    // One line: what node:util said (the flag and what is wrong with it), not the whole usage.
    throw new UsageError(`${(err as Error).message} (--help lists the flags)`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  if (parsed.positionals.length > 0) {
    const arg = parsed.positionals[0] ?? '';
    throw new UsageError(
      COMMAND_NAMES.includes(arg)
        ? `"${arg}" is a command: put it first, e.g. verifik-reports ${arg} --help.`
        : `Unexpected argument "${arg.slice(0, 60)}" (commands: ${COMMAND_NAMES.join(', ')}; --help lists them).`,
    );
  }
  for (const [name, value] of Object.entries(v)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((x) => typeof x === 'string' && x.trim() === '')) {
      throw new UsageError(`--${name} was given an empty value; give one, or leave the flag out.`);
    }
  }

  const timeZone = v.tz ?? env.REPORT_TIME_ZONE ?? 'UTC';
  try {
    assertTimeZone(timeZone);
  } catch (err) {
    throw new UsageError(`${v.tz !== undefined ? '--tz' : 'REPORT_TIME_ZONE'}: ${(err as Error).message}`);
  }
  if (v.date && (v.from || v.to)) throw new UsageError('Use either --date or --from/--to, not both.');
  if ((v.from && !v.to) || (!v.from && v.to)) throw new UsageError('--from and --to go together.');
  const period = v.cadence ? cadencePeriod(v, timeZone, now) : null;
  const from = period?.from ?? v.date ?? v.from ?? yesterday(timeZone, now);
  const to = period?.to ?? v.date ?? v.to ?? from;
  const flagOf = (which: 'from' | 'to') => (v.date !== undefined ? '--date' : `--${which}`);
  for (const [which, day] of [
    ['from', from],
    ['to', to],
  ] as const) {
    try {
      parseDay(day);
    } catch (err) {
      throw new InvalidDateError(`${flagOf(which)}: ${(err as Error).message}`);
    }
  }
  const tooEarly = tooEarlyDayProblem(from);
  if (tooEarly) throw new InvalidDateError(`${flagOf('from')}: ${tooEarly}.`);
  const unfinished = unfinishedDayProblem(to, timeZone, now);
  if (unfinished && period)
    throw new InvalidDateError(
      `--cadence ${v.cadence}: the period ${from} .. ${to} is not over yet (${unfinished}); give a --date in a period that has ended.`,
    );
  if (unfinished) throw new InvalidDateError(`${flagOf('to')}: ${unfinished}.`);
  reportWindow(from, to, timeZone); // throws InvalidDateError with the reason

  const formats = (v.format ?? 'xlsx,csv')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const result = CliOptions.safeParse({
    from,
    to,
    timeZone,
    statuses: v.status ?? [],
    types: v.type ?? [],
    clients: v.client ?? [],
    formats: [...new Set(formats)],
    out: v.out ?? 'reports',
    bucket: v.bucket,
    mailTo: v['mail-to'] ?? [],
    definition: v.definition ?? CLI_DEFINITION,
    json: v.json ?? false,
    // Decimal digits only, as for VERIFIK_CONCURRENCY: Number() would also take "0x10" or "1e1".
    concurrency:
      v.concurrency === undefined ? DEFAULT_CONCURRENCY : (parseConcurrency(v.concurrency) ?? Number.NaN),
    ...splitOf(v),
  });
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const flag = FLAGS[String(i.path[0] ?? '')];
      return flag ? `${flag}: ${i.message}` : i.message;
    });
    throw new UsageError(problems.join('; '));
  }
  return result.data;
}

/** The period a `--cadence` run reports: the one containing --date, else the last one that ended. */
function cadencePeriod(v: ParsedValues, timeZone: string, now: Date): Period {
  if (v.from || v.to)
    throw new UsageError('--cadence reports a whole period: give --date (a day in it), not --from/--to.');
  const weekStart = v['week-start'] === undefined ? 1 : Number(v['week-start']);
  if (!/^[1-7]$/.test(v['week-start'] ?? '1'))
    throw new UsageError(
      `--week-start: an ISO weekday from 1 (Monday) to 7 (Sunday), got "${v['week-start']}".`,
    );
  let cadence: Cadence;
  switch (v.cadence) {
    case 'daily':
      cadence = { kind: 'daily' };
      break;
    case 'weekly':
      cadence = { kind: 'weekly', weekday: weekStart, weekStart };
      break;
    case 'monthly':
      cadence = { kind: 'monthly', day: 1 };
      break;
    default:
      throw new UsageError(`--cadence: daily, weekly or monthly, got "${terminalSafe(v.cadence ?? '')}".`);
  }
  if (v.date) {
    try {
      parseDay(v.date);
    } catch (err) {
      throw new InvalidDateError(`--date: ${(err as Error).message}`);
    }
    return periodContaining(cadence, v.date);
  }
  return periodFor(cadence, addDays(yesterday(timeZone, now), 1));
}

function terminalSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

/** `--split-by` with its `--scope NAME=ID` flags, as the options schema takes them. */
function splitOf(v: ParsedValues): { split?: unknown } {
  if (!v['split-by']) {
    if (v.scope) throw new UsageError('--scope needs --split-by project or --split-by client.');
    return {};
  }
  if (!v.scope) throw new UsageError('--split-by needs at least one --scope NAME=ID.');
  const scopes = v.scope.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0 || eq === s.length - 1)
      throw new UsageError(
        `--scope "${terminalSafe(s)}": write NAME=ID, e.g. --scope acme=507f1f77bcf86cd799439013.`,
      );
    return { name: s.slice(0, eq), id: s.slice(eq + 1) };
  });
  return { split: { by: v['split-by'], scopes } };
}

type ParsedValues = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      date: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      tz: { type: 'string' },
      status: { type: 'string', multiple: true },
      type: { type: 'string', multiple: true },
      client: { type: 'string', multiple: true },
      format: { type: 'string' },
      out: { type: 'string' },
      bucket: { type: 'string' },
      'mail-to': { type: 'string', multiple: true },
      definition: { type: 'string' },
      json: { type: 'boolean' },
      concurrency: { type: 'string' },
      cadence: { type: 'string' },
      'week-start': { type: 'string' },
      'split-by': { type: 'string' },
      scope: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
}

const FLAGS: Record<string, string> = {
  statuses: '--status',
  types: '--type',
  clients: '--client',
  formats: '--format (xlsx, csv)',
  out: '--out',
  bucket: '--bucket',
  mailTo: '--mail-to',
  definition: '--definition',
  concurrency: '--concurrency',
  split: '--split-by/--scope',
};
