import Type, { type Static } from 'typebox';
import { Instant, NullableInstant, PageOf, PageQuery } from './common.ts';

export const StageSchema = Type.Union([Type.Literal('extractor'), Type.Literal('validator'), Type.Literal('loader')]);
export const DeadLetterStatusSchema = Type.Union([Type.Literal('open'), Type.Literal('replayed'), Type.Literal('resolved')]);

export const DeadLetterSchema = Type.Object({
  id: Type.String(),
  extractionId: Type.String(),
  userId: Type.String(),
  stage: StageSchema,
  rule: Type.String(),
  field: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  record: Type.Unknown({ description: 'the original record' }),
  correction: Type.Unknown({ description: 'the operator correction, null when none' }),
  status: DeadLetterStatusSchema,
  firstSeenAt: Instant,
  lastSeenAt: Instant,
  timesSeen: Type.Integer({ minimum: 1 }),
  replayedAt: NullableInstant,
});
export type DeadLetterDto = Static<typeof DeadLetterSchema>;

const Filter = {
  stage: Type.Optional(StageSchema),
  rule: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'last seen at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'last seen before' })),
  status: Type.Optional(DeadLetterStatusSchema),
};

export const ListDeadLettersQuery = Type.Object({ ...Filter, ...PageQuery });
export const DeadLetterPage = PageOf(DeadLetterSchema, 'dead letters');

export const CorrectionBody = Type.Object(
  { record: Type.Unknown({ description: 'the corrected record, replayed instead of the original' }) },
  { additionalProperties: false },
);

export const ReplayResultSchema = Type.Object({
  id: Type.String(),
  replayed: Type.Boolean(),
  queue: Type.Union([Type.String(), Type.Null()]),
  jobId: Type.Union([Type.String(), Type.Null()]),
  usedCorrection: Type.Boolean(),
  error: Type.Optional(Type.String()),
});
export type ReplayResult = Static<typeof ReplayResultSchema>;

export const MAX_REPLAY_BATCH = 500;

export const ReplayManyBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: MAX_REPLAY_BATCH })),
    filter: Type.Optional(Type.Object(Filter, { additionalProperties: false })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLAY_BATCH, default: 100 })),
  },
  { additionalProperties: false, description: 'ids, or a filter (open dead letters only unless status is given)' },
);

export const ReplayManyReply = Type.Object({ results: Type.Array(ReplayResultSchema) });
