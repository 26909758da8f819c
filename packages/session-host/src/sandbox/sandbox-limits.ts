/** Resource limits of one sandboxed command, applied with util-linux `prlimit` before bubblewrap starts. */
export interface SandboxLimits {
  /**
   * RLIMIT_NPROC: processes and threads the sandbox user may have at once, counted across every sandbox
   * of that user on the host (a tenant's uid when the host is root; the host's own uid otherwise).
   * Default {@link DEFAULT_SANDBOX_MAX_PROCESSES}.
   */
  maxProcesses: number;
  /** RLIMIT_DATA: writable private memory of each process, in bytes. Default {@link DEFAULT_SANDBOX_MAX_DATA_BYTES}. */
  maxDataBytes: number;
  /** RLIMIT_FSIZE: largest file a process may write, in bytes. Default {@link DEFAULT_SANDBOX_MAX_FILE_BYTES}. */
  maxFileBytes: number;
  /** RLIMIT_NOFILE: open descriptors per process. Default {@link DEFAULT_SANDBOX_MAX_OPEN_FILES}. */
  maxOpenFiles: number;
  /** Size of the private `/tmp` tmpfs, in bytes (tmpfs pages are memory). Default {@link DEFAULT_SANDBOX_TMP_BYTES}. */
  tmpBytes: number;
  /** Size of the private `/dev/shm` tmpfs, in bytes. Default {@link DEFAULT_SANDBOX_SHM_BYTES}. */
  shmBytes: number;
}

/** Enough for parallel builds and test runners (threads count too), far below what starves a host. */
export const DEFAULT_SANDBOX_MAX_PROCESSES = 1024;
/**
 * 4 GiB per process. RLIMIT_DATA rather than RLIMIT_AS: it counts memory a process can write, not
 * address space it merely reserves, so V8, WebAssembly and JVM reservations keep working.
 */
export const DEFAULT_SANDBOX_MAX_DATA_BYTES = 4 * 1024 ** 3;
/** 4 GiB: larger than any source file or build artefact a coding agent needs. */
export const DEFAULT_SANDBOX_MAX_FILE_BYTES = 4 * 1024 ** 3;
export const DEFAULT_SANDBOX_MAX_OPEN_FILES = 4096;
/** 1 GiB of private `/tmp` (also `HOME`, so package-manager caches land here). */
export const DEFAULT_SANDBOX_TMP_BYTES = 1024 ** 3;
export const DEFAULT_SANDBOX_SHM_BYTES = 64 * 1024 ** 2;

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  maxProcesses: DEFAULT_SANDBOX_MAX_PROCESSES,
  maxDataBytes: DEFAULT_SANDBOX_MAX_DATA_BYTES,
  maxFileBytes: DEFAULT_SANDBOX_MAX_FILE_BYTES,
  maxOpenFiles: DEFAULT_SANDBOX_MAX_OPEN_FILES,
  tmpBytes: DEFAULT_SANDBOX_TMP_BYTES,
  shmBytes: DEFAULT_SANDBOX_SHM_BYTES,
});

/** `prlimit` options setting soft and hard limits alike (so the command cannot raise them back), no core dumps. */
export function prlimitArgs(limits: SandboxLimits): string[] {
  return [
    `--nproc=${limits.maxProcesses}`,
    `--data=${limits.maxDataBytes}`,
    `--fsize=${limits.maxFileBytes}`,
    `--nofile=${limits.maxOpenFiles}`,
    "--core=0",
  ];
}
