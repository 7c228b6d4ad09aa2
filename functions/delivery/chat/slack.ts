/**
 * Slack incoming webhook payload: Block Kit with a plain-text `text` fallback (what
 * notifications and screen readers show). Text that people or Verifik control (a scope key, a
 * status, a condition) goes only into `plain_text` objects or through `mrkdwn()`, so it cannot
 * open a link, mention `<!channel>` or break the layout. Links are buttons: their URL is a JSON
 * field, never mrkdwn, so a query string needs no escaping.
 *
 * Limits (Slack's Block Kit reference): header text 150 characters, section text 3,000, at most
 * 10 fields of 2,000, 25 elements an actions block, 50 blocks a message.
 */
import { clip } from '../../util/clip.js';
import {
  count,
  type DestinationMessage,
  headlineFacts,
  periodLine,
  size,
  statusLines,
  titleOf,
} from './message.js';

/** Slack's three control characters, HTML-escaped as its formatting reference asks. */
export function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const plain = (text: string, max = 3000) => ({ type: 'plain_text', text: clip(text, max), emoji: false });
const md = (text: string) => ({ type: 'mrkdwn', text: clip(text, 3000) });

export interface SlackPayload {
  text: string;
  blocks: Record<string, unknown>[];
}

export function slackPayload(m: DestinationMessage): SlackPayload {
  const title = titleOf(m);
  const blocks: Record<string, unknown>[] = [{ type: 'header', text: plain(title, 150) }];
  if (m.alert) {
    blocks.push({
      type: 'section',
      text: md(
        `:rotating_light: *${mrkdwn(m.alert.title)}*\n${m.alert.conditions.map((c) => `• ${mrkdwn(c)}`).join('\n')}`,
      ),
    });
  }
  blocks.push({ type: 'context', elements: [plain(periodLine(m))] });
  if (m.empty) {
    blocks.push({ type: 'section', text: plain(`No validations from ${periodLine(m)}.`) });
  } else {
    blocks.push({
      type: 'section',
      fields: headlineFacts(m).map(([label, value]) => md(`*${label}*\n${mrkdwn(value)}`)),
    });
    const statuses = statusLines(m);
    if (statuses.length > 0)
      blocks.push({
        type: 'section',
        text: md(`*By status*\n${statuses.map((s) => `• ${mrkdwn(s.key)}: ${count(s.count)}`).join('\n')}`),
      });
  }
  if (m.links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: m.links.slice(0, 25).map((l, i) => ({
        type: 'button',
        action_id: `file-${i}`,
        text: plain(`${l.name} (${size(l.bytes)})`, 75),
        url: l.url,
      })),
    });
    blocks.push({
      type: 'context',
      elements: [plain(`Links work until ${m.links[0]?.expiresAt ?? ''}. Report ${m.reportId}.`)],
    });
  }
  // The top-level text is mrkdwn too (it is what notifications show): escaped like the rest.
  return { text: mrkdwn(clip(title, 3000)), blocks };
}
