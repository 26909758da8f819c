/**
 * Runs `fn` once on SIGINT/SIGTERM, then `flush` (buffered telemetry such as spans; also after a failed
 * `fn`, whose spans are the ones worth keeping), then exits. A second signal exits at once.
 */
export function onShutdown(fn: () => Promise<void>, flush: () => Promise<void> = async () => {}): void {
  let stopping = false;
  const exit = (code: number) => void flush().finally(() => process.exit(code));
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    fn().then(
      () => exit(0),
      (e: unknown) => {
        console.error(`shutdown after ${signal} failed:`, e);
        exit(1);
      },
    );
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
