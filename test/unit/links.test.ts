import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { attachmentDisposition } from '../../functions/delivery/content-disposition.js';
import {
  InvalidLinkTargetError,
  LinkKeyError,
  linkExpiry,
  MIN_KEY_BYTES,
  presignDownload,
  signFileLink,
  verifyFileLink,
} from '../../functions/delivery/links.js';

const key = Buffer.from('k'.repeat(48));
const otherKey = Buffer.from('o'.repeat(48));
const now = new Date('2024-12-02T10:00:00Z');
const expiresAt = linkExpiry(now);
const base = 'https://api.example.com/prod';

function sign(overrides: Partial<Parameters<typeof signFileLink>[0]> = {}) {
  return new URL(
    signFileLink({
      baseUrl: base,
      reportId: 'rep_01J9',
      file: 'validations.xlsx',
      expiresAt,
      key,
      ...overrides,
    }),
  );
}

function params(url: URL) {
  const [, , , reportId, , file] = url.pathname.split('/');
  return {
    reportId,
    file,
    expires: url.searchParams.get('expires') ?? undefined,
    signature: url.searchParams.get('signature') ?? undefined,
  };
}

describe('signFileLink / verifyFileLink', () => {
  it('round-trips a link to our own endpoint', () => {
    const url = sign();
    expect(url.origin + url.pathname).toBe(
      'https://api.example.com/prod/reports/rep_01J9/files/validations.xlsx',
    );
    expect(url.searchParams.get('expires')).toBe(String(expiresAt));
    expect(verifyFileLink({ ...params(url), key, now })).toEqual({ ok: true });
  });

  it('defaults to a 7-day lifetime', () => {
    expect(expiresAt - now.getTime() / 1000).toBe(7 * 24 * 3600);
  });

  it('strips a trailing slash from the base URL', () => {
    expect(sign({ baseUrl: `${base}/` }).pathname).toBe('/prod/reports/rep_01J9/files/validations.xlsx');
  });

  it('never carries the key in the URL', () => {
    const url = sign().toString();
    expect(url).not.toContain(key.toString('utf8'));
    expect(url).not.toContain(key.toString('base64url'));
    expect(url).not.toContain(key.toString('hex'));
  });

  it.each([
    ['report id', { reportId: 'rep_01J8' }],
    ['file name', { file: 'validations.csv' }],
    ['expiry', { expires: String(expiresAt + 1) }],
  ])('refuses a tampered %s', (_, change) => {
    const p = { ...params(sign()), ...change };
    expect(verifyFileLink({ ...p, key, now })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a tampered signature, including a non-canonical spelling of the same bytes', () => {
    const p = params(sign());
    const sig = p.signature as string;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(verifyFileLink({ ...p, signature: flipped, key, now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    // The 43rd character has two spare bits: find a different character decoding to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = [...alphabet]
      .map((c) => sig.slice(0, 42) + c)
      .find((s) => s !== sig && Buffer.from(s, 'base64url').equals(Buffer.from(sig, 'base64url')));
    expect(twin).toBeDefined();
    expect(verifyFileLink({ ...p, signature: twin, key, now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('says expired only for a genuine link past its expiry', () => {
    const p = params(sign({ expiresAt: linkExpiry(now, 60) }));
    expect(verifyFileLink({ ...p, key, now: new Date(now.getTime() + 59_000) })).toEqual({ ok: true });
    expect(verifyFileLink({ ...p, key, now: new Date(now.getTime() + 60_000) })).toEqual({
      ok: false,
      reason: 'expired',
    });
    // A forged link that is also expired is a bad signature, not an expiry.
    expect(verifyFileLink({ ...p, reportId: 'other', key, now: new Date(now.getTime() + 3600_000) })).toEqual(
      { ok: false, reason: 'bad-signature' },
    );
  });

  it('refuses a link signed with another key', () => {
    const p = params(sign({ key: otherKey }));
    expect(verifyFileLink({ ...p, key, now })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('supports key rotation: signs with the first key, verifies against any', () => {
    const oldLink = params(sign({ key: otherKey }));
    const newLink = sign({ key: [key, otherKey] });
    expect(verifyFileLink({ ...params(newLink), key, now })).toEqual({ ok: true });
    expect(verifyFileLink({ ...params(newLink), key: [key, otherKey], now })).toEqual({ ok: true });
    expect(verifyFileLink({ ...oldLink, key: [key, otherKey], now })).toEqual({ ok: true });
    // Once the old key is retired, its links stop working.
    expect(verifyFileLink({ ...oldLink, key: [key], now })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each([
    ['missing expires', { expires: undefined }],
    ['missing signature', { signature: undefined }],
    ['non-numeric expires', { expires: '17e9' }],
    ['negative expires', { expires: '-1' }],
    ['short signature', { signature: 'abc' }],
    ['signature with padding', { signature: `${'A'.repeat(43)}=` }],
    ['path traversal in the name', { file: '../secret.xlsx' }],
    ['slash in the id', { reportId: 'a/b' }],
    ['empty id', { reportId: '' }],
  ])('classifies %s as malformed', (_, change) => {
    const p = { ...params(sign()), ...change };
    expect(verifyFileLink({ ...p, key, now })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to sign targets that could not be verified, and weak or missing keys', () => {
    expect(() => sign({ file: 'a/b.xlsx' })).toThrow(InvalidLinkTargetError);
    expect(() => sign({ reportId: 'x y' })).toThrow(InvalidLinkTargetError);
    expect(() => sign({ expiresAt: 1.5 })).toThrow(InvalidLinkTargetError);
    expect(() => sign({ key: Buffer.from('short') })).toThrow(LinkKeyError);
    expect(() => sign({ key: [] })).toThrow(LinkKeyError);
  });
});

describe('attachmentDisposition', () => {
  it('keeps plain names as they are', () => {
    expect(attachmentDisposition('verifik-daily-2024-12-01.xlsx')).toBe(
      `attachment; filename="verifik-daily-2024-12-01.xlsx"; filename*=UTF-8''verifik-daily-2024-12-01.xlsx`,
    );
  });

  it('gives an ASCII fallback and the exact name for anything else', () => {
    expect(attachmentDisposition('réport "q".csv')).toBe(
      `attachment; filename="r_port _q_.csv"; filename*=UTF-8''r%C3%A9port%20%22q%22.csv`,
    );
  });
});

describe('presignDownload', () => {
  it('presigns a short-lived GET that names the download', async () => {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-never-in-url' },
    });
    const url = new URL(
      await presignDownload(s3, 'bucket-a', 'reports/daily/2024/12/01/r1/validations.xlsx', {
        expiresInSeconds: 120,
        downloadName: 'verifik-daily-2024-12-01.xlsx',
      }),
    );
    expect(url.pathname).toBe('/bucket-a/reports/daily/2024/12/01/r1/validations.xlsx');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('response-content-disposition')).toBe(
      attachmentDisposition('verifik-daily-2024-12-01.xlsx'),
    );
    expect(url.toString()).not.toContain('secret-never-in-url');
  });
});

describe('links: the edges of what is accepted', () => {
  it('a key of exactly the minimum length signs and verifies; one byte less is refused', () => {
    const min = Buffer.alloc(MIN_KEY_BYTES, 7);
    const p = params(sign({ key: min }));
    expect(verifyFileLink({ ...p, key: min, now })).toEqual({ ok: true });
    expect(() => sign({ key: Buffer.alloc(MIN_KEY_BYTES - 1, 7) })).toThrow(LinkKeyError);
  });

  it('strips every trailing slash from the base URL, not just one', () => {
    expect(sign({ baseUrl: `${base}///` }).toString()).toBe(sign().toString());
  });

  it('signs links that expire at second 0 (whole Unix seconds, not "positive")', () => {
    expect(sign({ expiresAt: 0 }).searchParams.get('expires')).toBe('0');
  });

  it.each([
    ['missing id', { reportId: undefined }],
    ['missing file name', { file: undefined }],
    ['a signature with one character before 43 valid ones', { signature: `!${'A'.repeat(43)}` }],
  ])('classifies %s as malformed (400), not as a bad signature (403)', (_, change) => {
    const p = { ...params(sign()), ...change };
    expect(verifyFileLink({ ...p, key, now })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('its errors say what kind of failure they are and why', () => {
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err as { kind: string; name: string; message: string };
      }
      throw new Error('did not throw');
    };
    expect(caught(() => sign({ key: [] }))).toMatchObject({
      kind: 'access',
      name: 'LinkKeyError',
      message: 'no link signing key configured',
    });
    expect(caught(() => sign({ key: Buffer.from('short') })).message).toBe(
      `link signing key too short: 5 bytes, need at least ${MIN_KEY_BYTES}`,
    );
    expect(caught(() => sign({ reportId: 'x y' }))).toMatchObject({
      kind: 'internal',
      name: 'InvalidLinkTargetError',
      message: 'report id "x y" is not linkable',
    });
    expect(caught(() => sign({ file: 'a/b.xlsx' })).message).toBe('file name "a/b.xlsx" is not linkable');
    expect(caught(() => sign({ expiresAt: 1.5 })).message).toBe(
      'expiresAt must be whole Unix seconds, got 1.5',
    );
  });
});
