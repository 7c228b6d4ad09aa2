import { describe, expect, it } from 'vitest';
import { createDataset, type Dataset, DatasetError } from '../../dev/fake-verifik/generator.js';
import { expectedRecords, lowerBound, matchesFilter } from '../../dev/fake-verifik/oracle.js';
import { isoString } from '../../dev/fake-verifik/prng.js';
import { BiometricValidation, refId } from '../../functions/verifik/schema.js';

// One Bogota day (UTC-5, no DST).
const start = new Date('2024-12-01T05:00:00.000Z');
const end = new Date('2024-12-02T05:00:00.000Z');
const day = (seed: number, count: number, extra: Partial<Parameters<typeof createDataset>[0]> = {}) =>
  createDataset({ seed, count, start, end, ...extra });

const big = day(7, 20_000);
const all = [...big];

describe('generator: determinism', () => {
  it('gives the same records for the same seed and different ones for another seed', () => {
    const a = day(42, 2_000);
    const b = day(42, 2_000);
    const c = day(43, 2_000);
    for (const i of [0, 1, 17, 999, 1_999]) expect(b.record(i)).toEqual(a.record(i));
    expect([...b].map((r) => r._id)).toEqual([...a].map((r) => r._id));
    const sameInC = [...c].filter(
      (r, i) => r.createdAt === a.record(i).createdAt && r.status === a.record(i).status,
    );
    expect(sameInC.length).toBeLessThan(100);
    expect(c.record(5)._id).not.toBe(a.record(5)._id);
  });

  it('recomputes a record identically however often it is asked for', () => {
    expect(big.record(12_345)).toEqual(big.record(12_345));
    expect(JSON.stringify(big.record(3))).toBe(JSON.stringify(all[3]));
  });
});

