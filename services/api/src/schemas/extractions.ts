import Type, { type Static } from 'typebox';
import { Instant, NullableInstant, PageOf, PageQuery } from './common.ts';

export const ExtractionStateSchema = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('validating'),
    Type.Literal('loading'),
    Type.Literal('done'),
    Type.Literal('no_new_plays'),
    Type.Literal('failed'),
  ],
  { description: 'pending, validating, loading, done, no_new_plays or failed' },
);

export const StageState = Type.Union(
  [Type.Literal('pending'), Type.Literal('running'), Type.Literal('done'), Type.Literal('skipped'), Type.Literal('failed')],
  { description: 'pending, running, done, skipped or failed' },
);

export const GapSchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  extractionId: Type.String(),
  from: Type.String({ format: 'date-time', description: 'the newest play known before the page' }),
  to: Type.String({ format: 'date-time', description: 'the oldest play on the page that revealed the gap' }),
  detectedAt: Instant,
});
export type GapDto = Static<typeof GapSchema>;

const NullableCount = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

export const ExtractionSchema = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  trigger: Type.Union([Type.Literal('scheduled'), Type.Literal('manual')]),
  state: ExtractionStateSchema,
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it failed' }),
  requestedAt: Instant,
  fetchedAt: NullableInstant,
  finishedAt: NullableInstant,
  stages: Type.Object({ extract: StageState, validate: StageState, load: StageState }),
  counts: Type.Object(
    { fetched: NullableCount, new: NullableCount, known: NullableCount, deadLettered: NullableCount },
    { description: 'null until the stage that sets them ran' },
  ),
  page: Type.Object({
    full: Type.Union([Type.Boolean(), Type.Null()]),
    oldestPlayedAt: NullableInstant,
    newestPlayedAt: NullableInstant,
  }),
  gapId: Type.Union([Type.String(), Type.Null()]),
  gap: Type.Optional(Type.Union([GapSchema, Type.Null()], { description: 'the gap this extraction revealed' })),
});
export type ExtractionDto = Static<typeof ExtractionSchema>;

export const StartExtractionsBody = Type.Union(
  [
    Type.Object(
      { userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'one user; all active users if absent' })) },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  { description: 'optional: { userId } for one user' },
);

export const StartExtractionsReply = Type.Object({
  extractions: Type.Array(
    Type.Object({
      userId: Type.String(),
      extractionId: Type.String(),
      /** false when a pending extraction of the user was returned instead of a new one */
      created: Type.Boolean({ description: 'false: the user already had a pending extraction, returned instead' }),
      extraction: ExtractionSchema,
    }),
  ),
});
export type StartExtractionsReply = Static<typeof StartExtractionsReply>;

export const ListExtractionsQuery = Type.Object({
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  state: Type.Optional(ExtractionStateSchema),
  ...PageQuery,
});

export const ExtractionPage = PageOf(ExtractionSchema, 'extractions, newest first');
export const GapPage = PageOf(GapSchema, 'gaps');
