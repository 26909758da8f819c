import { test } from "node:test";
import assert from "node:assert/strict";
import { Templates, TemplateError } from "./go-template.ts";

// The evaluator behind the chart test follows Go's text/template (and Helm's functions) on the points
// below; each expected output is what `helm template` prints for the same input.

function render(src: string, data: Record<string, unknown> = {}): string {
  const t = new Templates();
  t.add("t", src);
  return t.render("t", data);
}

test("trim markers eat whitespace and newlines on their side only", () => {
  assert.equal(render("a  {{- 1 -}}  b"), "a1b");
  assert.equal(render("a\n  {{- 1 }}\n  b"), "a1\n  b");
  assert.equal(render("x\n{{- /* a comment */ -}}\ny"), "xy");
});

test("variables are scoped to their block; `=` assigns an outer one", () => {
  assert.equal(render("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}"), "21");
  assert.equal(render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"), "2");
  assert.throws(() => render("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"), TemplateError);
});

test("range walks maps in key order and lists by index; else runs when empty", () => {
  assert.equal(render("{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}", { b: 2, a: 1 }), "a=1;b=2;");
  assert.equal(render("{{ range $i, $v := .l }}{{ $i }}{{ $v }}{{ end }}", { l: ["x", "y"] }), "0x1y");
  assert.equal(render("{{ range .l }}[{{ . }}]{{ else }}empty{{ end }}", { l: [] }), "empty");
  assert.equal(render("{{ range .l }}{{ $.n }}{{ . }}{{ end }}", { l: [1, 2], n: "n" }), "n1n2");
});

test("truth, with, else if, and `and`/`or` returning an operand", () => {
  assert.equal(render("{{ with .a }}{{ . }}{{ else }}none{{ end }}", { a: "" }), "none");
  assert.equal(render("{{ with .a }}{{ .b }}{{ end }}", { a: { b: 3 } }), "3");
  assert.equal(render("{{ if eq .n 1 }}one{{ else if eq .n 2 }}two{{ else }}many{{ end }}", { n: 2 }), "two");
  assert.equal(render("{{ if .m }}y{{ else }}n{{ end }}", { m: {} }), "n");
  assert.equal(render("{{ and 1 \"x\" }} {{ and 0 \"x\" }} {{ or 0 \"\" }}|{{ or 0 \"y\" }}"), "x 0 |y");
});

test("numbers print as Go prints float64 values; arithmetic gives integers", () => {
  assert.equal(render("{{ .a }} {{ .b }} {{ .c }} {{ .d }}", { a: 1000000, b: 30000, c: 0.2, d: 600000 }), "1e+06 30000 0.2 600000");
  assert.equal(render("{{ add 1 2 3 }} {{ div 30999 1000 }} {{ add .a 1 }}", { a: 1000000 }), "6 30 1000001");
  assert.equal(render('{{ .a | toString | quote }}', { a: 8765 }), '"8765"');
});

test("missing keys print nothing, a field of nothing is an error", () => {
  assert.equal(render("[{{ .missing }}]"), "[]");
  assert.throws(() => render("{{ .a.b }}"), /nil pointer evaluating \.b/);
});

test("include passes its data as both . and $; sub-expressions and their fields", () => {
  const t = new Templates();
  t.add("defs", '{{- define "x" -}}{{ $.n }}-{{ .n }}{{- end -}}');
  t.add("main", '{{ include "x" (dict "n" 5) }} {{ (dict "a" 1).a }} {{ default (print "d") .v }} {{ default "d" "v" }}');
  assert.equal(t.render("main", { v: "" }), "5-5 1 d v");
});

test("toYaml sorts keys and leaves sequences unindented; nindent, quote, printf", () => {
  assert.equal(render("{{ toYaml . }}", { b: [1], a: { c: "d" } }), "a:\n  c: d\nb:\n- 1");
  assert.equal(render("x:{{ toYaml . | nindent 2 }}", { k: "v" }), "x:\n  k: v");
  assert.equal(render('{{ printf "%s-%v-%d" "a" 1.5 7 }} {{ quote "q" }}'), "a-1.5-7 \"q\"");
});

test("functions outside the subset and unknown templates fail loudly", () => {
  assert.throws(() => render("{{ lookup \"v1\" \"Secret\" \"ns\" \"n\" }}"), /outside the supported subset/);
  assert.throws(() => render('{{ include "nope" . }}'), /no template "nope"/);
  assert.throws(() => render("{{ fail \"stop here\" }}"), /stop here/);
  assert.throws(() => render("{{ if true }}x"), /unclosed if/);
});
