/**
 * The token's expiry read from its JWT `exp` without verifying it, anything else read as
 * "unknown", the renewal URL in Verifik's unit (months), the token function's settings and
 * the owners' expiry mail.
 */
import { describe, expect, it } from 'vitest';
import { JwtSigner } from '../../dev/fake-verifik/jwt.js';
import { describeTimeLeft, renderTokenExpiryMail } from '../../functions/delivery/mail/token-mail.js';
import { loadTokenSettings } from '../../functions/runs/token-settings.js';
import {
  daysUntil,
  readTokenClaims,
  readTokenExpiry,
  refreshToken,
  refreshUrl,
} from '../../functions/verifik/token.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const jwt = (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }) =>
  `${b64(header)}.${b64(payload)}.c2lnbmF0dXJl`;

describe('readTokenExpiry', () => {
  it('reads exp (seconds) from a JWT signed with a key we do not hold', () => {
    const signer = new JwtSigner('someone-elses-key');
    const token = signer.sign({ sub: 'c', iat: 1_733_000_000, exp: 1_735_592_000, jti: 'x' });
    expect(readTokenExpiry(token)).toEqual(new Date(1_735_592_000_000));
    expect(readTokenClaims(token)).toEqual({
      expiresAt: new Date(1_735_592_000_000),
      issuedAt: new Date(1_733_000_000_000),
    });
    // Surrounding whitespace (as pasted into a secret) does not matter.
    expect(readTokenExpiry(`  ${token}\n`)).toEqual(new Date(1_735_592_000_000));
  });

  it('a value that is not a JWT has an unknown expiry, never an error', () => {
    for (const value of [
      'test-token',
      'REPLACE_ME',
      '',
      'a.b.c',
      'a.b',
      'one.two.three.four',
      `${b64({ alg: 'HS256' })}.not json!.sig`,
      `${b64('[1,2]')}.${b64({ exp: 1 })}.sig`,
      `${b64({ alg: 'HS256' })}.${b64('"just a string"')}.sig`,
    ]) {
      expect(readTokenClaims(value), value).toBeNull();
      expect(readTokenExpiry(value), value).toBeNull();
    }
  });

  it('a JWT without a usable exp has an unknown expiry', () => {
    expect(readTokenExpiry(jwt({ sub: 'c' }))).toBeNull();
    expect(readTokenExpiry(jwt({ exp: '1735592000' }))).toBeNull();
    expect(readTokenExpiry(jwt({ exp: -5 }))).toBeNull();
    expect(readTokenExpiry(jwt({ exp: Number.MAX_VALUE }))).toBeNull();
    expect(readTokenClaims(jwt({ sub: 'c' }))).toEqual({ expiresAt: null, issuedAt: null });
  });

  it('daysUntil is fractional and negative once past', () => {
    const exp = new Date('2026-12-01T00:00:00Z');
    expect(daysUntil(exp, new Date('2026-11-24T00:00:00Z'))).toBe(7);
    expect(daysUntil(exp, new Date('2026-11-30T12:00:00Z'))).toBe(0.5);
    expect(daysUntil(exp, new Date('2026-12-03T00:00:00Z'))).toBe(-2);
  });
});

describe('refreshToken (no network)', () => {
  it('asks for months, as Verifik counts expiresIn', () => {
    expect(refreshUrl('https://api.verifik.co/', 1)).toBe(
      'https://api.verifik.co/v2/auth/session?origin=refresh&expiresIn=1',
    );
  });

  it('refuses a lifetime that is not whole months before sending anything', async () => {
    let called = false;
    const fetch = (async () => {
      called = true;
      return new Response('{}');
    }) as typeof globalThis.fetch;
    for (const months of [0, 1.5, -1, 2_592_000.5]) {
      await expect(
        refreshToken({ baseUrl: 'http://x.invalid', token: 't', expiresInMonths: months, fetch }),
      ).rejects.toMatchObject({ kind: 'usage' });
    }
    expect(called).toBe(false);
  });
});

describe('loadTokenSettings', () => {
  const env = {
    VERIFIK_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
    MAIL_FROM: 'reports@example.com',
    ALLOWED_RECIPIENT_DOMAINS: 'Example.com',
    TOKEN_ALERT_RECIPIENTS: 'a@example.com, b@example.com',
  };

  it('defaults: api.verifik.co, one month per renewal, alert at 7 days', () => {
    expect(loadTokenSettings(env)).toEqual({
      ...env,
      VERIFIK_BASE_URL: 'https://api.verifik.co',
      TOKEN_RENEWAL_MONTHS: 1,
      TOKEN_ALERT_DAYS: 7,
      TOKEN_ALERT_RECIPIENTS: ['a@example.com', 'b@example.com'],
      ALLOWED_RECIPIENT_DOMAINS: ['example.com'],
      SES_CONFIGURATION_SET: undefined,
    });
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadTokenSettings({
        TOKEN_ALERT_DAYS: '0',
        TOKEN_RENEWAL_MONTHS: 'a month',
        TOKEN_ALERT_RECIPIENTS: 'nobody',
        ALLOWED_RECIPIENT_DOMAINS: 'example.com',
      }),
    ).toThrow(
      /VERIFIK_TOKEN_SECRET_ID: missing.*TOKEN_RENEWAL_MONTHS: "a month".*TOKEN_ALERT_DAYS: "0".*TOKEN_ALERT_RECIPIENTS.*MAIL_FROM/,
    );
  });
});

describe('the owners’ expiry mail', () => {
  const base = {
    expiresAt: new Date('2026-12-01T08:00:00Z'),
    secretId: 'VerifikReports-1a2b3c4d/verifik-token',
    alertDays: 7,
    lastRotatedAt: new Date('2026-11-03T08:00:00Z'),
    nextRotationAt: new Date('2026-11-10T08:00:00Z'),
    rotationEveryDays: 7,
    now: new Date('2026-11-25T05:00:00Z'),
  };

  it('before expiry: days left, the renewal failed, the rotate-secret command', () => {
    const mail = renderTokenExpiryMail({ ...base, daysLeft: 6.125 });
    expect(mail.subject).toBe(
      '[verifik-token] The Verifik token expires in 6 days 3 hours (2026-12-01 08:00 UTC): automatic renewal failed',
    );
    expect(mail.text).toContain('renewed automatically every 7 days');
    expect(mail.text).toContain(`aws secretsmanager rotate-secret --secret-id ${base.secretId}`);
    expect(mail.text).toContain('Last renewed: 2026-11-03 08:00 UTC');
    expect(mail.html).toContain('rotate-secret');
  });

  it('after expiry: reports are failing, put a new token', () => {
    const mail = renderTokenExpiryMail({ ...base, daysLeft: -1.5, lastRotatedAt: null });
    expect(mail.subject).toMatch(/EXPIRED on 2026-12-01 08:00 UTC: reports are failing/);
    expect(mail.text).toContain('put-secret-value');
    expect(mail.text).toContain('Last renewed: —');
    expect(describeTimeLeft(-1.5)).toBe('expired 1 day 12 hours ago');
    expect(describeTimeLeft(0.75)).toBe('18 hours');
    expect(describeTimeLeft(1)).toBe('1 day');
  });
});
