/**
 * What starts a scheduled run and which definition it runs: the event's shape, the definition
 * lookup, and the key a day (or a forced re-run of it) is claimed under. Apart from the run
 * itself so that the API, the CLI and the sweeper can name runs without bundling the pipeline.
 */
import { ReportsError } from '../errors/kinds.js';
import type { ReportDefinition } from '../settings/definitions.js';
import { today } from '../time/window.js';
import type { RunDeps } from './deps.js';

export class UnknownDefinitionError extends ReportsError {
  override readonly kind = 'config';
  override name = 'UnknownDefinitionError';
  constructor(name: string, known: readonly string[]) {
    super(
      `No report definition named "${name}". Known definitions: ${known.join(', ') || '(none)'}. ` +
        'Check the schedule input and REPORT_DEFINITIONS.',
    );
  }
}

export function findDefinition(deps: Pick<RunDeps, 'config'>, name: string): ReportDefinition {
  const defs = deps.config.REPORT_DEFINITIONS;
  const def = defs.find((d) => d.name === name);
  if (!def) {
    throw new UnknownDefinitionError(
      name,
      defs.map((d) => d.name),
    );
  }
  return def;
}

export interface ScheduledInput {
  definition: string;
  day?: string | undefined;
  /**
   * A backfill that reports a day again although it was already delivered: its claim is the
   * day plus this key, so the same forced request twice still sends once.
   */
  force?: string | undefined;
  /**
   * When the schedule fired (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`). A retry
   * minutes later, or the Scheduler's own retry hours later, still reports the period of the fire,
   * not the period of whenever it happened to run (a 23:58 schedule retried after midnight).
   */
  scheduledTime?: string | undefined;
}

/** The day a run without an explicit day reports from: the schedule's fire day in the zone, else today there. */
export function runDayOf(input: Pick<ScheduledInput, 'scheduledTime'>, timeZone: string, now: Date): string {
  const fired = input.scheduledTime ? new Date(input.scheduledTime) : null;
  return today(timeZone, fired && !Number.isNaN(fired.getTime()) ? fired : now);
}

/** The claim key of a day: the day itself, or the day and a forced re-run's key. */
export function claimDay(day: string, force?: string): string {
  return force ? `${day}~${force}` : day;
}

/** How one scope of a split run ended. */
export interface ScopeOutcome {
  scope: string;
  reportId: string;
  /** `already`: an earlier attempt mailed it; `failed`: SES refused it (the retry mails it). */
  status: 'sent' | 'unknown' | 'done' | 'already' | 'failed';
  detail?: string;
  destinations?: DestinationSummary[];
}

/** How each chat or webhook destination of the run's report ended. */
export interface DestinationSummary {
  destination: string;
  status: 'sent' | 'skipped' | 'unknown' | 'failed';
}

type Extras = { scopes?: ScopeOutcome[]; destinations?: DestinationSummary[] };

export type ScheduledOutcome =
  | { status: 'skipped'; definition: string; day: string; reason: string }
  | ({ status: 'sent'; definition: string; day: string; reportId: string; messageId: string } & Extras)
  | ({ status: 'unknown'; definition: string; day: string; reportId: string; reason: string } & Extras)
  | ({ status: 'done'; definition: string; day: string; reportId: string; reason: string } & Extras);
