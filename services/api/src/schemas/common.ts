// Shapes shared by every route: the error body, pagination, ids and instants.
import Type, { type Static, type TSchema } from 'typebox';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'a stable machine-readable code: bad_request, unauthorized, not_found...' }),
    message: Type.String({ description: 'what went wrong, for a person' }),
    field: Type.Optional(Type.String({ description: 'the input at fault, such as querystring/limit' })),
  },
  { description: 'an error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

const errorDescriptions = {
  400: 'bad input: the field at fault is named',
  401: 'no valid bearer token or session',
  404: 'no such resource',
  409: 'the resource is not in a state that allows this',
  413: 'the request body is too large',
  422: 'the request is understood but cannot be carried out',
  500: 'an internal error (details are logged, not returned)',
} as const;
export type ErrorCode = keyof typeof errorDescriptions;

/** The error responses a route declares; 401 and 500 are always possible. */
export function errors(...codes: ErrorCode[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const code of new Set<ErrorCode>([...codes, 401, 500])) {
    out[code] = Type.Object(ErrorBody.properties, { description: errorDescriptions[code] });
  }
  return out;
}

export const Instant = Type.String({ format: 'date-time', description: 'a UTC instant, ISO-8601' });
export const NullableInstant = Type.Union([Instant, Type.Null()]);

export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, description: 'a user id' }) });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: 'items per page' }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'nextCursor of the previous page' })),
};

export function PageOf<T extends TSchema>(item: T, description: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for the next page' }),
    },
    { description },
  );
}

export function toIso(d: Date): string;
export function toIso(d: Date | null): string | null;
export function toIso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
