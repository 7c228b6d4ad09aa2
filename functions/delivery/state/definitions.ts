/** A definition's switch: paused definitions are not run by their schedule or the sweeper. */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

const defKey = (name: string) => ({ pk: `DEF#${name}`, sk: 'STATE' });

export interface DefinitionState {
  paused: boolean;
  updatedAt?: string;
  /** Who paused or resumed it, as the caller identified itself (an IAM principal, a CLI user). */
  by?: string;
}

export async function getDefinitionState(
  doc: DynamoDBDocumentClient,
  table: string,
  name: string,
): Promise<DefinitionState> {
  const res = await doc.send(new GetCommand({ TableName: table, Key: defKey(name), ConsistentRead: true }));
  return {
    paused: res.Item?.paused === true,
    ...(typeof res.Item?.updatedAt === 'string' ? { updatedAt: res.Item.updatedAt } : {}),
    ...(typeof res.Item?.by === 'string' ? { by: res.Item.by } : {}),
  };
}

/** Idempotent: pausing a paused definition changes nothing but the time and author. */
export async function setPaused(
  doc: DynamoDBDocumentClient,
  table: string,
  input: { name: string; paused: boolean; by?: string; now: Date },
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        ...defKey(input.name),
        paused: input.paused,
        updatedAt: input.now.toISOString(),
        ...(input.by ? { by: input.by } : {}),
      },
    }),
  );
}
