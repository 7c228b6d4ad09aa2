/**
 * Run and report state in one DynamoDB table (pk/sk strings, GSI `byDate` on gsi1pk/gsi1sk,
 * TTL attribute `expiresAt`): the scheduled-run claims (runs.ts, which owns the "exactly one
 * mail per report day" protocol) and the on-demand report records (reports.ts).
 */

export { dequeueDay, enqueueDay, type QueuedDay, queuedDays } from './backfill-queue.js';
export { type DefinitionState, getDefinitionState, setPaused } from './definitions.js';
export {
  claimDestination,
  type DestinationClaim,
  type DestinationKey,
  DestinationSendRecord,
  DestinationSendStatus,
  getDestinationSend,
  markDestination,
  markDestinationAlerted,
  settleUnknown,
} from './destinations.js';
export { appendLog, LogEntry, LogEntryType, type LogTarget, readLog } from './log.js';
export {
  getReport,
  InvalidTransitionError,
  listReportsByDate,
  putReport,
  REPORT_TRANSITIONS,
  ReportExistsError,
  ReportNotFoundError,
  ReportRecord,
  ReportStatus,
  type ReportStatusUpdate,
  updateReportStatus,
} from './reports.js';
export {
  type ClaimInput,
  type ClaimResult,
  claimRun,
  countLiveRuns,
  failStoppedRun,
  getRun,
  listOpenRuns,
  type MarkRunInput,
  markAlerted,
  markMailSending,
  markMailSent,
  markRun,
  markSendUnknown,
  RunRecord,
  RunStatus,
  recordRedo,
  renewLease,
  resolveSend,
  StaleRunError,
} from './runs.js';
export { getSend, putSend, SendRecord } from './sends.js';
export { StateConflictError } from './shared.js';
