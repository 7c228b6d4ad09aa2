/** Writing the delivery log from a run: best effort, so a log write never fails a delivery. */
import { appendLog, type LogEntry, type LogTarget } from '../delivery/state/index.js';
import type { RunDeps } from './deps.js';

export async function logEntry(
  deps: Pick<RunDeps, 'doc' | 'config' | 'logger' | 'now'>,
  target: LogTarget,
  entry: Omit<LogEntry, 'at'>,
): Promise<void> {
  try {
    await appendLog(deps.doc, deps.config.STATE_TABLE, target, { ...entry, at: deps.now() });
  } catch (err) {
    deps.logger.error('could not write the delivery log', {
      ...target,
      type: entry.type,
      error: (err as Error).name,
    });
  }
}
