import Type, { type Static } from 'typebox';
import { Instant, NullableInstant } from './common.ts';
import { ExtractionSchema, GapSchema } from './extractions.ts';

export const UserStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('needs_reauth')]);

export const UserSchema = Type.Object({
  userId: Type.String(),
  spotifyId: Type.String(),
  accountId: Type.Union([Type.String(), Type.Null()]),
  displayName: Type.Union([Type.String(), Type.Null()]),
  status: UserStatusSchema,
  statusReason: Type.Union([Type.String(), Type.Null()], { description: 'why (for needs_reauth: what Spotify said)' }),
  authorizedAt: Instant,
  refreshTokenEndsAt: Type.String({ format: 'date-time', description: 'authorizedAt plus six months' }),
  createdAt: Instant,
  updatedAt: Instant,
});
export type UserDto = Static<typeof UserSchema>;

export const UserList = Type.Object({ items: Type.Array(UserSchema) });

export const UserStatusReply = Type.Object({
  user: UserSchema,
  scheduled: Type.Boolean({ description: 'the user has an extraction schedule' }),
  lastExtraction: Type.Union([ExtractionSchema, Type.Null()]),
  newestPlayAt: NullableInstant,
  playCount: Type.Integer({ minimum: 0 }),
  gaps: Type.Array(GapSchema, { description: 'the newest gaps (up to 100)' }),
});

export const ListUsersQuery = Type.Object({ status: Type.Optional(UserStatusSchema) });

export const PauseBody = Type.Union(
  [Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }), Type.Null()],
  { description: 'optional: why the user is paused' },
);

export const DeleteUserQuery = Type.Object({
  purge: Type.Optional(Type.Boolean({ default: false, description: 'also delete plays, extractions, gaps, dead letters' })),
});

export const DeleteUserReply = Type.Object({
  userId: Type.String(),
  deleted: Type.Boolean(),
  purged: Type.Boolean(),
  scheduleRemoved: Type.Boolean(),
  cachedTokenRemoved: Type.Boolean(),
});

export const ExpiringUsersQuery = Type.Object({
  withinDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 366, default: 14, description: 'horizon in days' })),
});

export const ExpiringUsersReply = Type.Object({
  items: Type.Array(
    Type.Object({
      user: UserSchema,
      expired: Type.Boolean({ description: 'the refresh token has already ended' }),
      reloginUrl: Type.String({ description: 'where the user logs in again' }),
    }),
  ),
});
