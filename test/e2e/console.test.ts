/// <reference lib="dom" />
/**
 * The reports console in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), against `npm run console`'s own server (moto with Cognito, the fake Verifik, the
 * real API handler behind the local JWT check, the built page). One browser and one server for
 * the file. Every page is checked with axe-core (no serious or critical violation) and saved as
 * a screenshot under reports/screenshots/ (gitignored) for people to look at.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleServer, startConsoleServer } from '../../dev/console/server.js';
import { readManifest } from '../../functions/delivery/sink/index.js';
import { getReport } from '../../functions/delivery/state/index.js';
import { Manifest } from '../../functions/report/manifest.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Waiting for the page to show something: generous, since the machine may be busy with other tests. */
const SETTLE = { timeout: 20_000, interval: 100 };
const SHOTS = join(process.cwd(), 'reports', 'screenshots');
const HOUR = 3_600_000;

let server: ConsoleServer;
let browser: Browser;
/** Every Content-Security-Policy violation the pages reported: the policy must hold the page as built. */
const cspViolations: string[] = [];

function login(group: 'viewers' | 'requesters' | 'admins') {
  const l = server.pool.logins.find((x) => x.group === group);
  if (!l) throw new Error(`no ${group} login`);
  return l;
}

async function newPage(opts: { phone?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    acceptDownloads: true,
    ...(opts.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } }),
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return { context, page };
}

