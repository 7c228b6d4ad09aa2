/** runs/destination-message.ts: the destinations' message from what a run produced. */
import { describe, expect, it } from 'vitest';
import type { RunDeps } from '../../functions/runs/deps.js';
import { buildDestinationMessage, destinationMessage } from '../../functions/runs/destination-message.js';
import type { Produced } from '../../functions/runs/produce.js';

function produced(validations: number): Produced {
  return {
    manifestKey: 'reports/d/2026/11/26/r1/manifest.json',
    result: {
      id: 'r1',
      manifest: { window: { from: '2026-11-26', to: '2026-11-26', timeZone: 'Europe/Madrid' } },
      summary: {
        totals: { validations, failed: validations ? 3 : 0, highRisk: 1 },
        byStatus: validations ? [{ key: 'completed', count: validations, share: 1 }] : [],
      },
      files: [{ name: 'validations.csv', bytes: 2048 }],
    },
  } as unknown as Produced;
}

const deps = {
  secrets: { linkKeys: async () => [Buffer.from('k'.repeat(32))] },
  config: { LINK_TTL_SECONDS: 3600 },
  now: () => new Date('2026-11-27T06:00:00Z'),
} as unknown as Pick<RunDeps, 'secrets' | 'config' | 'now'>;

describe('destination message', () => {
  it('headline from the summary, the failure rate computed, scope and alert passed through', () => {
    const m = destinationMessage(
      {
        definition: 'd',
        periodKey: '2026-11-26',
        produced: produced(12),
        scope: { by: 'client', key: 'acme' },
        alert: { title: 't', conditions: ['c'] },
      },
      { links: [{ name: 'validations.csv', url: 'https://x/y', bytes: 2048 }], expiresAt: new Date(0) },
    );
    expect(m).toMatchObject({
      definition: 'd',
      window: { from: '2026-11-26', timeZone: 'Europe/Madrid' },
      reportId: 'r1',
      empty: false,
      headline: {
        validations: 12,
        failed: 3,
        failureRate: 0.25,
        highRisk: 1,
        byStatus: [{ key: 'completed', count: 12 }],
      },
      links: [{ name: 'validations.csv', expiresAt: '1970-01-01T00:00:00.000Z' }],
      scope: { by: 'client', key: 'acme' },
      alert: { title: 't' },
    });
  });

  it('links signed to the API for a report with rows; none (and a null rate) for an empty one', async () => {
    const full = await buildDestinationMessage(deps, {
      definition: 'd',
      periodKey: '2026-11-26',
      produced: produced(5),
      baseUrl: 'https://api.example',
    });
    expect(full.links).toHaveLength(1);
    expect(full.links[0]?.url).toMatch(/^https:\/\/api\.example\/reports\/r1\/files\/validations\.csv\?/);
    expect(full.links[0]?.expiresAt).toBe('2026-11-27T07:00:00.000Z');
    const empty = await buildDestinationMessage(deps, {
      definition: 'd',
      periodKey: '2026-11-26',
      produced: produced(0),
      baseUrl: 'https://api.example',
    });
    expect(empty).toMatchObject({ empty: true, links: [], headline: { failureRate: null } });
    expect(empty).not.toHaveProperty('scope');
  });
});
