/**
 * A small evaluator of Go's text/template language with the Helm and Sprig functions the chart in
 * helm/threadmesh uses, so the chart's templates render in a test without a `helm` binary. It follows
 * text/template's semantics where the chart relies on them (trim markers, scoping of variables, truth,
 * `and`/`or` returning operands, `range` over sorted map keys, nil field access being an error, values
 * as float64 printed the way `%v` prints them); anything outside the subset throws rather than guess.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";

type Value = unknown;

type Node =
  | { t: "text"; s: string }
  | { t: "action"; p: Pipeline }
  | { t: "if" | "with"; p: Pipeline; then: Node[]; else: Node[] }
  | { t: "range"; vars: string[]; p: Pipeline; body: Node[]; else: Node[] }
  | { t: "template"; name: string; p: Pipeline | null };

interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Term[][];
}

type Term =
  | { k: "lit"; v: Value }
  | { k: "dot"; fields: string[] }
  | { k: "var"; name: string; fields: string[] }
  | { k: "ident"; name: string }
  | { k: "sub"; p: Pipeline; fields: string[] };

export class TemplateError extends Error {}

// ---- lexing -------------------------------------------------------------------------------------

interface Chunk {
  text?: string;
  action?: string;
}

function chunks(src: string): Chunk[] {
  const out: Chunk[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (open < 0) {
      out.push({ text });
      break;
    }
    let start = open + 2;
    if (/^-\s/.test(src.slice(start, start + 2))) {
      text = text.replace(/\s+$/, "");
      start += 1;
    }
    out.push({ text });
    const close = findClose(src, start);
    let end = close;
    trimNext = false;
    if (/\s-$/.test(src.slice(close - 2, close))) {
      trimNext = true;
      end = close - 1;
    }
    out.push({ action: src.slice(start, end).trim() });
    i = close + 2;
  }
  return out;
}

/** Index of the `}}` closing an action, skipping string literals and comments. */
function findClose(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    if (src.startsWith("/*", i)) {
      const e = src.indexOf("*/", i + 2);
      if (e < 0) throw new TemplateError("unclosed comment");
      i = e + 2;
    } else if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "`") {
      i = src.indexOf("`", i + 1) + 1;
    } else if (src.startsWith("}}", i)) {
      return i;
    } else i++;
  }
  throw new TemplateError("unclosed action");
}

/** `sp`: whitespace came before the token (`(x).F` is a field of x, `(x) .F` an argument). */
type Tok = { k: "str" | "num" | "ident" | "field" | "var" | "op"; v: string; sp: boolean };

function tokens(action: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|((?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|([A-Za-z_][A-Za-z0-9_]*)|(:=|[()|,=]))/y;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(action))) {
    const sp = /^\s/.test(m[0]);
    last = re.lastIndex;
    if (m[1]) out.push({ k: "str", v: JSON.parse(m[1]) as string, sp });
    else if (m[2]) out.push({ k: "str", v: m[2].slice(1, -1), sp });
    else if (m[3]) out.push({ k: "num", v: m[3], sp });
    else if (m[4]) out.push({ k: "var", v: m[4], sp });
    else if (m[5]) out.push({ k: "field", v: m[5], sp });
    else if (m[6]) out.push({ k: "ident", v: m[6], sp });
    else out.push({ k: "op", v: m[7]!, sp });
    if (re.lastIndex >= action.length) break;
  }
  if (action.slice(last).trim()) throw new TemplateError(`cannot read ${JSON.stringify(action.slice(last))} in {{${action}}}`);
  return out;
}

// ---- parsing ------------------------------------------------------------------------------------

class Parser {
  #toks: Tok[] = [];
  #i = 0;

