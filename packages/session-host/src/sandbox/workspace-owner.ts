import { lchown, lstat, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { canonicalPath, isInside } from "./sandbox-spec.ts";
import type { SandboxUser } from "./sandbox-user.ts";

/** Workspaces already handed to a user, as `uid:path`; bounded so a long-lived host does not grow it forever. */
const adopted = new Set<string>();
const MAX_REMEMBERED = 10_000;

/**
 * Makes `dir` (a workspace or writable root) belong to `user` when a root host runs sandboxes, so the
 * sandbox can write what the host or the client put there. Only paths inside `within` (the workspace
 * root) are touched; anything else is left as it is and the sandbox gets only what its permissions allow.
 *
 * Entries owned by the host's uid are given to `user`; entries of other owners, regular files with more
 * than one link (a hard link may point anywhere on the file system) and other file systems are left
 * alone. The walk changes children before their directory: until a directory is handed over, the sandbox
 * user cannot rename or replace anything in it, so no path the walk still has to visit can be swapped
 * for a symlink under it by a sandbox running at the same time. Symlinks are changed, never followed.
 */
export async function adoptWorkspace(dir: string, user: SandboxUser, within: string): Promise<void> {
  const path = canonicalPath(dir);
  const root = canonicalPath(within);
  if (path === root || !isInside(path, root)) return;
  const key = `${user.uid}:${path}`;
  if (adopted.has(key)) return;
  let top;
  try {
    top = await lstat(path);
  } catch {
    return;
  }
  if (!top.isDirectory()) return;
  const hostUid = process.getuid?.() ?? -1;
  await handOver(path, top.dev, hostUid, user);
  if (adopted.size >= MAX_REMEMBERED) adopted.clear();
  adopted.add(key);
}

async function handOver(path: string, dev: number, hostUid: number, user: SandboxUser): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (st.dev !== dev) return;
  if (st.isDirectory()) {
    let names: string[] = [];
    try {
      names = await readdir(path);
    } catch {
      return;
    }
    for (const name of names) await handOver(join(path, name), dev, hostUid, user);
  } else if (st.isFile() && st.nlink > 1) {
    return;
  }
  if (st.uid === hostUid) {
    try {
      await lchown(path, user.uid, user.gid);
    } catch {
      // Gone meanwhile, or a read-only mount: nothing to hand over.
    }
  }
}

/** Forgets adoptions at or below `dir`: a command that ran as the host there may have left host-owned files. */
export function forgetAdoptions(dir: string): void {
  const path = canonicalPath(dir);
  for (const key of adopted) {
    const p = key.slice(key.indexOf(":") + 1);
    if (isInside(p, path) || isInside(path, p)) adopted.delete(key);
  }
}

/**
 * Gives a file or directory the host just created the owner of the directory it was created in, when
 * that directory belongs to someone else (a sandbox user). Used for writes the host makes on a sandbox's
 * behalf (apply_patch), so the sandbox can change them afterwards.
 */
export async function chownLikeParent(path: string): Promise<void> {
  const hostUid = process.getuid?.() ?? -1;
  if (hostUid !== 0) return;
  try {
    const parent = await lstat(dirname(path));
    if (parent.uid === hostUid) return;
    const st = await lstat(path);
    if (st.uid !== hostUid) return;
    await lchown(path, parent.uid, parent.gid);
  } catch {
    // Best effort: a file the sandbox cannot write stays readable to it and writable by later patches.
  }
}
