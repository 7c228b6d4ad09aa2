/**
 * How a report request is recorded and named, apart from the code that runs reports, so the API
 * function can accept requests without bundling the renderers.
 */

import { ON_DEMAND_DEFINITION } from '../contract.js';
import type { ReportRequest } from '../core/request.js';
import type { ReportRecord } from '../delivery/state/index.js';
import { reportWindow } from '../time/window.js';
import type { OnDemandRequest } from './worker-payload.js';

/** The request as stored with its report record (and shown, without recipients, by the API). */
export function requestRecord(
  request: ReportRequest,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    definition: request.definition,
    from: request.window.from,
    to: request.window.to,
    timeZone: request.window.timeZone,
    statuses: request.statuses,
    types: request.types,
    clients: request.clients,
    ...(request.projects ? { projects: request.projects } : {}),
    formats: request.formats,
    ...extra,
  };
}

export function onDemandReportRequest(request: OnDemandRequest): ReportRequest {
  return {
    definition: ON_DEMAND_DEFINITION,
    window: reportWindow(request.from, request.to, request.timeZone),
    statuses: request.statuses,
    types: request.types,
    clients: request.clients,
    formats: request.formats,
  };
}

/** The record the API writes when it accepts a report. */
export function queuedRecord(reportId: string, request: OnDemandRequest, now: Date): ReportRecord {
  return {
    id: reportId,
    status: 'queued',
    request: requestRecord(onDemandReportRequest(request), { notify: request.notify }),
    createdAt: now.toISOString(),
    date: request.from,
  };
}
