/**
 * The handlers' input edges without any server: function configuration, the POST /reports body,
 * the router's 404/405, the scheduled event. (Pure; lives beside the handler tests it supports.)
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { baseUrlOf, json } from '../../functions/api/http.js';
import { parseListQuery, parseReportRequest } from '../../functions/api/input.js';
import { createRouter } from '../../functions/api/router.js';
import { DEFAULT_ATTACHMENT_BUDGET_BYTES, DEFAULT_CONCURRENCY } from '../../functions/contract.js';
import { parseScheduledEvent } from '../../functions/handlers/scheduled-report.js';
import { ConfigError, loadConfig, reportRecordTtlDays } from '../../functions/settings/config.js';

const definitions = JSON.stringify([
  { name: 'daily-ops', schedule: { timeZone: 'America/Bogota' }, owners: ['o@ops.example'] },
]);
const env = {
  REPORTS_BUCKET: 'b',
  STATE_TABLE: 't',
  VERIFIK_TOKEN_SECRET_ID: 'tok',
  LINK_SIGNING_SECRET_ID: 'key',
  MAIL_FROM: 'reports@reports.example',
  ALLOWED_RECIPIENT_DOMAINS: 'ops.example, Example.ORG',
  REPORT_DEFINITIONS: definitions,
  PUBLIC_API_URL: 'https://api.example',
};

describe('report record lifetime', () => {
  it('follows the file retention (never shorter than the files, at least 90 days), and refuses nonsense', () => {
    expect(loadConfig('scheduled-report', env).REPORT_RETENTION_DAYS).toBe(90);
    expect(
      reportRecordTtlDays(loadConfig('scheduled-report', { ...env, REPORT_RETENTION_DAYS: '400' })),
    ).toBe(401);
    expect(reportRecordTtlDays(loadConfig('scheduled-report', { ...env, REPORT_RETENTION_DAYS: '7' }))).toBe(
      90,
    );
    for (const bad of ['0', '3651', '1e2', 'x']) {
      expect(() => loadConfig('scheduled-report', { ...env, REPORT_RETENTION_DAYS: bad })).toThrow(
        /REPORT_RETENTION_DAYS/,
      );
    }
  });
});

describe('loadConfig', () => {
  it('applies defaults and normalises lists', () => {
    const c = loadConfig('scheduled-report', env);
    expect(c.REPORTS_PREFIX).toBe('reports/');
    expect(c.VERIFIK_BASE_URL).toBe('https://api.verifik.co');
    expect(c.LINK_TTL_SECONDS).toBe(604_800);
    expect(c.ATTACHMENT_BUDGET_BYTES).toBe(DEFAULT_ATTACHMENT_BUDGET_BYTES);
    expect(c.ALLOWED_RECIPIENT_DOMAINS).toEqual(['ops.example', 'example.org']);
    expect(c.REPORT_DEFINITIONS[0]?.formats).toEqual(['xlsx', 'csv']);
    expect(c.SES_CONFIGURATION_SET).toBeUndefined();
    expect(c.VERIFIK_CONCURRENCY).toBe(DEFAULT_CONCURRENCY);
    expect(loadConfig('scheduled-report', { ...env, VERIFIK_CONCURRENCY: ' ' }).VERIFIK_CONCURRENCY).toBe(
      DEFAULT_CONCURRENCY,
    );
  });

  it('takes VERIFIK_CONCURRENCY from 1 to 32', () => {
    for (const [text, value] of [
      ['1', 1],
      ['2', 2],
      [' 32 ', 32],
    ] as const) {
      expect(loadConfig('scheduled-report', { ...env, VERIFIK_CONCURRENCY: text }).VERIFIK_CONCURRENCY).toBe(
        value,
      );
    }
  });

  it.each(['0', '33', 'abc', '2.5', '-1'])('refuses VERIFIK_CONCURRENCY=%j, naming the range', (text) => {
    let error: unknown;
    try {
      loadConfig('scheduled-report', { ...env, VERIFIK_CONCURRENCY: text, LINK_TTL_SECONDS: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    // Reported beside the other bad variable, in the same error.
    expect((error as ConfigError).problems).toEqual([
      { variable: 'VERIFIK_CONCURRENCY', message: `"${text}" is not a whole number from 1 to 32` },
      { variable: 'LINK_TTL_SECONDS', message: expect.any(String) },
    ]);
  });

  it('names every bad or missing variable in one error', () => {
    let error: unknown;
    try {
      loadConfig('reports-api', {
        ...env,
        REPORTS_BUCKET: undefined,
        MAIL_FROM: 'not-an-address',
        LINK_TTL_SECONDS: '-5',
        REPORT_DEFINITIONS: '[{"name":"Bad Name"}]',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const vars = (error as ConfigError).problems.map((p) => p.variable);
    expect(vars).toEqual(
      expect.arrayContaining(['REPORTS_BUCKET', 'MAIL_FROM', 'LINK_TTL_SECONDS', 'WORKER_FUNCTION_NAME']),
    );
    expect(vars.some((v) => v.startsWith('REPORT_DEFINITIONS'))).toBe(true);
    expect((error as Error).message).toMatch(/REPORTS_BUCKET: missing/);
  });

  it('requires PUBLIC_API_URL only where links are mailed without a request (scheduled)', () => {
    const { PUBLIC_API_URL: _omit, ...rest } = env;
    expect(() => loadConfig('scheduled-report', rest)).toThrow(/PUBLIC_API_URL/);
    expect(() => loadConfig('report-worker', rest)).not.toThrow();
  });
});

describe('parseReportRequest', () => {
  const ctx = { allowedDomains: ['ops.example'], now: new Date('2024-12-02T11:00:00Z') };

  it('defaults to yesterday in the zone, both formats, no recipients', () => {
    expect(parseReportRequest({ timeZone: 'America/Bogota' }, ctx)).toEqual({
      ok: true,
      value: {
        from: '2024-12-01',
        to: '2024-12-01',
        timeZone: 'America/Bogota',
        statuses: [],
        types: [],
        clients: [],
        formats: ['xlsx', 'csv'],
        notify: [],
      },
    });
  });

  it('accepts a range with filters', () => {
    const r = parseReportRequest(
      {
        from: '2024-11-01',
        to: '2024-11-30',
        timeZone: 'UTC',
        statuses: ['failed', 'failed', 'expired'],
        client: 'abc123',
        formats: ['csv'],
        notify: ['a@ops.example'],
      },
      ctx,
    );
    expect(r).toMatchObject({
      ok: true,
      value: {
        from: '2024-11-01',
        to: '2024-11-30',
        statuses: ['failed', 'expired'],
        clients: ['abc123'],
        formats: ['csv'],
      },
    });
  });

  const fieldsOf = (body: unknown) => {
    const r = parseReportRequest(body, ctx);
    return r.ok ? [] : r.errors.map((e) => e.field);
  };

  it('names each bad field', () => {
    expect(fieldsOf({ date: '2024-02-30', timeZone: 'UTC' })).toEqual(['date']);
    expect(fieldsOf({ date: '2024-12-01' })).toEqual(['timeZone']);
    expect(fieldsOf({ date: '2024-12-01', from: '2024-12-01', timeZone: 'UTC' })).toEqual(['from']);
    expect(fieldsOf({ from: '2024-12-01', timeZone: 'UTC' })).toEqual(['to']);
    expect(fieldsOf({ date: '2024-12-03', timeZone: 'America/Bogota' })).toEqual(['date']);
    expect(fieldsOf({ timeZone: 'UTC', statuses: ['ok', 'a b'] })).toEqual(['statuses.1']);
    expect(fieldsOf({ timeZone: 'UTC', formats: [] })).toEqual(['formats']);
    expect(fieldsOf({ timeZone: 'UTC', notify: ['x@ops.example', 'y@evil.example'] })).toEqual(['notify']);
    expect(fieldsOf({ timeZone: 7, client: '<x>' }).sort()).toEqual(['client', 'timeZone']);
    expect(fieldsOf(['not', 'an', 'object'])).toEqual(['body']);
    expect(fieldsOf(undefined)).toEqual(['body']);
  });

  it('validates the list query', () => {
    expect(parseListQuery({ date: '2024-12-01' })).toEqual({ ok: true, value: { date: '2024-12-01' } });
    expect(parseListQuery(undefined)).toMatchObject({ ok: false, errors: [{ field: 'date' }] });
    expect(parseListQuery({ date: '2024-12-01', page: '2' })).toMatchObject({
      ok: false,
      errors: [{ field: 'page' }],
    });
  });
});

function event(method: string, path: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

describe('router', () => {
  const route = createRouter([
    { method: 'GET', path: '/reports/{id}', handler: async (_e, m) => json(200, m.params) },
    { method: 'POST', path: '/reports', handler: async () => json(202, {}) },
  ]);

  it('matches parameters, answers 404 and 405 with Allow', async () => {
    expect((await route(event('GET', '/reports/a%2Db'))).body).toBe('{"id":"a-b"}');
    expect((await route(event('GET', '/other'))).statusCode).toBe(404);
    const wrong = await route(event('PATCH', '/reports/x'));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers?.allow).toBe('GET');
    expect((await route(event('GET', '/reports/x/y'))).statusCode).toBe(404);
  });

  it('echoes at most 80 characters of an unknown path', async () => {
    const res = await route(event('GET', `/${'x'.repeat(100_000)}`));
    expect(res.statusCode).toBe(404);
    expect((res.body ?? '').length).toBeLessThan(300);
    expect(res.body).toContain('…');
  });

  it('builds the public base URL (https unless a stand-in says otherwise)', () => {
    expect(baseUrlOf(event('GET', '/'))).toBe('https://abc.execute-api.eu-west-1.amazonaws.com');
    expect(baseUrlOf(event('GET', '/', { 'x-forwarded-proto': 'http' }))).toBe(
      'http://abc.execute-api.eu-west-1.amazonaws.com',
    );
  });
});

describe('scheduled event', () => {
  it('accepts { definition, day? } and explains anything else', () => {
    expect(parseScheduledEvent({ definition: 'daily-ops' })).toEqual({ definition: 'daily-ops' });
    expect(parseScheduledEvent({ definition: 'daily-ops', day: '2024-12-01' }).day).toBe('2024-12-01');
    expect(() => parseScheduledEvent({ definition: 'daily-ops', day: '12/01/2024' })).toThrow(
      /day: must be a calendar day/,
    );
    expect(() => parseScheduledEvent(null)).toThrow(/Expected \{ "definition"/);
  });
});
