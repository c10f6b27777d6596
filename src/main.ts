#!/usr/bin/env node
/**
 * Command-line entry. Each sub-command lives in src/cli/<name>.ts and exports
 * `run(argv): Promise<number>` (the exit code); they are imported lazily so
 * `replay` does not load the ONNX runtime and `serve` does not load training code.
 */
type Command = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the HTTP/WebSocket server and the routing worker', load: () => import('./cli/serve.js') },
  worker: { summary: 'run a routing worker only (servers then run with RUN_WORKER=false)', load: () => import('./cli/worker.js') },
  demo: { summary: 'stream the demo calls through the whole chain and print the timeline', load: () => import('./cli/demo.js') },
  replay: { summary: 'stream a WAV file to a server as a Twilio gateway would', load: () => import('./cli/replay.js') },
  eval: { summary: 'score a manifest of labelled clips through the live path and report UAR', load: () => import('./cli/eval.js') },
  'train-features': { summary: 'extract training windows from a manifest (used by npm run train)', load: () => import('./cli/train-features.js') },
  report: { summary: 'survey scores and recovery times per tier reached and per prompt used/dismissed (kept summaries)', load: () => import('./cli/report.js') },
  simulate: { summary: 'run recorded calls through the pipeline with a candidate policy file and print its events', load: () => import('./cli/simulate.js') },
  bench: { summary: 'measure per-call cost, inference latency and memory', load: () => import('./cli/bench.js') },
  token: { summary: 'print a JWT for an agent, supervisor, gateway or admin (signed with JWT_SECRET)', load: () => import('./cli/token.js') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: undertone <command> [options]\n\ncommands:\n${rows.join('\n')}\n`;
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`undertone: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    if (e.code?.startsWith('ERR_PARSE_ARGS_')) {
      // node:util parseArgs: an unknown flag or a missing value is a usage error.
      process.stderr.write(`undertone ${process.argv[2]}: ${e.message} (see --help)\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`undertone: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
