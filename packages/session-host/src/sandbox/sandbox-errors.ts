/** Thrown when a sandboxed mode is requested but cannot be provided; sandboxed modes never fall back to running unconfined. */
export class SandboxUnavailableError extends Error {
  constructor(message = "sandbox unavailable: bubblewrap (bwrap) is not installed; refusing to run a sandboxed command") {
    super(message);
    this.name = "SandboxUnavailableError";
  }
}

/** Thrown when a spec would expose the host's whole filesystem (a workspace or writable root of `/`). */
export class SandboxSpecError extends SandboxUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = "SandboxSpecError";
  }
}
