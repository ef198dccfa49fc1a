import type { FastifyInstance } from 'fastify';
import { accessTokenCacheKey, scheduledUsers, scheduleUser, unscheduleUser } from '@playledger/common';
import type { User } from '@playledger/store';
import { usersExpiringBefore } from '../lib/expiry.ts';
import { extractionDto, gapDto, refreshTokenEndsAt, userDto } from '../lib/dto.ts';
import type { ApiDeps } from '../lib/deps.ts';
import { conflict, notFound } from '../lib/http-errors.ts';
import type { TypeBoxProvider } from '../lib/type-provider.ts';
import { errors, UserIdParams } from '../schemas/common.ts';
import {
  DeleteUserQuery,
  DeleteUserReply,
  ExpiringUsersQuery,
  ExpiringUsersReply,
  ListUsersQuery,
  PauseBody,
  UserList,
  UserSchema,
  UserStatusReply,
} from '../schemas/users.ts';

const DAY_MS = 24 * 3600 * 1000;

export function userRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const r = app.withTypeProvider<TypeBoxProvider>();
  const { store } = deps;
  const extractions = deps.queues.extractions;

  async function userOr404(id: string): Promise<User> {
    const user = await store.getUser(id);
    if (!user) throw notFound(`no user ${id}`);
    return user;
  }

  r.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'every user, by status',
        querystring: ListUsersQuery,
        response: { 200: UserList, ...errors(400) },
      },
    },
    async (request) => ({ items: (await store.listUsers({ status: request.query.status })).map(userDto) }),
  );

  r.get(
    '/users/expiring',
    {
      schema: {
        tags: ['users'],
        summary: 'users whose refresh token ends within 14 days (or withinDays), with the re-login link',
        querystring: ExpiringUsersQuery,
        response: { 200: ExpiringUsersReply, ...errors(400) },
      },
    },
    async (request) => {
      const now = Date.now();
      const horizon = new Date(now + (request.query.withinDays ?? 14) * DAY_MS);
      const users = await usersExpiringBefore(store, horizon);
      const reloginUrl = `${deps.config.AUTH_PUBLIC_URL.replace(/\/+$/, '')}/login`;
      return {
        items: users.map((u) => ({
          user: userDto(u),
          expired: refreshTokenEndsAt(u.authorizedAt).getTime() <= now,
          reloginUrl,
        })),
      };
    },
  );

  r.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: "one user's status: authorization, last extraction, newest play, play count, gaps",
        params: UserIdParams,
        response: { 200: UserStatusReply, ...errors(400, 404) },
      },
    },
    async (request) => {
      const user = await userOr404(request.params.id);
      const [last, newest, count, gaps, scheduled] = await Promise.all([
        store.listExtractions({ userId: user.userId, limit: 1 }),
        store.newestPlayedAt(user.userId),
        store.countPlays(user.userId),
        store.listGaps({ userId: user.userId, limit: 100 }),
        scheduledUsers(extractions),
      ]);
      const lastExtraction = last.items[0];
      return {
        user: userDto(user),
        scheduled: scheduled.includes(user.userId),
        lastExtraction: lastExtraction ? extractionDto(lastExtraction) : null,
        newestPlayAt: newest ? newest.toISOString() : null,
        playCount: count,
        gaps: gaps.items.map(gapDto),
      };
    },
  );

  r.post(
    '/users/:id/pause',
    {
      schema: {
        tags: ['users'],
        summary: 'pause: no scheduled extractions until resumed',
        params: UserIdParams,
        body: PauseBody,
        response: { 200: UserSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const user = await userOr404(request.params.id);
      await unscheduleUser(extractions, user.userId);
      const reason = request.body?.reason ?? 'paused by an operator';
      const updated = await store.setUserStatus(user.userId, 'paused', reason);
      if (!updated) throw notFound(`no user ${user.userId}`);
      request.log.info({ userId: user.userId }, 'user paused');
      return userDto(updated);
    },
  );

  r.post(
    '/users/:id/resume',
    {
      schema: {
        tags: ['users'],
        summary: 'resume a paused user: scheduled again',
        params: UserIdParams,
        response: { 200: UserSchema, ...errors(400, 404, 409) },
      },
    },
    async (request) => {
      const user = await userOr404(request.params.id);
      if (user.status === 'needs_reauth') throw conflict(`user ${user.userId} must log in again before resuming`);
      const updated = await store.setUserStatus(user.userId, 'active', null);
      if (!updated) throw notFound(`no user ${user.userId}`);
      await scheduleUser(extractions, user.userId, deps.config.EXTRACTION_INTERVAL_MS);
      request.log.info({ userId: user.userId }, 'user resumed');
      return userDto(updated);
    },
  );

  r.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'delete a user: schedule, credentials and cached token at once; plays too only with purge=true',
        params: UserIdParams,
        querystring: DeleteUserQuery,
        response: { 200: DeleteUserReply, ...errors(400, 404) },
      },
    },
    async (request) => {
      const userId = request.params.id;
      const purge = request.query.purge ?? false;
      await userOr404(userId);
      // The schedule first, so that no new extraction starts for a user being deleted.
      const scheduleRemoved = await unscheduleUser(extractions, userId);
      const deleted = await store.deleteUser(userId, { purgePlays: purge });
      const cachedTokenRemoved = (await deps.redis.del(accessTokenCacheKey(deps.config.QUEUE_PREFIX, userId))) > 0;
      request.log.info({ userId, purge, scheduleRemoved, cachedTokenRemoved }, 'user deleted');
      return { userId, deleted, purged: purge, scheduleRemoved, cachedTokenRemoved };
    },
  );
}