async function signIn(page: Page, group: 'viewers' | 'requesters' | 'admins', hash = seedReports()) {
  const l = login(group);
  await page.goto(`${server.url}/${hash}`);
  await page.getByLabel('E-mail address').fill(l.email);
  await page.getByLabel('Password').fill(l.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (l.totp) {
    await page.getByLabel('Code from your authenticator app').fill(l.totp);
    await page.getByRole('button', { name: 'Verify code' }).click();
  }
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

/** axe-core in the page (evaluated over the DevTools protocol, so the page's CSP still applies to the page). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const w = window as unknown as { axe: typeof axe };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return result
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).join(', ')}`);
}

async function shoot(page: Page, name: string): Promise<void> {
  // The page at rest, as a reader sees it: no focus ring left on the skip link by the last action.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

/**
 * The seeded reports' day is yesterday in Bogotá, which is not the browser's yesterday in the first
 * hours of a UTC day: the tests name it rather than rely on the page's default day.
 */
const seedReports = () => `#/reports/${server.seedDay}`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  await mkdir(SHOTS, { recursive: true });
  [server, browser] = await Promise.all([
    startConsoleServer({ validations: 3_000 }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// A test waits for real work (a report rendered, a mail sent): room for a machine busy with other tests.
describe('the reports console in Chromium', { timeout: 120_000 }, () => {
  it('signs in by keyboard; a wrong password is refused with a sentence; the reports page lists yesterday’s reports', async () => {
    const { context, page } = await newPage();
    await page.goto(`${server.url}/${seedReports()}`);
    await shoot(page, 'sign-in.png');
    expect(await seriousViolations(page)).toEqual([]);
    const l = login('requesters');
    await page.getByLabel('E-mail address').focus();
    await page.keyboard.type(l.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('not-the-password');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('alert').textContent(), SETTLE)
      .toBe('The e-mail address or password is wrong. Check both and try again.');
    await page.getByLabel('Password').fill(l.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Reports of ${server.seedDay}` }).waitFor();
    await page.getByRole('region', { name: 'Definition daily-ops' }).waitFor();
    await page.getByRole('region', { name: 'Definition daily-risk' }).waitFor();
    await page.getByRole('link', { name: /^Download validations\.xlsx of daily-ops/ }).waitFor();
    await expect.poll(() => page.locator('.health').textContent(), SETTLE).toMatch(/about \d+ days left/);
    // From the top of the page, the first Tab reaches the skip link.
    await page.evaluate(() => {
      document.body.tabIndex = -1;
      document.body.focus();
    });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the page');
    await shoot(page, 'reports.png');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('asks for a report and follows it to complete; the downloaded workbook matches the manifest’s sha256; the delivery log shows the mail moto received', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'requesters', '#/request');
    await page.getByRole('heading', { name: 'Request a report' }).waitFor();
    await page.getByLabel('Day', { exact: true }).fill(server.seedDay);
    await page.getByLabel(/^Time zone/).fill('America/Bogota');
    await page.getByRole('checkbox', { name: 'failed' }).check();
    await page.getByRole('checkbox', { name: 'csv' }).uncheck();
    // A recipient outside the allowed domains: refused by the API, the field named in a sentence.
    await page.getByLabel(/^Mail the report to/).fill('someone@elsewhere.example');
    await page.getByRole('button', { name: 'Request report' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), SETTLE)
      .toMatch(/^The request has invalid fields\. notify: .*elsewhere\.example/);
    await page.getByLabel(/^Mail the report to/).fill('requester@ops.example');
    await shoot(page, 'request.png');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Request report' }).click();
    const progress = page.getByRole('status').filter({ hasText: 'Report ' });
    await expect.poll(() => progress.textContent(), { timeout: 45_000, interval: 250 }).toMatch(/complete/);
    const id = (await progress.locator('code').textContent()) ?? '';
    expect(id).toMatch(/^on-demand-/);
    await shoot(page, 'request-complete.png');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /^Download validations\.xlsx/ }).click(),
    ]);
    const bytes = await readFile((await download.path()) ?? '');
    const record = await getReport(server.clients.doc, 'console-state', id);
    const manifest = Manifest.parse(
      await readManifest(server.clients.s3, 'console-reports', record?.manifestKey ?? ''),
    );
    const xlsx = manifest.files.find((f) => f.kind === 'xlsx');
    expect(manifest.files.map((f) => f.kind)).not.toContain('details-csv');
    expect(bytes.length).toBe(xlsx?.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(xlsx?.sha256);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');

    // The worker records the report complete, then mails it: wait for the mail moto received.
    const mailsTo = async (address: string) =>
      (await server.moto.sentEmails()).filter((m) => JSON.stringify(m.destinations).includes(address));
    await expect.poll(async () => (await mailsTo('requester@ops.example')).length, SETTLE).toBe(1);
    const [mail] = await mailsTo('requester@ops.example');
    await page.getByRole('link', { name: 'Open the report' }).click();
    const log = page.getByRole('region', { name: 'Delivery log' });
    await log.waitFor();
    // The page reads the log once; the `sent` entry follows SES's answer by a moment, so reload until it shows.
    await expect
      .poll(async () => {
        if ((await log.textContent())?.includes(mail?.id ?? '-')) return true;
        await page.reload();
        await log.waitFor();
        return (await log.textContent())?.includes(mail?.id ?? '-') ?? false;
      }, SETTLE)
      .toBe(true);
    expect(await log.textContent()).toContain('requester@ops.example');
    await page.locator('figure.chart svg').waitFor();
    // Checks by the names the workbook and the mail use, not the API's keys.
    const figures = await page.getByRole('region', { name: 'Figures' }).textContent();
    expect(figures).toContain('Liveness detection passed');
    expect(figures).not.toContain('livenessDetection');
    await shoot(page, 'report.png');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('a viewer cannot re-send: the page offers no re-send and the API answers 403 when called directly', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'viewers');
    expect(await page.getByRole('link', { name: 'Request a report' }).count()).toBe(0);
    await page.locator('a[href^="#/report/daily-ops"]').first().click();
    await page.getByRole('region', { name: 'Delivery log' }).waitFor();
    expect(await page.getByRole('button', { name: 'Re-send report' }).count()).toBe(0);
    const id = decodeURIComponent(page.url().split('#/report/')[1] ?? '');
    const answer = await page.evaluate(async (reportId) => {
      const session = JSON.parse(sessionStorage.getItem('verifik-reports.session') ?? '{}') as {
        accessToken: string;
      };
      const res = await fetch(`/console/reports/${encodeURIComponent(reportId)}/resend`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.accessToken}`, 'idempotency-key': 'viewer-try' },
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    }, id);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toBe(
      'Your account is in viewers, so you cannot re-send reports: ask an admin to add you to the admins group.',
    );
    await context.close();
  });

  it('an admin signs in with the authenticator code, pauses and resumes a definition, and re-sends a report', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'admins', '#/definitions');
    const risk = page.getByRole('region', { name: 'Definition daily-risk' });
    await risk.getByRole('button', { name: 'Pause daily-risk' }).click();
    await risk.getByRole('button', { name: 'Resume daily-risk' }).waitFor();
    expect(await risk.textContent()).toContain('paused');
    await shoot(page, 'definitions.png');
    expect(await seriousViolations(page)).toEqual([]);
    await risk.getByRole('button', { name: 'Resume daily-risk' }).click();
    await risk.getByRole('button', { name: 'Pause daily-risk' }).waitFor();
    // A backfill of the day already delivered: skipped, and the page says why.
    await risk.getByLabel('From').fill(server.seedDay);
    await risk.getByLabel('To').fill(server.seedDay);
    await risk.getByRole('button', { name: 'Backfill daily-risk' }).click();
    await expect
      .poll(() => risk.getByRole('status').textContent(), SETTLE)
      .toBe(`${server.seedDay}: skipped (already sent)`);

    await risk.locator('a[href^="#/report/"]').click();
    await page.getByRole('button', { name: 'Re-send report' }).click();
    await expect.poll(() => page.getByRole('status').last().textContent(), SETTLE).toContain('Sent again');
    const toRisk = (await server.moto.sentEmails()).filter((m) =>
      JSON.stringify(m.destinations).includes('risk@ops.example'),
    );
    expect(toRisk).toHaveLength(2); // the scheduled mail and the re-send (answered 'sent': SES took it)
    await page.goto(`${server.url}/#/security`);
    await page.getByRole('heading', { name: 'Security' }).waitFor();
    await shoot(page, 'security.png');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('an expired session returns to sign-in and back to the form, nothing typed lost', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'requesters', '#/request');
    await page.getByLabel('Client id (optional)').fill('client-kept-7');
    await page.getByLabel(/^Mail the report to/).fill('requester@ops.example');
    server.shiftClock(2 * HOUR); // past the access token's hour, and the refreshed one's
    try {
      await page.getByRole('button', { name: 'Request report' }).click();
      await page.getByRole('heading', { name: 'Sign in to Verifik reports' }).waitFor();
      expect(await page.getByRole('status').textContent()).toContain('Your session has ended');
    } finally {
      server.shiftClock(-2 * HOUR);
    }
    const l = login('requesters');
    await page.getByLabel('E-mail address').fill(l.email);
    await page.getByLabel('Password').fill(l.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Request a report' }).waitFor();
    expect(await page.getByLabel('Client id (optional)').inputValue()).toBe('client-kept-7');
    expect(await page.getByLabel(/^Mail the report to/).inputValue()).toBe('requester@ops.example');
    await context.close();
  });

  it('fits a phone: no sideways scrolling on the reports page', async () => {
    const { context, page } = await newPage({ phone: true });
    await signIn(page, 'viewers');
    await page.getByRole('region', { name: 'Definition daily-ops' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shoot(page, 'reports-phone.png');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('the pages ran under the strict Content-Security-Policy without a single violation', () => {
    expect(cspViolations).toEqual([]);
  });
});
