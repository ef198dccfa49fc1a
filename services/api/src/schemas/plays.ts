import Type from 'typebox';
import { Instant, PageOf, PageQuery } from './common.ts';

const Artist = Type.Object({
  uri: Type.Union([Type.String(), Type.Null()]),
  id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
});

export const PlaySchema = Type.Object({
  playedAt: Instant,
  track: Type.Object({
    uri: Type.String(),
    id: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    durationMs: Type.Integer(),
    explicit: Type.Boolean(),
    isrc: Type.Union([Type.String(), Type.Null()]),
    isLocal: Type.Boolean(),
    discNumber: Type.Union([Type.Integer(), Type.Null()]),
    trackNumber: Type.Union([Type.Integer(), Type.Null()]),
    album: Type.Union([
      Type.Object({
        uri: Type.Union([Type.String(), Type.Null()]),
        id: Type.Union([Type.String(), Type.Null()]),
        name: Type.String(),
        albumType: Type.Union([Type.String(), Type.Null()]),
        releaseDate: Type.Union([Type.String(), Type.Null()]),
        artists: Type.Array(Artist),
      }),
      Type.Null(),
    ]),
    artists: Type.Array(Artist),
  }),
  context: Type.Union([Type.Object({ type: Type.String(), uri: Type.String() }), Type.Null()]),
  extractionId: Type.String(),
  loadedAt: Instant,
});

const Range = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'plays at or after this instant' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'plays before this instant' })),
};

export const ListPlaysQuery = Type.Object({ ...Range, ...PageQuery });
export const PlayPage = PageOf(PlaySchema, 'plays');

export const ExportQuery = Type.Object({
  ...Range,
  format: Type.Optional(
    Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'ndjson', description: 'csv or ndjson' }),
  ),
});

export const ExportReply = {
  description: 'every play of the user in the range, oldest first, streamed',
  content: {
    'text/csv': { schema: Type.String({ description: 'CSV with a header row' }) },
    'application/x-ndjson': { schema: Type.String({ description: 'one JSON play per line' }) },
  },
};
