import { randomBytes } from 'node:crypto';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSesClient } from '../../functions/delivery/aws-clients.js';
import { renderReportMail } from '../../functions/delivery/mail/index.js';
import {
  DisallowedRecipientsError,
  decideAttachments,
  sendMail,
} from '../../functions/delivery/mail/send.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { type Moto, startMoto } from '../support/moto.js';

const FROM = 'reports@reports.example';
const ALLOWED = ['ops.example'];

let moto: Moto;
let ses: SESv2Client;

beforeAll(async () => {
  moto = await startMoto();
  ses = createSesClient(moto.clientConfig);
});
afterAll(async () => {
  ses?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  await moto.verifyIdentity('reports.example');
});

function summary() {
  const b = new SummaryBuilder({ timeZone: 'UTC' });
  for (let i = 0; i < 5; i++) {
    b.add({
      _id: `id${i}`,
      status: i === 0 ? 'failed' : 'completed',
      client: { _id: 'c1', name: 'Ácme Bänk' },
      createdAt: `2024-12-01T0${i}:00:00.000Z`,
    });
  }
  return b.result();
}

const files = [
  {
    name: 'report-2024-12-01.xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    content: randomBytes(20_000),
  },
  {
    name: 'details-2024-12-01.csv',
    contentType: 'text/csv; charset=utf-8',
    content: Buffer.from('id,status\nid0,failed\n'),
  },
];

function render(mode: 'attached' | 'links-only', budget: number) {
  return renderReportMail({
    definition: 'daily-ops',
    window: { from: '2024-12-01', to: '2024-12-01', timeZone: 'UTC' },
    summary: summary(),
    delta: null,
    links: files.map((f) => ({
      name: f.name,
      url: `https://api.example/reports/r1/files/${f.name}?expires=9&signature=s`,
      bytes: f.content.length,
    })),
    attachments: {
      ...decideAttachments(
        files.map((f) => f.content.length),
        budget,
      ),
      mode,
    },
    linksExpireAt: new Date('2024-12-09T00:00:00Z'),
    generatedAt: new Date('2024-12-02T06:00:00Z'),
    reportId: 'r1',
  });
}

describe('sendMail through moto SES v2', () => {
  it('sends a MIME mail whose subject, figures, links and attachments parse back intact', async () => {
    const decision = decideAttachments(
      files.map((f) => f.content.length),
      1_000_000,
    );
    expect(decision.mode).toBe('attached');
    const mail = render(decision.mode, 1_000_000);
    const id = await sendMail({
      ses,
      from: FROM,
      to: ['alice@ops.example', 'bob@OPS.example'],
      allowedDomains: ALLOWED,
      mail,
      attachments: files.map((f) => ({ filename: f.name, contentType: f.contentType, content: f.content })),
    });
    const sent = await moto.sentEmails();
    expect(sent).toHaveLength(1);
    const [raw] = sent;
    if (raw?.kind !== 'raw') throw new Error('expected a raw mail');
    // The id sendMail returns is SES's id of this very message (what the run records as sent).
    expect(id).toBe(raw.id);
    expect(raw.destinations).toEqual(expect.arrayContaining(['alice@ops.example', 'bob@OPS.example']));
    const parsed = await simpleParser(raw.raw);
    expect(parsed.subject).toBe('[daily-ops] 2024-12-01 (UTC): 5 validations, 1 failed (20.0%), 0 high-risk');
    expect(parsed.text).toContain('Validations: 5');
    expect(parsed.text).toContain('Ácme Bänk: 5 validations, 1 failed');
    expect(parsed.html).toContain('Ácme Bänk');
    expect(parsed.html).toContain(
      'https://api.example/reports/r1/files/report-2024-12-01.xlsx?expires=9&amp;signature=s',
    );
    expect(parsed.attachments.map((a) => a.filename)).toEqual(files.map((f) => f.name));
    for (const [i, a] of parsed.attachments.entries()) {
      expect(Buffer.compare(a.content, files[i]?.content ?? Buffer.alloc(0))).toBe(0);
    }
  });

  it('over budget: no attachments and the body says links only', async () => {
    const decision = decideAttachments(
      files.map((f) => f.content.length),
      10_000,
    );
    expect(decision.mode).toBe('links-only');
    await sendMail({
      ses,
      from: FROM,
      to: ['alice@ops.example'],
      allowedDomains: ALLOWED,
      mail: render(decision.mode, 10_000),
    });
    const [raw] = await moto.sentEmails();
    if (raw?.kind !== 'raw') throw new Error('expected a raw mail');
    const parsed = await simpleParser(raw.raw);
    expect(parsed.attachments).toHaveLength(0);
    expect(parsed.text).toContain('The files are NOT attached');
    expect(parsed.text).toContain('details-2024-12-01.csv');
  });

  it('refuses a disallowed recipient before sending anything', async () => {
    await expect(
      sendMail({
        ses,
        from: FROM,
        to: ['alice@ops.example', 'mallory@elsewhere.example'],
        allowedDomains: ALLOWED,
        mail: render('links-only', 0),
      }),
    ).rejects.toThrow(DisallowedRecipientsError);
    await expect(
      sendMail({
        ses,
        from: FROM,
        to: ['mallory@elsewhere.example'],
        allowedDomains: ALLOWED,
        mail: render('links-only', 0),
      }),
    ).rejects.toThrow(/mallory@elsewhere\.example/);
    expect(await moto.sentEmails()).toHaveLength(0);
  });
});
