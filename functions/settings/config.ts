/**
 * The functions' environment, validated once per cold start. Every bad or missing variable is
 * reported in one error, so a misconfigured deployment says everything that is wrong at once
 * instead of failing one variable per deploy. The CDK stack sets exactly these names.
 */
import { z } from 'zod';
import {
  DEFAULT_ATTACHMENT_BUDGET_BYTES,
  DEFAULT_CONCURRENCY,
  DEFAULT_LINK_TTL_SECONDS,
  REPORTS_PREFIX,
  VERIFIK_API_URL,
} from '../contract.js';
import { ReportsError } from '../errors/kinds.js';
import { ReportDefinitions } from './definitions.js';
import { CONCURRENCY_RULE, parseConcurrency } from './read-concurrency.js';

export class ConfigError extends ReportsError {
  override readonly kind = 'config';
  override name = 'ConfigError';
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid function configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}. ` +
        'Check the environment the deployment sets for this function.',
    );
  }
}

const required = (what: string) =>
  z
    .string({ error: `missing (${what})` })
    .trim()
    .min(1, `empty (${what})`);
/** A number variable: `fallback` when unset or blank, else `parse` of it, or an issue naming `rule`. */
const numberSetting = (fallback: number, rule: string, parse: (text: string) => number | undefined) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = parse(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not ${rule}` });
        return z.NEVER;
      }
      return n;
    });

const positiveInt = (fallback: number) =>
  numberSetting(fallback, 'a positive whole number', (v) => {
    const n = Number(v);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  });

/** Requests open at Verifik during a read (read-concurrency.ts). */
const concurrency = numberSetting(DEFAULT_CONCURRENCY, CONCURRENCY_RULE, parseConcurrency);

const commaList = z
  .string({ error: 'missing (comma-separated domains, e.g. "example.com,example.org")' })
  .transform((v) =>
    v
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d.length > 0),
  )
  .refine((list) => list.length > 0, 'no domain listed')
  .refine(
    (list) => list.every((d) => /^[a-z0-9.-]+\.[a-z]{2,}$/.test(d)),
    'each entry must be a domain like example.com',
  );

const definitionsJson = z
  .string({ error: 'missing (JSON array of report definitions)' })
  .transform((v, ctx) => {
    try {
      return JSON.parse(v) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(ReportDefinitions);

/** A URL, or the fallback when unset or blank. */
const urlWithDefault = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : fallback))
    .pipe(z.url({ error: 'not a URL' }));

/** Trimmed text, or undefined when unset or blank. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const optionalUrl = optionalText.pipe(z.url({ error: 'not a URL' }).optional());

const Base = z.object({
  REPORTS_BUCKET: required('S3 bucket for reports'),
  REPORTS_PREFIX: z
    .string()
    .optional()
    .transform((v) => {
      const p = v?.trim() || REPORTS_PREFIX;
      return p.endsWith('/') ? p : `${p}/`;
    }),
  STATE_TABLE: required('DynamoDB table for claims and report status'),
  VERIFIK_BASE_URL: urlWithDefault(VERIFIK_API_URL),
  /** Lowered by an operator when Verifik asks for gentler reads; 429s lower it further by themselves. */
  VERIFIK_CONCURRENCY: concurrency,
  VERIFIK_TOKEN_SECRET_ID: required('Secrets Manager id of the Verifik token'),
  LINK_SIGNING_SECRET_ID: required('Secrets Manager id of the link-signing key'),
  MAIL_FROM: z.email({ error: 'missing or not an email address (the verified SES sender)' }),
  SES_CONFIGURATION_SET: optionalText,
  ALLOWED_RECIPIENT_DOMAINS: commaList,
  LINK_TTL_SECONDS: positiveInt(DEFAULT_LINK_TTL_SECONDS),
  ATTACHMENT_BUDGET_BYTES: positiveInt(DEFAULT_ATTACHMENT_BUDGET_BYTES),
  REPORT_DEFINITIONS: definitionsJson,
  /** reports-api only: the worker it invokes asynchronously. */
  WORKER_FUNCTION_NAME: optionalText,
  /** report-worker only: the state machine a report too long for one Lambda is handed to (issue 13). */
  FANOUT_STATE_MACHINE_ARN: optionalText,
  /** reports-api only: the console's Cognito user pool, asked whether an admin has MFA. */
  CONSOLE_USER_POOL_ID: optionalText,
  /**
   * scheduled-report only: base URL of the API for the links in mails. The worker gets it in its
   * payload instead, because giving the worker this variable would make the API depend on the
   * worker and the worker on the API (a CloudFormation cycle).
   */
  PUBLIC_API_URL: optionalUrl,
  /** How long report files are kept (the bucket's lifecycle): report records live at least as long. */
  REPORT_RETENTION_DAYS: numberSetting(90, 'a whole number of days from 1 to 3650', (v) => {
    const n = Number(v);
    return /^\d+$/.test(v.trim()) && n >= 1 && n <= 3650 ? n : undefined;
  }),
  /**
   * On-demand reports allowed to run at once: each takes a 3 GB, up-to-15-minute worker, so the
   * API answers 429 past this instead of starting another (a new account cannot reserve Lambda
   * concurrency to bound it, its quota being 10).
   */
  MAX_PARALLEL_REPORTS: numberSetting(4, 'a whole number from 1 to 100', (v) => {
    const n = Number(v);
    return /^\d+$/.test(v.trim()) && n >= 1 && n <= 100 ? n : undefined;
  }),
  /** sweeper only: the scheduled function it invokes to redo a crashed or missed day. */
  SCHEDULED_FUNCTION_NAME: optionalText,
});