  pipeline(toks: Tok[], allowDecl: "range" | boolean): { vars: string[]; p: Pipeline } {
    this.#toks = toks;
    this.#i = 0;
    const vars: string[] = [];
    let assign = false;
    // `$a := …`, `$a = …`, `$k, $v := …` (range only).
    const j = toks.findIndex((t) => t.k === "op" && (t.v === ":=" || t.v === "="));
    if (allowDecl && j > 0 && toks.slice(0, j).every((t) => t.k === "var" || (t.k === "op" && t.v === ","))) {
      vars.push(...toks.slice(0, j).filter((t) => t.k === "var").map((t) => t.v));
      assign = toks[j]!.v === "=";
      this.#i = j + 1;
    }
    const p = this.#pipe();
    if (this.#i < this.#toks.length) throw new TemplateError(`unexpected ${this.#toks[this.#i]!.v}`);
    return { vars, p: { decl: allowDecl === "range" ? [] : vars, assign, cmds: p.cmds } };
  }

  #pipe(): Pipeline {
    const cmds: Term[][] = [[]];
    while (this.#i < this.#toks.length) {
      const t = this.#toks[this.#i]!;
      if (t.k === "op" && t.v === ")") break;
      this.#i++;
      if (t.k === "op" && t.v === "|") {
        cmds.push([]);
        continue;
      }
      cmds.at(-1)!.push(this.#term(t));
    }
    if (cmds.some((c) => c.length === 0)) throw new TemplateError("empty command in pipeline");
    return { decl: [], assign: false, cmds };
  }

  #term(t: Tok): Term {
    switch (t.k) {
      case "str":
        return { k: "lit", v: t.v };
      case "num":
        return { k: "lit", v: Number(t.v) };
      case "field":
        return { k: "dot", fields: t.v === "." ? [] : t.v.slice(1).split(".") };
      case "var": {
        const dot = t.v.indexOf(".");
        return dot < 0 ? { k: "var", name: t.v, fields: [] } : { k: "var", name: t.v.slice(0, dot), fields: t.v.slice(dot + 1).split(".") };
      }
      case "ident":
        if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
        if (t.v === "nil") return { k: "lit", v: null };
        return { k: "ident", name: t.v };
      case "op": {
        if (t.v !== "(") throw new TemplateError(`unexpected ${t.v}`);
        const p = this.#pipe();
        if (this.#toks[this.#i]?.v !== ")") throw new TemplateError("unclosed (");
        this.#i++;
        const next = this.#toks[this.#i];
        let fields: string[] = [];
        if (next?.k === "field" && next.v !== "." && !next.sp) {
          fields = next.v.slice(1).split(".");
          this.#i++;
        }
        return { k: "sub", p, fields };
      }
    }
  }
}

/** Parses a template file into its body and the templates it `define`s. */
function parse(src: string, defines: Map<string, Node[]>): Node[] {
  const parser = new Parser();
  const root: Node[] = [];
  type Frame = { kind: string; nodes: Node[]; node?: Node & { else?: Node[] }; defineName?: string; elseIf?: boolean };
  const stack: Frame[] = [{ kind: "root", nodes: root }];
  const top = () => stack.at(-1)!;
  for (const c of chunks(src)) {
    if (c.text !== undefined) {
      if (c.text) top().nodes.push({ t: "text", s: c.text });
      continue;
    }
    const a = c.action!;
    if (a.startsWith("/*")) continue;
    const [kw] = /^[a-z]+/.exec(a) ?? [""];
    const rest = a.slice(kw.length).trim();
    const toks = () => tokens(rest);
    if (kw === "if" || kw === "with") {
      const node = { t: kw, p: parser.pipeline(toks(), true).p, then: [], else: [] } as Node & { then: Node[]; else: Node[] };
      top().nodes.push(node);
      stack.push({ kind: kw, nodes: node.then, node });
    } else if (kw === "range") {
      const { vars, p } = parser.pipeline(toks(), "range");
      const node = { t: "range" as const, vars, p, body: [] as Node[], else: [] as Node[] };
      top().nodes.push(node);
      stack.push({ kind: "range", nodes: node.body, node });
    } else if (kw === "else") {
      const f = top();
      if (!f.node) throw new TemplateError("else outside a block");
      f.nodes = f.node.else!;
      if (rest.startsWith("if")) {
        // `else if` opens an `if` inside the else branch, closed by the same `end`.
        const node = { t: "if" as const, p: parser.pipeline(tokens(rest.slice(2)), true).p, then: [] as Node[], else: [] as Node[] };
        f.nodes.push(node);
        stack.push({ kind: "if", nodes: node.then, node, elseIf: true });
      }
    } else if (kw === "end") {
      let f = stack.pop();
      while (f?.elseIf) f = stack.pop();
      if (!f || f.kind === "root") throw new TemplateError("unexpected end");
      if (f.kind === "define") defines.set(f.defineName!, f.nodes);
    } else if (kw === "define") {
      const name = JSON.parse(rest) as string;
      stack.push({ kind: "define", nodes: [], defineName: name });
    } else if (kw === "template") {
      const t = toks();
      const name = t[0]!.v;
      top().nodes.push({ t: "template", name, p: t.length > 1 ? parser.pipeline(t.slice(1), false).p : null });
    } else if (kw === "block" || kw === "break" || kw === "continue") {
      throw new TemplateError(`{{${kw}}} is outside the supported subset`);
    } else {
      top().nodes.push({ t: "action", p: parser.pipeline(tokens(a), true).p });
    }
  }
  if (stack.length !== 1) throw new TemplateError(`unclosed ${top().kind}`);
  return root;
}

// ---- values -------------------------------------------------------------------------------------

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false. */
export function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** Integers produced by arithmetic functions (Sprig returns int64): printed without exponent. */
class Int {
  constructor(readonly n: number) {}
}

/** `%v` of a value: float64 in Go's shortest `%g` with exponent from 1e21 or 6 digits of exponent. */
function show(v: Value): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Int) return String(v.n);
  if (typeof v === "number") {
    if (v === 0) return "0";
    const exp = Math.floor(Math.log10(Math.abs(v)));
    if (exp < -4 || exp >= 21) return goExp(v);
    if (Number.isInteger(v) && exp >= 6) return goExp(v);
    return String(v);
  }
  if (typeof v === "string" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(" ")}]`;
  return `map[${Object.keys(v as object)
    .sort()
    .map((k) => `${k}:${show((v as Record<string, Value>)[k])}`)
    .join(" ")}]`;
}

function goExp(v: number): string {
  const [m, e] = v.toExponential().split("e");
  const n = Number(e);
  return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
}

function num(v: Value): number {
  if (v instanceof Int) return v.n;
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  if (v === null || v === undefined) return 0;
  throw new TemplateError(`not a number: ${show(v)}`);
}

function plain(v: Value): Value {
  if (v instanceof Int) return v.n;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function field(v: Value, name: string): Value {
  if (v === null || v === undefined) throw new TemplateError(`nil pointer evaluating .${name}`);
  if (typeof v !== "object" || Array.isArray(v)) throw new TemplateError(`can't evaluate field ${name} in ${typeof v}`);
  return (v as Record<string, Value>)[name];
}

function goPrintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([sdvq%])/g, (_m, verb: string) => {
    if (verb === "%") return "%";
    const a = args[i++];
    if (verb === "q") return JSON.stringify(show(a));
    if (verb === "d") return String(Math.trunc(num(a)));
    return show(a);
  });
}

function toYaml(v: Value): string {
  if (v === null || v === undefined) return "null";
  return stringify(plain(v), { sortMapEntries: true, indentSeq: false, lineWidth: 0 }).replace(/\n$/, "");
}

// ---- evaluation ---------------------------------------------------------------------------------

type Scope = Map<string, Value>[];

export class Templates {
  readonly #defines = new Map<string, Node[]>();
  readonly #files = new Map<string, Node[]>();

  /** Adds a file; its `define`s become visible to every file, its body is renderable under `name`. */
  add(name: string, src: string): void {
    this.#files.set(name, parse(src, this.#defines));
  }

  render(name: string, root: Record<string, Value>): string {
    const body = this.#files.get(name);
    if (!body) throw new TemplateError(`no template ${name}`);
    return this.#exec(body, root, [new Map<string, Value>([["$", root]])]);
  }

  #exec(nodes: Node[], dot: Value, scope: Scope): string {
    let out = "";
    for (const n of nodes) {
      switch (n.t) {
        case "text":
          out += n.s;
          break;
        case "action": {
          const v = this.#pipe(n.p, dot, scope);
          if (n.p.decl.length === 0) out += show(v);
          break;
        }
        case "if":
        case "with": {
          const inner: Scope = [...scope, new Map()];
          const v = this.#pipe(n.p, dot, inner);
          if (truthy(v)) out += this.#exec(n.then, n.t === "with" ? v : dot, inner);
          else out += this.#exec(n.else, dot, [...scope, new Map()]);
          break;
        }
        case "range": {
          const v = this.#pipe(n.p, dot, scope);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [new Int(i), x])
            : v && typeof v === "object"
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, Value>)[k]])
              : v === null || v === undefined
                ? []
                : (() => {
                    throw new TemplateError(`range can't iterate over ${show(v)}`);
                  })();
          if (entries.length === 0) out += this.#exec(n.else, dot, [...scope, new Map()]);
          for (const [k, x] of entries) {
            const s = new Map<string, Value>();
            if (n.vars.length === 1) s.set(n.vars[0]!, x);
            if (n.vars.length === 2) {
              s.set(n.vars[0]!, k);
              s.set(n.vars[1]!, x);
            }
            out += this.#exec(n.body, x, [...scope, s]);
          }
          break;
        }
        case "template":
          out += this.#include(n.name, n.p ? this.#pipe(n.p, dot, scope) : null);
          break;
      }
    }
    return out;
  }

  #include(name: string, data: Value): string {
    const body = this.#defines.get(name) ?? this.#files.get(name);
    if (!body) throw new TemplateError(`no template ${JSON.stringify(name)}`);
    // As in Go, `$` inside the invoked template is the data it was given.
    return this.#exec(body, data, [new Map([["$", data]])]);
  }

  #pipe(p: Pipeline, dot: Value, scope: Scope): Value {
    let v: Value = undefined;
    let first = true;
    for (const cmd of p.cmds) {
      v = this.#cmd(cmd, dot, scope, first ? undefined : { v });
      first = false;
    }
    for (const name of p.decl) {
      if (p.assign) {
        const s = [...scope].reverse().find((m) => m.has(name));
        if (!s) throw new TemplateError(`undefined variable ${name}`);
        s.set(name, v);
      } else scope.at(-1)!.set(name, v);
    }
    return v;
  }

  #cmd(cmd: Term[], dot: Value, scope: Scope, piped?: { v: Value }): Value {
    const [head, ...rest] = cmd;
    if (head!.k === "ident") {
      const name = head!.name;
      // `and` / `or` short-circuit and return an operand, as in Go 1.18+.
      if (name === "and" || name === "or") {
        const ops = [...rest.map((t) => () => this.#term(t, dot, scope)), ...(piped ? [() => piped.v] : [])];
        let last: Value = undefined;
        for (const op of ops) {
          last = op();
          if (name === "and" ? !truthy(last) : truthy(last)) return last;
        }
        return last;
      }
      const args = rest.map((t) => this.#term(t, dot, scope));
      if (piped) args.push(piped.v);
      return this.#call(name, args, dot);
    }
    if (rest.length || piped) throw new TemplateError("a value can't take arguments");
    return this.#term(head!, dot, scope);
  }

  #term(t: Term, dot: Value, scope: Scope): Value {
    switch (t.k) {
      case "lit":
        return t.v;
      case "dot":
        return t.fields.reduce(field, dot);
      case "var": {
        const s = [...scope].reverse().find((m) => m.has(t.name));
        if (!s) throw new TemplateError(`undefined variable ${t.name}`);
        return t.fields.reduce(field, s.get(t.name));
      }
      case "sub":
        return t.fields.reduce(field, this.#pipe(t.p, dot, scope));
      case "ident":
        return this.#call(t.name, [], dot);
    }
  }

  #call(name: string, a: Value[], _dot: Value): Value {
    const s = (i: number) => show(a[i]);
    switch (name) {
      case "include":
        return this.#include(s(0), a[1]);
      case "toYaml":
        return toYaml(a[0]);
      case "toJson":
        return JSON.stringify(plain(a[0]));
      case "nindent":
        return "\n" + indent(num(a[0]), s(1));
      case "indent":
        return indent(num(a[0]), s(1));
      case "quote":
        return a.filter((x) => x !== null && x !== undefined).map((x) => JSON.stringify(show(x))).join(" ");
      case "squote":
        return a.map((x) => `'${show(x)}'`).join(" ");
      case "default":
        return a.length < 2 || !truthy(a[1]) ? a[0] : a[1];
      case "required":
        if (a[1] === null || a[1] === undefined || a[1] === "") throw new TemplateError(s(0));
        return a[1];
      case "fail":
        throw new TemplateError(s(0));
      case "empty":
        return !truthy(a[0]);
      case "not":
        return !truthy(a[0]);
      case "eq":
        return a.slice(1).some((x) => plain(x) === plain(a[0]));
      case "ne":
        return plain(a[0]) !== plain(a[1]);
      case "lt":
        return num(a[0]) < num(a[1]);
      case "le":
        return num(a[0]) <= num(a[1]);
      case "gt":
        return num(a[0]) > num(a[1]);
      case "ge":
        return num(a[0]) >= num(a[1]);
      case "add":
        return new Int(a.reduce<number>((t, x) => t + Math.trunc(num(x)), 0));
      case "sub":
        return new Int(Math.trunc(num(a[0])) - Math.trunc(num(a[1])));
      case "mul":
        return new Int(a.reduce<number>((t, x) => t * Math.trunc(num(x)), 1));
      case "div":
        return new Int(Math.trunc(Math.trunc(num(a[0])) / Math.trunc(num(a[1]))));
      case "max":
        return new Int(Math.max(...a.map((x) => Math.trunc(num(x)))));
      case "int":
        return new Int(Math.trunc(num(a[0])));
      case "toString":
        return show(a[0]);
      case "print":
        return a.map((x, i) => (i > 0 && typeof x !== "string" && typeof a[i - 1] !== "string" ? " " : "") + show(x)).join("");
      case "printf":
        return goPrintf(s(0), a.slice(1));
      case "contains":
        return s(1).includes(s(0));
      case "hasPrefix":
        return s(1).startsWith(s(0));
      case "trunc":
        return s(1).slice(0, num(a[0]));
      case "trimSuffix":
        return s(1).endsWith(s(0)) ? s(1).slice(0, s(1).length - s(0).length) : s(1);
      case "replace":
        return s(2).split(s(0)).join(s(1));
      case "lower":
        return s(0).toLowerCase();
      case "upper":
        return s(0).toUpperCase();
      case "b64enc":
        return Buffer.from(s(0)).toString("base64");
      case "sha256sum":
        return createHash("sha256").update(s(0)).digest("hex");
      case "dict": {
        const d: Record<string, Value> = {};
        for (let i = 0; i + 1 < a.length; i += 2) d[s(i)] = a[i + 1];
        return d;
      }
      case "list":
        return [...a];
      case "append":
        return [...(a[0] as Value[]), a[1]];
      case "hasKey":
        return Object.hasOwn(a[0] as object, s(1));
      case "ternary":
        return truthy(a[2]) ? a[0] : a[1];
      default:
        throw new TemplateError(`function ${JSON.stringify(name)} is outside the supported subset`);
    }
  }
}

function indent(n: number, text: string): string {
  const pad = " ".repeat(n);
  return pad + text.split("\n").join(`\n${pad}`);
}
