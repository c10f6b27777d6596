import { parseArgs } from 'node:util';
import { loadCallAudioAsMuLaw } from '../audio/load-call-audio.js';
import { streamTwilioCall } from '../gateway-sim/twilio-stream-client.js';
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
  if (problems.length > 0 || !values.url || !values.agent || !positionals[0]) {
    process.stderr.write(`replay: ${problems.join('; ')}\n\n${HELP}`);
    return 2;
  }

  const file = positionals[0];
  const mulaw = await loadCallAudioAsMuLaw(file);
  const totalMs = (mulaw.length / 8000) * 1000;
  const progress = createProgress({ label: `replay ${file}`, total: totalMs, unit: 'ms' });
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
