import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  excerpt,
  IncompleteReadError,
  readErrorBody,
  redact,
  VerifikAuthError,
  VerifikBadRequestError,
  VerifikError,
  VerifikMalformedResponseError,
  VerifikRateLimitedError,
  VerifikTimeoutError,
  VerifikUnavailableError,
} from '../../functions/verifik/errors.js';

const TOKEN = 'tok_ABCdef123_secret';
const URL = 'https://api.verifik.co/v2/biometric-validations?page=1';

describe('readErrorBody', () => {
  it('reads the seed error shape', () => {
    expect(
      readErrorBody({ success: false, error: 'Invalid query parameters', code: 'INVALID_PARAMETERS' }),
    ).toEqual({
      code: 'INVALID_PARAMETERS',
      message: 'Invalid query parameters',
    });
  });
  it('reads the module error shape', () => {
    expect(readErrorBody({ code: 'UNAUTHORIZED', message: 'jwt expired' })).toEqual({
      code: 'UNAUTHORIZED',
      message: 'jwt expired',
    });
  });
  it('falls back to an excerpt of anything else, redacted', () => {
    expect(readErrorBody(`<h1>Bad Gateway ${TOKEN}</h1>`, [TOKEN])).toEqual({
      code: null,
      message: '<h1>Bad Gateway [redacted]</h1>',
    });
    expect(readErrorBody(undefined)).toEqual({ code: null, message: '(empty body)' });
    expect(readErrorBody({ weird: true }).message).toBe('{"weird":true}');
  });
  it('redacts the token from server messages', () => {
    expect(readErrorBody({ code: 'X', message: `bad token ${TOKEN}` }, [TOKEN]).message).toBe(
      'bad token [redacted]',
    );
  });
});

describe('excerpt and redact', () => {
  it('keeps at most 200 characters on one line', () => {
    const e = excerpt(`a\n\n${'x'.repeat(500)}`);
    expect(e.length).toBe(200);
    expect(e.startsWith('a x')).toBe(true);
    expect(e.endsWith('…')).toBe(true);
  });
  it('replaces every occurrence of every secret', () => {
    expect(redact(`${TOKEN}/${TOKEN}`, [TOKEN, ''])).toBe('[redacted]/[redacted]');
  });
});

describe('error classes: distinct, actionable, never holding the token', () => {
  // Server text that echoes the token reaches the classes the way the client passes it: through
  // readErrorBody / redact. (Errors built from nothing but numbers cannot hold it either way.)
  const fromServer = (message: string) =>
    readErrorBody({ code: 'X', message: `${message} (${TOKEN})` }, [TOKEN]).message;
  const errors: VerifikError[] = [
    new VerifikAuthError({
      url: URL,
      status: 401,
      code: 'UNAUTHORIZED',
      serverMessage: fromServer('jwt expired'),
    }),
    new VerifikBadRequestError({
      url: URL,
      status: 400,
      code: 'INVALID_PARAMETERS',
      serverMessage: fromServer('Invalid query parameters'),
    }),
    new VerifikRateLimitedError({
      url: URL,
      attempts: 3,
      elapsedMs: 4000,
      retryAfterMs: 120_000,
      budgetMs: 60_000,
    }),
    new VerifikUnavailableError({
      url: URL,
      attempts: 6,
      elapsedMs: 31_000,
      lastFailure: `network error: ${redact(`connect ECONNRESET Bearer ${TOKEN}`, [TOKEN])}`,
      status: 503,
      stoppedBy: 'attempts',
      budgetMs: 120_000,
    }),
    new VerifikMalformedResponseError({
      url: URL,
      status: 200,
      problem: 'not JSON',
      body: `<html>${TOKEN}</html>`,
      secrets: [TOKEN],
    }),
    new VerifikTimeoutError({ url: URL, attempts: 2, timeoutMs: 30_000, elapsedMs: 61_000 }),
    new IncompleteReadError('received 10 distinct records but the server reports 12'),
  ];

  it.each(errors.map((e) => [e.name, e] as const))('%s', (_name, err) => {
    expect(err).toBeInstanceOf(VerifikError);
    expect(err).toBeInstanceOf(Error);
    for (const view of [
      String(err),
      err.stack ?? '',
      JSON.stringify(err),
      inspect(err, { depth: 10, showHidden: true }),
    ]) {
      expect(view).not.toContain(TOKEN);
    }
    // Each says what to do next.
    expect(err.message).toMatch(/[Rr]enew|Check|Run|Try|raise|report/);
  });

  it('the auth error points at VERIFIK_TOKEN and the refresh endpoint', () => {
    expect(errors[0]?.message).toMatch(/VERIFIK_TOKEN/);
    expect(errors[0]?.message).toMatch(/auth\/session\?origin=refresh/);
  });

  it('the rate-limit error names the concurrency setting to lower, wherever it is set', () => {
    expect(errors[2]?.message).toMatch(/VERIFIK_CONCURRENCY.*verifikConcurrency.*--concurrency/);
  });

  it('the unavailable error says how many attempts over how long', () => {
    expect(errors[3]?.message).toMatch(/failed 6 time\(s\) over 31\.0 s/);
  });

  it('the malformed error names the URL, the status and an excerpt', () => {
    const m = errors[4]?.message ?? '';
    expect(m).toContain(URL);
    expect(m).toContain('HTTP 200');
    expect(m).toContain('<html>[redacted]</html>');
  });

  it('all class names differ', () => {
    expect(new Set(errors.map((e) => e.name)).size).toBe(errors.length);
  });
});
