/**
 * Report definitions: the one schema shared by the CDK app (which schedules them) and the
 * functions (which run them). A definition is what a team subscribes to: what to report, when,
 * in which zone, to whom.
 */
import { z } from 'zod';
import { DEFINITION_NAME, DEFINITION_NAME_RULE, MAX_RECIPIENTS } from '../contract.js';
import { isTimeZone } from '../time/zone.js';
import { SendIf } from './conditions.js';
import { Destination, destinationProblems, MAX_DESTINATIONS } from './destinations.js';
import { SplitBy, scopeProblems, scopeReportName } from './scopes.js';

export const ReportFormat = z.enum(['xlsx', 'csv']);
export type ReportFormat = z.infer<typeof ReportFormat>;

const timeZone = z.string().refine(isTimeZone, { message: 'unknown IANA time zone (e.g. "America/Bogota")' });

const isoWeekday = z.number().int().min(1).max(7);

/**
 * How often a definition reports, and on what: every run day reports the last whole period that
 * ended before it, in the definition's zone (time/period.ts).
 */
export const Cadence = z.discriminatedUnion('kind', [
  /** Every day, on the previous day. */
  z.object({ kind: z.literal('daily') }),
  /** On `weekday` (ISO: 1 Monday … 7 Sunday), on the last whole week starting on `weekStart`. */
  z.object({ kind: z.literal('weekly'), weekday: isoWeekday.default(1), weekStart: isoWeekday.default(1) }),
  /** On `day` of the month, on the previous calendar month. */
  z.object({ kind: z.literal('monthly'), day: z.number().int().min(1).max(28).default(1) }),
  /**
   * Monday to Friday, each on the previous day; Monday's run covers Friday–Sunday
   * (`covers-weekend`) or Friday alone, leaving weekend validations unreported (`skips-weekend`).
   */
  z.object({
    kind: z.literal('weekdays'),
    monday: z.enum(['covers-weekend', 'skips-weekend']).default('covers-weekend'),
  }),
]);
export type Cadence = z.infer<typeof Cadence>;

export const ReportDefinition = z.object({
  /** Stable id: used in S3 keys, schedule names and claims. */
  name: z.string().regex(DEFINITION_NAME, DEFINITION_NAME_RULE),
  description: z.string().max(200).optional(),
  /** Runs at hour:minute in timeZone on the cadence's run days; reports in that zone. */
  schedule: z.object({
    hour: z.number().int().min(0).max(23).default(6),
    minute: z.number().int().min(0).max(59).default(0),
    timeZone,
  }),
  cadence: Cadence.default({ kind: 'daily' }),
  /** Empty means every status (the set is open; unknown statuses are reported, never dropped). */
  statuses: z.array(z.string().min(1)).default([]),
  types: z.array(z.string().min(1)).default([]),
  clients: z.array(z.string().min(1)).default([]),
  formats: z.array(ReportFormat).min(1).default(['xlsx', 'csv']),
  /** Report mail recipients; each must be in an allowed domain. SES allows 50 per message. */
  recipients: z.array(z.email()).max(MAX_RECIPIENTS).default([]),
  /** Told when a run fails (no personal data in that mail). */
  owners: z.array(z.email()).min(1),
  /** true: a day without validations sends nothing; false: a short "no validations" mail. Same as `sendIf: "not-empty"`. */
  skipIfEmpty: z.boolean().default(false),
  /** When a period's report is sent, sent as an alert, or only stored (settings/conditions.ts). */
  sendIf: SendIf.default('always'),
  /** One report per project or client from one read (settings/scopes.ts). */
  splitBy: SplitBy.optional(),
  /** Chat and webhook destinations besides mail (settings/destinations.ts). */
  destinations: z.array(Destination).max(MAX_DESTINATIONS).default([]),
});
export type ReportDefinition = z.infer<typeof ReportDefinition>;
export type ReportDefinitionInput = z.input<typeof ReportDefinition>;

export const ReportDefinitions = z.array(ReportDefinition).superRefine((defs, ctx) => {
  const seen = new Set<string>();
  for (const [i, d] of defs.entries()) {
    if (seen.has(d.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate definition "${d.name}"` });
    seen.add(d.name);
    if (d.skipIfEmpty && d.sendIf !== 'always' && d.sendIf !== 'not-empty')
      ctx.addIssue({
        code: 'custom',
        path: [i, 'skipIfEmpty'],
        message: 'use sendIf alone: skipIfEmpty is sendIf "not-empty" and cannot combine with conditions',
      });
    for (const [path, message] of destinationProblems(d.destinations, d.splitBy?.scopes))
      ctx.addIssue({ code: 'custom', path: [i, ...path], message });
    if (d.splitBy)
      for (const [path, message] of scopeProblems(d.name, d.splitBy))
        ctx.addIssue({ code: 'custom', path: [i, ...path], message });
  }
  // A scope's reports live under `<definition>--<scope>`: no definition may take that name.
  for (const [i, d] of defs.entries())
    for (const s of d.splitBy?.scopes ?? [])
      if (seen.has(scopeReportName(d.name, s.name)))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'splitBy', 'scopes'],
          message: `scope "${s.name}" would share its reports with definition "${scopeReportName(d.name, s.name)}"`,
        });
});

/** The effective condition: `skipIfEmpty` is the older spelling of `sendIf: "not-empty"`. */
export function effectiveSendIf(d: Pick<ReportDefinition, 'sendIf' | 'skipIfEmpty'>): SendIf {
  return d.skipIfEmpty && d.sendIf === 'always' ? 'not-empty' : d.sendIf;
}

/**
 * Who gets the reports stored under `name`: a definition's recipients, or a scope's
 * (`<definition>--<scope>`); undefined when no configured definition or scope has that name.
 */
export function recipientsFor(defs: readonly ReportDefinition[], name: string): string[] | undefined {
  for (const d of defs) {
    if (d.name === name) return d.recipients;
    const scope = d.splitBy?.scopes.find((s) => scopeReportName(d.name, s.name) === name);
    if (scope) return scope.recipients;
  }
  return undefined;
}
