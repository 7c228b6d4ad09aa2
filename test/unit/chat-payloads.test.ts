/**
 * The destination payloads (delivery/chat/): Block Kit and Adaptive Card structure, escaping
 * traps in text people or Verifik control, the signed webhook's body and signature.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DestinationMessage,
  idempotencyKey,
  mrkdwn,
  signature,
  signedHeaders,
  slackPayload,
  teamsPayload,
  webhookPayload,
} from '../../functions/delivery/chat/index.js';
import { verifySignature } from '../support/webhook-receiver.js';

const TRAP =
  '<!channel> *bold* & <https://evil.example|click> [x](https://evil.example) {{DATE(2017-02-14T06:00:00Z)}}';

function message(over: Partial<DestinationMessage> = {}): DestinationMessage {
  return {
    definition: 'daily-ops',
    periodKey: '2026-11-26',
    window: { from: '2026-11-26', to: '2026-11-26', timeZone: 'America/Bogota' },
    reportId: 'daily-ops-20261126-abc',
    empty: false,
    headline: {
      validations: 1234,
      failed: 56,
      failureRate: 56 / 1234,
      highRisk: 7,
      byStatus: [
        { key: 'completed', count: 1100 },
        { key: TRAP, count: 134 },
      ],
    },
    links: [
      {
        name: 'validations.xlsx',
        url: 'https://api.example/reports/r1/files/validations.xlsx?exp=1&sig=a_b',
        bytes: 2_500_000,
        expiresAt: '2026-12-03T11:00:00.000Z',
      },
    ],
    ...over,
  };
}

describe('Slack (Block Kit)', () => {
  it('a header, the headline as fields, the statuses, and the links as buttons', () => {
    const p = slackPayload(message());
    expect(p.text).toContain('daily-ops');
    const types = p.blocks.map((b) => b.type);
    expect(types[0]).toBe('header');
    expect(types).toContain('actions');
    const fields = p.blocks.find((b) => Array.isArray(b.fields))?.fields as { text: string }[];
    expect(fields.map((f) => f.text)).toEqual([
      '*Validations*\n1,234',
      '*Failed*\n56',
      '*Failure rate*\n4.5 %',
      '*High risk*\n7',
    ]);
    const actions = p.blocks.find((b) => b.type === 'actions')?.elements as {
      url: string;
      text: { text: string };
    }[];
    expect(actions[0]?.url).toBe(message().links[0]?.url);
    expect(actions[0]?.text.text).toBe('validations.xlsx (2.4 MB)');
    expect(p.blocks.length).toBeLessThanOrEqual(50);
  });

  it('text Verifik or people control cannot mention the channel or open a link: & < > escaped in mrkdwn', () => {
    const p = slackPayload(
      message({ scope: { by: 'project', key: TRAP }, alert: { title: TRAP, conditions: [TRAP] } }),
    );
    const mrkdwnTexts: string[] = [];
    const plainTexts: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) for (const x of v) walk(x);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.type === 'mrkdwn' && typeof o.text === 'string') mrkdwnTexts.push(o.text);
        else if (o.type === 'plain_text' && typeof o.text === 'string') plainTexts.push(o.text);
        else for (const x of Object.values(o)) walk(x);
      }
    };
    walk(p.blocks);
    const trapped = mrkdwnTexts.filter((t) => t.includes('evil.example'));
    // Scope (header, plain), alert title and condition, status (mrkdwn): the trap reached them all.
    expect(trapped.length).toBeGreaterThanOrEqual(2);
    for (const t of mrkdwnTexts) {
      expect(t).not.toMatch(/[<>]/);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    // plain_text is never parsed by Slack: the trap may stay as it is there.
    expect(plainTexts.some((t) => t.includes('<!channel>'))).toBe(true);
    expect(mrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    // The top-level fallback is mrkdwn too.
    expect(p.text).toContain('&lt;!channel&gt;');
  });

  it('an empty period says so, without figures or links', () => {
    const p = slackPayload(
      message({
        empty: true,
        links: [],
        headline: {
          ...message().headline,
          validations: 0,
          failed: 0,
          failureRate: null,
          highRisk: 0,
          byStatus: [],
        },
      }),
    );
    expect(JSON.stringify(p)).toContain('No validations from 2026-11-26 (America/Bogota)');
    expect(p.blocks.some((b) => b.type === 'actions' || Array.isArray(b.fields))).toBe(false);
  });

  it('an alert comes first, after the header, with its conditions', () => {
    const p = slackPayload(
      message({ alert: { title: 'Failure rate above 5 %', conditions: ['failure rate 6.1 % > 5 %'] } }),
    );
    expect(p.blocks[1]?.type).toBe('section');
    expect(JSON.stringify(p.blocks[1])).toContain('Failure rate above 5 %');
    expect(JSON.stringify(p.blocks[0])).toContain('"text":"ALERT: daily-ops');
  });
});

describe('Teams (Adaptive Card)', () => {
  it('a message with one Adaptive Card attachment: type, version, body, OpenUrl actions', () => {
    const p = teamsPayload(message());
    expect(p.type).toBe('message');
    expect(p.attachments).toHaveLength(1);
    const a = p.attachments[0]!;
    expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = a.content as {
      type: string;
      version: string;
      body: { type: string }[];
      actions: { type: string; url: string }[];
      $schema: string;
    };
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.4');
    expect(card.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
    expect(card.body.length).toBeGreaterThan(2);
    expect(card.body.map((b) => b.type)).toContain('FactSet');
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'validations.xlsx (2.4 MB)', url: message().links[0]?.url },
    ]);
  });

  it('text people or Verifik control is only ever in TextRuns (no Markdown, no date functions), never in a TextBlock or a fact', () => {
    const p = teamsPayload(
      message({ scope: { by: 'client', key: TRAP }, alert: { title: TRAP, conditions: [TRAP] } }),
    );
    const card = p.attachments[0]!.content;
    const places: string[] = [];
    const walk = (v: unknown, parentType: string) => {
      if (Array.isArray(v)) for (const x of v) walk(x, parentType);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        const type = typeof o.type === 'string' ? o.type : parentType;
        for (const [k, x] of Object.entries(o)) {
          if (typeof x === 'string' && x.includes('evil.example')) places.push(`${type}.${k}`);
          else walk(x, type);
        }
      }
    };
    walk(card, '');
    expect(places.length).toBeGreaterThanOrEqual(3);
    expect(new Set(places)).toEqual(new Set(['TextRun.text']));
  });
});

describe('signed webhook', () => {
  it('the body is JSON with the summary and links, <>& escaped as \\u sequences (the same value)', () => {
    const body = webhookPayload(message({ scope: { by: 'project', key: 'p-1' } }));
    expect(body).not.toMatch(/[<>&\u2028\u2029]/);
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({
      version: 1,
      type: 'report.delivered',
      definition: 'daily-ops',
      period: '2026-11-26',
      scope: { by: 'project', key: 'p-1' },
      headline: { validations: 1234, failed: 56 },
      alert: null,
    });
    expect(parsed.headline.byStatus[1].key).toBe(TRAP);
    expect(parsed.links[0].url).toBe(message().links[0]?.url);
  });

  it('X-Signature is sha256=<hex HMAC-SHA256(key, "<timestamp>.<body>")> and the README receiver accepts it', () => {
    const key = 'k'.repeat(40);
    const body = webhookPayload(message());
    const h = signedHeaders({ body, signingKey: key, timestamp: 1_764_000_000, idempotencyKey: 'vr-x' });
    const expected = createHmac('sha256', key).update(`1764000000.${body}`).digest('hex');
    expect(h['X-Signature']).toBe(`sha256=${expected}`);
    expect(h['X-Signature-Timestamp']).toBe('1764000000');
    expect(h['Idempotency-Key']).toBe('vr-x');
    const headers = { 'x-signature': h['X-Signature'], 'x-signature-timestamp': h['X-Signature-Timestamp'] };
    expect(verifySignature(key, headers, body, 1_764_000_100)).toBe(true);
    // A changed byte, another key, a stale timestamp: refused.
    expect(verifySignature(key, headers, `${body} `, 1_764_000_100)).toBe(false);
    expect(verifySignature('x'.repeat(40), headers, body, 1_764_000_100)).toBe(false);
    expect(verifySignature(key, headers, body, 1_764_000_000 + 301)).toBe(false);
    expect(signature(key, 1, 'a')).not.toBe(signature(key, 2, 'a'));
  });

  it('the idempotency key is stable per definition, period, scope and destination, and differs otherwise', () => {
    const base = { definition: 'd', day: '2026-11-01', destination: 'hook' };
    const k = idempotencyKey(base);
    expect(idempotencyKey({ ...base })).toBe(k);
    expect(k).toMatch(/^vr-[0-9a-f]{40}$/);
    const others = [
      { ...base, definition: 'e' },
      { ...base, day: '2026-11-02' },
      { ...base, scope: 'acme' },
      { ...base, destination: 'hook2' },
      // No ambiguity from joining: "d" + scope "" vs names that contain the separator.
      { ...base, definition: 'd\n2026-11-01', day: '' },
    ];
    for (const o of others) expect(idempotencyKey(o)).not.toBe(k);
  });
});
