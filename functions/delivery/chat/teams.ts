/**
 * Microsoft Teams workflow webhook payload ("Post to a channel when a webhook request is
 * received"): a `message` whose one attachment is an Adaptive Card (schema 1.4, what Teams
 * renders). TextBlock text is a Markdown subset (and `{{DATE(…)}}` functions), so only our own
 * text goes there; text that people or Verifik control (scope key, statuses, conditions) goes
 * into RichTextBlock TextRuns, which render no Markdown at all (Adaptive Cards "Text features").
 * Links are Action.OpenUrl buttons: a JSON field, never Markdown.
 */
import {
  count,
  type DestinationMessage,
  headlineFacts,
  periodLine,
  size,
  statusLines,
  titleOf,
} from './message.js';

export const ADAPTIVE_CARD_VERSION = '1.4';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** Plain text: a RichTextBlock of one TextRun per line (no Markdown, no date functions). */
function plainBlock(lines: string[], style: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'RichTextBlock',
    inlines: lines.map((text, i) => ({
      type: 'TextRun',
      text: i < lines.length - 1 ? `${text}\n` : text,
      ...style,
    })),
  };
}

export interface TeamsPayload {
  type: 'message';
  attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[];
}

export function teamsPayload(m: DestinationMessage): TeamsPayload {
  const body: Record<string, unknown>[] = [];
  if (m.alert) {
    body.push({
      type: 'Container',
      style: 'attention',
      items: [
        plainBlock([m.alert.title], { weight: 'Bolder', color: 'Attention' }),
        plainBlock(m.alert.conditions.map((c) => `• ${c}`)),
      ],
    });
  }
  // The title holds a scope key (configuration): plain, like every other text we did not write.
  body.push(plainBlock([titleOf(m)], { size: 'Large', weight: 'Bolder' }));
  body.push(plainBlock([periodLine(m)], { isSubtle: true }));
  if (m.empty) {
    body.push(plainBlock([`No validations from ${periodLine(m)}.`]));
  } else {
    body.push({
      type: 'FactSet',
      // Our labels and our numbers only: FactSet values are Markdown too.
      facts: headlineFacts(m).map(([title, value]) => ({ title, value })),
    });
    const statuses = statusLines(m);
    if (statuses.length > 0)
      body.push(plainBlock(['By status', ...statuses.map((s) => `• ${s.key}: ${count(s.count)}`)]));
  }
  if (m.links.length > 0)
    body.push(
      plainBlock([`Links work until ${m.links[0]?.expiresAt ?? ''}. Report ${m.reportId}.`], {
        isSubtle: true,
        size: 'Small',
      }),
    );
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: ADAPTIVE_CARD_VERSION,
    body,
    ...(m.links.length > 0
      ? {
          actions: m.links.map((l) => ({
            type: 'Action.OpenUrl',
            title: `${l.name} (${size(l.bytes)})`,
            url: l.url,
          })),
        }
      : {}),
  };
  return {
    type: 'message',
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }],
  };
}
