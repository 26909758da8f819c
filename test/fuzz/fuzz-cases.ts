import { randomUUID } from "node:crypto";
import type { Prng } from "./prng.ts";

/** Limits the fuzzed server runs with (environment of `threadmesh dev`). */
export const FUZZ_LIMITS = {
  THREADMESH_MAX_JSON_DEPTH: 32,
  THREADMESH_MAX_INSTRUCTIONS_CHARS: 4096,
  THREADMESH_MAX_INPUT_CHARS: 8192,
  THREADMESH_MAX_THREAD_NAME_CHARS: 64,
  THREADMESH_MAX_PAGE_SIZE: 10,
  THREADMESH_MAX_THREADS_PER_CONNECTION: 3,
  THREADMESH_MAX_REQUEST_ID_CHARS: 64,
  THREADMESH_MAX_FRAME_BYTES: 256 * 1024,
} as const;

/**
 * What the server must answer for each class of frame: the error code (or a result, or nothing), and
 * whether the answer carries the request's id or id null.
 */
export const EXPECTED = {
  unknownMethod: { answer: -32601, id: "echo" },
  wrongType: { answer: -32602, id: "echo" },
  missingParams: { answer: -32602, id: "echo" },
  fieldTooLarge: { answer: -32602, id: "echo" },
  inputTooLarge: { answer: -32602, id: "echo" },
  badPageLimit: { answer: -32602, id: "echo" },
  invalidThreadId: { answer: -32600, id: "echo" },
  unknownThread: { answer: -32600, id: "echo" },
  tooDeep: { answer: -32600, id: "echo" },
  wrongJsonrpc: { answer: -32600, id: "echo" },
  missingMethod: { answer: -32600, id: "echo" },
  pageClamped: { answer: "result", id: "echo" },
  deepWithinLimit: { answer: "result", id: "echo" },
  foreignId: { answer: "result", id: "echo" },
  duplicateId: { answer: "result", id: "echo" },
  malformedJson: { answer: -32700, id: "null" },
  invalidId: { answer: -32600, id: "null" },
  ignoredId: { answer: "none", id: "none" },
  tooDeepInvalidId: { answer: -32600, id: "null" },
  batch: { answer: -32600, id: "null" },
  binary: { answer: -32600, id: "null" },
  notification: { answer: "none", id: "none" },
  clientAnswer: { answer: "none", id: "none" },
} as const satisfies Record<string, { answer: number | "result" | "none"; id: "echo" | "null" | "none" }>;
export type CaseClass = keyof typeof EXPECTED;

/** One fuzz frame: what is sent, and how many answers with its id (`idText`) must come back. */
export interface FuzzCase {
  readonly cls: CaseClass;
  /** Frames sent in order (two for a duplicated id). */
  readonly frames: ReadonlyArray<string | Buffer>;
  readonly binary: boolean;
  /** Echo text of the id, for classes answered with the id. */
  readonly idText?: string;
  /** Answers expected with `idText` (2 for a duplicated id). */
  readonly answers: number;
}

const CLASSES = Object.keys(EXPECTED) as CaseClass[];

/** Builds frames with unique ids (except deliberate duplicates), of every id shape a client may use. */
export class CaseFactory {
  #n = 0;
  constructor(private readonly rnd: Prng, private readonly tag: string) {}

  next(): FuzzCase {
    return this.make(this.rnd.pick(CLASSES));
  }

