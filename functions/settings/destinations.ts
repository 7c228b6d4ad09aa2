/**
 * A definition's chat and webhook destinations: Slack (incoming webhook), Microsoft Teams
 * (workflow webhook) and a generic signed webhook. Dependency-free but zod and the contract, as
 * infra/ reads it (through definitions.ts) to grant each function exactly these secrets.
 *
 * The configuration names a Secrets Manager secret, never the URL: a webhook URL is a bearer
 * credential (anyone holding it may post to the channel), and the configuration ends up in the
 * template and the functions' environment in clear.
 */
import { z } from 'zod';
import { DEFINITION_NAME, DEFINITION_NAME_RULE } from '../contract.js';

/** At most this many destinations per definition (each is a claim, a post and a secret read per period). */
export const MAX_DESTINATIONS = 10;

/** Secrets Manager's name alphabet (1–512 characters); no ARN: the grant is built from the name. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** Anything with a scheme, or a host that only ever appears in webhook URLs. */
const LOOKS_LIKE_URL = /^[a-z][a-z0-9+.-]*:\/\/|hooks\.slack\.com|\.logic\.azure\.com|webhook\.office\.com/i;

const secretName = z.string().superRefine((value, ctx) => {
  if (LOOKS_LIKE_URL.test(value)) {
    // The value itself is never repeated in the message: it is a credential.
    ctx.addIssue({
      code: 'custom',
      message:
        "looks like a URL: a webhook URL is a credential; put it in a Secrets Manager secret and give the secret's name here",
    });
    return;
  }
  if (value.startsWith('arn:'))
    ctx.addIssue({ code: 'custom', message: 'the secret\'s name, not its ARN (e.g. "reports/slack-ops")' });
  else if (!SECRET_NAME.test(value))
    ctx.addIssue({
      code: 'custom',
      message: 'a Secrets Manager secret name: 1–512 of letters, digits and /_+=.@-',
    });
});

const common = {
  /** Stable id: in the destination's claim key, the idempotency key and the delivery log. */
  name: z.string().regex(DEFINITION_NAME, DEFINITION_NAME_RULE),
  /**
   * The Secrets Manager secret holding the URL (Slack, Teams: the URL as the secret string;
   * webhook: `{ "url": "https://…", "signingKey": "…" }`).
   */
  secret: secretName,
};

export const Destination = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('slack'), ...common }),
  z.strictObject({ kind: z.literal('teams'), ...common }),
  z.strictObject({ kind: z.literal('webhook'), ...common }),
]);
export type Destination = z.infer<typeof Destination>;
export type DestinationKind = Destination['kind'];

/**
 * Problems with a definition's destinations as [path, message]: duplicate names, and scopes
 * (`splitBy.scopes[].destinations`) naming a destination the definition does not have.
 */
export function destinationProblems(
  destinations: readonly Destination[],
  scopes: readonly { destinations: readonly string[] }[] = [],
): [(string | number)[], string][] {
  const out: [(string | number)[], string][] = [];
  const seen = new Set<string>();
  for (const [i, d] of destinations.entries()) {
    if (seen.has(d.name)) out.push([['destinations', i, 'name'], `duplicate destination "${d.name}"`]);
    seen.add(d.name);
  }
  for (const [i, s] of scopes.entries())
    for (const [j, name] of s.destinations.entries())
      if (!seen.has(name))
        out.push([
          ['splitBy', 'scopes', i, 'destinations', j],
          `no destination "${name}" in this definition's destinations`,
        ]);
  return out;
}
