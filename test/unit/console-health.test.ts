/** The console's health strip: the token's age from its secret's metadata, and recent failed reports. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/deps.js';
import { consoleHealth } from '../../functions/api/routes/console-health.js';

const NOW = new Date('2026-11-27T12:00:00Z');

function report(id: string, date: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    status,
    date,
    request: { definition: 'daily-ops', from: date, to: date, timeZone: 'UTC' },
    createdAt: `${date}T06:00:00.000Z`,
    ...extra,
  };
}

function deps(byDate: Record<string, unknown[]>, token?: ApiDeps['verifikTokenState']): ApiDeps {
  const doc = {
    send: async (cmd: { input: { ExpressionAttributeValues: Record<string, string> } }) => {
      const date = cmd.input.ExpressionAttributeValues[':pk']!.replace('DATE#', '');
      return { Items: byDate[date] ?? [] };
    },
  } as unknown as DynamoDBDocumentClient;
  return {
    doc,
    now: () => NOW,
    config: { STATE_TABLE: 't' },
    ...(token ? { verifikTokenState: token } : {}),
  } as unknown as ApiDeps;
}

const body = (r: { body?: string }) => JSON.parse(r.body ?? '{}') as Record<string, unknown>;

describe('console health', () => {
  it('lists the failed reports of the last 3 UTC days, newest first, and none older', async () => {
    const r = await consoleHealth(
      deps({
        '2026-11-27': [report('a', '2026-11-27', 'complete')],
        '2026-11-26': [
          report('b', '2026-11-26', 'failed', {
            error: 'Verifik unavailable',
            updatedAt: '2026-11-26T07:00:00.000Z',
          }),
        ],
        '2026-11-25': [report('c', '2026-11-25', 'failed', { updatedAt: '2026-11-26T09:00:00.000Z' })],
        '2026-11-24': [report('old', '2026-11-24', 'failed')],
      }),
    );
    expect(r.statusCode).toBe(200);
    expect(body(r).failures).toEqual([
      { id: 'c', date: '2026-11-25', definition: 'daily-ops', at: '2026-11-26T09:00:00.000Z' },
      {
        id: 'b',
        date: '2026-11-26',
        definition: 'daily-ops',
        at: '2026-11-26T07:00:00.000Z',
        error: 'Verifik unavailable',
      },
    ]);
  });

  it('estimates the token’s days left from its last renewal (a renewal gives 30 days)', async () => {
    const r = await consoleHealth(
      deps({}, async () => ({
        lastChangedAt: new Date('2026-11-01T00:00:00Z'),
        lastRotatedAt: new Date('2026-11-20T12:00:00Z'),
        nextRotationAt: new Date('2026-11-27T12:00:00Z'),
        rotationEnabled: true,
      })),
    );
    expect(body(r).verifikToken).toEqual({
      renewedAt: '2026-11-20T12:00:00.000Z',
      daysLeftAbout: 23,
      nextRenewalAt: '2026-11-27T12:00:00.000Z',
      renewalEnabled: true,
    });
  });

  it('says nothing of the token when its metadata cannot be read (the strip says so), and still lists failures', async () => {
    const r = await consoleHealth(
      deps({}, async () => {
        throw new Error('AccessDenied');
      }),
    );
    expect(body(r)).toMatchObject({ verifikToken: null, failures: [] });
  });
});
