import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createParser } from "eventsource-parser";

/**
 * Reads a `text/event-stream` body and hands each event's `data` to `onData`, synchronously, for every
 * event complete in a network chunk: a web body costs one await per chunk, a Node stream none (its
 * 'data' events are read as they come), never one per event. Parsing is `eventsource-parser`'s (LF or
 * CRLF, multi-line data, comments; events without data are skipped). Resolves when the body ends or
 * `onData` returns true (stop; the rest of the body is cancelled); rejects with the body's read error
 * (abort, reset) or what `onData` threw (the body is then cancelled too).
 * `chunk.start`/`chunk.end` bracket the events of each network chunk (`end` also runs when `onData` throws).
 */
export async function readSseData(
  body: AsyncIterable<Uint8Array> | Readable,
  onData: (data: string) => boolean | void,
  chunk?: { start(): void; end(): void },
): Promise<void> {
  let stopped = false;
  const parser = createParser({
    onEvent: (event) => {
      if (!stopped && onData(event.data) === true) stopped = true;
    },
  });
  const feed = (text: string): void => {
    chunk?.start();
    try {
      parser.feed(text);
    } finally {
      chunk?.end();
    }
  };
  if (isReadable(body)) return readNodeStream(body, feed, () => stopped);
  const decoder = new TextDecoder();
  // Leaving the loop (stop or throw) cancels the body.
  for await (const value of body) {
    feed(decoder.decode(value, { stream: true }));
    if (stopped) return;
  }
}

function isReadable(body: AsyncIterable<Uint8Array> | Readable): body is Readable {
  return typeof (body as Readable).pipe === "function" && typeof (body as Readable).on === "function";
}

const ignore = (): void => {};

/** How long the rest of a stopped body may take to arrive before its connection is dropped, in ms. */
const DISCARD_WITHIN_MS = 1_000;

/**
 * Lets what follows the stop in a body (its end, usually in the same read) arrive and go unread, so the
 * keep-alive connection goes back to the pool instead of being torn down and reopened (a TCP, on a
 * provider a TLS, handshake per model request). A body that has not ended within
 * {@link DISCARD_WITHIN_MS} is destroyed.
 */
function discardRest(body: Readable): void {
  if (body.readableEnded || body.destroyed) return;
  const timer = setTimeout(() => body.destroy(), DISCARD_WITHIN_MS);
  const done = (): void => clearTimeout(timer);
  body.once("end", done);
  body.once("close", done);
  body.on("data", ignore);
}

/** Feeds the stream's text as it arrives until it ends, fails, or `stopped()` turns true (then destroys it). */
function readNodeStream(body: Readable, feed: (text: string) => void, stopped: () => boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown): void => {
      if (settled) return;
      settled = true;
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", settle);
      body.off("close", onClose);
      // An error the stream reports later (a late abort) must not go unheard.
      body.on("error", ignore);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (bytes: Buffer | string): void => {
      try {
        feed(typeof bytes === "string" ? bytes : decoder.write(bytes));
      } catch (err) {
        settle(err);
        body.destroy();
        return;
      }
      if (stopped()) {
        settle(undefined);
        discardRest(body);
      }
    };
    const onEnd = (): void => settle(undefined);
    // A stream destroyed without an error before its end (nothing else reports that).
    const onClose = (): void => settle(body.readableEnded ? undefined : (body.errored ?? new Error("the response body closed before its end")));
    // UTF-8 split across chunks is joined by the decoder (undici's bodies ignore setEncoding).
    const decoder = new StringDecoder("utf8");
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", settle);
    body.once("close", onClose);
  });
}
