import type { EscapeMode } from "./sandbox-escape-fixture.ts";

/** What the host knows when judging an outcome. */
export interface JudgeContext {
  mode: EscapeMode;
  /** The host uid the sandbox runs as. */
  sandboxUid: number;
}

/**
 * How one attempt must end: a pattern its outcome must match, or a function returning null when the
 * outcome is acceptable (else why not). `modes` limits the attempt to some modes (default: all).
 */
export interface Expectation {
  name: string;
  /** What the attempt tries, for the test title. */
  tries: string;
  expect: RegExp | ((outcome: string, ctx: JudgeContext) => string | null);
  modes?: readonly EscapeMode[];
}

const NO_NETWORK: readonly EscapeMode[] = ["read-only", "workspace-write"];
const ZERO = "0000000000000000";
/** Devices and links a fresh bubblewrap /dev holds; no disk, memory or kernel-log device. */
const DEV_ALLOWED = new Set(["console", "core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"]);
const MAX_TMP_BYTES = 1024 ** 3;

export const EXPECTATIONS: readonly Expectation[] = [
  {
    name: "credentials",
    tries: "keeps capabilities or host uid 0 (CapEff, CapPrm, CapBnd, CapAmb, NoNewPrivs, Seccomp, uid)",
    expect: (o, ctx) => {
      const want = `value:CapInh=${ZERO},CapPrm=${ZERO},CapEff=${ZERO},CapBnd=${ZERO},CapAmb=${ZERO},NoNewPrivs=1,Seccomp=2,uid=${ctx.sandboxUid},euid=${ctx.sandboxUid}`;
      return o === want ? null : `expected ${want}`;
    },
  },
  { name: "setuid-0", tries: "setuid(0) (uid 0 is not even mapped: EINVAL)", expect: /^errno=(EINVAL|EPERM)$/ },
  { name: "mount-remount-root-rw", tries: "mount -o remount,bind,rw /", expect: /^errno=EPERM$/ },
  { name: "mount-tmpfs", tries: "mount a tmpfs over /tmp", expect: /^errno=EPERM$/ },
  { name: "umount-proc", tries: "umount -l /proc", expect: /^errno=EPERM$/ },
  { name: "unshare-user", tries: "a nested user namespace (unshare -U)", expect: /^errno=(ENOSPC|EPERM)$/ },
  { name: "unshare-mount", tries: "a new mount namespace", expect: /^errno=EPERM$/ },
  { name: "chroot", tries: "chroot", expect: /^errno=EPERM$/ },
  { name: "write-usr", tries: "create a file in /usr", expect: /^errno=EROFS$/ },
  { name: "write-etc-passwd", tries: "open /etc/passwd for writing", expect: /^errno=(EACCES|EROFS)$/ },
  { name: "create-in-root", tries: "create a file in /", expect: /^errno=EROFS$/ },
  { name: "create-in-dev", tries: "create a file in /dev", expect: /^errno=EROFS$/ },
  { name: "read-shadow", tries: "read /etc/shadow", expect: /^errno=ENOENT$/ },
  { name: "list-root", tries: "list /root", expect: /^errno=ENOENT$/ },
  { name: "list-home", tries: "list /home", expect: /^errno=ENOENT$/ },
  { name: "read-data-dir-secret", tries: "read the server's database file", expect: /^errno=ENOENT$/ },
  { name: "read-server-config", tries: "read the server's config (DATABASE_URL)", expect: /^errno=ENOENT$/ },
  { name: "read-server-code", tries: "read the server's own source tree", expect: /^errno=ENOENT$/ },
  { name: "read-other-thread", tries: "read another thread's workspace of the same tenant", expect: /^errno=ENOENT$/ },
  { name: "read-other-tenant", tries: "read another tenant's workspace", expect: /^errno=ENOENT$/ },
  {
    name: "list-tenant-dir",
    tries: "list the tenant directory for sibling workspaces",
    expect: (o, ctx) => (o === `value:${THREAD_DIRS[ctx.mode]}` ? null : `expected only ${THREAD_DIRS[ctx.mode]}`),
  },
  { name: "dotdot-to-other-tenant", tries: "walk ../.. from the workspace to another tenant", expect: /^errno=ENOENT$/ },
  { name: "planted-link-shadow", tries: "follow a workspace symlink to /etc/shadow", expect: /^errno=ENOENT$/ },
  { name: "planted-link-data-secret", tries: "follow a workspace symlink to the server's data", expect: /^errno=ENOENT$/ },
  { name: "planted-link-other-tenant", tries: "follow a workspace symlink to another tenant", expect: /^errno=ENOENT$/ },
  { name: "planted-link-root-dir", tries: "follow a workspace symlink to /root", expect: /^errno=ENOENT$/ },
  { name: "proc-1-root-shadow", tries: "reach /etc/shadow through /proc/1/root", expect: /^errno=ENOENT$/ },
  { name: "proc-self-cwd-dotdot", tries: "walk /proc/self/cwd/../.. to another tenant", expect: /^errno=ENOENT$/ },
  { name: "symlink-write-passwd", tries: "write /etc/passwd through a symlink made in the workspace", expect: /^errno=(EACCES|EROFS)$/ },
  { name: "hardlink-passwd", tries: "hard-link /etc/passwd into the workspace", expect: /^errno=(EXDEV|EROFS)$/ },
  { name: "env-secret", tries: "find the host's secret in the environment or any /proc/*/environ", expect: /^value:absent$/ },
  {
    name: "proc-pids",
    tries: "see host processes in /proc",
    expect: (o) => {
      const m = /^value:count=(\d+),max=(\d+),host-visible=\[\]$/.exec(o);
      return m && Number(m[1]) <= 4 && Number(m[2]) <= 16 ? null : "expected only the sandbox's own few processes";
    },
  },
  {
    name: "fd-leaks",
    tries: "use a descriptor inherited from the host",
    expect: /^value:(none|\d+:\/dev\/null(,\d+:\/dev\/null)*)$/,
  },
  { name: "kill-root-sentinel", tries: "SIGKILL a root process of the host", expect: /^errno=ESRCH$/ },
  { name: "kill-uid-sentinel", tries: "SIGKILL a host process of the sandbox's own uid", expect: /^errno=ESRCH$/ },
  { name: "kill-host", tries: "SIGKILL the session host", expect: /^errno=ESRCH$/ },
  { name: "ptrace-attach", tries: "ptrace(PTRACE_ATTACH) its init", expect: /^errno=EPERM$/ },
  { name: "process-vm-readv", tries: "read another process's memory", expect: /^errno=EPERM$/ },
  { name: "tcp-host-listener", tries: "TCP to a host listener on 127.0.0.1", expect: /^errno=ECONNREFUSED$/, modes: NO_NETWORK },
  { name: "tcp-postgres", tries: "TCP to PostgreSQL on 127.0.0.1:5432", expect: /^errno=ECONNREFUSED$/, modes: NO_NETWORK },
  { name: "tcp-internet", tries: "TCP to 1.1.1.1:443", expect: /^errno=ENETUNREACH$/, modes: NO_NETWORK },
  { name: "unix-socket-stream", tries: "socket(AF_UNIX, SOCK_STREAM)", expect: /^errno=EPERM$/ },
  { name: "unix-socket-dgram", tries: "socket(AF_UNIX, SOCK_DGRAM)", expect: /^errno=EPERM$/ },
  { name: "unix-hidden-listener-path", tries: "see the server's Unix socket", expect: /^value:absent$/ },
  { name: "unix-hidden-listener", tries: "connect to the server's Unix socket", expect: /^errno=EPERM$/ },
  { name: "unix-listener-in-workspace", tries: "connect to a host Unix socket inside the workspace", expect: /^errno=EPERM$/ },
  { name: "unix-abstract-listener", tries: "connect to a host abstract Unix socket", expect: /^errno=EPERM$/ },
  { name: "postgres-socket-path", tries: "see /var/run/postgresql/.s.PGSQL.5432", expect: /^value:absent$/ },
  { name: "postgres-socket", tries: "connect to PostgreSQL's Unix socket", expect: /^errno=EPERM$/ },
  { name: "run-dir", tries: "list /run (host sockets, pid files)", expect: /^errno=ENOENT$/ },
  { name: "io-uring-setup", tries: "io_uring_setup", expect: /^errno=EPERM$/ },
  { name: "x32-syscall", tries: "an x32-ABI system call", expect: /^errno=EPERM$/ },
  { name: "tiocsti", tries: "TIOCSTI terminal input injection", expect: /^errno=EPERM$/ },
  { name: "open-dev-tty", tries: "open a controlling terminal", expect: /^errno=ENXIO$/ },
  { name: "mknod-block-device", tries: "mknod a block device", expect: /^errno=EPERM$/ },
  { name: "open-dev-vda", tries: "open the host disk /dev/vda", expect: /^errno=ENOENT$/ },
  { name: "open-dev-mem", tries: "open /dev/mem", expect: /^errno=ENOENT$/ },
  {
    name: "list-dev",
    tries: "find device nodes beyond the harmless ones",
    expect: (o) => {
      if (!o.startsWith("value:")) return "expected a listing";
      const extra = o.slice(6).split(",").filter((n) => !DEV_ALLOWED.has(n));
      return extra.length === 0 ? null : `unexpected devices: ${extra.join(",")}`;
    },
  },
  { name: "write-proc-sys", tries: "write /proc/sys/kernel/hostname", expect: /^errno=(EACCES|EROFS)$/ },
  { name: "write-sysrq-trigger", tries: "write /proc/sysrq-trigger", expect: /^errno=(ENOENT|EROFS|EACCES)$/ },
  { name: "read-kcore", tries: "read /proc/kcore", expect: /^errno=(ENOENT|EACCES|EPERM)$/ },
  { name: "sys-present", tries: "see /sys (cgroups, devices, firmware)", expect: /^value:absent$/ },
  { name: "keyctl", tries: "the kernel keyring (keyctl)", expect: /^errno=EPERM$/ },
  { name: "bpf", tries: "bpf()", expect: /^errno=EPERM$/ },
  { name: "userfaultfd", tries: "userfaultfd()", expect: /^errno=EPERM$/ },
  { name: "perf-event-open", tries: "perf_event_open()", expect: /^errno=EPERM$/ },
  {
    name: "setuid-binaries",
    tries: "gain root through setuid su and mount",
    expect: (o) => {
      const m = /^value:su-rc=(-?\d+),su-root=(True|False),mount-rc=(-?\d+)$/.exec(o);
      return m && m[1] !== "0" && m[2] === "False" && m[3] !== "0" ? null : "expected su and mount to fail without root";
    },
  },
  { name: "memory-hog", tries: "allocate 6 GiB", expect: /^value:MemoryError$/ },
  { name: "file-size-limit", tries: "create a 6 GiB file", expect: /^errno=EFBIG$/ },
  { name: "fill-dev-shm", tries: "fill /dev/shm with 128 MiB", expect: /^errno=ENOSPC$/ },
  {
    name: "tmp-size",
    tries: "an unbounded private /tmp",
    expect: (o) => {
      const m = /^value:(\d+)$/.exec(o);
      return m && Number(m[1]) > 0 && Number(m[1]) <= MAX_TMP_BYTES ? null : `expected at most ${MAX_TMP_BYTES} bytes`;
    },
  },
  { name: "write-host-tmp", tries: "write the host's /tmp (lands in the private one)", expect: /^ok$/ },
  { name: "write-beside-workspace", tries: "write next to the workspace (lands nowhere on the host)", expect: /^(ok|errno=EROFS)$/ },
  {
    name: "write-workspace",
    tries: "write the workspace (allowed only in workspace-write)",
    expect: (o, ctx) => {
      const want = ctx.mode === "read-only" ? "errno=EROFS" : "ok:written";
      return o === want ? null : `expected ${want}`;
    },
  },
  { name: "kill-all", tries: "kill(-1, SIGKILL)", expect: /^(ok:sent|errno=ESRCH)$/ },
];

/** The workspace directory names of the fixture, by mode. */
export const THREAD_DIRS: Record<EscapeMode, string> = {
  "read-only": "thread-ro",
  "workspace-write": "thread-ww",
  "workspace-write+network": "thread-net",
};

/** Null when `outcome` is what `e` requires in this context; otherwise why not. */
export function judge(e: Expectation, outcome: string, ctx: JudgeContext): string | null {
  if (e.expect instanceof RegExp) return e.expect.test(outcome) ? null : `expected ${e.expect}`;
  return e.expect(outcome, ctx);
}
