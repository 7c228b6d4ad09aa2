/**
 * `verifik-reports` / `npm run report`: flags → the same pipeline the Lambdas run.
 * Exit codes: 0 report complete (manifest written), 2 bad usage, 3 authentication, 4 Verifik
 * unavailable or the read could not be completed, 1 anything else.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CLI_DEFINITION, DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../contract.js';
import { ReportDefinition, ReportFormat } from '../core/definitions.js';
import { ReportsError } from '../errors/kinds.js';
import { ReadConcurrency } from '../settings/read-concurrency.js';
import { reportWindow, yesterday } from '../time/window.js';
import { assertTimeZone } from '../time/zone.js';
import { describeError, EXIT, exitCodeFor } from './errors.js';

export class UsageError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'UsageError';
}

const USAGE = `Usage: verifik-reports [options]

Report window (days are calendar days in --tz):
  --date YYYY-MM-DD        one day (default: yesterday in --tz)
  --from YYYY-MM-DD --to YYYY-MM-DD
                           an inclusive range of days
  --tz ZONE                IANA time zone (default: $REPORT_TIME_ZONE, else UTC)
Filters:
  --status S               only this status (repeatable)
  --type T                 only this type (repeatable)
  --client ID              only this client id (repeatable)
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
  })
  .refine((o) => o.mailTo.length === 0 || o.bucket !== undefined, {
    message: '--mail-to needs --bucket: mails link to files stored in S3',
  });
export type CliOptions = z.infer<typeof CliOptions>;

/** Parses argv into validated options; throws UsageError with a message that says what to fix. */
export function parseCliArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): CliOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length > 0) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}".`);

  const timeZone = v.tz ?? env.REPORT_TIME_ZONE ?? 'UTC';
  assertTimeZone(timeZone);
  if (v.date && (v.from || v.to)) throw new UsageError('Use either --date or --from/--to, not both.');
  if ((v.from && !v.to) || (!v.from && v.to)) throw new UsageError('--from and --to go together.');
  const from = v.date ?? v.from ?? yesterday(timeZone, now);
  const to = v.date ?? v.to ?? from;
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
    concurrency: v.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(v.concurrency),
  });
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const flag = FLAGS[String(i.path[0] ?? '')];
      return flag ? `${flag}: ${i.message}` : i.message;
    });
    throw new UsageError(problems.join('\n'));
  }
  return result.data;
}

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
      help: { type: 'boolean', short: 'h' },
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
};

export { EXIT };

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  now: () => new Date(),
});

/** Runs the command and returns the exit code; never throws. */
export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseCliArgs(argv, io.env, io.now());
  } catch (err) {
    io.stderr.write(`verifik-reports: ${(err as Error).message}\n`);
    if (!(err instanceof UsageError)) io.stderr.write('Run with --help for usage.\n');
    return EXIT.usage;
  }
  if (options === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const token = io.env.VERIFIK_TOKEN;
  if (!token) {
    io.stderr.write(
      'verifik-reports: VERIFIK_TOKEN is not set. Export your Verifik API token (see the README, "Configuration"), ' +
        'or run `npm start` for a demo against the embedded fake API.\n',
    );
    return EXIT.usage;
  }
  try {
    const { executeCliReport } = await import('./run.js');
    const result = await executeCliReport(options, { token, io });
    if (options.json) io.stdout.write(`${JSON.stringify(result.manifest, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    return reportFailure(err, io);
  }
}

function reportFailure(err: unknown, io: CliIo): number {
  io.stderr.write(`\nverifik-reports: ${describeError(err)}\nNo report was written.\n`);
  return exitCodeFor(err);
}
