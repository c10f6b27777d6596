import { parseArgs } from 'node:util';
import { loadCallAudioAsMuLaw } from '../audio/load-call-audio.js';
import { streamTwilioCall } from '../gateway-sim/twilio-stream-client.js';
import { streamAudiohookCall } from '../gateway-sim/audiohook-stream-client.js';
import { streamL16Call, type L16Flavour } from '../gateway-sim/l16-stream-client.js';
import { muLawToFloat } from '../audio/g711.js';
import { randomUUID } from 'node:crypto';
import { createProgress } from './progress.js';

const HELP = `usage: npm run replay -- --url ws://HOST:PORT/v1/streams/twilio --agent ID [--speed N] [--language L] [--call-sid ID] FILE.wav

Streams a WAV file (8 kHz mu-law, or 16-bit PCM / A-law at any rate, which is
converted) to an Undertone server exactly as a Twilio Media Streams gateway
would: connected, start, 20 ms media messages paced in real time times N, stop.

  --url URL        the server's Twilio stream endpoint (required)
  --agent ID       agent id sent as customParameters.agentId (required)
  --speed N        playback speed multiplier (default 1; 'max' = unpaced)
  --language L     script language sent as customParameters.language (e.g. en-US, zh-CN)
  --call-sid ID    call id sent as start.callSid (default: random CA…)
  --token JWT      gateway token sent as customParameters.token (servers with AUTH on;
                   mint one with: npm run token -- --role gateway --sub my-gateway)

Other gateways (default --protocol twilio):
  --protocol audiohook   Genesys AudioHook to /v1/streams/audiohook: signed
                         upgrade, open/opened, PCMU audio, close/closed;
                         --api-key K and --client-secret S (base64; "" = unsigned);
                         the call id is a random conversationId unless --call-sid is a UUID
  --protocol l16         L16 stream to /v1/streams/l16: --flavour vonage|jambonz|mod_audio_fork
                         (default vonage), --rate 8000|16000 (default 16000)
`;

/** `undertone replay`: a Twilio gateway in a command, for testing a deployment. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      agent: { type: 'string' },
      speed: { type: 'string', default: '1' },
      language: { type: 'string' },
      'call-sid': { type: 'string' },
      token: { type: 'string' },
      protocol: { type: 'string', default: 'twilio' },
      'api-key': { type: 'string' },
      'client-secret': { type: 'string' },
      flavour: { type: 'string', default: 'vonage' },
      rate: { type: 'string', default: '16000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const problems: string[] = [];
  if (!values.url) problems.push('--url is required');
  if (!values.agent) problems.push('--agent is required');
  if (positionals.length !== 1) problems.push('give exactly one WAV file');
  const speed = values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) problems.push(`--speed must be a positive number or 'max', got '${values.speed}'`);
  const protocol = values.protocol;
  if (protocol !== 'twilio' && protocol !== 'audiohook' && protocol !== 'l16') problems.push(`--protocol must be twilio, audiohook or l16, got '${protocol}'`);
  if (protocol === 'audiohook' && (values['api-key'] === undefined || values['client-secret'] === undefined)) problems.push('--protocol audiohook needs --api-key and --client-secret');
  const flavour = values.flavour as L16Flavour;
  if (protocol === 'l16' && !['vonage', 'jambonz', 'mod_audio_fork'].includes(flavour)) problems.push(`--flavour must be vonage, jambonz or mod_audio_fork, got '${flavour}'`);
  const rate = Number(values.rate);
  if (protocol === 'l16' && rate !== 8000 && rate !== 16000) problems.push(`--rate must be 8000 or 16000, got '${values.rate}'`);
  if (problems.length > 0 || !values.url || !values.agent || !positionals[0]) {
    process.stderr.write(`replay: ${problems.join('; ')}\n\n${HELP}`);
    return 2;
  }

  const file = positionals[0];
  const mulaw = await loadCallAudioAsMuLaw(file);
  const totalMs = (mulaw.length / 8000) * 1000;
  const progress = createProgress({ label: `replay ${file}`, total: totalMs, unit: 'ms' });
  if (protocol === 'audiohook') {
    const callSid = values['call-sid'];
    const r = await streamAudiohookCall({
      url: values.url,
      mulaw,
      apiKey: values['api-key']!,
      clientSecret: values['client-secret']!,
      agentId: values.agent,
      speed,
      ...(callSid !== undefined && /^[0-9a-f-]{36}$/i.test(callSid) ? { conversationId: callSid } : {}),
      ...(values.language !== undefined ? { language: values.language } : {}),
      onProgress: (sentMs) => progress.update(sentMs),
    });
    progress.done();
    const last = r.received.at(-1);
    process.stdout.write(`replay: AudioHook conversation ${r.conversationId} (session ${r.sessionId}): ${(r.sentMs / 1000).toFixed(1)} s of audio sent; server said ${r.received.map((m) => m.type).join(', ')}\n`);
    return last?.type === 'closed' && !r.received.some((m) => m.type === 'disconnect') ? 0 : 1;
  }
  if (protocol === 'l16') {
    const callId = values['call-sid'] ?? randomUUID();
    const r = await streamL16Call({
      url: values.url,
      samples8k: muLawToFloat(mulaw),
      sampleRate: rate,
      flavour,
      callId,
      agentId: values.agent,
      speed,
      ...(values.language !== undefined ? { language: values.language } : {}),
      onProgress: (sentMs) => progress.update(sentMs),
    });
    progress.done();
    process.stdout.write(`replay: L16 (${flavour}, ${rate} Hz) call ${callId}: ${(r.sentMs / 1000).toFixed(1)} s of audio sent\n`);
    if (r.closedByServer && r.closedByServer.code !== 1000) {
      process.stderr.write(`replay: server closed the stream: ${r.closedByServer.code} ${r.closedByServer.reason}\n`);
      return 1;
    }
    return 0;
  }
  const result = await streamTwilioCall({
    url: values.url,
    mulaw,
    agentId: values.agent,
    speed,
    ...(values.language !== undefined ? { language: values.language } : {}),
    ...(values['call-sid'] !== undefined ? { callSid: values['call-sid'] } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    onProgress: (sentMs) => progress.update(sentMs),
  });
  progress.done();
  process.stdout.write(`replay: call ${result.callSid} (stream ${result.streamSid}): ${(result.sentMs / 1000).toFixed(1)} s of audio sent\n`);
  if (result.closedByServer && result.closedByServer.code !== 1000) {
    process.stderr.write(`replay: server closed the stream: ${result.closedByServer.code} ${result.closedByServer.reason}\n`);
    return 1;
  }
  return 0;
}
