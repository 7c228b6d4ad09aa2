/**
 * The deployment configuration: everything an operator may change without touching code.
 * Built from three layers, later ones winning: the defaults below, the `reporting` object in
 * `cdk.json`'s "context", and a JSON file named with `-c config=path/to.json`. Objects are
 * merged key by key; arrays (definitions, domains, e-mails) are replaced whole.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_ATTACHMENT_BUDGET_BYTES,
  DEFAULT_CONCURRENCY,
  disallowedRecipients,
  VERIFIK_API_URL,
} from '../functions/contract.js';
import { ReportDefinitions } from '../functions/settings/definitions.js';
import { ReadConcurrency } from '../functions/settings/read-concurrency.js';

/** Retention values CloudWatch Logs accepts (anything else fails at deploy time, so refuse it here). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
    'a DNS domain such as "example.com"',
  );

const FunctionSizing = z.object({
  memoryMb: z.number().int().min(128).max(10_240),
  timeoutSeconds: z.number().int().min(1).max(900),
});
export type FunctionSizing = z.infer<typeof FunctionSizing>;

export const DeploymentConfig = z
  .object({
    stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/),
    /** Leave empty for an environment-agnostic template (the CLI's profile decides at deploy time). */
    env: z
      .object({ account: z.string().regex(/^\d{12}$/), region: z.string().min(1) })
      .partial()
      .default({}),
    definitions: ReportDefinitions.refine((defs) => defs.length > 0, 'at least one report definition'),
    /** Every recipient (configured or requested) must be in one of these domains. */
    allowedRecipientDomains: z.array(domainName).min(1),
    /**
     * The From address. With `domain` the whole domain is the SES identity (DKIM records to add
     * to DNS are stack outputs); without it the address alone is verified by a click in a mail.
     */
    sender: z.object({ address: z.email(), domain: domainName.optional() }),
    /** Days a report stays in S3 before the lifecycle rule deletes it. */
    reportRetentionDays: z.number().int().min(1).max(3650).default(90),
    /** How long a mailed link keeps working. Never longer than the files exist. */
    linkTtlDays: z.number().int().min(1).max(365).default(7),
    verifikBaseUrl: z.url({ protocol: /^https$/ }).default(VERIFIK_API_URL),
    /**
     * Requests a report run keeps open at Verifik (1–32). Lower it if Verifik asks for gentler
     * reads; 429 answers lower it during a run by themselves. The default and its reasoning live
     * with the functions (functions/settings/read-concurrency.ts).
     */
    verifikConcurrency: ReadConcurrency.default(DEFAULT_CONCURRENCY),
    /** Who gets alarms. Defaults to every definition's owners. */
    alarmEmails: z.array(z.email()).optional(),
    /**
     * Attach files to the mail only while their base64 size stays under this; bigger reports go
     * by link. The default and its reasoning live in functions/contract.ts.
     */
    attachmentBudgetBytes: z
      .number()
      .int()
      .min(0)
      .max(30 * 1024 * 1024)
      .default(DEFAULT_ATTACHMENT_BUDGET_BYTES),
    functions: z
      .object({
        /**
         * Scheduled and worker runs fetch a whole day from Verifik and render XLSX + CSV, the
         * workbook on its own thread: two busy threads plus zlib. Lambda's CPU share grows with
         * memory (1 vCPU at 1,769 MB), and 3,008 MB (≈ 1.7 vCPU) is the most a new account may
         * set before a quota raise, so the default deploys anywhere. `npm run bench` with the
         * report pinned to 1 core (1,769 MB) and 2 cores (3,538 MB), README "Performance": 1M
         * validations in 28 s and 18.5 s (medians on a busy machine; 13.0 s on two quiet cores),
         * ≈ 27 CPU-seconds either way, so ≤ 1.18× the two-core time at 1.7 vCPU; peak RSS under
         * 300 MB, a tenth of the memory. 15 minutes (the Lambda maximum): ≥ 30× headroom at 1M.
         */
        scheduled: FunctionSizing.default({ memoryMb: 3008, timeoutSeconds: 900 }),
        worker: FunctionSizing.default({ memoryMb: 3008, timeoutSeconds: 900 }),
        /**
         * The API only validates, reads manifests, signs links and invokes the worker. HTTP APIs
         * give up after 30 s, so 29 s lets the function report its own timeout first.
         */
        api: FunctionSizing.default({ memoryMb: 512, timeoutSeconds: 29 }),
      })
      // prefault, not default: a missing object is parsed as {}, so the per-field defaults
      // above fill it and each number is written once (likewise for api and schedules).
      .prefault({}),
    /**
     * Unset by default: a fresh account has a concurrency quota of 10, and reserving any of it
     * fails the deployment. Set it (e.g. 5) once the quota is raised, to cap parallel on-demand
     * runs; until then the API throttle below bounds how fast reports can be requested.
     */
    workerReservedConcurrency: z.number().int().min(1).optional(),
    /** On-demand reports running at once; past it `POST /reports` answers 429 (works on any account). */
    maxParallelReports: z.number().int().min(1).max(100).default(4),
    api: z
      .object({
        throttlingRateLimit: z.number().min(1).default(10),
        throttlingBurstLimit: z.number().int().min(1).default(20),
        /**
         * The anonymous download route's own limit: people clicking mailed links must not be
         * refused because machine callers used up the IAM routes' budget (or the reverse).
         */
        downloadThrottlingRateLimit: z.number().min(1).default(50),
        downloadThrottlingBurstLimit: z.number().int().min(1).default(100),
      })
      .prefault({}),
    schedules: z
      .object({
        /** Retries when the Scheduler cannot invoke the function (throttling, service errors). */
        retryAttempts: z.number().int().min(0).max(185).default(3),
        /** A run that could not start within this is pointless: the mail is meant for the morning. */
        maxEventAgeHours: z.number().int().min(1).max(24).default(6),
      })
      .prefault({}),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(90),
    /**
     * `retain` (default) keeps the buckets, table, secrets, log groups and the alarm topic's KMS
     * key when the stack is deleted: reports and the run history outlive a mistaken `cdk destroy`.
     * `destroy` removes them (empty the buckets first: CloudFormation cannot delete a non-empty
     * bucket; secrets go without a recovery window, the key after KMS's waiting period). Either
     * way a later deploy does not collide with them (README "Destroy").
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  })
  .superRefine((c, ctx) => {
    if (c.linkTtlDays > c.reportRetentionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['linkTtlDays'],
        message: `links (${c.linkTtlDays} days) would outlive the files (reportRetentionDays ${c.reportRetentionDays})`,
      });
    }
    if (c.sender.domain && !c.sender.address.toLowerCase().endsWith(`@${c.sender.domain.toLowerCase()}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sender', 'address'],
        message: `must be an address in the sender domain "${c.sender.domain}"`,
      });
    }
    for (const [i, d] of c.definitions.entries()) {
      const outside = disallowedRecipients(d.recipients, c.allowedRecipientDomains);
      if (outside.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['definitions', i, 'recipients'],
          message: `not in allowedRecipientDomains: ${outside.join(', ')}`,
        });
      }
      for (const [j, scope] of (d.splitBy?.scopes ?? []).entries()) {
        const out = disallowedRecipients(scope.recipients, c.allowedRecipientDomains);
        if (out.length > 0)
          ctx.addIssue({
            code: 'custom',
            path: ['definitions', i, 'splitBy', 'scopes', j, 'recipients'],
            message: `not in allowedRecipientDomains: ${out.join(', ')}`,
          });
      }
    }
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfig>;

/**
 * Defaults: one example definition. Replace the example.com addresses (in cdk.json or a config
 * file) before deploying; SES cannot verify example.com.
 */
