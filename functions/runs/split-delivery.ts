/**
 * A split run (`splitBy`): one read of the period makes one report per scope — stored, claimed
 * and logged as `<definition>--<scope>` — and the definition's overall report when asked. Each
 * scope's report goes only to that scope's recipients, under its own `sendIf` decision and its
 * own claim (runs/period-delivery.ts), so a retry mails only what is still missing.
 *
 * Order: scopes first, the overall report last, under the run's own claim, which is what ends the
 * run. A scope whose mail SES refused fails the run after the other scopes were tried; the retry
 * finds the delivered scopes' claims taken and mails the rest.
 */
import { newReportId, scopeRequest } from '../core/naming.js';
import type { ReportRequest } from '../core/request.js';
import { markRun, updateReportStatus } from '../delivery/state/index.js';
import { ReportsError } from '../errors/kinds.js';
import type { ReportDefinition } from '../settings/definitions.js';
import type { SplitBy } from '../settings/scopes.js';
import type { HeldRun } from './claim.js';
import type { RunDeps } from './deps.js';
import { logEntry } from './log.js';
import { type DeliveryContext, deliverReport, destinationSummaries } from './period-delivery.js';
import { type Produced, previousSummary, produceScoped, recordComplete } from './produce.js';
import type { ScheduledOutcome, ScopeOutcome } from './schedule-input.js';

/** SES refused one or more scopes' mails (nothing of theirs went out); the retry mails only those. */
export class ScopeDeliveryError extends ReportsError {
  override readonly kind = 'mail';
  override name = 'ScopeDeliveryError';
}

export interface SplitInput {
  def: ReportDefinition;
  split: SplitBy;
  /** The definition's request (window, filters, formats). */
  request: ReportRequest;
  /** The overall report's id (the run's own). */
  reportId: string;
  ctx: DeliveryContext;
  maxDaysBack: number | undefined;
  /** The run's claim on (definition, period). */
  update: HeldRun;
  /** Puts a report's record, `running`. */
  record(id: string, request: ReportRequest): Promise<void>;
}

export async function deliverSplit(deps: RunDeps, input: SplitInput): Promise<ScheduledOutcome> {
  const { def, split, request, ctx, update } = input;
  const day = ctx.period.from;
  const scopes = split.scopes.map((s) => {
    const req = scopeRequest(request, split.by, s);
    return { scope: s, request: req, reportId: newReportId(req, deps.now()) };
  });
  const ids = [...scopes.map((s) => s.reportId), ...(split.overall ? [input.reportId] : [])];
  for (const s of scopes) await input.record(s.reportId, s.request);
  if (split.overall) await input.record(input.reportId, request);

  let produced: Awaited<ReturnType<typeof produceScoped>>;
  try {
    produced = await produceScoped(deps, {
      request,
      by: split.by,
      scopes: await Promise.all(
        scopes.map(async (s) => ({
          id: s.scope.id,
          request: s.request,
          reportId: s.reportId,
          previous: await previousSummary(deps, s.request.definition, day, s.reportId, {
            maxDaysBack: input.maxDaysBack,
          }),
        })),
      ),
      overall: split.overall
        ? {
            reportId: input.reportId,
            previous: await previousSummary(deps, def.name, day, input.reportId, {
              maxDaysBack: input.maxDaysBack,
            }),
          }
        : null,
    });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    for (const id of ids)
      await updateReportStatus(deps.doc, deps.config.STATE_TABLE, id, {
        status: 'failed',
        error,
        now: deps.now(),
      }).catch(() => undefined);
    throw err;
  }
  const target = { definition: def.name, day: ctx.day };
  for (const s of scopes) await recordComplete(deps, s.reportId, produced.scopes.get(s.scope.id) as Produced);
  if (produced.overall) await recordComplete(deps, input.reportId, produced.overall);
  await logEntry(deps, target, {
    type: 'produced',
    reportId: input.reportId,
    runId: ctx.runId,
    detail: `${scopes.length} scope reports${produced.overall ? ' and the overall report' : ''}; ${produced.unscoped} validations in no scope`,
  });

  const outcomes: ScopeOutcome[] = [];
  for (const s of scopes) {
    const report = produced.scopes.get(s.scope.id) as Produced;
    try {
      const d = await deliverReport(
        deps,
        ctx,
        {
          name: s.request.definition,
          definition: def.name,
          scope: { by: split.by, name: s.scope.name, id: s.scope.id },
          label: `${def.name} / ${s.scope.name}`,
          request: s.request,
          produced: report,
          recipients: s.scope.recipients,
          destinations: def.destinations.filter((x) => s.scope.destinations.includes(x.name)),
          owners: def.owners,
        },
        null,
      );
      outcomes.push({
        scope: s.scope.name,
        reportId: s.reportId,
        status: d.status,
        ...('reason' in d ? { detail: d.reason } : {}),
        ...destinationSummaries(d.destinations),
      });
    } catch (err) {
      outcomes.push({
        scope: s.scope.name,
        reportId: s.reportId,
        status: 'failed',
        detail: err instanceof Error ? err.message : String(err),
      });
    }
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0)
    throw new ScopeDeliveryError(
      `${failed.length} of ${outcomes.length} scope mails failed (${failed.map((f) => `${f.scope}: ${f.detail}`).join('; ')}); the retry mails only those`,
    );

  const summary = outcomes.map((o) => `${o.scope} ${o.status}`).join(', ');
  const scoped = new Set(split.scopes.flatMap((x) => x.destinations));
  if (!produced.overall) {
    await markRun(deps.doc, deps.config.STATE_TABLE, { ...update, status: 'done', now: deps.now() });
    return {
      status: 'done',
      definition: def.name,
      day,
      reportId: input.reportId,
      reason: `scopes: ${summary}`,
      scopes: outcomes,
    };
  }
  const overall = await deliverReport(
    deps,
    ctx,
    {
      name: def.name,
      definition: def.name,
      label: def.name,
      request,
      produced: produced.overall,
      recipients: def.recipients,
      // A destination a scope names is that scope's channel: the overall report (every row) never goes there.
      destinations: def.destinations.filter((x) => !scoped.has(x.name)),
      owners: def.owners,
    },
    update,
  );
  const base = {
    definition: def.name,
    day,
    reportId: input.reportId,
    scopes: outcomes,
    ...destinationSummaries(overall.destinations),
  };
  switch (overall.status) {
    case 'sent':
      return { ...base, status: 'sent', messageId: overall.messageId };
    case 'unknown':
      return { ...base, status: 'unknown', reason: overall.reason };
    default:
      return { ...base, status: 'done', reason: `${overall.reason}; scopes: ${summary}` };
  }
}
