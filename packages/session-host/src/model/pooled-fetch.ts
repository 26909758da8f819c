import { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { Agent, request } from "undici";

const DECODERS: Record<string, () => NodeJS.ReadWriteStream & Readable> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

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
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status: res.statusCode, headers });
  };
  return { fetch: pooledFetch as typeof fetch, close: () => agent.close() };
}
