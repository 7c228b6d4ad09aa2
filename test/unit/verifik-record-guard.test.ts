import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { flatten } from '../../functions/report/columns.js';
import { readListBody } from '../../functions/verifik/envelope.js';
import { isBiometricValidation } from '../../functions/verifik/record-guard.js';
import { BiometricValidation } from '../../functions/verifik/schema.js';

const zodAccepts = (v: unknown) => BiometricValidation.safeParse(v).success;

/** Every field the schema names, each either absent, null or a value of its declared type. */
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(arb, fc.constant(null), fc.constant(undefined)) as fc.Arbitrary<T | null | undefined>;
const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const reference = fc.oneof(
  fc.string(),
  fc.record(
    { _id: fc.string(), name: maybe(fc.string()), email: maybe(fc.string()) },
    { requiredKeys: ['_id'] },
  ),
);
const wellFormed = fc.record(
  {
    _id: fc.string({ minLength: 1 }),
    status: fc.string({ minLength: 1 }),
    createdAt: instant,
    client: maybe(reference),
    project: maybe(reference),
    type: maybe(fc.string()),
    identifier: maybe(fc.string()),
    livenessSession: maybe(reference),
    expiresAt: maybe(instant),
    requires2FA: maybe(fc.boolean()),
    ipAddress: maybe(fc.string()),
    biometricData: maybe(
      fc.record({
        quality: maybe(fc.string()),
        livenessScore: maybe(fc.double({ noNaN: true, noDefaultInfinity: true })),
      }),
    ),
    verificationResults: maybe(
      fc.record({
        livenessDetection: maybe(fc.string()),
        identityMatch: maybe(fc.string()),
        qualityScore: maybe(fc.double({ noNaN: true, noDefaultInfinity: true })),
        antiSpoofing: maybe(fc.string()),
      }),
    ),
    riskScore: maybe(fc.double({ noNaN: true, noDefaultInfinity: true })),
    updatedAt: maybe(instant),
    completedAt: maybe(instant),
    somethingNew: maybe(fc.jsonValue()),
  },
  { requiredKeys: ['_id', 'status', 'createdAt'] },
);

/** Paths into a record whose value a mutation replaces, nested ones included. */
const PATHS = [
  ['_id'],
  ['status'],
  ['createdAt'],
  ['updatedAt'],
  ['completedAt'],
  ['expiresAt'],
  ['client'],
  ['client', '_id'],
  ['client', 'name'],
  ['client', 'email'],
  ['project'],
  ['project', '_id'],
  ['livenessSession'],
  ['type'],
  ['identifier'],
  ['requires2FA'],
  ['ipAddress'],
  ['biometricData'],
  ['biometricData', 'quality'],
  ['biometricData', 'livenessScore'],
  ['verificationResults'],
  ['verificationResults', 'livenessDetection'],
  ['verificationResults', 'qualityScore'],
  ['verificationResults', 'antiSpoofing'],
  ['riskScore'],
];

function withValueAt(record: Record<string, unknown>, path: string[], value: unknown): unknown {
  const copy = structuredClone(record);
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null) return copy; // the parent is absent: nothing to replace
    target = next as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** Values a JSON body can hold, with the near misses that matter here weighted in. */
const jsonish = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    '',
    'not a date',
    '2024-13-45T99:99:99Z',
    '2024-12-01',
    0,
    -1,
    1.5,
    true,
    false,
    [],
    {},
    null,
  ),
  fc.constant(undefined),
);

describe('isBiometricValidation (the zod schema’s fast path)', () => {
  it('never accepts what zod rejects, for any value at all', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true }), (v) => {
        if (isBiometricValidation(v)) expect(zodAccepts(v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed record, as zod does', () => {
    fc.assert(
      fc.property(wellFormed, (r) => {
        expect(zodAccepts(r)).toBe(true);
        expect(isBiometricValidation(r)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with zod on every record with one field replaced by any JSON value', () => {
    fc.assert(
      fc.property(wellFormed, fc.constantFrom(...PATHS), jsonish, (r, path, value) => {
        const mutated = withValueAt(r as Record<string, unknown>, path, value);
        expect(isBiometricValidation(mutated)).toBe(zodAccepts(mutated));
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts every record the fake Verifik generates, flattening to what zod’s copy flattens to', () => {
    const ds = createDataset({
      seed: 5,
      count: 2000,
      start: new Date('2024-12-01T05:00:00Z'),
      end: new Date('2024-12-02T05:00:00Z'),
    });
    let checked = 0;
    for (const r of ds) {
      const raw = JSON.parse(JSON.stringify(r)) as unknown;
      expect(isBiometricValidation(raw)).toBe(true);
      expect(flatten(raw as BiometricValidation)).toEqual(flatten(BiometricValidation.parse(raw)));
      checked++;
    }
    expect(checked).toBe(2000);
  });

  it('leaves the verdict and the message to zod when a record is rejected', () => {
    const body = JSON.stringify({
      data: [
        { _id: 'a', status: 'validated', createdAt: '2024-12-01T10:00:00Z' },
        { _id: 'b', status: 'validated', createdAt: '2024-12-01T10:00:00Z', riskScore: 'high' },
      ],
      pagination: { page: 1, perPage: 2, total: 2, pages: 1 },
    });
    const verdict = readListBody(200, body, 1);
    expect(verdict).toMatchObject({ ok: false, kind: 'malformed' });
    if (!verdict.ok && verdict.kind === 'malformed')
      expect(verdict.problem).toMatch(/record 1 \(_id "b"\).*riskScore/);
  });
});
