import { DEFAULT_HOST } from "./http-model-sim.ts";
import type { GenerativeOptions } from "./generate-response.ts";
import type { ModelSim, ModelSimOptions } from "./model-sim.ts";
import { startModelSim } from "./start-model-sim.ts";

/** Port the CLI binds when `--port` is not given: any free port (the URL is printed). */
export const DEFAULT_CLI_PORT = 0;
/** CLI defaults are for watching a demo: a readable pace and an occasional tool call. */
const DEFAULT_CLI_GENERATIVE = {
  tokensPerSecond: 60,
  ttftMs: 200,
  tokensPerResponse: 40,
  toolCallProbability: 0.2,
} as const satisfies GenerativeOptions;

/** Bad command-line flags; `problems` lists every one. */
export class ModelSimArgsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`${problems.join("\n")}\nrun with --help for usage`);
    this.name = "ModelSimArgsError";
    this.problems = problems;
  }
}

/** Where the CLI prints. Default: `console.log`. */
export interface ModelSimCliIo {
  out?: (line: string) => void;
}

const USAGE = `usage: threadmesh model-sim [flags]

Serves a simulated OpenAI Responses API at http://HOST:PORT/v1 (scripts via POST /_sim/script).

  --port N                   TCP port, 0 = any free port (default ${DEFAULT_CLI_PORT})
  --host ADDR                interface to bind (default ${DEFAULT_HOST})
  --tokens-per-second N      delta pace per stream, 0 or inf = as fast as possible
                             (default ${DEFAULT_CLI_GENERATIVE.tokensPerSecond})
  --ttft-ms N                delay before each response's first byte, ms (default ${DEFAULT_CLI_GENERATIVE.ttftMs})
  --tokens-per-response N    word deltas per text response (default ${DEFAULT_CLI_GENERATIVE.tokensPerResponse})
  --tool-call-probability P  chance 0..1 of answering with a shell call
                             (default ${DEFAULT_CLI_GENERATIVE.toolCallProbability})
  --help                     show this help`;

const FLAG_NAMES = ["port", "host", "tokens-per-second", "ttft-ms", "tokens-per-response", "tool-call-probability"] as const;
type Flag = (typeof FLAG_NAMES)[number];
const FLAGS = new Set<string>(FLAG_NAMES);

/**
 * Runs the simulator from command-line flags and prints `model-sim listening on <url>`. Resolves with the
 * running simulator (the caller owns shutdown), or `undefined` after `--help`. Throws
 * {@link ModelSimArgsError} listing every bad flag.
 */
export async function runModelSimCli(argv: readonly string[], io: ModelSimCliIo = {}): Promise<ModelSim | undefined> {
  const out = io.out ?? ((line: string) => console.log(line));
  const parsed = parseArgs(argv);
  if (parsed === "help") {
    out(USAGE);
    return undefined;
  }
  const sim = await startModelSim(parsed);
  out(`model-sim listening on ${sim.url}`);
  return sim;
}

function parseArgs(argv: readonly string[]): ModelSimOptions | "help" {
  const problems: string[] = [];
  const values = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !FLAGS.has(m[1]!)) {
      problems.push(`unknown argument: ${arg}`);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) problems.push(`--${m[1]}: missing value`);
    else values.set(m[1] as Flag, value);
  }
  const num = (flag: Flag, ok: (n: number) => boolean, expected: string): number | undefined => {
    const raw = values.get(flag);
    if (raw === undefined) return undefined;
    const n = /^(inf|infinity)$/i.test(raw) ? Infinity : raw.trim() === "" ? NaN : Number(raw);
    if (!ok(n)) problems.push(`--${flag}: expected ${expected}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const port = num("port", (n) => Number.isInteger(n) && n >= 0 && n <= 65535, "an integer 0-65535");
  const generative: GenerativeOptions = { ...DEFAULT_CLI_GENERATIVE };
  const tps = num("tokens-per-second", (n) => n >= 0, "a number >= 0 or inf");
  if (tps !== undefined) generative.tokensPerSecond = tps;
  const ttft = num("ttft-ms", (n) => Number.isFinite(n) && n >= 0, "a number >= 0");
  if (ttft !== undefined) generative.ttftMs = ttft;
  const tokens = num("tokens-per-response", (n) => Number.isInteger(n) && n >= 1, "an integer >= 1");
  if (tokens !== undefined) generative.tokensPerResponse = tokens;
  const p = num("tool-call-probability", (n) => n >= 0 && n <= 1, "a number 0..1");
  if (p !== undefined) generative.toolCallProbability = p;
  const host = values.get("host");
  if (host === "") problems.push("--host: expected an address");
  if (problems.length > 0) throw new ModelSimArgsError(problems);
  return { port: port ?? DEFAULT_CLI_PORT, host: host ?? DEFAULT_HOST, generative };
}
