/** Which delivery log belongs to a report, and reading it: what `GET /reports/{id}` and the CLI show. */
import { ON_DEMAND_DEFINITION } from '../contract.js';
import {
  getRun,
  type LogEntry,
  type LogTarget,
  type ReportRecord,
  type RunRecord,
  readLog,
} from '../delivery/state/index.js';
import type { RunDeps } from './deps.js';

/**
 * An on-demand report's runs are keyed by its id; a scheduled report's by its definition and
 * first day (plus the forced backfill's key, when it was one).
 */
export function logTargetOf(record: ReportRecord): LogTarget {
  const definition =
    typeof record.request.definition === 'string' ? record.request.definition : ON_DEMAND_DEFINITION;
  if (definition === ON_DEMAND_DEFINITION) return { definition, day: record.id };
  const force = typeof record.request.force === 'string' ? record.request.force : undefined;
  return { definition, day: force ? `${record.date}~${force}` : record.date };
}

export interface DeliveryLog {
  /** The day's claim as it stands: who holds it, what happened to the mail. */
  run: Pick<RunRecord, 'status' | 'attempts' | 'updatedAt'> &
    Partial<Pick<RunRecord, 'mailMessageId' | 'mailSentAt' | 'alertedAt' | 'reason' | 'reportId'>>;
  entries: LogEntry[];
}

export async function deliveryLogOf(
  deps: Pick<RunDeps, 'doc' | 'config'>,
  record: ReportRecord,
): Promise<DeliveryLog | null> {
  const target = logTargetOf(record);
  const [run, entries] = await Promise.all([
    getRun(deps.doc, deps.config.STATE_TABLE, target.definition, target.day),
    readLog(deps.doc, deps.config.STATE_TABLE, target),
  ]);
  if (!run && entries.length === 0) return null;
  return {
    run: run
      ? {
          status: run.status,
          attempts: run.attempts,
          updatedAt: run.updatedAt,
          ...(run.reportId ? { reportId: run.reportId } : {}),
          ...(run.mailMessageId ? { mailMessageId: run.mailMessageId } : {}),
          ...(run.mailSentAt ? { mailSentAt: run.mailSentAt } : {}),
          ...(run.alertedAt ? { alertedAt: run.alertedAt } : {}),
          ...(run.reason ? { reason: run.reason } : {}),
        }
      : { status: 'running', attempts: 0, updatedAt: record.createdAt },
    entries,
  };
}
