/**
 * Upgrade-time authentication for `/v1/streams/audiohook`: a preValidation
 * hook that checks the request's HTTP Message Signature against
 * `AUDIOHOOK_API_KEYS` before the WebSocket upgrade happens, so a refused
 * client gets a plain HTTP 401 and never a socket (as Genesys expects).
 */
import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { Config } from '../config/config.js';
import { checkAudiohookSignature } from '../ingest/audiohook-signature.js';
import type { ErrorBody } from './error-handler.js';

/** Options for tests: a fixed clock (unix seconds). */
export interface AudiohookAuthOptions {
  nowS?: () => number;
}

export function audiohookUpgradeCheck(config: Config, options: AudiohookAuthOptions = {}): preValidationAsyncHookHandler {
  return async function verifyAudiohookUpgrade(request: FastifyRequest, reply: FastifyReply) {
    const result = checkAudiohookSignature(
      { method: request.method, url: request.url, headers: request.headers },
      { keys: config.audiohookApiKeys, ...(options.nowS ? { nowS: options.nowS() } : {}) },
    );
    if (result.ok) {
      request.log.info({ signed: result.signed, sessionId: request.headers['audiohook-session-id'] }, 'AudioHook upgrade authenticated');
      return;
    }
    request.log.warn({ reason: result.reason, sessionId: request.headers['audiohook-session-id'] }, 'AudioHook upgrade refused');
    await reply.code(401).send({ error: 'UT_ERR_UNAUTHORIZED', message: `AudioHook authentication failed: ${result.reason}` } satisfies ErrorBody);
  };
}
