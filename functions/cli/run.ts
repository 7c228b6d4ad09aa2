/**
 * The CLI's I/O half: wires the real adapters (Verifik client, a local or S3 sink, SES) around
 * the pipeline, and mails through the runs' mail path (runs/mail.ts), as the Lambdas do.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { REPORTS_PREFIX, VERIFIK_API_URL } from '../contract.js';
import { downloadName, newReportId, scopeRequest } from '../core/naming.js';
import { runReport, runScopedReports } from '../core/pipeline.js';
import type { ReportRequest, ReportResult } from '../core/request.js';
import { createS3Client, createSesClient } from '../delivery/aws-clients.js';
import { presignDownload } from '../delivery/links.js';
import { checkRecipients, MailOutcomeUnknownError } from '../delivery/mail/index.js';
import type { ReportSink } from '../delivery/sink/index.js';
import {
  createLocalSink,
  createS3Sink,
  findPreviousLocalSummary,
  type LocalSink,
  type S3ReportSink,
} from '../delivery/sink/index.js';
import { manifestFilters } from '../report/manifest.js';
import { readStoredFile } from '../runs/files.js';
import { composeReportMessage, type MailSender, sendReportMessage } from '../runs/mail.js';
import { ConfigError, loadMailSettings, type MailSettings } from '../settings/config.js';
import { reportWindow } from '../time/window.js';
import { createVerifikClient } from '../verifik/client.js';
import { type CliOptions, UsageError } from './args.js';
import { MAX_PRESIGN_SECONDS } from './commands.js';
import { CliConfigError } from './errors.js';
import type { CliIo } from './io.js';
import { humanSummary, progressLine, terminalText } from './output.js';

interface MailSetup {
  sender: MailSender;
  to: string[];
  budgetBytes: number;
  linkSeconds: number;
}

/** Checked before any work, so a mail that could never be sent does not cost a report run. */
function mailSetup(options: CliOptions, env: NodeJS.ProcessEnv): MailSetup | null {
  if (options.mailTo.length === 0) return null;
  // The functions' own rules: MAIL_FROM and ALLOWED_RECIPIENT_DOMAINS required, numbers positive.
  let settings: MailSettings;
  try {
    settings = loadMailSettings(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `${p.variable}: ${p.message}`).join('; ');
    throw new CliConfigError(`--mail-to needs its mail settings in the environment (${problems}).`);
  }
  return {
    sender: {
      ses: createSesClient(),
      from: settings.MAIL_FROM,
      allowedDomains: settings.ALLOWED_RECIPIENT_DOMAINS,
      configurationSet: settings.SES_CONFIGURATION_SET,
    },
    to: checkRecipients(options.mailTo, settings.ALLOWED_RECIPIENT_DOMAINS),
    budgetBytes: settings.ATTACHMENT_BUDGET_BYTES,
    linkSeconds: Math.min(settings.LINK_TTL_SECONDS, MAX_PRESIGN_SECONDS),
  };
}

/**
 * What a run ended with: the report (complete, manifest written) and, with `--mail-to`, whether
 * the mail went. A mail that fails after the report is stored does not undo the report: the
 * caller says where it is and that no mail was sent (exit 5), instead of "no report was written".
 */
export interface CliRunOutcome {
  result: ReportResult;
  /** With --split-by: each scope's report, by scope name (`result` is then the overall report). */
  scopes?: Map<string, ReportResult>;
  mail?: { sent: true; messageId: string; to: string[] } | { sent: false; error: unknown; to: string[] };
}

export async function executeCliReport(
  options: CliOptions,
  { token, io, signal }: { token: string; io: CliIo; signal?: AbortSignal },
): Promise<CliRunOutcome> {
  const request: ReportRequest = {
    definition: options.definition,
    window: reportWindow(options.from, options.to, options.timeZone),
    statuses: options.statuses,
    types: options.types,
    clients: options.clients,
    formats: options.formats,
  };
  const mail = mailSetup(options, io.env);
  const verifik = createVerifikClient({ baseUrl: io.env.VERIFIK_BASE_URL ?? VERIFIK_API_URL, token });
  if (options.split) return executeCliSplit(options, options.split, { request, verifik, io, signal });
  const reportId = newReportId(request, io.now());
  const s3 = options.bucket ? createS3Client() : null;
  const stored: ReportSink | S3ReportSink =
    s3 && options.bucket
      ? createS3Sink({
          s3,
          bucket: options.bucket,
          prefix: io.env.REPORTS_PREFIX ?? REPORTS_PREFIX,
          definition: request.definition,
          window: request.window,
          reportId,
        })
      : localSink(options.out, reportId);
  const sink = signal ? stopsWith(stored, signal) : stored;

  // Deltas against the previous local report; S3 reports get theirs in the Lambdas.
  const previous = options.bucket
    ? null
    : await findPreviousLocalSummary({
        dir: options.out,
        definition: request.definition,
        day: request.window.from,
        timeZone: request.window.timeZone,
        filters: manifestFilters(request),
        onWarning: (message) =>
          io.stderr.write(
            `verifik-reports: warning: no comparison with the previous report: ${terminalText(message)}\n`,
          ),
      });
  const progress = progressLine(io.stderr);
  let result: ReportResult;
  try {
    if (signal?.aborted) {
      await sink.abort(signal.reason);
      throw signal.reason;
    }
    result = await runReport({
      request,
      reportId,
      verifik,
      sink,
      previous,
      onProgress: progress.update,
      read: { concurrency: options.concurrency },
      ...(signal ? { signal } : {}),
    });
  } finally {
    progress.done();
  }
  if (!options.json) io.stdout.write(humanSummary(result));
  if (mail && s3 && 'keyOf' in stored) {
    let messageId: string;
    try {
      messageId = await mailReport({ request, result, sink: stored, s3, mail, now: io.now() });
    } catch (error) {
      return { result, mail: { sent: false, error, to: mail.to } };
    }
    if (!options.json) io.stdout.write(`  mailed to  ${mail.to.join(', ')} (SES message ${messageId})\n`);
    return { result, mail: { sent: true, messageId, to: mail.to } };
  }
  return { result };
}

