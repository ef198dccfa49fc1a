// Every queue of the pipeline and every job payload, defined once. Producers and consumers import these;
// payloads carry user ids and an extractionId, never a token.
import Type, { type Static } from 'typebox';
import type { DefaultJobOptions } from 'bullmq';

export const QueueNames = {
  /** extraction requests (scheduled by a job scheduler per user, or manual): consumed by the extractor */
  extractions: 'extractions',
  /** raw recently-played pages: consumed by the validator */
  validation: 'validation',
  /** normalized, slim plays: consumed by the loader */
  load: 'load',
  /** rejected records with stage, rule and reason: consumed by the loader, which keeps them in the store */
  deadLetters: 'dead-letters',
} as const;
export type QueueName = (typeof QueueNames)[keyof typeof QueueNames];
export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueNames);

const IsoInstant = Type.String({ format: 'date-time', description: 'a UTC instant, ISO-8601' });
const UserId = Type.String({ minLength: 1, description: 'the user key: Spotify account_id, else id' });
const ExtractionId = Type.String({ minLength: 1, description: 'follows one extraction through every stage' });

export const ExtractionTrigger = Type.Union([Type.Literal('scheduled'), Type.Literal('manual')]);
export type ExtractionTrigger = Static<typeof ExtractionTrigger>;

/**
 * extractions: one job = one extraction of one user. Manual requests carry the extractionId the api created;
 * a job scheduler cannot give each run its own id in its template, so scheduled runs carry none and the
 * extractor derives it from the job id (unique per run), see `extractionIdFor`.
 */
export const ExtractionRequest = Type.Object({
  userId: UserId,
  trigger: ExtractionTrigger,
  extractionId: Type.Optional(ExtractionId),
});
export type ExtractionRequest = Static<typeof ExtractionRequest>;

/** validation: the raw page exactly as Spotify sent it, minus fields nothing downstream reads. */
export const RawPageJob = Type.Object({
  extractionId: ExtractionId,
  userId: UserId,
  fetchedAt: IsoInstant,
  /** the `items` of the recently-played page, unchecked (the validator checks them) */
  items: Type.Array(Type.Unknown()),
  /** the `limit` asked for; a page is full when it holds `limit` items */
  limit: Type.Integer({ minimum: 1, maximum: 50 }),
  /** replays of dead letters carry the dead letter's id so that a loaded record marks it replayed */
  replayOf: Type.Optional(Type.String()),
});
export type RawPageJob = Static<typeof RawPageJob>;

export const NormalizedArtist = Type.Object({
  uri: Type.Union([Type.String(), Type.Null()]),
  id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
});
export type NormalizedArtist = Static<typeof NormalizedArtist>;

export const NormalizedAlbum = Type.Object({
  uri: Type.Union([Type.String(), Type.Null()]),
  id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  albumType: Type.Union([Type.String(), Type.Null()]),
  releaseDate: Type.Union([Type.String(), Type.Null()]),
  artists: Type.Array(NormalizedArtist),
});
export type NormalizedAlbum = Static<typeof NormalizedAlbum>;

export const NormalizedTrack = Type.Object({
  uri: Type.String({ minLength: 1 }),
  /** null for a local file */
  id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  durationMs: Type.Integer({ minimum: 0 }),
  explicit: Type.Boolean(),
  isrc: Type.Union([Type.String(), Type.Null()]),
  isLocal: Type.Boolean(),
  discNumber: Type.Union([Type.Integer(), Type.Null()]),
  trackNumber: Type.Union([Type.Integer(), Type.Null()]),
  album: Type.Union([NormalizedAlbum, Type.Null()]),
  /** all artists, in Spotify's order */
  artists: Type.Array(NormalizedArtist),
});
export type NormalizedTrack = Static<typeof NormalizedTrack>;

export const NormalizedPlay = Type.Object({
  /** when playback ended, UTC with milliseconds: 2026-06-05T23:45:36.176Z */
  playedAt: IsoInstant,
  track: NormalizedTrack,
  context: Type.Union([Type.Object({ type: Type.String(), uri: Type.String() }), Type.Null()]),
});
export type NormalizedPlay = Static<typeof NormalizedPlay>;

/** load: what the validator passed, plus what the loader needs to complete the extraction record and find gaps. */
export const LoadJob = Type.Object({
  extractionId: ExtractionId,
  userId: UserId,
  fetchedAt: IsoInstant,
  plays: Type.Array(NormalizedPlay),
  page: Type.Object({
    /** items on the raw page, before duplicates were collapsed */
    fetched: Type.Integer({ minimum: 0 }),
    /** the page held as many items as were asked for: older plays may exist that it did not show */
    full: Type.Boolean(),
    /** oldest and newest valid played_at on the page (null on an empty page) */
    oldestPlayedAt: Type.Union([IsoInstant, Type.Null()]),
    newestPlayedAt: Type.Union([IsoInstant, Type.Null()]),
    /** records the validator dead-lettered and exact duplicates it collapsed */
    deadLettered: Type.Integer({ minimum: 0 }),
    duplicatesCollapsed: Type.Integer({ minimum: 0 }),
  }),
  replayOf: Type.Optional(Type.String()),
});
export type LoadJob = Static<typeof LoadJob>;

export const DeadLetterStage = Type.Union([
  Type.Literal('extractor'),
  Type.Literal('validator'),
  Type.Literal('loader'),
]);
export type DeadLetterStage = Static<typeof DeadLetterStage>;

/** dead-letters: one rejected record with why, kept in the store until an operator acts. */
export const DeadLetterJob = Type.Object({
  extractionId: ExtractionId,
  userId: UserId,
  stage: DeadLetterStage,
  /** the rule broken (validator) or the error kind (loader: 'load-failed') */
  rule: Type.String({ minLength: 1 }),
  /** the field at fault, when one is, as a JSON pointer into the record: /track/uri */
  field: Type.Union([Type.String(), Type.Null()]),
  /** a sentence a person understands */
  message: Type.String(),
  /** the original record (a raw item for the validator, a normalized play for the loader) */
  record: Type.Unknown(),
  rejectedAt: IsoInstant,
});
export type DeadLetterJob = Static<typeof DeadLetterJob>;

/** Redis stays bounded: finished jobs go after a count or an age; failed ones are kept longer, still bounded. */
export const defaultJobOptions: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { count: 1_000, age: 24 * 3600 },
  removeOnFail: { count: 10_000, age: 14 * 24 * 3600 },
};

/** The id of the extraction a job performs: the one the request carries, else one derived from the job id. */
export function extractionIdFor(request: ExtractionRequest, jobId: string | undefined): string {
  if (request.extractionId) return request.extractionId;
  if (!jobId) throw new Error('an extraction request without extractionId needs a job id');
  return `sched-${jobId.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
