/**
 * Every HTTP error leaves as `{ error: 'UT_ERR_…', message }` with a fitting
 * status. Undertone's own errors carry their code; fastify's 4xx keep their
 * message; anything unexpected is a 500 whose details stay in the log.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError, UndertoneError } from '../shared/errors.js';

export interface ErrorBody {
  error: string;
  message: string;
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler<FastifyError | Error>((error, request, reply) => {
    if (error instanceof HttpError) {
      reply.code(error.statusCode).send({ error: error.code, message: error.message } satisfies ErrorBody);
      return;
    }
    const status = (error as FastifyError).statusCode;
    if (!(error instanceof UndertoneError) && typeof status === 'number' && status >= 400 && status < 500) {
      // fastify's own client errors (bad JSON body, validation, too large, …)
      const code = (error as FastifyError).code ? `UT_ERR_HTTP_${(error as FastifyError).code}` : 'UT_ERR_BAD_REQUEST';
      reply.code(status).send({ error: code, message: error.message } satisfies ErrorBody);
      return;
    }
    request.log.error({ err: error }, 'request failed');
    const code = error instanceof UndertoneError ? error.code : 'UT_ERR_INTERNAL';
    reply.code(500).send({ error: code, message: 'internal error; see server logs' } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'UT_ERR_ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody);
  });
}
