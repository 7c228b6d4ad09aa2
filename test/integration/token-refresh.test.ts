/**
 * Token expiry and renewal over real HTTP: the fake Verifik refuses a JWT after its `exp` (401
 * like the real API's error body), renews a still-valid one at `GET /v2/auth/session`, and the
 * project's `refreshToken` reads the answers and fails with kinds and messages free of tokens.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { FAKE_MONTH_SECONDS, type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { kindOf } from '../../functions/errors/kinds.js';
import { createVerifikClient, LIST_PATH } from '../../functions/verifik/client.js';
import { readTokenExpiry, refreshToken, SESSION_PATH } from '../../functions/verifik/token.js';

/** For promises that must reject: a resolution fails the test. */
const fail = (value: unknown): never => {
  throw new Error(`expected a rejection, got ${JSON.stringify(value).slice(0, 80)}`);
};

const DAY = 86_400_000;
const START = new Date('2026-11-01T00:00:00Z');

let fake: FakeVerifik;
let clock: Date;

beforeAll(async () => {
  fake = await startFakeVerifik({
    dataset: createDataset({ seed: 3, count: 200, start: START, end: new Date(START.getTime() + DAY) }),
    now: () => clock,
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  clock = new Date('2026-11-02T12:00:00Z');
  fake.faults.clear();
});

const list = (token: string) =>
  fetch(`${fake.url}${LIST_PATH}?page=1&perPage=1`, { headers: { authorization: `Bearer ${token}` } });
const session = (token: string, query = 'origin=refresh&expiresIn=1') =>
  fetch(`${fake.url}${SESSION_PATH}?${query}`, { headers: { authorization: `Bearer ${token}` } });
const noSleep = async () => {};

describe('fake Verifik: token expiry', () => {
  it('a JWT works until its exp, then gets 401 UNAUTHORIZED', async () => {
    const token = fake.issueToken(3 * 86_400);
    expect(readTokenExpiry(token)).toEqual(new Date(clock.getTime() + 3 * DAY));
    expect((await list(token)).status).toBe(200);
    clock = new Date(clock.getTime() + 3 * DAY - 1_000);
    expect((await list(token)).status).toBe(200);
    clock = new Date(clock.getTime() + 1_000);
    const res = await list(token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 'UNAUTHORIZED', message: 'jwt expired' });
  });

  it('the static token never expires (what existing tests use); a forged JWT is refused', async () => {
    clock = new Date('2099-01-01T00:00:00Z');
    expect((await list(fake.token)).status).toBe(200);
    const [h, p] = fake.issueToken().split('.');
    const forged = `${h}.${p}.${'A'.repeat(43)}`;
    expect((await list(forged)).status).toBe(401);
  });
});

describe('fake Verifik: GET /v2/auth/session?origin=refresh', () => {
  it('renews a valid token for expiresIn months; the old one keeps working until its own exp', async () => {
    const old = fake.issueToken(2 * 86_400);
    const res = await session(old, 'origin=refresh&expiresIn=2');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; tokenType: string };
    expect(body.tokenType).toBe('bearer');
    expect(readTokenExpiry(body.accessToken)).toEqual(
      new Date(clock.getTime() + 2 * FAKE_MONTH_SECONDS * 1000),
    );
    expect(fake.issued.at(-1)).toMatchObject({ token: body.accessToken, via: 'refresh' });
    expect((await list(body.accessToken)).status).toBe(200);
    expect((await list(old)).status).toBe(200);
    clock = new Date(clock.getTime() + 2 * DAY);
    expect((await list(old)).status).toBe(401);
    expect((await list(body.accessToken)).status).toBe(200);
  });

  it('refuses an expired token (401), a missing one, and a bad expiresIn or origin (400)', async () => {
    const token = fake.issueToken(60);
    clock = new Date(clock.getTime() + 61_000);
    const expired = await session(token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 'UNAUTHORIZED', message: 'jwt expired' });
    expect((await fetch(`${fake.url}${SESSION_PATH}?origin=refresh`)).status).toBe(401);
    const valid = fake.issueToken();
    for (const q of [
      'origin=refresh&expiresIn=0',
      'origin=refresh&expiresIn=1.5',
      'origin=app&expiresIn=1',
    ]) {
      expect((await session(valid, q)).status, q).toBe(400);
    }
    // expiresIn left out: one month.
    const body = (await (await session(valid, 'origin=refresh')).json()) as { accessToken: string };
    expect(readTokenExpiry(body.accessToken)).toEqual(new Date(clock.getTime() + FAKE_MONTH_SECONDS * 1000));
  });
});

describe('refreshToken against the fake', () => {
  it('returns the new token and its expiry; the list client accepts it', async () => {
    const old = fake.issueToken(5 * 86_400);
    const renewed = await refreshToken({ baseUrl: fake.url, token: old, expiresInMonths: 1 });
    expect(renewed.tokenType).toBe('bearer');
    expect(renewed.token).not.toBe(old);
    expect(renewed.expiresAt).toEqual(new Date(clock.getTime() + 30 * DAY));
    const page = await createVerifikClient({ baseUrl: fake.url, token: renewed.token }).listPage({
      page: 1,
      perPage: 1,
    });
    expect(page.records).toHaveLength(1);
  });

  it('an expired token: VerifikRenewalRefusedError, kind auth, telling to log in again, without the token', async () => {
    const token = fake.issueToken(86_400);
    clock = new Date(clock.getTime() + 2 * DAY);
    const err = await refreshToken({ baseUrl: fake.url, token }).then(fail, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('VerifikRenewalRefusedError');
    expect(kindOf(err)).toBe('auth');
    expect(err.message).toContain('HTTP 401 UNAUTHORIZED: jwt expired');
    expect(err.message).toContain('log in to Verifik again');
    expect(err.message).not.toContain(token);
  });

  it('retries transient failures, then gives up with kind upstream-unavailable', async () => {
    const token = fake.issueToken();
    const isSession = { when: (r: { path: string }) => r.path === SESSION_PATH };
    fake.faults.push({ kind: 'status', status: 503 }, { times: 2, ...isSession });
    const renewed = await refreshToken({ baseUrl: fake.url, token, sleep: noSleep });
    expect(renewed.expiresAt).not.toBeNull();

    fake.faults.push({ kind: 'status', status: 502 }, { times: 3, ...isSession });
    const err = await refreshToken({ baseUrl: fake.url, token, sleep: noSleep }).then(
      fail,
      (e: unknown) => e,
    );
    expect(kindOf(err)).toBe('upstream-unavailable');
    expect((err as Error).message).toMatch(/failed 3 time\(s\).*HTTP 502/);
  });

  it('an answer without a token is malformed, and the body is never quoted', async () => {
    const token = fake.issueToken();
    fake.faults.push(
      { kind: 'malformed', body: JSON.stringify({ token: 'eyJ-secret-looking', tokenType: 'bearer' }) },
      { when: (r) => r.path === SESSION_PATH },
    );
    const err = await refreshToken({ baseUrl: fake.url, token }).then(fail, (e: unknown) => e as Error);
    expect(kindOf(err)).toBe('upstream-data');
    expect(err.message).toContain('expected {"accessToken"');
    expect(err.message).toContain('token, tokenType');
    expect(err.message).not.toContain('eyJ-secret-looking');
  });
});
