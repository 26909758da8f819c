import { spawn } from "node:child_process";
import type { SandboxUser } from "../sandbox/sandbox-user.ts";
import { PatchError } from "./patch-parser.ts";
import type { ResolvedChange } from "./apply-patch.ts";

/**
 * The writes of a patch, done by a short-lived process running as the sandbox's user: the kernel then
 * holds them to what the sandbox may write, whatever a path turns out to point at when it is opened (a
 * directory swapped for a symlink after the patch was checked writes nothing outside). Same order and
 * semantics as the host's own writer: adds create parent directories, deletes unlink, moves write the
 * destination with the source's mode and remove the source.
 */
const WRITER = `
const fs = require("node:fs");
const path = require("node:path");
let input = "";
process.stdin.setEncoding("utf8").on("data", (d) => (input += d)).on("end", () => {
  for (const c of JSON.parse(input)) {
    const target = c.movePath ?? c.path;
    try {
      if (c.kind === "delete") fs.unlinkSync(c.path);
      else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const mode = c.movePath === null ? undefined : fs.statSync(c.path).mode & 0o7777;
        fs.writeFileSync(target, c.newContent ?? "");
        if (mode !== undefined) { fs.chmodSync(target, mode); fs.unlinkSync(c.path); }
      }
    } catch (err) {
      process.stderr.write(JSON.stringify({ path: target, message: err.message }));
      process.exit(1);
    }
  }
});
`;

/** Largest stderr kept from the writer. */
const MAX_STDERR = 16 * 1024;

export async function applyResolvedAs(changes: ResolvedChange[], user: SandboxUser): Promise<void> {
  const payload = JSON.stringify(changes.map((c) => ({ path: c.path, movePath: c.movePath, kind: c.kind.type, newContent: c.newContent })));
  const child = spawn(process.execPath, ["-e", WRITER], { uid: user.uid, gid: user.gid, cwd: "/", env: {}, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < MAX_STDERR) stderr += d;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  child.stdin.on("error", () => undefined);
  child.stdin.end(payload);
  const code = await exited;
  if (code === 0) return;
  let failure: { path?: string; message?: string } = {};
  try {
    failure = JSON.parse(stderr) as typeof failure;
  } catch {
    failure = { message: stderr.trim() || `writer exited with ${code}` };
  }
  throw new PatchError(`Failed to write ${failure.path ?? "the patch"}: ${failure.message ?? "unknown error"}`);
}
