import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocClient } from '../../functions/delivery/aws-clients.js';
import {
  claimRun,
  failStoppedRun,
  getReport,
  getRun,
  InvalidTransitionError,
  listReportsByDate,
  markMailSending,
  markMailSent,
  markRun,
  putReport,
  ReportExistsError,
  ReportNotFoundError,
  type ReportRecord,
  recordRedo,
  StaleRunError,
  updateReportStatus,
} from '../../functions/delivery/state/index.js';
import { type Moto, startMoto } from '../support/moto.js';

const TABLE = 'reporting-state';
const t0 = new Date('2024-12-02T06:00:00Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

let moto: Moto;
let doc: DynamoDBDocumentClient;
let daySeq = 0;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createStateTable(TABLE);
  doc = createDynamoDocClient(moto.clientConfig);
});

afterAll(async () => {
  doc?.destroy();
  await moto?.stop();
});

/** Each test claims its own day, so tests never see each other's records. */
function freshDay(): { definition: string; day: string } {
  daySeq += 1;
  return { definition: 'daily', day: `2024-11-${String(daySeq).padStart(2, '0')}` };
}

const claim = (target: { definition: string; day: string }, runId: string, now = t0, leaseSeconds = 900) =>
  claimRun(doc, TABLE, { ...target, runId, leaseSeconds, now });