export type Config = z.infer<typeof Base>;
export type FunctionRole = 'scheduled-report' | 'reports-api' | 'report-worker' | 'sweeper' | 'ses-events';

function problemsOf(error: z.ZodError): { variable: string; message: string }[] {
  return error.issues.map((issue) => ({
    variable: issue.path.map(String).join('.') || '(environment)',
    message: issue.message,
  }));
}

/** The settings a mail needs, with the functions' names and rules: what the CLI's --mail-to reads. */
const MailSettings = Base.pick({
  MAIL_FROM: true,
  SES_CONFIGURATION_SET: true,
  ALLOWED_RECIPIENT_DOMAINS: true,
  LINK_TTL_SECONDS: true,
  ATTACHMENT_BUDGET_BYTES: true,
});
export type MailSettings = z.infer<typeof MailSettings>;

/** Parses the mail settings from `env`; throws ConfigError naming every bad variable. */
export function loadMailSettings(env: Record<string, string | undefined> = process.env): MailSettings {
  const result = MailSettings.safeParse(env);
  if (!result.success) throw new ConfigError(problemsOf(result.error));
  return result.data;
}

/** Parses `env` (default `process.env`); throws ConfigError naming every bad variable. */
export function loadConfig(
  role: FunctionRole,
  env: Record<string, string | undefined> = process.env,
): Config {
  const result = Base.safeParse(env);
  const problems = result.success ? [] : problemsOf(result.error);
  if (role === 'reports-api' && !env.WORKER_FUNCTION_NAME?.trim()) {
    problems.push({
      variable: 'WORKER_FUNCTION_NAME',
      message: 'missing (the report worker function to invoke)',
    });
  }
  if (role === 'scheduled-report' && !env.PUBLIC_API_URL?.trim()) {
    problems.push({
      variable: 'PUBLIC_API_URL',
      message: 'missing (base URL of the reports API, for mailed links)',
    });
  }
  if (role === 'sweeper' && !env.SCHEDULED_FUNCTION_NAME?.trim()) {
    problems.push({
      variable: 'SCHEDULED_FUNCTION_NAME',
      message: 'missing (the scheduled-report function the sweeper redoes days with)',
    });
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/**
 * Days a report record (status, figures, delivery log) is kept: never less than the files it
 * points to, so a record never outlives nothing and a file never loses its record; at least 90
 * days, so a short file retention still leaves the history (the API then says the files expired).
 */
export function reportRecordTtlDays(config: Pick<Config, 'REPORT_RETENTION_DAYS'>): number {
  return Math.max(90, config.REPORT_RETENTION_DAYS + 1);
}
