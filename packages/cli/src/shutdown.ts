/**
 * Runs `fn` once on SIGINT/SIGTERM, then exits. A second signal exits at once.
 */
export function onShutdown(fn: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    fn().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`shutdown after ${signal} failed:`, e);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
