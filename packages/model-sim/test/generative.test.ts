import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startModelSim, type GenerativeOptions } from "@threadmesh/model-sim";
import { ofType, sdkClient, streamEvents } from "./sdk-client.ts";

const withSim = async (generative: GenerativeOptions, body: (sim: Awaited<ReturnType<typeof startModelSim>>) => Promise<void>): Promise<void> => {
  const sim = await startModelSim({ generative });
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
};

/** Streams one response over a raw HTTP request and counts its text deltas and socket reads. */
function rawStream(url: string, key: string): Promise<{ deltas: number; reads: number; completed: boolean }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: "m", input: "go", stream: true, prompt_cache_key: key });
    const req = request(`${url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let deltas = 0;
      let reads = 0;
      let tail = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        reads++;
        const text = tail + chunk;
        const cut = text.lastIndexOf("\n\n");
        const whole = cut < 0 ? "" : text.slice(0, cut);
        tail = cut < 0 ? text : text.slice(cut + 2);
        deltas += whole.split("event: response.output_text.delta\n").length - 1;
      });
      res.on("end", () => resolve({ deltas, reads, completed: tail === "" }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("model-sim generative mode", () => {
  test("text answers have tokensPerResponse word deltas", async () => {
    await withSim({ tokensPerResponse: 25 }, async (sim) => {
      const events = await streamEvents(sdkClient(sim), "g");
      const deltas = ofType(events, "response.output_text.delta");
      assert.equal(deltas.length, 25);
      assert.match(deltas.map((d) => d.delta).join(""), /^[A-Z][a-z]+( [a-z]+){23} [a-z]+\.$/);
      assert.equal(ofType(events, "response.completed")[0]!.response.usage!.output_tokens, 25);
    });
  });

  test("a shell call is never followed by another one in the same conversation", async () => {
    await withSim({ toolCallProbability: 1 }, async (sim) => {
      const client = sdkClient(sim);
      const first = await streamEvents(client, "tool", [{ role: "user", content: "run something" }]);
      const call = ofType(first, "response.output_item.done")[0]!.item;
      assert.ok(call.type === "function_call");
      assert.equal(call.name, "shell");
      assert.deepEqual(JSON.parse(call.arguments), { command: ["bash", "-lc", "echo hello"] });

      const history = [
        { role: "user", content: "run something" },
        { type: "function_call", name: "shell", call_id: call.call_id, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "hello\n" },
      ];
      const second = await streamEvents(client, "tool", history);
      assert.deepEqual(
        ofType(second, "response.output_item.done").map((e) => e.item.type),
        ["message"],
      );
    });
  });

  test("no shell call when the request's tools do not include shell", async () => {
    await withSim({ toolCallProbability: 1 }, async (sim) => {
      const stream = await sdkClient(sim).responses.create({
        model: "m",
        input: "hi",
        stream: true,
        tools: [{ type: "function", name: "other", parameters: { type: "object" }, strict: false }],
      });
      const types: string[] = [];
      for await (const ev of stream) if (ev.type === "response.output_item.added") types.push(ev.item.type);
      assert.deepEqual(types, ["message"]);
    });
  });

  test("a last user message `$ <command>` becomes an escalated shell call of that command", async () => {
    await withSim({ toolCallProbability: 0 }, async (sim) => {
      const stream = await sdkClient(sim).responses.create({
        model: "m",
        input: [{ role: "user", content: [{ type: "input_text", text: "$ touch /tmp/x && echo ok" }] }],
        stream: true,
      });
      const calls: Array<{ name: string; arguments: string }> = [];
      for await (const ev of stream) if (ev.type === "response.output_item.done" && ev.item.type === "function_call") calls.push(ev.item);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.name, "shell");
      assert.deepEqual(JSON.parse(calls[0]!.arguments), {
        command: ["bash", "-lc", "touch /tmp/x && echo ok"],
        sandbox_permissions: "require_escalated",
        justification: "You asked to run this command; it needs to run outside the sandbox.",
      });
    });
  });

  test("tokensPerSecond paces the deltas", async () => {
    await withSim({ tokensPerSecond: 200, tokensPerResponse: 21 }, async (sim) => {
      const started = performance.now();
      const stream = await sdkClient(sim).responses.create({ model: "m", input: "hi", stream: true });
      let last = 0;
      for await (const ev of stream) if (ev.type === "response.output_text.delta") last = performance.now() - started;
      // The last of 21 deltas is due 20 × 5 ms after the first; measured from before the request, this lower
      // bound holds however late the client reads (slack for timer rounding only).
      assert.ok(last >= 97, `last delta after ${last} ms`);
    });
  });

  test("as fast as possible, 100 concurrent streams complete with batched writes", async (t) => {
    await withSim({ tokensPerResponse: 2_000 }, async (sim) => {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => rawStream(sim.url, `c${i}`)));
      const seconds = (performance.now() - started) / 1000;
      for (const r of results) assert.deepEqual([r.deltas, r.completed], [2_000, true]);
      const reads = results.reduce((n, r) => n + r.reads, 0);
      // One socket read per delta would be 200,000; batching keeps it near one per 16 KB.
      assert.ok(reads < 20_000, `${reads} reads for 200,000 deltas`);
      t.diagnostic(`${Math.round(200_000 / seconds)} deltas/s, client and simulator in one process`);
    });
  });
});
