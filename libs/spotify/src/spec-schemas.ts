// The Web API objects we read, written exactly as ../shared/spotify/fixed-spotify-open-api.yml describes them
// (sonallux @ 39207c4, v2026.5.31): same properties, types, `required` lists, enums and nullability; only the
// descriptions are left out. The contract test loads the YAML and checks that these are structurally equal to it.
// Do not "fix" anything here: every place where the live API differs lives in live-differences.ts.
import Type, { type TSchema } from 'typebox';

/** `type: string` with an `enum`, the way the OpenAPI file writes it. */
function StringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

/** `nullable: true` of OpenAPI 3.0. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

export const ExternalUrlObject = Type.Object({ spotify: Type.Optional(Type.String()) });

export const ExternalIdObject = Type.Object({
  isrc: Type.Optional(Type.String()),
  ean: Type.Optional(Type.String()),
  upc: Type.Optional(Type.String()),
});

export const ImageObject = Type.Object({
  url: Type.String(),
  height: Nullable(Type.Integer()),
  width: Nullable(Type.Integer()),
});

export const SimplifiedArtistObject = Type.Object({
  external_urls: Type.Optional(ExternalUrlObject),
  href: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  type: Type.Optional(StringEnum(['artist'])),
  uri: Type.Optional(Type.String()),
});

export const AlbumRestrictionObject = Type.Object({
  reason: Type.Optional(StringEnum(['market', 'product', 'explicit'])),
});

/** allOf [AlbumBase, { required: [artists] }] flattened. */
export const SimplifiedAlbumObject = Type.Object({
  album_type: StringEnum(['album', 'single', 'compilation']),
  total_tracks: Type.Integer(),
  available_markets: Type.Array(Type.String()),
  external_urls: ExternalUrlObject,
  href: Type.String(),
  id: Type.String(),
  images: Type.Array(ImageObject),
  name: Type.String(),
  release_date: Type.String(),
  release_date_precision: StringEnum(['year', 'month', 'day']),
  restrictions: Type.Optional(AlbumRestrictionObject),
  type: StringEnum(['album']),
  uri: Type.String(),
  artists: Type.Array(SimplifiedArtistObject),
});

export const LinkedTrackObject = Type.Object({
  external_urls: Type.Optional(ExternalUrlObject),
  href: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  uri: Type.Optional(Type.String()),
});

export const TrackRestrictionObject = Type.Object({ reason: Type.Optional(Type.String()) });

export const TrackObject = Type.Object({
  album: Type.Optional(SimplifiedAlbumObject),
  artists: Type.Optional(Type.Array(SimplifiedArtistObject)),
  available_markets: Type.Optional(Type.Array(Type.String())),
  disc_number: Type.Optional(Type.Integer()),
  duration_ms: Type.Optional(Type.Integer()),
  explicit: Type.Optional(Type.Boolean()),
  external_ids: Type.Optional(ExternalIdObject),
  external_urls: Type.Optional(ExternalUrlObject),
  href: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  is_playable: Type.Optional(Type.Boolean()),
  linked_from: Type.Optional(LinkedTrackObject),
  restrictions: Type.Optional(TrackRestrictionObject),
  name: Type.Optional(Type.String()),
  popularity: Type.Optional(Type.Integer()),
  preview_url: Type.Optional(Nullable(Type.String())),
  track_number: Type.Optional(Type.Integer()),
  type: Type.Optional(StringEnum(['track'])),
  uri: Type.Optional(Type.String()),
  is_local: Type.Optional(Type.Boolean()),
});

export const ContextObject = Type.Object({
  type: Type.Optional(Type.String()),
  href: Type.Optional(Type.String()),
  external_urls: Type.Optional(ExternalUrlObject),
  uri: Type.Optional(Type.String()),
});

export const PlayHistoryObject = Type.Object({
  track: Type.Optional(TrackObject),
  played_at: Type.Optional(Type.String({ format: 'date-time' })),
  context: Type.Optional(ContextObject),
});

export const CursorObject = Type.Object({
  after: Type.Optional(Type.String()),
  before: Type.Optional(Type.String()),
});

/** allOf [CursorPagingObject, { items: PlayHistoryObject[] }] flattened. */
export const CursorPagingPlayHistoryObject = Type.Object({
  href: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer()),
  next: Type.Optional(Type.String()),
  cursors: Type.Optional(CursorObject),
  total: Type.Optional(Type.Integer()),
  items: Type.Optional(Type.Array(PlayHistoryObject)),
});

export const ErrorObject = Type.Object({
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  message: Type.String(),
});

/** The body of the Unauthorized / Forbidden / TooManyRequests / ... responses. */
export const ErrorResponse = Type.Object({ error: ErrorObject });

export const ExplicitContentSettingsObject = Type.Object({
  filter_enabled: Type.Optional(Type.Boolean()),
  filter_locked: Type.Optional(Type.Boolean()),
});

export const FollowersObject = Type.Object({
  href: Type.Optional(Nullable(Type.String())),
  total: Type.Optional(Type.Integer()),
});

export const PrivateUserObject = Type.Object({
  account_id: Type.Optional(Type.String()),
  country: Type.Optional(Type.String()),
  display_name: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  explicit_content: Type.Optional(ExplicitContentSettingsObject),
  external_urls: Type.Optional(ExternalUrlObject),
  followers: Type.Optional(FollowersObject),
  href: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  images: Type.Optional(Type.Array(ImageObject)),
  product: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  uri: Type.Optional(Type.String()),
});

/** The three responses the client reads, by the name the differences use. */
export const SpecTargets = {
  'recently-played': CursorPagingPlayHistoryObject,
  me: PrivateUserObject,
  error: ErrorResponse,
} as const;
export type SchemaTarget = keyof typeof SpecTargets;
