import type { FastifyInstance, FastifyReply } from 'fastify';
import { exportStream } from '../lib/export.ts';
import { gapDto, playDto } from '../lib/dto.ts';
import type { ApiDeps } from '../lib/deps.ts';
import { notFound } from '../lib/http-errors.ts';
import type { TypeBoxProvider } from '../lib/type-provider.ts';
import { DEFAULT_PAGE_SIZE, errors, PageQuery, UserIdParams } from '../schemas/common.ts';
import { GapPage } from '../schemas/extractions.ts';
import { ExportQuery, ExportReply, ListPlaysQuery, PlayPage } from '../schemas/plays.ts';
import Type from 'typebox';

const date = (s: string | undefined) => (s === undefined ? undefined : new Date(s));

export function playRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const r = app.withTypeProvider<TypeBoxProvider>();
  const { store } = deps;

  async function ensureUser(id: string): Promise<void> {
    if (!(await store.getUser(id))) throw notFound(`no user ${id}`);
  }

  r.get(
    '/users/:id/plays',
    {
      schema: {
        tags: ['plays'],
        summary: "a user's plays in a time range, newest first, with cursor pagination",
        params: UserIdParams,
        querystring: ListPlaysQuery,
        response: { 200: PlayPage, ...errors(400, 404) },
      },
    },
    async (request) => {
      await ensureUser(request.params.id);
      const { from, to, limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
      const page = await store.listPlays(request.params.id, { from: date(from), to: date(to), limit, cursor });
      return { items: page.items.map(playDto), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/users/:id/plays/export',
    {
      schema: {
        tags: ['plays'],
        summary: "every play of a user in a time range as CSV or NDJSON, streamed in constant memory",
        produces: ['text/csv', 'application/x-ndjson'],
        params: UserIdParams,
        querystring: ExportQuery,
        response: { 200: ExportReply, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const userId = request.params.id;
      await ensureUser(userId);
      const { from, to, format = 'ndjson' } = request.query;
      const plays = store.streamPlays(userId, { from: date(from), to: date(to) });
      const stream = exportStream(plays, format);
      stream.on('error', (err) => request.log.error({ err, userId }, 'export failed mid-stream'));
      const name = `plays-${userId.replace(/[^A-Za-z0-9_-]/g, '_')}.${format === 'csv' ? 'csv' : 'ndjson'}`;
      return (reply as FastifyReply)
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(stream);
    },
  );

  r.get(
    '/users/:id/gaps',
    {
      schema: {
        tags: ['gaps'],
        summary: "a user's gaps",
        params: UserIdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: GapPage, ...errors(400, 404) },
      },
    },
    async (request) => {
      await ensureUser(request.params.id);
      const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
      const page = await store.listGaps({ userId: request.params.id, limit, cursor });
      return { items: page.items.map(gapDto), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/gaps',
    {
      schema: {
        tags: ['gaps'],
        summary: 'gaps of every user (or one)',
        querystring: Type.Object({ userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...PageQuery }),
        response: { 200: GapPage, ...errors(400) },
      },
    },
    async (request) => {
      const { userId, limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
      const page = await store.listGaps({ userId, limit, cursor });
      return { items: page.items.map(gapDto), nextCursor: page.nextCursor };
    },
  );
}
