/** One live status line on a terminal (rewritten in place once a second); nothing when stdout is not a TTY. */
import type { Recorder } from "./recorder.ts";
import { pct } from "./recorder.ts";

export function startProgress(recorder: Recorder, label: string, totalS: number, vus: () => number): () => void {
  if (!process.stdout.isTTY) return () => {};
  let lastDeltas = 0;
  const timer = setInterval(() => {
    const t = recorder.totals;
    const rate = t.tm_deltas - lastDeltas;
    lastDeltas = t.tm_deltas;
    const ttfd = [...recorder.recentTtfd].sort((a, b) => a - b);
    const line =
      `${label} ${(recorder.elapsedMs() / 1000).toFixed(0)}s/${totalS}s  vus ${vus()}  turns ${t.tm_turns_started} ` +
      `active ${t.tm_turns_started - t.tm_turns_ended} done ${t.tm_turns_completed}  deltas ${t.tm_deltas} (+${rate}/s)  ` +
      `ttfd p99 ${ttfd.length ? pct(ttfd, 99).toFixed(0) : "-"} ms  gaps ${t.tm_replay_gaps}  errors ${t.tm_errors}`;
    process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns || 160) - 1)}`);
  }, 1_000);
  return () => {
    clearInterval(timer);
    process.stdout.write("\r\x1b[2K");
  };
}