describe('claimRun: one mail per report day', () => {
  it('lets exactly one of many concurrent claimants go on to send', async () => {
    const target = freshDay();
    const runIds = Array.from({ length: 8 }, (_, i) => `run-${i}`);
    const results = await Promise.all(runIds.map((runId) => claim(target, runId)));
    // DynamoDB makes the conditional claim atomic. moto, the stand-in, checks and writes in
    // separate steps, so under this race it may let a second claimant through; the protocol's
    // second guard is what this test holds to: only the run that holds the claim can mark the
    // mail as sending.
    const winners = runIds.filter((_, i) => results[i]?.claimed);
    expect(winners.length).toBeGreaterThanOrEqual(1);
    const record = await getRun(doc, TABLE, target.definition, target.day);
    expect(record?.status).toBe('running');
    expect(winners).toContain(record?.runId);
    for (const r of results) {
      if (!r.claimed) expect(r).toMatchObject({ status: 'running' });
    }
    const sending = await Promise.allSettled(
      winners.map((runId) =>
        markMailSending(doc, TABLE, { ...target, runId, reportId: `rep-${runId}`, now: later(1) }),
      ),
    );
    expect(sending.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(sending[winners.indexOf(record!.runId)]?.status).toBe('fulfilled');
  });

  it('refuses a second claim while the first run holds a live lease', async () => {
    const target = freshDay();
    expect(await claim(target, 'first')).toEqual({ claimed: true, attempts: 1 });
    expect(await claim(target, 'second', later(899))).toEqual({
      claimed: false,
      status: 'running',
      runId: 'first',
    });
  });

  it('refuses every claim after the mail was sent, or the run finished without mail', async () => {
    const sent = freshDay();
    await claim(sent, 'r1');
    await markMailSending(doc, TABLE, { ...sent, runId: 'r1', reportId: 'rep-1', now: later(10) });
    await markMailSent(doc, TABLE, { ...sent, runId: 'r1', messageId: 'ses-1', now: later(11) });
    // Even long after the lease would have run out.
    expect(await claim(sent, 'r2', later(100_000))).toEqual({ claimed: false, status: 'sent', runId: 'r1' });
    expect(await getRun(doc, TABLE, sent.definition, sent.day)).toMatchObject({
      status: 'sent',
      reportId: 'rep-1',
      mailMessageId: 'ses-1',
      mailSentAt: later(11).toISOString(),
    });

    const done = freshDay();
    await claim(done, 'd1');
    await markRun(doc, TABLE, { ...done, runId: 'd1', status: 'done' });
    expect(await claim(done, 'd2', later(100_000))).toMatchObject({ claimed: false, status: 'done' });
  });

  it('never lets a claim take over a run that may have handed the mail to SES', async () => {
    const target = freshDay();
    await claim(target, 'r1');
    await markMailSending(doc, TABLE, { ...target, runId: 'r1', now: later(1) });
    // The run died here: SES may or may not have accepted. No automatic resend.
    expect(await claim(target, 'r2', later(100_000))).toEqual({
      claimed: false,
      status: 'sending',
      runId: 'r1',
    });
  });

  it('a run whose lease ran out may not hand its mail to SES; the sweeper may fail it only then, and only if still running', async () => {
    const target = freshDay();
    await claim(target, 'slow', t0, 60);
    // The lease ran out (its heartbeats did not land): the sweeper may fail it at any moment, so the run must stop.
    await expect(markMailSending(doc, TABLE, { ...target, runId: 'slow', now: later(61) })).rejects.toThrow(
      StaleRunError,
    );
    // The sweeper's verdict needs the lease to have run out…
    await expect(
      failStoppedRun(doc, TABLE, { ...target, runId: 'slow', reason: 'stopped', now: later(30) }),
    ).rejects.toThrow(StaleRunError);
    await failStoppedRun(doc, TABLE, { ...target, runId: 'slow', reason: 'stopped', now: later(61) });
    expect(await getRun(doc, TABLE, target.definition, target.day)).toMatchObject({
      status: 'failed',
      reason: 'stopped',
    });

    // …and a run that moved on to `sending` in time is never failed by it.
    const sending = freshDay();
    await claim(sending, 'quick', t0, 60);
    await markMailSending(doc, TABLE, { ...sending, runId: 'quick', now: later(59) });
    await expect(
      failStoppedRun(doc, TABLE, { ...sending, runId: 'quick', reason: 'stopped', now: later(61) }),
    ).rejects.toThrow(StaleRunError);
    expect((await getRun(doc, TABLE, sending.definition, sending.day))?.status).toBe('sending');
  });

  it("counts the sweeper's redos of a day nobody claimed, and a later claim still takes it", async () => {
    const target = freshDay();
    expect(await recordRedo(doc, TABLE, { ...target, now: t0 })).toBe(1);
    expect(await recordRedo(doc, TABLE, { ...target, now: later(300) })).toBe(2);
    expect(await getRun(doc, TABLE, target.definition, target.day)).toMatchObject({
      status: 'failed',
      attempts: 0,
      sweeperRedos: 2,
    });
    expect(await claim(target, 'finally', later(600))).toEqual({ claimed: true, attempts: 1 });
  });

  it('lets a retry after a failure win, and counts attempts', async () => {
    const target = freshDay();
    await claim(target, 'r1');
    await markRun(doc, TABLE, { ...target, runId: 'r1', status: 'failed', reason: 'Verifik answered 503' });
    expect(await getRun(doc, TABLE, target.definition, target.day)).toMatchObject({
      status: 'failed',
      reason: 'Verifik answered 503',
    });
    expect(await claim(target, 'r2', later(60))).toEqual({ claimed: true, attempts: 2 });
    const record = await getRun(doc, TABLE, target.definition, target.day);
    expect(record).toMatchObject({ status: 'running', runId: 'r2', attempts: 2 });
    expect(record?.reason).toBeUndefined();
  });

  it('lets a claim take over a running claim whose lease expired', async () => {
    const target = freshDay();
    await claim(target, 'crashed', t0, 60);
    expect(await claim(target, 'rescuer', later(60))).toMatchObject({ claimed: false, status: 'running' });
    expect(await claim(target, 'rescuer', later(61))).toEqual({ claimed: true, attempts: 2 });
    // The crashed run, should it wake up, can no longer record anything.
    await expect(markMailSending(doc, TABLE, { ...target, runId: 'crashed' })).rejects.toThrow(StaleRunError);
    await expect(markRun(doc, TABLE, { ...target, runId: 'crashed', status: 'failed' })).rejects.toThrow(
      /run crashed cannot mark daily .* failed: it is running and held by run rescuer/,
    );
  });

  it('refuses progress from a run id that does not hold the claim', async () => {
    const target = freshDay();
    await claim(target, 'holder');
    await expect(markRun(doc, TABLE, { ...target, runId: 'twin', status: 'done' })).rejects.toThrow(
      StaleRunError,
    );
    await expect(markMailSent(doc, TABLE, { ...target, runId: 'twin', messageId: 'm' })).rejects.toThrow(
      StaleRunError,
    );
    expect(await getRun(doc, TABLE, target.definition, target.day)).toMatchObject({
      status: 'running',
      runId: 'holder',
    });
    // Nor may a finished run be marked again.
    await markRun(doc, TABLE, { ...target, runId: 'holder', status: 'done' });
    await expect(markRun(doc, TABLE, { ...target, runId: 'holder', status: 'failed' })).rejects.toThrow(
      /it is done/,
    );
    // Nor an unclaimed day.
    await expect(markRun(doc, TABLE, { ...freshDay(), runId: 'x', status: 'done' })).rejects.toThrow(
      /does not exist/,
    );
  });
});

describe('report records', () => {
  const base = (id: string, date: string, createdAt: string): ReportRecord => ({
    id,
    status: 'queued',
    request: { from: date, to: date, timeZone: 'America/Bogota', formats: ['xlsx'] },
    createdAt,
    date,
  });

  it('round-trips a record and lists a day by the index, oldest first', async () => {
    await putReport(doc, TABLE, base('rep-b', '2024-12-01', '2024-12-02T10:05:00.000Z'));
    await putReport(doc, TABLE, base('rep-a', '2024-12-01', '2024-12-02T10:00:00.000Z'));
    await putReport(doc, TABLE, base('rep-c', '2024-12-02', '2024-12-02T10:00:00.000Z'));

    expect(await getReport(doc, TABLE, 'rep-b')).toEqual(
      base('rep-b', '2024-12-01', '2024-12-02T10:05:00.000Z'),
    );
    expect(await getReport(doc, TABLE, 'missing')).toBeUndefined();
    expect((await listReportsByDate(doc, TABLE, '2024-12-01')).map((r) => r.id)).toEqual(['rep-a', 'rep-b']);
    expect((await listReportsByDate(doc, TABLE, '2024-12-02')).map((r) => r.id)).toEqual(['rep-c']);
    expect(await listReportsByDate(doc, TABLE, '2024-12-03')).toEqual([]);
    await expect(
      putReport(doc, TABLE, base('rep-a', '2024-12-01', '2024-12-02T11:00:00.000Z')),
    ).rejects.toThrow(ReportExistsError);
  });

  it('moves through allowed transitions only, keeping the outcome', async () => {
    await putReport(doc, TABLE, base('rep-t', '2024-12-05', '2024-12-06T10:00:00.000Z'));
    await expect(updateReportStatus(doc, TABLE, 'rep-t', { status: 'complete' })).rejects.toThrow(
      /report rep-t is queued; it cannot become complete/,
    );
    await updateReportStatus(doc, TABLE, 'rep-t', { status: 'running' });
    const done = await updateReportStatus(doc, TABLE, 'rep-t', {
      status: 'complete',
      manifestKey: 'reports/on-demand/2024/12/05/rep-t/manifest.json',
      summary: { total: 12, byStatus: { passed: 10, failed: 2 } },
      now: new Date('2024-12-06T10:01:00Z'),
    });
    expect(done).toMatchObject({
      status: 'complete',
      manifestKey: 'reports/on-demand/2024/12/05/rep-t/manifest.json',
      summary: { total: 12, byStatus: { passed: 10, failed: 2 } },
      updatedAt: '2024-12-06T10:01:00.000Z',
    });
    expect(await getReport(doc, TABLE, 'rep-t')).toEqual(done);
    // A finished report never changes again.
    await expect(
      updateReportStatus(doc, TABLE, 'rep-t', { status: 'failed', error: 'late' }),
    ).rejects.toThrow(InvalidTransitionError);
    await expect(updateReportStatus(doc, TABLE, 'rep-t', { status: 'queued' })).rejects.toThrow(
      InvalidTransitionError,
    );
    await expect(updateReportStatus(doc, TABLE, 'nope', { status: 'running' })).rejects.toThrow(
      ReportNotFoundError,
    );
  });

  it('records a failure and lets a retried worker pick the report up again', async () => {
    await putReport(doc, TABLE, base('rep-f', '2024-12-07', '2024-12-08T10:00:00.000Z'));
    await updateReportStatus(doc, TABLE, 'rep-f', { status: 'running' });
    const failed = await updateReportStatus(doc, TABLE, 'rep-f', {
      status: 'failed',
      error: 'Verifik timed out',
    });
    expect(failed).toMatchObject({ status: 'failed', error: 'Verifik timed out' });
    const retried = await updateReportStatus(doc, TABLE, 'rep-f', { status: 'running' });
    expect(retried.status).toBe('running');
    expect(retried.error).toBeUndefined();
  });
});
