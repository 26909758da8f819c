/**
 * The seccomp program bubblewrap installs (`--seccomp FD`) just before it executes a sandboxed command,
 * as raw classic BPF: 8-byte `sock_filter` entries, little-endian, read until EOF.
 *
 * Default allow; `EPERM` for: system calls of a foreign architecture and x32 calls (their numbers
 * mean something else), `socket(AF_UNIX, …)` (pathname and abstract Unix sockets; `socketpair` stays
 * allowed, so pipes between processes keep working), io_uring (its `IORING_OP_SOCKET`/`OP_CONNECT`
 * would bypass the socket check), `ptrace` and cross-process memory access, kernel keyrings, `bpf`,
 * `userfaultfd`, `perf_event_open`, and the terminal-injection ioctls `TIOCSTI` and `TIOCLINUX`.
 */

/** `AUDIT_ARCH_*` value and syscall numbers of one architecture. */
interface Arch {
  audit: number;
  /** Calls with this bit set use the x32 ABI (x86_64 only). */
  x32Bit: number | null;
  socket: number;
  ioctl: number;
  denied: Record<string, number>;
}

const X86_64: Arch = {
  audit: 0xc000003e,
  x32Bit: 0x40000000,
  socket: 41,
  ioctl: 16,
  denied: {
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    add_key: 248,
    request_key: 249,
    keyctl: 250,
    perf_event_open: 298,
    bpf: 321,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
  },
};

const AARCH64: Arch = {
  audit: 0xc00000b7,
  x32Bit: null,
  socket: 198,
  ioctl: 29,
  denied: {
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    add_key: 217,
    request_key: 218,
    keyctl: 219,
    perf_event_open: 241,
    bpf: 280,
    userfaultfd: 282,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
  },
};

const ARCHES: Partial<Record<NodeJS.Architecture, Arch>> = { x64: X86_64, arm64: AARCH64 };

const AF_UNIX = 1;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const EPERM = 1;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;

/** Offsets in `struct seccomp_data`: nr, arch, then 64-bit args; the low half of an arg comes first (little-endian). */
const DATA_NR = 0;
const DATA_ARCH = 4;
const dataArgLow = (i: number) => 16 + 8 * i;

/** A jump target: the next instruction, or a label. */
type Target = 0 | string;
type Insn =
  | { op: "ld"; offset: number }
  | { op: "jeq" | "jge"; k: number; jt: Target; jf: Target }
  | { op: "ret"; k: number }
  | { op: "label"; name: string };

/** Encodes `program` into `sock_filter` bytes, resolving labels to forward jump offsets (0–255). */
export function assembleBpf(program: Insn[]): Buffer {
  const labels = new Map<string, number>();
  const code: Exclude<Insn, { op: "label" }>[] = [];
  for (const insn of program) {
    if (insn.op === "label") labels.set(insn.name, code.length);
    else code.push(insn);
  }
  const out = Buffer.alloc(code.length * 8);
  const offset = (from: number, target: Target): number => {
    if (target === 0) return 0;
    const at = labels.get(target);
    if (at === undefined) throw new Error(`bpf: unknown label ${target}`);
    const delta = at - (from + 1);
    if (delta < 0 || delta > 255) throw new Error(`bpf: jump to ${target} out of range (${delta})`);
    return delta;
  };
  code.forEach((insn, i) => {
    let op: number;
    let jt = 0;
    let jf = 0;
    let k: number;
    switch (insn.op) {
      case "ld":
        op = BPF_LD_W_ABS;
        k = insn.offset;
        break;
      case "jeq":
      case "jge":
        op = insn.op === "jeq" ? BPF_JEQ_K : BPF_JGE_K;
        jt = offset(i, insn.jt);
        jf = offset(i, insn.jf);
        k = insn.k;
        break;
      case "ret":
        op = BPF_RET_K;
        k = insn.k;
        break;
    }
    out.writeUInt16LE(op, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The sandbox's filter for this machine's architecture; null when the architecture is not supported. */
export function sandboxSeccompFilter(arch: NodeJS.Architecture = process.arch): Buffer | null {
  const a = ARCHES[arch];
  if (!a) return null;
  const program: Insn[] = [
    { op: "ld", offset: DATA_ARCH },
    { op: "jeq", k: a.audit, jt: 0, jf: "deny" },
    { op: "ld", offset: DATA_NR },
  ];
  if (a.x32Bit !== null) program.push({ op: "jge", k: a.x32Bit, jt: "deny", jf: 0 });
  program.push({ op: "jeq", k: a.socket, jt: "socket", jf: 0 }, { op: "jeq", k: a.ioctl, jt: "ioctl", jf: 0 });
  for (const nr of Object.values(a.denied)) program.push({ op: "jeq", k: nr, jt: "deny", jf: 0 });
  program.push(
    { op: "ret", k: SECCOMP_RET_ALLOW },
    { op: "label", name: "socket" },
    { op: "ld", offset: dataArgLow(0) },
    { op: "jeq", k: AF_UNIX, jt: "deny", jf: 0 },
    { op: "ret", k: SECCOMP_RET_ALLOW },
    { op: "label", name: "ioctl" },
    { op: "ld", offset: dataArgLow(1) },
    { op: "jeq", k: TIOCSTI, jt: "deny", jf: 0 },
    { op: "jeq", k: TIOCLINUX, jt: "deny", jf: 0 },
    { op: "ret", k: SECCOMP_RET_ALLOW },
    { op: "label", name: "deny" },
    { op: "ret", k: SECCOMP_RET_ERRNO | EPERM },
  );
  return assembleBpf(program);
}
