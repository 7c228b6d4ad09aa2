/**
 * The operations commands' I/O half (commands.ts parses them): they act on the deployed stack's
 * table, bucket and functions with the caller's AWS credentials, configured by the same variables
 * the functions get, and go through the same run protocol (runs/): the delivery log, the
 * re-send's claim, the backfill's per-day claims, the definition's pause switch.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { downloadName } from '../core/naming.js';
import { createDynamoDocClient, createS3Client, createSesClient } from '../delivery/aws-clients.js';
import { asyncInvoker } from '../delivery/lambda-invoke.js';
import { presignDownload } from '../delivery/links.js';
import { getReport, type LogEntry, ReportNotFoundError, type ReportRecord } from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import { backfill, setDefinitionPaused } from '../runs/backfill.js';
import { type DeliveryLog, deliveryLogOf } from '../runs/delivery-log.js';
import type { RunDeps, SecretSource } from '../runs/deps.js';
import { fileKey } from '../runs/files.js';
import { resendReport } from '../runs/resend.js';
import { findDefinition, type ScheduledInput } from '../runs/schedule-input.js';
import { type Config, ConfigError, loadConfig } from '../settings/config.js';
import { InvalidDateError, reportWindow, unfinishedDayProblem } from '../time/window.js';
import { type CommandName, type CommandOptions, MAX_PRESIGN_SECONDS } from './commands.js';
import { CliConfigError, EXIT } from './errors.js';
import type { CliIo } from './io.js';
import { terminalText } from './output.js';

const README_SECTION = 'see the README, "Delivery log, re-send, backfill, pause"';

/** The variables each command reads (the deployed stack's values), and those it may read. */
const VARIABLES: Record<CommandName, { required: string[]; optional: string[] }> = {
  log: { required: ['STATE_TABLE'], optional: [] },
  resend: {
    required: [
      'STATE_TABLE',
      'REPORTS_BUCKET',
      'MAIL_FROM',
      'ALLOWED_RECIPIENT_DOMAINS',
      'REPORT_DEFINITIONS',
    ],
    optional: ['SES_CONFIGURATION_SET', 'LINK_TTL_SECONDS', 'ATTACHMENT_BUDGET_BYTES'],
  },
  backfill: { required: ['STATE_TABLE', 'REPORT_DEFINITIONS', 'SCHEDULED_FUNCTION_NAME'], optional: [] },
  pause: { required: ['STATE_TABLE', 'REPORT_DEFINITIONS'], optional: [] },
  resume: { required: ['STATE_TABLE', 'REPORT_DEFINITIONS'], optional: [] },
};

/**
 * Stand-ins for the functions' variables a command never reads, so the functions' own parser
 * (settings/config.ts) checks, by the same rules, exactly the variables it does read.
 */
const NOT_READ: Record<string, string> = {
  REPORTS_BUCKET: 'not-read-by-this-command',
  STATE_TABLE: 'not-read-by-this-command',
  VERIFIK_TOKEN_SECRET_ID: 'not-read-by-the-cli',
  LINK_SIGNING_SECRET_ID: 'not-read-by-the-cli',
  MAIL_FROM: 'not-read@cli.invalid',
  ALLOWED_RECIPIENT_DOMAINS: 'cli.invalid',
  REPORT_DEFINITIONS: '[]',
};

/** The command's configuration; a missing or bad variable is one line that names it (exit 2). */
export function commandConfig(command: CommandName, env: NodeJS.ProcessEnv): Config {
  const { required, optional } = VARIABLES[command];
  const missing = required.filter((name) => !env[name]?.trim());
  if (missing.length > 0) {
    const one = missing.length === 1;
    throw new CliConfigError(
      `${missing.join(', ')} ${one ? 'is' : 'are'} not set: \`verifik-reports ${command}\` needs ` +
        `${one ? 'it' : 'them'}, the deployed stack's ${one ? 'value' : 'values'} (the functions' variables; ${README_SECTION}).`,
    );
  }
  const vars: Record<string, string | undefined> = { ...NOT_READ };
  for (const name of [...required, ...optional]) vars[name] = env[name];
  try {
    // A role with no variables of its own: what the command reads is listed above.
    return loadConfig('report-worker', vars);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `${p.variable}: ${p.message}`).join('; ');
    throw new CliConfigError(`\`verifik-reports ${command}\`: ${problems}.`);
  }
}

class NotForTheCliError extends ReportsError {
  override readonly kind = 'internal';
  override name = 'NotForTheCliError';
}

/** The operations never read Verifik or sign API links (re-sent mails carry presigned S3 links). */
const NO_SECRETS: SecretSource = {
  verifikToken: async () => {
    throw new NotForTheCliError('The operations commands never read the Verifik token.');
  },
  linkKeys: async () => {
    throw new NotForTheCliError('The operations commands never sign API links.');
  },
  invalidate: () => undefined,
};

