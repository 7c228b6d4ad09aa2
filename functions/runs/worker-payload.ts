/**
 * What the reports API hands the worker. The request travels as plain JSON (days and zone, not
 * instants): the worker rebuilds the window itself, so both sides agree by construction.
 */
import { z } from 'zod';
import { DAY_PATTERN, MAX_RECIPIENTS, REPORT_ID } from '../contract.js';
import { ReportFormat } from '../settings/definitions.js';

export const OnDemandRequest = z.object({
  from: z.string().regex(DAY_PATTERN),
  to: z.string().regex(DAY_PATTERN),
  timeZone: z.string().min(1),
  statuses: z.array(z.string()).default([]),
  types: z.array(z.string()).default([]),
  clients: z.array(z.string()).default([]),
  formats: z.array(ReportFormat).min(1),
  notify: z.array(z.email()).max(MAX_RECIPIENTS).default([]),
});
export type OnDemandRequest = z.infer<typeof OnDemandRequest>;

export const WorkerPayload = z.object({
  reportId: z.string().regex(REPORT_ID),
  request: OnDemandRequest,
  /** Public base URL of the API, for links (the worker cannot have it as configuration). */
  baseUrl: z.url(),
});
export type WorkerPayload = z.infer<typeof WorkerPayload>;
