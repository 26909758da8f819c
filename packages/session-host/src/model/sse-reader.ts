/**
 * Reads a `text/event-stream` body and hands each event's `data` to `onData`, synchronously, for every
 * event complete in a network chunk: one await per chunk, not per event, which keeps the delta path
 * cheap (a chunk usually carries many events). Lines end with LF or CRLF; `event:`, `id:` and comment
 * lines are ignored (Responses API events name their type in the data). Resolves when the body ends or
 * `onData` returns true (stop); rejects with the body's read error (abort, connection reset).
 * `chunk.start`/`chunk.end` bracket the events of each network chunk (`end` also runs when `onData` throws).
 */
export async function readSseData(
  body: ReadableStream<Uint8Array>,
  onData: (data: string) => boolean | void,
  chunk?: { start(): void; end(): void },
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      if (buf.indexOf("\r") >= 0) buf = normalizeNewlines(buf);
      let start = 0;
      let end: number;
      chunk?.start();
      try {
        while ((end = buf.indexOf("\n\n", start)) >= 0) {
          const data = dataOf(buf, start, end);
          start = end + 2;
          if (data !== null && onData(data) === true) return;
        }
      } finally {
        chunk?.end();
      }
      buf = start === 0 ? buf : buf.slice(start);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The joined `data:` lines of the event in `buf[start, end)`, or null when it has none. */
function dataOf(buf: string, start: number, end: number): string | null {
  let data: string | null = null;
  let line = start;
  while (line < end) {
    let eol = buf.indexOf("\n", line);
    if (eol < 0 || eol > end) eol = end;
    if (buf.startsWith("data:", line)) {
      const from = buf.charCodeAt(line + 5) === 32 ? line + 6 : line + 5;
      const chunk = buf.slice(from, eol);
      data = data === null ? chunk : `${data}\n${chunk}`;
    }
    line = eol + 1;
  }
  return data;
}

/** CRLF → LF; a trailing CR is kept until its LF arrives with the next chunk. */
function normalizeNewlines(s: string): string {
  const held = s.endsWith("\r");
  const body = (held ? s.slice(0, -1) : s).replace(/\r\n?/g, "\n");
  return held ? `${body}\r` : body;
}
