/**
 * The message a run's destinations get (delivery/chat/message.ts), from what the run has: the
 * produced report, the period, an optional scope and alert. Links are signed to our API like
 * the mail's (runs/files.ts), fresh for each call, so a re-post after a crash carries live links.
 */
import type { DestinationMessage } from '../delivery/chat/index.js';
import type { RunDeps } from './deps.js';
import { signLinks } from './files.js';
import type { Produced } from './produce.js';

export interface DestinationMessageInput {
  definition: string;
  /** The period's key as the run names it (time/period.ts `period.key`). */
  periodKey: string;
  produced: Produced;
  /** The public API URL links point at (the same as the mail's). */
  baseUrl: string;
  scope?: { by: 'project' | 'client'; key: string } | undefined;
  alert?: { title: string; conditions: string[] } | undefined;
}

/** Pure part: the message from a produced report and already signed links. */
export function destinationMessage(
  input: Omit<DestinationMessageInput, 'baseUrl'>,
  signed: { links: { name: string; url: string; bytes: number }[]; expiresAt: Date },
): DestinationMessage {
  const { result } = input.produced;
  const { totals, byStatus } = result.summary;
  const { from, to, timeZone } = result.manifest.window;
  return {
    definition: input.definition,
    periodKey: input.periodKey,
    window: { from, to, timeZone },
    reportId: result.id,
    ...(input.scope ? { scope: input.scope } : {}),
    empty: totals.validations === 0,
    headline: {
      validations: totals.validations,
      failed: totals.failed,
      failureRate: totals.validations === 0 ? null : totals.failed / totals.validations,
      highRisk: totals.highRisk,
      byStatus: byStatus.map((s) => ({ key: s.key, count: s.count })),
    },
    links: signed.links.map((l) => ({ ...l, expiresAt: signed.expiresAt.toISOString() })),
    ...(input.alert ? { alert: input.alert } : {}),
  };
}

/** The message with links signed now (none for an empty report, as in the mail). */
export async function buildDestinationMessage(
  deps: Pick<RunDeps, 'secrets' | 'config' | 'now'>,
  input: DestinationMessageInput,
): Promise<DestinationMessage> {
  const { result } = input.produced;
  const now = deps.now();
  const signed =
    result.summary.totals.validations === 0
      ? { links: [], expiresAt: now }
      : signLinks({
          baseUrl: input.baseUrl,
          reportId: result.id,
          files: result.files,
          key: await deps.secrets.linkKeys(),
          now,
          ttlSeconds: deps.config.LINK_TTL_SECONDS,
        });
  return destinationMessage(input, signed);
}
