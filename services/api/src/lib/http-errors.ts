// Errors a handler throws to answer 4xx; the error handler turns them into { error, message }.
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const unprocessable = (message: string) => new HttpError(422, 'unprocessable', message);
export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
