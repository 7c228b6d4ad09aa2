/**
 * The run protocol's pure decisions: which definition a schedule runs, the key a day is claimed
 * under (runs/schedule-input.ts), and the conditional status move and expiry every run and report
 * record is written with (delivery/state/shared.ts). The writes themselves are tested over moto.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  applied,
  epochSeconds,
  expiresAfter,
  isConditionFailure,
  StateConflictError,
  statusMove,
} from '../../functions/delivery/state/shared.js';
import { claimDay, findDefinition, UnknownDefinitionError } from '../../functions/runs/schedule-input.js';

describe('which definition, which claim', () => {
  const config = (names: string[]) =>
    ({ config: { REPORT_DEFINITIONS: names.map((name) => ({ name })) } }) as unknown as Parameters<
      typeof findDefinition
    >[0];

  it('finds a definition by its exact name', () => {
    expect(findDefinition(config(['daily-ops', 'weekly-cfo']), 'weekly-cfo')).toEqual({ name: 'weekly-cfo' });
  });

  it('an unknown name is a configuration error that lists the known ones', () => {
    const err = (() => {
      try {
        findDefinition(config(['daily-ops', 'weekly-cfo']), 'daily');
      } catch (e) {
        return e as UnknownDefinitionError;
      }
    })();
    expect(err).toBeInstanceOf(UnknownDefinitionError);
    expect(err).toMatchObject({ kind: 'config', name: 'UnknownDefinitionError' });
    expect(err?.message).toBe(
      'No report definition named "daily". Known definitions: daily-ops, weekly-cfo. Check the schedule input and REPORT_DEFINITIONS.',
    );
    expect(() => findDefinition(config([]), 'daily')).toThrow('Known definitions: (none).');
  });

  it('a day is claimed under itself; a forced re-run under the day and its key', () => {
    expect(claimDay('2024-12-01')).toBe('2024-12-01');
    expect(claimDay('2024-12-01', '')).toBe('2024-12-01');
    expect(claimDay('2024-12-01', 'k1')).toBe('2024-12-01~k1');
  });
});

describe('status moves and expiry shared by runs and reports', () => {
  const now = new Date('2024-12-02T10:00:00.900Z');

  it('expiry is whole Unix seconds, `days` days after `from`', () => {
    expect(epochSeconds(now)).toBe(1_733_133_600);
    expect(expiresAfter(now, 0)).toBe(1_733_133_600);
    expect(expiresAfter(now, 30)).toBe(1_733_133_600 + 30 * 86_400);
  });

  it('moves the status from any of the given ones, stamps the time, sets each defined field', () => {
    const move = statusMove('sent', ['sending', 'unknown'], now, {
      messageId: 'm-1',
      reason: undefined,
      attempts: 2,
    });
    expect(move).toEqual({
      set: 'SET #status = :to, #updatedAt = :iso, #a0 = :a0, #a2 = :a2',
      statusIn: '#status IN (:from0, :from1)',
      names: { '#status': 'status', '#updatedAt': 'updatedAt', '#a0': 'messageId', '#a2': 'attempts' },
      values: {
        ':to': 'sent',
        ':iso': '2024-12-02T10:00:00.900Z',
        ':a0': 'm-1',
        ':a2': 2,
        ':from0': 'sending',
        ':from1': 'unknown',
      },
    });
  });

  it('with no fields, only the status and the time', () => {
    expect(statusMove('failed', ['running'], now, {})).toMatchObject({
      set: 'SET #status = :to, #updatedAt = :iso',
      statusIn: '#status IN (:from0)',
    });
  });

  it('a failed condition is told apart from other errors, by class or by code', async () => {
    const conditional = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    expect(isConditionFailure(conditional)).toBe(true);
    expect(isConditionFailure({ name: 'ConditionalCheckFailedException' })).toBe(true);
    expect(isConditionFailure({ name: 'ProvisionedThroughputExceededException' })).toBe(false);
    expect(isConditionFailure(undefined)).toBe(false);

    await expect(applied(Promise.resolve({}))).resolves.toBe(true);
    await expect(applied(Promise.reject(conditional))).resolves.toBe(false);
    const other = new Error('throttled');
    await expect(applied(Promise.reject(other))).rejects.toBe(other);
  });

  it('a state conflict is an error of kind conflict', () => {
    expect(new StateConflictError('x')).toMatchObject({ kind: 'conflict', name: 'StateConflictError' });
  });
});