/** The runs' logger, for a terminal: warnings and errors as one line each on stderr, nothing else. */
function stderrLogger(io: CliIo): Logger {
  const line =
    (level: string) =>
    (message: string, ...extra: unknown[]): void => {
      const details = extra.length > 0 ? ` ${JSON.stringify(extra.length === 1 ? extra[0] : extra)}` : '';
      io.stderr.write(`verifik-reports: ${level}: ${terminalText(`${message}${details}`)}\n`);
    };
  const quiet = (): void => undefined;
  return { debug: quiet, info: quiet, warn: line('warning'), error: line('error') } as unknown as Logger;
}

function runDeps(config: Config, io: CliIo): RunDeps {
  return {
    config,
    s3: createS3Client(),
    ses: createSesClient(),
    doc: createDynamoDocClient(),
    secrets: NO_SECRETS,
    verifik: () => {
      throw new NotForTheCliError('The operations commands never read Verifik.');
    },
    logger: stderrLogger(io),
    now: io.now,
    newRunId: () => randomUUID(),
  };
}

/** A fresh request key: 16 URL-safe characters, printed so a retry can reuse it. */
function newRequestKey(): string {
  return randomBytes(12).toString('base64url');
}

function announceKey(io: CliIo, command: CommandName, key: string): void {
  io.stderr.write(
    `verifik-reports: request key ${key} (to retry this same ${command} without doing it twice: --key ${key})\n`,
  );
}

/** Runs a parsed command; returns the exit code. Errors are thrown for main.ts to report by kind. */
export async function executeCommand(options: CommandOptions, io: CliIo): Promise<number> {
  const config = commandConfig(options.command, io.env);
  const deps = runDeps(config, io);
  try {
    switch (options.command) {
      case 'log':
        return await showLog(deps, options, io);
      case 'resend':
        return await resend(deps, options, io);
      case 'backfill':
        return await startBackfill(deps, options, io);
      case 'pause':
      case 'resume':
        return await pauseOrResume(deps, options, io);
    }
  } finally {
    deps.s3.destroy();
    deps.ses.destroy();
  }
}

// ---------------------------------------------------------------- log

async function reportOf(deps: RunDeps, id: string): Promise<ReportRecord> {
  const record = await getReport(deps.doc, deps.config.STATE_TABLE, id);
  if (!record)
    throw new ReportNotFoundError(`No report ${id} (reports and their logs are kept for a limited time).`);
  return record;
}

async function showLog(
  deps: RunDeps,
  options: Extract<CommandOptions, { command: 'log' }>,
  io: CliIo,
): Promise<number> {
  const record = await reportOf(deps, options.reportId);
  const log = await deliveryLogOf(deps, record);
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ report: { id: record.id, status: record.status }, deliveryLog: log }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  io.stdout.write(logText(record, log));
  return EXIT.ok;
}

/** The delivery log for a terminal: the run, then one line an entry. Every field is terminal-safe. */
export function logText(record: ReportRecord, log: DeliveryLog | null): string {
  const t = terminalText;
  const r = record.request as { definition?: unknown };
  const what = [typeof r.definition === 'string' ? r.definition : undefined, record.date].filter(Boolean);
  const lines = [
    `Report ${t(record.id)}: ${t(record.status)}${what.length > 0 ? ` (${t(what.join(', '))})` : ''}`,
  ];
  if (!log) {
    lines.push(
      'No delivery log: nothing was run or mailed under this report, or its log has expired (90 days).',
    );
    return `${lines.join('\n')}\n`;
  }
  const run = log.run;
  lines.push(
    `Run: ${t(run.status)}, attempt ${run.attempts}, updated ${t(run.updatedAt)}` +
      (run.mailMessageId ? `, SES message ${t(run.mailMessageId)}` : '') +
      (run.mailSentAt ? `, sent ${t(run.mailSentAt)}` : '') +
      (run.alertedAt ? `, owners alerted ${t(run.alertedAt)}` : '') +
      (run.reason ? ` — ${t(run.reason)}` : ''),
  );
  if (log.entries.length === 0) lines.push('No entries.');
  else lines.push('time  type  recipients  message id  detail');
  for (const e of log.entries) lines.push(entryLine(record, e));
  return `${lines.join('\n')}\n`;
}

function entryLine(record: ReportRecord, e: LogEntry): string {
  const detail = [
    e.detail,
    e.attempt !== undefined ? `attempt ${e.attempt}` : undefined,
    e.reportId && e.reportId !== record.id ? `report ${e.reportId}` : undefined,
  ].filter((x): x is string => Boolean(x));
  return terminalText(
    [
      e.at,
      e.type === 'event' && e.event ? `event ${e.event}` : e.type,
      e.recipients && e.recipients.length > 0 ? e.recipients.join(', ') : '-',
      e.messageId ?? '-',
      detail.join('; ') || '-',
    ].join('  '),
  );
}

// ---------------------------------------------------------------- resend