export const DEFAULT_CONFIG: DeploymentConfigInput = {
  stackName: 'VerifikReports',
  definitions: [
    {
      name: 'daily-all',
      description: 'Every biometric validation of the previous day, Bogotá time',
      schedule: { hour: 6, minute: 0, timeZone: 'America/Bogota' },
      formats: ['xlsx', 'csv'],
      recipients: ['compliance@example.com'],
      owners: ['platform@example.com'],
      skipIfEmpty: false,
    },
  ],
  allowedRecipientDomains: ['example.com'],
  sender: { address: 'reports@example.com', domain: 'example.com' },
};

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
  constructor(source: string, details: string) {
    super(
      `Invalid deployment configuration (${source}):\n${details}\nFix it in cdk.json "context.reporting" or the -c config=FILE you passed.`,
    );
  }
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Keys replaced whole rather than merged: a sender is one identity, so overriding its address
 * must not inherit the default's domain (and likewise for the account/region pair).
 */
const ATOMIC_KEYS = new Set(['sender', 'env']);

/** Later layers win; nested objects merge (except ATOMIC_KEYS), arrays and scalars replace. */
export function mergeLayers(...layers: unknown[]): Plain {
  const out: Plain = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (!isPlain(layer))
      throw new DeploymentConfigError('layer', '  - each configuration layer must be a JSON object');
    for (const [key, value] of Object.entries(layer)) {
      const prev = out[key];
      out[key] = isPlain(prev) && isPlain(value) && !ATOMIC_KEYS.has(key) ? mergeLayers(prev, value) : value;
    }
  }
  return out;
}

/** Validates merged layers; the error lists every bad field with its path. */
export function parseDeploymentConfig(input: unknown, source = 'merged configuration'): DeploymentConfig {
  const result = DeploymentConfig.safeParse(input);
  if (!result.success) {
    const details = result.error.issues
      .map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new DeploymentConfigError(source, details);
  }
  return result.data;
}

/** A context value may arrive as an object (cdk.json) or a JSON string (`-c reporting='{...}'`). */
function contextObject(value: unknown, key: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new DeploymentConfigError(`context "${key}"`, '  - not valid JSON');
  }
}

export interface ContextReader {
  tryGetContext(key: string): unknown;
}

/** Reads the layers from CDK context: `reporting` (object) and `config` (path to a JSON file). */
export function configFromContext(node: ContextReader, cwd = process.cwd()): DeploymentConfig {
  const fromContext = contextObject(node.tryGetContext('reporting'), 'reporting');
  const file = node.tryGetContext('config');
  let fromFile: unknown;
  if (typeof file === 'string' && file.length > 0) {
    const path = resolve(cwd, file);
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new DeploymentConfigError(path, `  - cannot read it as JSON: ${(e as Error).message}`);
    }
  }
  return parseDeploymentConfig(
    mergeLayers(DEFAULT_CONFIG, fromContext, fromFile),
    'defaults + context + file',
  );
}

/** Alarm recipients: explicit list, else every definition's owners, without duplicates. */
export function alarmRecipients(config: DeploymentConfig): string[] {
  const list = config.alarmEmails ?? config.definitions.flatMap((d) => d.owners);
  return [...new Set(list.map((a) => a.toLowerCase()))];
}
