/**
 * A queue that collects what an AWS service could not deliver (a schedule that could not start a
 * run, an asynchronous run that failed after its retries). Alarmed by alarms.ts; kept 14 days.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** `deadLettersOf` names whose dead letters it holds, for the cdk-nag acknowledgement (SQS3). */
export function deadLetterQueue(scope: Construct, id: string, deadLettersOf: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    // SSE-SQS, not the AWS managed KMS key: the Scheduler, sending on our behalf, cannot use
    // alias/aws/sqs; and the messages hold a definition name or a run's request and error, no report data.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${deadLettersOf}; a dead-letter queue needs no DLQ of its own.`,
  });
  return queue;
}
