/**
 * The mail folder's public surface. The templates are pure functions (figures in; subject,
 * HTML and text out), so they are tested on their output; compose picks the template and the
 * attachments, send is the only part that talks to SES.
 */

export {
  AttachmentMismatchError,
  type ComposedReportMail,
  type ComposeReportMailInput,
  composeReportMail,
} from './compose.js';
export { type EmptyMailInput, renderEmptyMail } from './empty-mail.js';
export { type FailureMailInput, type FailureReason, renderFailureMail } from './failure-mail.js';
export { describeFailure, scrub } from './failure-reason.js';
export type { MailWindow, RenderedMail } from './html.js';
export {
  type AttachmentDecision,
  barHeights,
  type MailLink,
  type ReportMailInput,
  renderReportMail,
  reportSubject,
} from './report-mail.js';
export {
  base64MimeSize,
  checkRecipients,
  DisallowedRecipientsError,
  decideAttachments,
  isDefiniteRefusal,
  type MailAttachment,
  MailOutcomeUnknownError,
  MailRefusedError,
  NoRecipientsError,
  type SendMailInput,
  sendMail,
  TooManyRecipientsError,
} from './send.js';
