import type { FastifyInstance } from 'fastify';
import type { DeadLetter, DeadLetterFilter } from '@playledger/store';
import { deadLetterDto } from '../lib/dto.ts';
import type { ApiDeps } from '../lib/deps.ts';
import { conflict, notFound, unprocessable } from '../lib/http-errors.ts';
import { replayDeadLetter, ReplayRefused, type ReplayDeps } from '../lib/replay.ts';
import type { TypeBoxProvider } from '../lib/type-provider.ts';
import { DEFAULT_PAGE_SIZE, errors, IdParams } from '../schemas/common.ts';
import {
  CorrectionBody,
  DeadLetterPage,
  DeadLetterSchema,
  ListDeadLettersQuery,
  MAX_REPLAY_BATCH,
  ReplayManyBody,
  ReplayManyReply,
  ReplayResultSchema,
  type ReplayResult,
} from '../schemas/dead-letters.ts';
import Type from 'typebox';

interface FilterQuery {
  stage?: DeadLetterFilter['stage'];
  rule?: string;
  userId?: string;
  from?: string;
  to?: string;
  status?: DeadLetterFilter['status'];
}

function toFilter(q: FilterQuery): DeadLetterFilter {
  return {
    stage: q.stage,
    rule: q.rule,
    userId: q.userId,
    from: q.from === undefined ? undefined : new Date(q.from),
    to: q.to === undefined ? undefined : new Date(q.to),
    status: q.status,
  };
}

export function deadLetterRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const r = app.withTypeProvider<TypeBoxProvider>();
  const { store } = deps;
  const replayDeps: ReplayDeps = { store, validation: deps.queues.validation, load: deps.queues.load, logger: deps.logger };

  async function deadLetterOr404(id: string): Promise<DeadLetter> {
    const d = await store.getDeadLetter(id);
    if (!d) throw notFound(`no dead letter ${id}`);
    return d;
  }

  async function replay(d: DeadLetter): Promise<ReplayResult> {
    try {
      return await replayDeadLetter(replayDeps, d);
    } catch (error) {
      if (error instanceof ReplayRefused) {
        throw error.code === 'conflict' ? conflict(error.message) : unprocessable(error.message);
      }
      throw error;
    }
  }

  r.get(
    '/dead-letters',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'rejected records, by stage, rule, user, time and status',
        querystring: ListDeadLettersQuery,
        response: { 200: DeadLetterPage, ...errors(400) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE_SIZE, cursor, ...filter } = request.query;
      const page = await store.listDeadLetters(toFilter(filter), { limit, cursor });
      return { items: page.items.map(deadLetterDto), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/dead-letters/:id',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'one dead letter with its original record and any correction',
        params: IdParams,
        response: { 200: DeadLetterSchema, ...errors(400, 404) },
      },
    },
    async (request) => deadLetterDto(await deadLetterOr404(request.params.id)),
  );

  r.put(
    '/dead-letters/:id/correction',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'correct the record; the correction is kept beside the original and used by the next replay',
        params: IdParams,
        body: CorrectionBody,
        response: { 200: DeadLetterSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const corrected = await store.correctDeadLetter(request.params.id, request.body.record);
      if (!corrected) throw notFound(`no dead letter ${request.params.id}`);
      request.log.info({ deadLetterId: request.params.id }, 'dead letter corrected');
      return deadLetterDto(corrected);
    },
  );

  r.post(
    '/dead-letters/:id/replay',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'replay one record (its correction if any) to the stage that rejected it',
        params: IdParams,
        response: { 202: ReplayResultSchema, ...errors(400, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(202).send(await replay(await deadLetterOr404(request.params.id))),
  );

  r.post(
    '/dead-letters/replay',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'replay many, by ids or by filter (open ones unless a status is given)',
        body: ReplayManyBody,
        response: { 202: ReplayManyReply, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { ids, filter, limit = DEFAULT_PAGE_SIZE } = request.body;
      const targets: (DeadLetter | string)[] = [];
      if (ids) {
        for (const id of ids) targets.push((await store.getDeadLetter(id)) ?? id);
      } else {
        const f = toFilter({ status: 'open', ...(filter ?? {}) });
        let cursor: string | undefined;
        while (targets.length < Math.min(limit, MAX_REPLAY_BATCH)) {
          const page = await store.listDeadLetters(f, { limit: Math.min(limit - targets.length, 500), cursor });
          targets.push(...page.items);
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
      }
      const results: ReplayResult[] = [];
      for (const target of targets) {
        if (typeof target === 'string') {
          results.push({ id: target, replayed: false, queue: null, jobId: null, usedCorrection: false, error: 'not found' });
          continue;
        }
        try {
          results.push(await replayDeadLetter(replayDeps, target));
        } catch (error) {
          if (!(error instanceof ReplayRefused)) throw error;
          results.push({ id: target.id, replayed: false, queue: null, jobId: null, usedCorrection: false, error: error.message });
        }
      }
      return reply.code(202).send({ results });
    },
  );

  r.delete(
    '/dead-letters/:id',
    {
      schema: {
        tags: ['dead letters'],
        summary: 'delete a dead letter',
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }), ...errors(400, 404) },
      },
    },
    async (request) => {
      if (!(await store.deleteDeadLetter(request.params.id))) throw notFound(`no dead letter ${request.params.id}`);
      request.log.info({ deadLetterId: request.params.id }, 'dead letter deleted');
      return { id: request.params.id, deleted: true as const };
    },
  );
}