  make(cls: CaseClass): FuzzCase {
    const r = this.rnd;
    switch (cls) {
      case "unknownMethod":
        return this.#req(cls, r.pick(["no/such/method", "thread/Start", "", "mesh/serverRequest/respond", "threadmesh/x", "\u0000"]), "{}");
      case "wrongType":
        return this.#req(
          cls,
          ...r.pick<[string, string]>([
            ["thread/list", `{"limit":"10"}`],
            ["thread/start", `{"sandbox":"bogus"}`],
            ["thread/start", `{"cwd":7}`],
            ["turn/start", `{"threadId":5,"input":[]}`],
            ["turn/start", `{"threadId":"${randomUUID()}","input":"text"}`],
            ["thread/list", `{"sortDirection":1}`],
            ["thread/read", `{"threadId":null}`],
            ["thread/list", "[]"],
            ["thread/list", "7"],
          ]),
        );
      case "missingParams":
        return this.#req(cls, r.pick(["thread/start", "thread/list", "thread/read", "turn/start"]), r.pick([undefined, "null"]));
      case "fieldTooLarge": {
        const field = r.pick(["developerInstructions", "baseInstructions"]);
        const method = r.pick(["thread/start", "thread/resume", "thread/fork"]);
        const big = "x".repeat(r.int(FUZZ_LIMITS.THREADMESH_MAX_INSTRUCTIONS_CHARS + 1, 60_000));
        if (r.next() < 0.3) return this.#req(cls, "thread/name/set", JSON.stringify({ threadId: randomUUID(), name: "n".repeat(r.int(65, 5000)) }));
        return this.#req(cls, method, JSON.stringify({ threadId: randomUUID(), [field]: big }));
      }
      case "inputTooLarge":
        return this.#req(cls, r.pick(["turn/start", "turn/steer"]), JSON.stringify({ threadId: randomUUID(), expectedTurnId: "t", input: [{ type: "text", text: "é".repeat(r.int(8193, 30_000)) }] }));
      case "badPageLimit":
        return this.#req(cls, r.pick(["thread/list", "thread/loaded/list", "model/list"]), `{"limit":${r.pick(["-1", "1.5", "-0.5", "4294967296", "1e400", '"5"', "true"])}}`);
      case "invalidThreadId":
        return this.#req(cls, r.pick(["thread/read", "turn/interrupt", "thread/resume"]), JSON.stringify({ threadId: r.pick(["not-a-uuid", "", "../../etc/passwd", "x".repeat(300)]), turnId: "t" }));
      case "unknownThread":
        return this.#req(cls, "thread/read", JSON.stringify({ threadId: randomUUID() }));
      case "tooDeep": {
        const d = r.int(FUZZ_LIMITS.THREADMESH_MAX_JSON_DEPTH, 100_000);
        return this.#req(cls, r.pick(["thread/list", "thread/start", "no/such"]), `{"x":${"[".repeat(d)}${"]".repeat(d)}}`);
      }
      case "tooDeepInvalidId": {
        const d = r.int(FUZZ_LIMITS.THREADMESH_MAX_JSON_DEPTH, 30_000);
        return this.#null(cls, `{"id":${r.pick(["1.5", "null", "{}", "[]", "true", `"${"i".repeat(65)}"`])},"method":"thread/list","params":${"{\"a\":".repeat(d)}1${"}".repeat(d)}}`);
      }
      case "wrongJsonrpc":
        return this.#req(cls, "thread/list", "{}", `"jsonrpc":${r.pick(['"1.0"', "2", "null"])}`);
      case "missingMethod": {
        const id = this.#id();
        return { cls, frames: [`{"id":${id.literal},"params":{}}`], binary: false, idText: id.idText, answers: 1 };
      }
      case "pageClamped":
        return this.#req(cls, r.pick(["thread/list", "thread/loaded/list", "model/list"]), `{"limit":${r.pick(["1000000000", "4294967295", "11", "100"])}}`);
      case "deepWithinLimit": {
        const d = r.int(1, FUZZ_LIMITS.THREADMESH_MAX_JSON_DEPTH - 3);
        return this.#req(cls, "thread/list", `{"extra":${"[".repeat(d)}${"]".repeat(d)}}`);
      }
      case "foreignId":
        return this.#req(cls, "model/list", "{}");
      case "duplicateId": {
        const id = this.#id();
        const f = `{"id":${id.literal},"method":"model/list","params":{}}`;
        return { cls, frames: [f, f], binary: false, idText: id.idText, answers: 2 };
      }
      case "malformedJson":
        return this.#null(cls, r.pick(["{", "{nope", '{"id":1,"method":"x"', "", " ", '{"id":1}{"id":2}', "\u00ff\u0000", '{"id":1,"method":"x","params":{}}\n{"id":2}', "[1,]"]));
      case "invalidId":
        // A string or integer id beyond the id limit: refused with id null, so its sender is not left waiting.
        return this.#null(cls, `{"id":${r.pick([`"${"i".repeat(65)}"`, "123456789012345678901234567890"])},"method":"thread/list","params":{}}`);
      case "ignoredId":
        // An id that is neither a string nor an integer is no id at all: ignored, as Codex does.
        return this.#null(cls, `{"id":${r.pick(["1.5", "null", "{}", "[]", "true"])},"method":"thread/list","params":{}}`);
      case "batch":
        return this.#null(cls, `[${r.pick(["", '{"id":1,"method":"model/list","params":{}}', "1,2"])}]`);
      case "binary":
        return { cls, frames: [Buffer.from(`{"id":1,"method":"model/list","params":{}}`)], binary: true, answers: 0 };
      case "notification":
        return { cls, frames: [JSON.stringify({ method: r.pick(["initialized", "thread/list", "no/such"]), params: { x: 1 } })], binary: false, answers: 0 };
      case "clientAnswer": {
        const id = `"answer-${this.tag}-${this.#n++}"`;
        return { cls, frames: [r.pick([`{"id":${id},"result":{}}`, `{"id":${id},"error":{"code":1,"message":"x"}}`])], binary: false, idText: id, answers: 0 };
      }
    }
  }

  /** A request frame with a fresh id, members in a random order. */
  #req(cls: CaseClass, method: string, params: string | undefined, extra?: string): FuzzCase {
    const id = this.#id();
    const members = [`"id":${id.literal}`, `"method":${JSON.stringify(method)}`];
    if (params !== undefined) members.push(`"params":${params}`);
    if (extra !== undefined) members.push(extra);
    for (let i = members.length - 1; i > 0; i--) {
      const j = this.rnd.int(0, i);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    return { cls, frames: [`{${members.join(",")}}`], binary: false, idText: id.idText, answers: 1 };
  }

  #null(cls: CaseClass, frame: string): FuzzCase {
    return { cls, frames: [frame], binary: false, answers: 0 };
  }

  /** A fresh id: small, negative and big integers, plain, unicode and escaped strings. */
  #id(): { literal: string; idText: string } {
    const n = this.#n++;
    switch (this.rnd.int(0, 5)) {
      case 0:
        return { literal: String(n), idText: String(n) };
      case 1:
        return { literal: String(-n - 1), idText: String(-n - 1) };
      case 2: {
        const big = String(9007199254740993n + BigInt(n) * 7919n);
        return { literal: big, idText: big };
      }
      case 3: {
        const s = JSON.stringify(`fz-${this.tag}-${n}`);
        return { literal: s, idText: s };
      }
      case 4: {
        const s = JSON.stringify(`fü-${this.tag}-${n}-✓"\\`);
        return { literal: s, idText: s };
      }
      default:
        return { literal: `"fe\\u002d${this.tag}-${n}"`, idText: JSON.stringify(`fe-${this.tag}-${n}`) };
    }
  }
}
