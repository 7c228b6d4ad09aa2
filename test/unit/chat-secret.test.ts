/** delivery/chat/secret-value.ts: what a destination's secret may hold; errors name the secret only. */
import { describe, expect, it } from 'vitest';
import { DestinationSecretError, parseDestinationSecret } from '../../functions/delivery/chat/index.js';

const KEY = 'k'.repeat(32);

describe('destination secret values', () => {
  it('Slack and Teams: the URL itself, or {"url"}', () => {
    expect(parseDestinationSecret('slack', ' https://hooks.slack.com/services/T/B/x \n', 's')).toEqual({
      url: 'https://hooks.slack.com/services/T/B/x',
    });
    expect(parseDestinationSecret('teams', '{"url":"https://x.logic.azure.com/w?sig=1"}', 's').url).toBe(
      'https://x.logic.azure.com/w?sig=1',
    );
  });

  it('the webhook: url and a signing key of at least 32 bytes', () => {
    expect(
      parseDestinationSecret('webhook', JSON.stringify({ url: 'https://h.example/x', signingKey: KEY }), 's'),
    ).toEqual({
      url: 'https://h.example/x',
      signingKey: KEY,
    });
    for (const value of [
      JSON.stringify({ url: 'https://h.example/x' }),
      JSON.stringify({ url: 'https://h.example/x', signingKey: 'short' }),
      'https://h.example/x',
    ])
      expect(() => parseDestinationSecret('webhook', value, 'hooks/siem')).toThrow(
        /hooks\/siem.*signingKey|hooks\/siem must hold/,
      );
  });

  it('https only, but plain http to this machine (tests); nothing that is not a URL; the value is never quoted', () => {
    expect(parseDestinationSecret('slack', 'http://127.0.0.1:9/x', 's').url).toBe('http://127.0.0.1:9/x');
    const refused = [
      'http://hooks.example.com/SECRETPART',
      'ftp://x/SECRETPART',
      'SECRETPART',
      '{"url": 1}',
      '{not json SECRETPART',
    ];
    for (const value of refused) {
      let error: unknown;
      try {
        parseDestinationSecret('slack', value, 'chat/ops');
      } catch (err) {
        error = err;
      }
      expect(error, value).toBeInstanceOf(DestinationSecretError);
      expect((error as Error).message).toContain('chat/ops');
      expect((error as Error).message).not.toContain('SECRETPART');
    }
  });
});
