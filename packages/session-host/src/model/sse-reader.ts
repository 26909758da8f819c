import { createParser } from "eventsource-parser";

/**
 * Reads a `text/event-stream` body and hands each event's `data` to `onData`, synchronously, for every
 * event complete in a network chunk: one await per chunk, not per event, which keeps the delta path
 * cheap (a chunk usually carries many events). Parsing is `eventsource-parser`'s (LF or CRLF, multi-line
 * data, comments; events without data are skipped). Resolves when the body ends or `onData` returns
 * true (stop; the rest of the body is cancelled); rejects with the body's read error (abort, reset).
 * `chunk.start`/`chunk.end` bracket the events of each network chunk (`end` also runs when `onData` throws).
 */
export async function readSseData(
  body: AsyncIterable<Uint8Array>,
  onData: (data: string) => boolean | void,
  chunk?: { start(): void; end(): void },
): Promise<void> {
  const decoder = new TextDecoder();
  let stopped = false;
  const parser = createParser({
    onEvent: (event) => {
      if (!stopped && onData(event.data) === true) stopped = true;
    },
  });
  // Leaving the loop (stop or throw) cancels the body.
  for await (const value of body) {
    chunk?.start();
    try {
      parser.feed(decoder.decode(value, { stream: true }));
    } finally {
      chunk?.end();
    }
    if (stopped) return;
  }
}
