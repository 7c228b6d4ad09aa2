/**
 * A definition's `sendIf`: when a period's report goes out, goes out as an alert, or is only
 * stored. The schema lives with the definitions (the CDK app validates it at synth, with the
 * field named); report/conditions.ts evaluates it against a summary.
 *
 * Why thresholds and a baseline rather than free expressions: the people who set these are
 * compliance and operations staff reading a cdk.json diff; a fixed vocabulary of the figures the
 * mail already shows (failure rate, high-risk count, a check's failure rate) reads as a sentence
 * and cannot be mistyped into something that never fires.
 */
import { z } from 'zod';
import { CHECK_KEYS } from '../contract.js';

/** The summary figures a condition can test (the mail's headline figures). */
export const ConditionMetric = z.enum([
  /** Validations in the period. */
  'validations',
  /** Failed validations (status or a failed check): the rows marked red. */
  'failed',
  /** failed ÷ validations (0–1); no value when the period is empty. */
  'failureRate',
  /** Validations with a risk score at or above the high threshold. */
  'highRisk',
  /** highRisk ÷ validations (0–1). */
  'highRiskRate',
  /** One check's failure rate (0–1) among the validations that have it: names the check in `check`. */
  'checkFailRate',
]);
export type ConditionMetric = z.infer<typeof ConditionMetric>;

const RATE_METRICS = new Set<ConditionMetric>(['failureRate', 'highRiskRate', 'checkFailRate']);

export const Baseline = z.strictObject({
  /** The median of the figure over the previous `periods` periods of the same cadence. */
  stat: z.literal('median').default('median'),
  periods: z.number().int().min(1).max(31).default(7),
  /**
   * Fewer stored periods than this (a new definition, a gap): the condition is not evaluated and
   * says so, rather than comparing with one odd day.
   */
  minPeriods: z.number().int().min(1).max(31).default(3),
});
export type Baseline = z.infer<typeof Baseline>;

export const Condition = z
  .strictObject({
    metric: ConditionMetric,
    check: z.enum(CHECK_KEYS).optional(),
    /**
     * Fires when the figure is above (or below) this. With a `baseline`, the bound is a ratio to
     * the baseline: `above: 1.5` fires at 50% more than usual, `below: 0.5` at half.
     */
    above: z.number().nonnegative().optional(),
    below: z.number().nonnegative().optional(),
    baseline: Baseline.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.above === undefined && c.below === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['above'],
        message: 'a condition needs "above" or "below" (or both)',
      });
    if (c.metric === 'checkFailRate' && !c.check)
      ctx.addIssue({
        code: 'custom',
        path: ['check'],
        message: `metric "checkFailRate" needs "check": one of ${CHECK_KEYS.join(', ')}`,
      });
    if (c.metric !== 'checkFailRate' && c.check)
      ctx.addIssue({
        code: 'custom',
        path: ['check'],
        message: '"check" applies to metric "checkFailRate" only',
      });
    if (!c.baseline && RATE_METRICS.has(c.metric))
      for (const bound of ['above', 'below'] as const) {
        const v = c[bound];
        if (v !== undefined && v > 1)
          ctx.addIssue({
            code: 'custom',
            path: [bound],
            message: `${c.metric} is a fraction from 0 to 1 (write 0.1 for 10%), got ${v}`,
          });
      }
    if (c.baseline && c.baseline.minPeriods > c.baseline.periods)
      ctx.addIssue({
        code: 'custom',
        path: ['baseline', 'minPeriods'],
        message: `minPeriods (${c.baseline.minPeriods}) cannot exceed periods (${c.baseline.periods})`,
      });
  });
export type Condition = z.infer<typeof Condition>;

export const SendIf = z.union([
  /** Every period's report is sent (a period without validations gets a short mail). */
  z.literal('always'),
  /** A period without validations sends nothing (recorded in the delivery log). */
  z.literal('not-empty'),
  z.strictObject({
    /** `any`: one condition holding is enough; `all`: every one must. */
    when: z.enum(['any', 'all']).default('any'),
    conditions: z.array(Condition).min(1).max(10),
    /** When they hold: a plain report, or one marked as an alert with the conditions on top. */
    whenMet: z.enum(['send', 'alert']).default('alert'),
    /** When they do not: store the report without sending (logged with its figures), or send it plainly. */
    otherwise: z.enum(['skip', 'send']).default('skip'),
  }),
]);
export type SendIf = z.infer<typeof SendIf>;
export type SendIfRule = Exclude<SendIf, string>;

/** How many previous periods a rule's baselines need (0: none, so nothing extra is read). */
export function baselinePeriods(sendIf: SendIf): number {
  if (typeof sendIf === 'string') return 0;
  return Math.max(0, ...sendIf.conditions.map((c) => c.baseline?.periods ?? 0));
}
