/**
 * Agent feedback on prompts: `{"type":"ack","promptId":"…","action":"used"|"dismissed","callId"?:"…"}`
 * on the agent socket. The ack is recorded on the call — in the live
 * session (so the `summary` job carries it) and in Redis (so acks that come
 * after the call ended, or reach another instance, count in the kept summary
 * and the report). A later ack for the same prompt replaces the earlier one.
 *
 * The call is found from `callId` when given (every prompt message carries
 * it), else from this instance's live calls, else from the prompt index of
 * kept summaries. Replies `{"type":"ack-recorded",promptId,callId,action}`,
 * or `{"type":"error",code,message}` for a bad or unknown ack.
 */
import type { CallRegistry } from '../calls/call-registry.js';
import { PROMPT_FEEDBACK, type PromptFeedback } from '../calls/post-call-summary.js';
import type { SummaryStore } from '../calls/summary-store.js';
import type { AgentMessageHandler } from '../http/agent-socket.js';

export function createAckHandler(deps: { registry: CallRegistry; summaries?: SummaryStore | undefined }): AgentMessageHandler {
  return async (msg, ctx) => {
    const { promptId, action } = msg;
    const problems: string[] = [];
    if (typeof promptId !== 'string' || promptId.length === 0 || promptId.length > 600) problems.push('promptId must be the prompt message\'s promptId');
    if (!(PROMPT_FEEDBACK as readonly unknown[]).includes(action)) problems.push('action must be "used" or "dismissed"');
    if (msg.callId !== undefined && (typeof msg.callId !== 'string' || msg.callId.length === 0)) problems.push('callId, when given, must be the prompt\'s callId');
    if (problems.length > 0) {
      ctx.log.warn({ problems }, 'invalid prompt ack');
      ctx.reply({ type: 'error', code: 'UT_ERR_INVALID_ACK', message: problems.join('; ') });
      return;
    }
    const id = promptId as string;
    const feedback = action as PromptFeedback;

    let callId = typeof msg.callId === 'string' ? msg.callId : undefined;
    let session = callId !== undefined ? deps.registry.session(callId) : deps.registry.liveSessions().find((s) => s.hasPrompt(id));
    callId ??= session?.callId ?? (await deps.summaries?.callOfPrompt(id));
    if (callId === undefined) {
      ctx.log.warn({ promptId: id }, 'ack for an unknown prompt');
      ctx.reply({ type: 'error', code: 'UT_ERR_UNKNOWN_PROMPT', message: `no live or kept call sent prompt ${JSON.stringify(id)}; send its callId too` });
      return;
    }
    session ??= deps.registry.session(callId);
    const onLiveCall = session?.recordPromptFeedback(id, feedback) ?? false;
    await deps.summaries?.recordFeedback(callId, id, feedback);
    ctx.log.info({ callId, promptId: id, action: feedback, onLiveCall }, 'prompt ack recorded');
    ctx.reply({ type: 'ack-recorded', promptId: id, callId, action: feedback });
  };
}
