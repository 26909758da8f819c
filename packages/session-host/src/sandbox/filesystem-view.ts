import { lstatSync, readlinkSync } from "node:fs";
import { SandboxSpecError } from "./sandbox-errors.ts";
import type { SandboxLimits } from "./sandbox-limits.ts";
import { canonicalPath, isInside, type SandboxSpec } from "./sandbox-spec.ts";

/** Top-level names that merged-/usr systems (Debian 12, Fedora) make symlinks into /usr; real directories elsewhere. */
const USR_ALIASES = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/**
 * Files of /etc that tools need and that hold no secrets: users and groups (names only; the hashes are in
 * shadow, which is not here), name resolution, the dynamic linker cache, time zone, TLS roots, Debian's
 * alternatives symlinks (`awk`, `editor`, … point into /etc/alternatives) and shell start-up files.
 */
export const ETC_ALLOWED = [
  "passwd",
  "group",
  "hosts",
  "resolv.conf",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "networks",
  "protocols",
  "services",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "timezone",
  "ssl/certs",
  "ssl/openssl.cnf",
  "ca-certificates",
  "alternatives",
  "mime.types",
  "os-release",
  "debian_version",
  "bash.bashrc",
  "profile",
  "inputrc",
  "terminfo",
  "magic",
];


/**
 * bubblewrap options building the command's filesystem as an allow-list on an empty, read-only root:
 * /usr (and its aliases) read-only, the {@link ETC_ALLOWED} files, a fresh /proc of the sandbox's PID
 * namespace, a fresh /dev (read-only apart from its devices and a size-capped /dev/shm), a size-capped
 * private /tmp, the workspace (writable only in `workspace-write`) and, in `workspace-write`, the writable
 * roots. Everything else — /root, /home, /run and its sockets, /var, the server's data and configuration,
 * other workspaces — does not exist inside.
 */
export function filesystemViewArgs(spec: SandboxSpec, cwd: string, limits: SandboxLimits): string[] {
  const workspace = canonicalPath(spec.workspace);
  const writableRoots = spec.mode === "workspace-write" ? spec.writableRoots.map((r) => canonicalPath(r)) : [];
  for (const p of [workspace, ...writableRoots]) {
    if (p === "/") throw new SandboxSpecError("sandbox refused: the workspace or a writable root is the filesystem root");
  }
  const args = ["--tmpfs", "/", "--ro-bind", "/usr", "/usr"];
  for (const name of USR_ALIASES) {
    const path = `/${name}`;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(path), path);
    else if (st.isDirectory()) args.push("--ro-bind", path, path);
  }
  for (const name of ETC_ALLOWED) args.push("--ro-bind-try", `/etc/${name}`, `/etc/${name}`);
  args.push(
    "--proc", "/proc",
    "--dev", "/dev",
    "--size", String(limits.shmBytes), "--tmpfs", "/dev/shm",
    "--remount-ro", "/dev",
    "--size", String(limits.tmpBytes), "--tmpfs", "/tmp",
    "--dir", "/var",
    "--symlink", "../tmp", "/var/tmp",
  );

  // Parents before children: a later parent bind would hide a child bind made earlier.
  const binds: Array<{ flag: string; path: string }> = [];
  if (spec.mode === "workspace-write") {
    binds.push({ flag: "--bind", path: workspace });
    for (const root of writableRoots) {
      // A writable root that does not exist yet cannot be created from inside; skip it quietly.
      if (root !== workspace && !isInside(root, workspace)) binds.push({ flag: "--bind-try", path: root });
    }
  } else {
    binds.push({ flag: "--ro-bind", path: workspace });
  }
  binds.sort((a, b) => a.path.length - b.path.length);
  for (const { flag, path } of dedupe(binds)) args.push(flag, path, path);

  args.push("--remount-ro", "/", "--chdir", canonicalPath(cwd));
  return args;
}

function dedupe(binds: Array<{ flag: string; path: string }>): Array<{ flag: string; path: string }> {
  const seen = new Set<string>();
  return binds.filter((b) => (seen.has(b.path) ? false : (seen.add(b.path), true)));
}