/**
 * `--split-by`: one read, a report per scope and the overall one, each in its own directory under
 * --out (or its own S3 prefix under --bucket), named `<definition>--<scope>` like a definition's.
 */
async function executeCliSplit(
  options: CliOptions,
  split: NonNullable<CliOptions['split']>,
  ctx: {
    request: ReportRequest;
    verifik: ReturnType<typeof createVerifikClient>;
    io: CliIo;
    signal?: AbortSignal | undefined;
  },
): Promise<CliRunOutcome> {
  const { request, io, signal } = ctx;
  const s3 = options.bucket ? createS3Client() : null;
  const sinkFor = (req: ReportRequest, reportId: string): ReportSink => {
    const stored =
      s3 && options.bucket
        ? createS3Sink({
            s3,
            bucket: options.bucket,
            prefix: io.env.REPORTS_PREFIX ?? REPORTS_PREFIX,
            definition: req.definition,
            window: req.window,
            reportId,
          })
        : localSink(options.out, reportId);
    return signal ? stopsWith(stored, signal) : stored;
  };
  const scopes = split.scopes.map((sc) => {
    const req = scopeRequest(request, split.by, sc);
    const reportId = newReportId(req, io.now());
    return { name: sc.name, id: sc.id, request: req, reportId, sink: sinkFor(req, reportId) };
  });
  const overallId = newReportId(request, io.now());
  const progress = progressLine(io.stderr);
  let result: Awaited<ReturnType<typeof runScopedReports>>;
  try {
    result = await runScopedReports({
      request,
      by: split.by,
      scopes,
      overall: { reportId: overallId, sink: sinkFor(request, overallId) },
      verifik: ctx.verifik,
      onProgress: progress.update,
      read: { concurrency: options.concurrency },
      ...(signal ? { signal } : {}),
    });
  } finally {
    progress.done();
  }
  const overall = result.overall as ReportResult;
  const byName = new Map(scopes.map((sc) => [sc.name, result.scopes.get(sc.id) as ReportResult]));
  if (!options.json) {
    io.stdout.write(humanSummary(overall));
    for (const [name, r] of byName) io.stdout.write(`scope ${terminalText(name)}: ${humanSummary(r)}`);
    if (result.unscoped)
      io.stdout.write(`${result.unscoped} validations in no scope (in the overall report only)\n`);
  }
  return { result: overall, scopes: byName };
}

/**
 * The sink, refusing to go on once `signal` aborted: the read stops on the signal by itself, and
 * a stop that comes later (while the last files are rendered) still ends in an abort instead of a
 * manifest, because opening the summary or committing then throws. Same object shape, so an S3
 * sink keeps its keys.
 */
function stopsWith<S extends ReportSink>(sink: S, signal: AbortSignal): S {
  return {
    ...sink,
    open: (spec) => {
      signal.throwIfAborted();
      return sink.open(spec);
    },
    commit: async (manifestJson) => {
      signal.throwIfAborted();
      await sink.commit(manifestJson);
    },
  };
}

/** The `--out` directory's sink; a directory that cannot be made is a flag to fix, said at once. */
function localSink(dir: string, reportId: string): LocalSink {
  try {
    return createLocalSink({ dir, reportId });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `--out ${dir}: the report directory cannot be created there (${e.code ?? e.name}: ${e.message}). Give a directory you can write to.`,
      { cause: err },
    );
  }
}

/** The one line that says a stored report's mail did not go: where the report is, to whom, and why. */
export function mailNotSentLine(result: ReportResult, mail: { to: string[]; error: unknown }): string {
  const why = mail.error instanceof Error ? mail.error.message : String(mail.error);
  const what =
    mail.error instanceof MailOutcomeUnknownError
      ? `SES did not confirm the mail to ${mail.to.join(', ')} (it may not have been sent)`
      : `no mail was sent to ${mail.to.join(', ')}`;
  return `report ${result.id} is complete and stored at ${result.location}, but ${what}: ${why}`;
}

/** Mails the stored report through the runs' mail path, with presigned S3 links (the CLI has no API). */
async function mailReport(input: {
  request: ReportRequest;
  result: ReportResult;
  sink: S3ReportSink;
  s3: S3Client;
  mail: MailSetup;
  now: Date;
}): Promise<string> {
  const { request, result, sink, s3, mail, now } = input;
  const links = await Promise.all(
    result.files.map(async (f) => ({
      name: f.name,
      bytes: f.bytes,
      url: await presignDownload(s3, sink.bucket, sink.keyOf(f.name), {
        expiresInSeconds: mail.linkSeconds,
        downloadName: downloadName(request, f.name),
      }),
    })),
  );
  const composed = await composeReportMessage({
    label: request.definition,
    request,
    result,
    links,
    linksExpireAt: new Date(now.getTime() + mail.linkSeconds * 1000),
    budgetBytes: mail.budgetBytes,
    readFile: (name) => readStoredFile(s3, sink.bucket, sink.keyOf(name)),
    now,
  });
  return sendReportMessage(mail.sender, mail.to, composed, result.id);
}
