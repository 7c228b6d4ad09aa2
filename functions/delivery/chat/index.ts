/** Chat and webhook destinations: payload builders (pure), the secret's value, the HTTP post. */
export {
  DestinationError,
  type DestinationKindName,
  DestinationRefusedError,
  DestinationSecretError,
  DestinationUnavailableError,
  destinationLabel,
} from './errors.js';
export type { DestinationMessage } from './message.js';
export { DEFAULT_POST_POLICY, type PostPolicy, type PostResult, postMessage } from './post.js';
export { type DestinationTarget, parseDestinationSecret } from './secret-value.js';
export { mrkdwn, type SlackPayload, slackPayload } from './slack.js';
export { type TeamsPayload, teamsPayload } from './teams.js';
export {
  IDEMPOTENCY_HEADER,
  idempotencyKey,
  SIGNATURE_HEADER,
  signature,
  signedHeaders,
  TIMESTAMP_HEADER,
  webhookPayload,
} from './webhook.js';
