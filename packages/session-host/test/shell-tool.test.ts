import { test } from "node:test";
import assert from "node:assert/strict";
import { commandActions, displayCommand, parseShellArgs, ToolArgumentError } from "../src/tools/shell-tool.ts";

test("shell arguments parse with every field", () => {
  assert.deepEqual(
    parseShellArgs(
      JSON.stringify({
        command: ["bash", "-lc", "ls"],
        workdir: "/repo",
        timeout_ms: 5000,
        sandbox_permissions: "require_escalated",
        justification: "needs network",
      }),
    ),
    { command: ["bash", "-lc", "ls"], workdir: "/repo", timeout_ms: 5000, sandbox_permissions: "require_escalated", justification: "needs network" },
  );
});

test("null optional fields and unknown keys are dropped", () => {
  assert.deepEqual(parseShellArgs('{"command":["ls"],"workdir":null,"timeout_ms":null,"extra":1}'), { command: ["ls"] });
});

test("a bare string command runs through bash", () => {
  assert.deepEqual(parseShellArgs('{"command":"ls -la"}'), { command: ["bash", "-lc", "ls -la"] });
});

test("bad shell arguments raise ToolArgumentError with a message for the model", () => {
  const cases: Array<[string, RegExp]> = [
    ["{not json", /^failed to parse function arguments: /],
    ["{}", /^invalid shell arguments: command: /],
    ['{"command":[]}', /command: must not be empty/],
    ['{"command":[1,2]}', /command/],
    ['{"command":["ls"],"timeout_ms":-5}', /timeout_ms/],
    ['{"command":["ls"],"sandbox_permissions":"root"}', /sandbox_permissions/],
    ["[]", /invalid shell arguments/],
  ];
  for (const [json, message] of cases) {
    assert.throws(() => parseShellArgs(json), (err: unknown) => err instanceof ToolArgumentError && message.test(err.message), json);
  }
});

test("bash -lc commands display as Codex shows them", () => {
  assert.equal(displayCommand(["bash", "-lc", "touch x"]), "/bin/bash -lc 'touch x'");
  assert.equal(displayCommand(["/bin/bash", "-lc", "ls"]), "/bin/bash -lc 'ls'");
  assert.equal(displayCommand(["bash", "-lc", "echo 'hi' && it's"]), `/bin/bash -lc 'echo '\\''hi'\\'' && it'\\''s'`);
});

test("other commands display as a shell-quoted join", () => {
  assert.equal(displayCommand(["ls", "-la", "src/"]), "ls -la src/");
  assert.equal(displayCommand(["echo", "two words", "it's", ""]), `echo 'two words' 'it'\\''s' ''`);
  assert.equal(displayCommand(["bash", "-c", "ls"]), "bash -c ls");
  assert.equal(displayCommand(["grep", "-r", "a|b", "$HOME"]), "grep -r 'a|b' '$HOME'");
});

test("reads are recognised from cat, sed -n, head and tail", () => {
  assert.deepEqual(commandActions(["cat", "src/main.ts"]), [{ type: "read", command: "cat src/main.ts", name: "main.ts", path: "src/main.ts" }]);
  assert.deepEqual(commandActions(["bash", "-lc", "sed -n '1,120p' README.md"]), [
    { type: "read", command: "sed -n 1,120p README.md", name: "README.md", path: "README.md" },
  ]);
  assert.deepEqual(commandActions(["bash", "-lc", "head -n 50 lib/a.py"]), [
    { type: "read", command: "head -n 50 lib/a.py", name: "a.py", path: "lib/a.py" },
  ]);
  assert.deepEqual(commandActions(["tail", "-20", "log.txt"]), [{ type: "read", command: "tail -20 log.txt", name: "log.txt", path: "log.txt" }]);
});

test("listings are recognised from ls and rg --files", () => {
  assert.deepEqual(commandActions(["bash", "-lc", "ls -la"]), [{ type: "listFiles", command: "ls -la", path: null }]);
  assert.deepEqual(commandActions(["ls", "src"]), [{ type: "listFiles", command: "ls src", path: "src" }]);
  assert.deepEqual(commandActions(["bash", "-lc", "rg --files packages"]), [{ type: "listFiles", command: "rg --files packages", path: "packages" }]);
});

test("searches are recognised from rg and grep", () => {
  assert.deepEqual(commandActions(["bash", "-lc", 'rg -n "fn main" src']), [
    { type: "search", command: "rg -n 'fn main' src", query: "fn main", path: "src" },
  ]);
  assert.deepEqual(commandActions(["grep", "-rn", "TODO"]), [{ type: "search", command: "grep -rn TODO", query: "TODO", path: null }]);
  assert.deepEqual(commandActions(["rg", "-g", "*.ts", "-e", "foo", "lib"]), [
    { type: "search", command: "rg -g '*.ts' -e foo lib", query: "foo", path: "lib" },
  ]);
});

test("anything that is not one simple known command is unknown", () => {
  assert.deepEqual(commandActions(["bash", "-lc", "cat a | head"]), [{ type: "unknown", command: "cat a | head" }]);
  assert.deepEqual(commandActions(["bash", "-lc", "cd src && ls"]), [{ type: "unknown", command: "cd src && ls" }]);
  assert.deepEqual(commandActions(["bash", "-lc", "cat $FILE"]), [{ type: "unknown", command: "cat $FILE" }]);
  assert.deepEqual(commandActions(["bash", "-lc", "cat 'unterminated"]), [{ type: "unknown", command: "cat 'unterminated" }]);
  assert.deepEqual(commandActions(["npm", "test"]), [{ type: "unknown", command: "npm test" }]);
  assert.deepEqual(commandActions(["cat", "a", "b"]), [{ type: "unknown", command: "cat a b" }]);
  assert.deepEqual(commandActions(["sed", "-i", "s/a/b/", "f"]), [{ type: "unknown", command: "sed -i s/a/b/ f" }]);
});
