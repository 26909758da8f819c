import { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Agent, request } from "undici";

const DECODERS: Record<string, () => NodeJS.ReadWriteStream & Readable> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The Node stream under each body this fetch made, for readers that skip the web-stream layer. */
const NODE_BODIES = new WeakMap<ReadableStream<Uint8Array>, Readable>();

/**
 * The Node stream a {@link createPooledFetch} response body is made from, while nothing has read the web
 * body yet; undefined for any other body. Reading it directly ('data' events) costs no promise per
 * network chunk; the web body must then be left alone.
 */
export function nodeBodyOf(body: ReadableStream<Uint8Array>): Readable | undefined {
  const stream = NODE_BODIES.get(body);
  NODE_BODIES.delete(body);
  return stream;
}

/**
 * A web stream over `stream` that touches it only at its first read, so that a reader taking the Node
 * stream through {@link nodeBodyOf} finds it untouched (`Readable.toWeb` starts consuming at once).
 */
function lazyWebBody(stream: Readable): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const body: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (reader === undefined) {
          NODE_BODIES.delete(body);
          reader = (Readable.toWeb(stream) as ReadableStream<Uint8Array>).getReader();
        }
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel(reason) {
        NODE_BODIES.delete(body);
        if (reader !== undefined) await reader.cancel(reason);
        else stream.destroy();
      },
    },
    // No read ahead: the first pull is the first read.
    { highWaterMark: 0 },
  );
  NODE_BODIES.set(body, stream);
  return body;
}

/** Statuses whose responses carry no body (a `Response` must be built without one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for the OpenAI SDK over undici's `request` API and one keep-alive connection pool. The
 * WHATWG `fetch` runs every request through its spec machinery (a dozen promise hops, header guards,
 * body mixins); on the turn path that costs about a third of a millisecond and twice the CPU of a
 * plain request. The SDK needs only what this gives it: status, headers and a streaming body.
 * Bodies with a content coding (gzip, deflate, br) are decoded as fetch would; redirects are not
 * followed (the Responses API does not send them).
 */
export function createPooledFetch(opts: { connections?: number } = {}): { fetch: typeof fetch; close(): Promise<void> } {
  const agent = new Agent({ connections: opts.connections ?? null, keepAliveTimeout: 60_000 });
  const pooledFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) return fetch(input, init);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
      // Uploads (form data, streams) are not on the turn path: the platform's fetch handles them.
      return fetch(input, init);
    }
    const res = await request(input, {
      method: (init.method ?? "GET") as "GET",
      headers: Object.fromEntries(new Headers(init.headers)),
      body: body ?? null,
      signal: init.signal ?? undefined,
      dispatcher: agent,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.append(name, value);
    }
    if (NULL_BODY_STATUSES.has(res.statusCode)) {
      res.body.resume();
      return new Response(null, { status: res.statusCode, headers });
    }
    // As fetch does: a body sent with a content coding arrives decoded.
    const decode = DECODERS[(headers.get("content-encoding") ?? "").trim().toLowerCase()];
    let stream: Readable = res.body;
    if (decode !== undefined) {
      const decoder = decode();
      stream = res.body.pipe(decoder);
      res.body.once("error", (err) => decoder.destroy(err));
      headers.delete("content-encoding");
      headers.delete("content-length");
    }
    return new Response(lazyWebBody(stream), { status: res.statusCode, headers });
  };
  return { fetch: pooledFetch as typeof fetch, close: () => agent.close() };
}