/** What a report's downloads are named after (its definition and window), when its record says. */
function namingOf(record: ReportRecord): Parameters<typeof downloadName>[0] | undefined {
  const r = record.request as { definition?: unknown; from?: unknown; to?: unknown; timeZone?: unknown };
  try {
    return {
      definition: typeof r.definition === 'string' ? r.definition : 'report',
      window: reportWindow(String(r.from), String(r.to), String(r.timeZone)),
    };
  } catch {
    return undefined;
  }
}

async function resend(
  deps: RunDeps,
  options: Extract<CommandOptions, { command: 'resend' }>,
  io: CliIo,
): Promise<number> {
  const key = options.key ?? newRequestKey();
  if (!options.key) announceKey(io, 'resend', key);
  const record = await reportOf(deps, options.reportId);
  const naming = namingOf(record);
  const bucket = deps.config.REPORTS_BUCKET;
  const linkSeconds = Math.min(deps.config.LINK_TTL_SECONDS, MAX_PRESIGN_SECONDS);
  const outcome = await resendReport(deps, {
    reportId: record.id,
    ...(options.to.length > 0 ? { to: options.to } : {}),
    requestKey: key,
    links: async (files, manifestKey) => ({
      links: await Promise.all(
        files.map(async (f) => ({
          name: f.name,
          bytes: f.bytes,
          url: await presignDownload(deps.s3, bucket, fileKey(manifestKey, f.name), {
            expiresInSeconds: linkSeconds,
            ...(naming ? { downloadName: downloadName(naming, f.name) } : {}),
          }),
        })),
      ),
      expiresAt: new Date(deps.now().getTime() + linkSeconds * 1000),
    }),
  });
  if (options.json) io.stdout.write(`${JSON.stringify({ ...outcome, key }, null, 2)}\n`);
  const t = terminalText;
  switch (outcome.status) {
    case 'sent':
      if (!options.json) {
        io.stdout.write(
          `Re-sent report ${t(outcome.reportId)} to ${t(outcome.to.join(', '))} (SES message ${t(outcome.messageId)}).\n`,
        );
      }
      return EXIT.ok;
    case 'duplicate':
      if (!options.json) {
        io.stdout.write(
          `Request ${key} was already made for report ${t(outcome.reportId)} (its re-send is ${t(outcome.state)}): nothing sent again.\n`,
        );
      }
      return EXIT.ok;
    case 'unknown':
      io.stderr.write(
        `verifik-reports: ${t(
          `SES did not confirm the re-send of report ${outcome.reportId} to ${outcome.to.join(', ')} (${outcome.reason}); it may have been sent. ` +
            `SES's events settle it: check \`verifik-reports log ${outcome.reportId}\` before re-sending under a new key.`,
        )}\n`,
      );
      return EXIT.mailNotSent;
  }
}

// ---------------------------------------------------------------- backfill

async function startBackfill(
  deps: RunDeps,
  options: Extract<CommandOptions, { command: 'backfill' }>,
  io: CliIo,
): Promise<number> {
  const def = findDefinition(deps, options.definition);
  const unfinished = unfinishedDayProblem(options.to, def.schedule.timeZone, io.now());
  if (unfinished) throw new InvalidDateError(`backfill --to: ${unfinished}.`);
  const key = options.key ?? newRequestKey();
  if (!options.key) announceKey(io, 'backfill', key);
  const invoker = asyncInvoker<ScheduledInput>(deps.config.SCHEDULED_FUNCTION_NAME as string, 'run');
  try {
    const days = await backfill(Object.assign(deps, { redo: invoker.start }), {
      definition: def.name,
      from: options.from,
      to: options.to,
      force: options.force,
      requestKey: key,
    });
    if (options.json) {
      io.stdout.write(
        `${JSON.stringify({ definition: def.name, force: options.force, key, days }, null, 2)}\n`,
      );
      return EXIT.ok;
    }
    const started = days.filter((d) => d.action === 'started').length;
    const lines = [
      `Backfill of ${def.name} ${options.from}..${options.to}${options.force ? ' (forced)' : ''}: ${started} of ${days.length} days started.`,
      ...days.map((d) => `  ${d.day}  ${d.action}${d.reason ? `: ${terminalText(d.reason)}` : ''}`),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } finally {
    invoker.close();
  }
}

// ---------------------------------------------------------------- pause, resume

async function pauseOrResume(
  deps: RunDeps,
  options: Extract<CommandOptions, { command: 'pause' | 'resume' }>,
  io: CliIo,
): Promise<number> {
  const user = io.env.USER ?? io.env.USERNAME;
  const result = await setDefinitionPaused(deps, {
    definition: options.definition,
    paused: options.command === 'pause',
    by: `cli${user ? ` ${user}` : ''}`,
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(
    result.paused
      ? `${result.definition} is paused: its schedule still fires, and each run is skipped (logged) until \`verifik-reports resume ${result.definition}\`.\n`
      : `${result.definition} is resumed: its next scheduled run reports as usual.\n`,
  );
  return EXIT.ok;
}
