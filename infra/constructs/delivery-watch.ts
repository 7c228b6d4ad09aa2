/**
 * What keeps delivery honest after the mail leaves: SES publishes every event of the
 * configuration set's mails (send, delivery, bounce, complaint, reject, delay) to EventBridge's
 * default bus, a rule hands them to the ses-events function (delivery log, unknown sends
 * settled), and the sweeper runs every SWEEP_INTERVAL_MINUTES (crashed, stuck, unknown and
 * missed days end in a mail or an owner alert).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Mirrors functions/runs/sweep.ts SWEEP_INTERVAL_MINUTES (the timing its promises are built on). */
export const SWEEP_INTERVAL_MINUTES = 5;

/** The SES events the delivery log records; open and click tracking are not enabled. */
export const SES_EVENT_TYPES = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
  ses.EmailSendingEvent.RENDERING_FAILURE,
];

/** EventBridge detail-types of those events, as SES names them on the bus. */
export const SES_DETAIL_TYPES = [
  'Email Sent',
  'Email Delivered',
  'Email Bounced',
  'Email Complaint Received',
  'Email Rejected',
  'Email Delivery Delayed',
  'Email Rendering Failed',
];

export interface DeliveryWatchProps {
  readonly configurationSet: ses.ConfigurationSet;
  readonly sesEvents: lambda.IFunction;
  readonly sweeper: lambda.IFunction;
  /** Where an event that could not be delivered to a function goes (alarmed). */
  readonly deadLetterQueue: sqs.IQueue;
}

export class DeliveryWatch extends Construct {
  readonly eventsRule: events.Rule;
  readonly sweepRule: events.Rule;

  constructor(scope: Construct, id: string, props: DeliveryWatchProps) {
    super(scope, id);
    const bus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    // SES can publish only to the default bus.
    props.configurationSet.addEventDestination('ToEventBridge', {
      destination: ses.EventDestination.eventBus(bus),
      events: SES_EVENT_TYPES,
    });

    this.eventsRule = new events.Rule(this, 'SesEvents', {
      description: 'SES events of report mails → delivery log',
      eventBus: bus,
      eventPattern: {
        source: ['aws.ses'],
        detailType: SES_DETAIL_TYPES,
        // Only this stack's configuration set: another application's mail is not ours to log.
        detail: {
          mail: { tags: { 'ses:configuration-set': [props.configurationSet.configurationSetName] } },
        },
      },
      targets: [
        new eventTargets.LambdaFunction(props.sesEvents, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });

    this.sweepRule = new events.Rule(this, 'Sweep', {
      description: `Delivery sweeper every ${SWEEP_INTERVAL_MINUTES} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(SWEEP_INTERVAL_MINUTES)),
      targets: [
        new eventTargets.LambdaFunction(props.sweeper, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(SWEEP_INTERVAL_MINUTES),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
  }
}