describe('generator: shape and realism', () => {
  it('keeps every record inside [start, end) in ascending createdAt order', () => {
    let prev = -Infinity;
    for (let i = 0; i < big.size; i++) {
      const ms = big.createdAtMs(i);
      expect(ms >= start.getTime() && ms < end.getTime()).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(prev);
      prev = ms;
    }
    expect(all.every((r, i) => Date.parse(r.createdAt) === big.createdAtMs(i))).toBe(true);
  });

  it('produces records that pass the boundary schema, with unique 24-hex ids', () => {
    for (const r of all) BiometricValidation.parse(r);
    const ids = new Set(all.map((r) => r._id));
    expect(ids.size).toBe(all.length);
    expect(all.every((r) => /^[0-9a-f]{24}$/.test(r._id))).toBe(true);
  });

  it('contains every documented status and type, an undocumented status, and records without a type', () => {
    const statuses = new Set(all.map((r) => r.status));
    for (const s of [
      'new',
      'sent',
      'pending',
      'validated',
      'completed',
      'failed',
      'expired',
      'under_review',
    ]) {
      expect(statuses).toContain(s);
    }
    const types = new Set(all.map((r) => r.type));
    for (const t of ['validation', 'login', 'onboarding', 'oneTimeLink', 'liveness', null])
      expect(types).toContain(t);
    expect(all.some((r) => !('type' in r))).toBe(true);
    // An undocumented status is rare, not absent and not common.
    const rare = all.filter((r) => r.status === 'under_review').length;
    expect(rare).toBeGreaterThan(0);
    expect(rare).toBeLessThan(all.length * 0.05);
  });

  it('spreads records over several clients, each with its own projects, and populates both', () => {
    expect(big.clients).toHaveLength(4);
    expect(big.projects.length).toBeGreaterThanOrEqual(8);
    const perClient = new Map<string, number>();
    for (const r of all) {
      const client = r.client as { _id: string; name: string; email: string };
      const project = r.project as { _id: string; name: string; description: string };
      expect(client.name).toBeTruthy();
      expect(client.email).toContain('@');
      expect(project.description).toBeTruthy();
      expect(big.projects.find((p) => p._id === project._id)?.clientId).toBe(client._id);
      perClient.set(client._id, (perClient.get(client._id) ?? 0) + 1);
    }
    expect(perClient.size).toBe(4);
    expect(day(1, 10, { clients: 2, projectsPerClient: 5 }).projects).toHaveLength(10);
  });

  it('includes non-ASCII identifiers, formula-looking values, phones and e-mails', () => {
    const ids = all.map((r) => r.identifier).filter((v): v is string => typeof v === 'string');
    expect(ids.some((v) => /[^\x00-\x7f]/.test(v))).toBe(true);
    expect(ids.some((v) => v.startsWith('='))).toBe(true);
    expect(ids.some((v) => v.startsWith('@'))).toBe(true);
    expect(ids.some((v) => v.startsWith('-'))).toBe(true);
    expect(ids.some((v) => v.startsWith('+57'))).toBe(true);
    expect(ids.some((v) => /^[^@]+@[^@]+\.[a-z]+$/.test(v))).toBe(true);
    expect(all.some((r) => r.identifier === null)).toBe(true);
    expect(all.some((r) => !('identifier' in r))).toBe(true);
  });

  it('has IPv4 and IPv6 addresses and leaves optional fields missing or null in a share of records', () => {
    const ips = all.map((r) => r.ipAddress).filter((v): v is string => typeof v === 'string');
    expect(ips.some((v) => /^\d+\.\d+\.\d+\.\d+$/.test(v))).toBe(true);
    expect(ips.some((v) => v.includes(':'))).toBe(true);
    for (const key of [
      'ipAddress',
      'biometricData',
      'verificationResults',
      'livenessSession',
      'completedAt',
    ] as const) {
      expect(all.some((r) => r[key] === null)).toBe(true);
      expect(all.some((r) => !(key in r))).toBe(true);
    }
    expect(all.some((r) => r.verificationResults && !('identityMatch' in r.verificationResults))).toBe(true);
  });

  it('keeps scores in [0, 1] with at most 4 decimals, and failures riskier than successes', () => {
    const scores = all.flatMap((r) => [
      r.biometricData?.livenessScore,
      r.verificationResults?.qualityScore,
      r.riskScore,
    ]);
    for (const s of scores) {
      if (s == null) continue;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      expect(Math.round(s * 10_000)).toBeCloseTo(s * 10_000, 6);
    }
    const mean = (status: string) => {
      const xs = all
        .filter((r) => r.status === status && typeof r.riskScore === 'number')
        .map((r) => r.riskScore!);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(mean('failed')).toBeGreaterThan(mean('completed') + 0.3);
    const twoFactor = all.filter((r) => r.requires2FA === true).length / all.length;
    expect(twoFactor).toBeGreaterThan(0.05);
    expect(twoFactor).toBeLessThan(0.3);
  });

  it('sets completedAt only on finished checks, seconds to minutes after createdAt', () => {
    const finished = new Set(['validated', 'completed', 'failed']);
    for (const r of all) {
      if (!finished.has(r.status)) {
        expect(r.completedAt ?? null).toBeNull();
        continue;
      }
      if (r.completedAt == null) continue;
      const took = Date.parse(r.completedAt) - Date.parse(r.createdAt);
      expect(took).toBeGreaterThanOrEqual(5_000);
      expect(took).toBeLessThanOrEqual(20 * 60_000);
    }
    expect(all.some((r) => finished.has(r.status) && r.completedAt == null)).toBe(true);
  });

  it('follows an hour-of-day curve: mid-morning is much busier than the small hours (local time)', () => {
    const byLocalHour = new Array<number>(24).fill(0);
    for (let i = 0; i < big.size; i++) {
      const h = new Date(big.createdAtMs(i) - 5 * 3_600_000).getUTCHours();
      byLocalHour[h] = byLocalHour[h]! + 1;
    }
    expect(byLocalHour[10]!).toBeGreaterThan(byLocalHour[3]! * 5);
    expect(byLocalHour[15]!).toBeGreaterThan(byLocalHour[1]! * 5);
  });

  it('reports the same facets as the materialised record', () => {
    for (let i = 0; i < big.size; i += 37) {
      const r = big.record(i);
      expect(big.facets(i)).toEqual({
        status: r.status,
        type: r.type ?? null,
        client: refId(r.client),
        project: refId(r.project),
        livenessSession: refId(r.livenessSession),
      });
    }
  });

  it('formats instants exactly like Date#toISOString', () => {
    for (let k = 0; k < 5_000; k++) {
      const ms = Math.floor(start.getTime() + k * 7_919_813.7 - 1e11);
      expect(isoString(ms)).toBe(new Date(ms).toISOString());
    }
  });
});

describe('generator: inserts and fresh records', () => {
  it('inserts records in createdAt order after existing ties and bumps the version', () => {
    const ds = day(5, 500);
    const v0 = ds.version;
    const fresh = ds.generate(30);
    const tie = { ...ds.generate(1)[0]!, createdAt: new Date(ds.createdAtMs(100)).toISOString() };
    ds.insert([...fresh, tie]);
    expect(ds.size).toBe(531);
    expect(ds.version).toBeGreaterThan(v0);
    for (let i = 1; i < ds.size; i++) expect(ds.createdAtMs(i)).toBeGreaterThanOrEqual(ds.createdAtMs(i - 1));
    const ids = new Set([...ds].map((r) => r._id));
    expect(ids.size).toBe(531);
    for (const r of fresh) expect(ids).toContain(r._id);
    // The inserted tie comes after every existing record with the same instant.
    const pos = [...ds].findIndex((r) => r._id === tie._id);
    expect(ds.createdAtMs(pos - 1)).toBe(ds.createdAtMs(pos));
    expect(ds.record(pos - 1)._id).not.toBe(tie._id);
    expect(() => ds.insert([tie])).toThrow(DatasetError);
  });

  it('generates fresh records inside the requested range, schema-valid, different on every call', () => {
    const ds = day(5, 100);
    const from = new Date('2024-12-01T12:00:00Z');
    const to = new Date('2024-12-01T13:00:00Z');
    const a = ds.generate(50, from, to);
    const b = ds.generate(50, from, to);
    for (const r of [...a, ...b]) {
      BiometricValidation.parse(r);
      const ms = Date.parse(r.createdAt);
      expect(ms >= from.getTime() && ms < to.getTime()).toBe(true);
    }
    expect(new Set([...a, ...b, ...ds].map((r) => r._id)).size).toBe(200);
  });
});

describe('generator: the oracle', () => {
  const ds: Dataset = day(9, 3_000);
  it('reads start as inclusive and end as exclusive', () => {
    const r = ds.record(1_000);
    const at = new Date(r.createdAt);
    expect(matchesFilter(r, { start: at })).toBe(true);
    expect(matchesFilter(r, { end: at })).toBe(false);
    expect(matchesFilter(r, { end: new Date(at.getTime() + 1) })).toBe(true);
    expect(matchesFilter(r, { statuses: [r.status] })).toBe(true);
    expect(matchesFilter(r, { statuses: [] })).toBe(false);
    expect(matchesFilter(r, { client: refId(r.client)!, project: refId(r.project)! })).toBe(true);
    expect(matchesFilter(r, { type: 'no-such-type' })).toBe(false);
  });

  it('lists exactly the records a brute-force scan finds, ascending', () => {
    const filter = {
      start: new Date('2024-12-01T14:00:00Z'),
      end: new Date('2024-12-01T20:00:00Z'),
      statuses: ['failed', 'expired'],
      client: ds.clients[0]!._id,
    };
    const expected = expectedRecords(ds, filter);
    const brute = [...ds].filter((r) => matchesFilter(r, filter));
    expect(expected.map((r) => r._id)).toEqual(brute.map((r) => r._id));
    expect(expected.length).toBeGreaterThan(10);
    expect(lowerBound(ds, ds.createdAtMs(500))).toBeLessThanOrEqual(500);
  });
});

describe('generator: scale and validation', () => {
  it('creates a million-record day lazily and materialises its last record', () => {
    const ds = day(3, 1_000_000);
    expect(ds.size).toBe(1_000_000);
    const last = BiometricValidation.parse(ds.record(999_999));
    expect(Date.parse(last.createdAt)).toBeLessThan(end.getTime());
    expect(ds.createdAtMs(999_999)).toBeGreaterThanOrEqual(ds.createdAtMs(0));
    expect(() => ds.record(1_000_000)).toThrow(RangeError);
  });

  it('rejects impossible options with a DatasetError', () => {
    expect(() => createDataset({ seed: 1, count: 10, start: end, end: start })).toThrow(DatasetError);
    expect(() => day(1, -1)).toThrow(DatasetError);
    expect(() => day(1, 1.5)).toThrow(DatasetError);
    expect(() => day(1, 10, { clients: 0 })).toThrow(DatasetError);
    expect(() => day(1, 10, { clients: 99 })).toThrow(DatasetError);
  });

  it('handles an empty dataset', () => {
    const ds = day(1, 0);
    expect(ds.size).toBe(0);
    expect([...ds]).toEqual([]);
    expect(expectedRecords(ds, {})).toEqual([]);
  });
});
