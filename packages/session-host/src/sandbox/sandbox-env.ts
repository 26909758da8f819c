import type { SandboxSpec } from "./sandbox-spec.ts";

/** `PATH` inside the sandbox when the operator sets none. */
export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Host variables a command may inherit when the operator configures no command environment: none of them holds secrets. */
const INHERITABLE = ["PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "USER", "LOGNAME", "SHELL"];

/**
 * The complete environment of a sandboxed command (bubblewrap starts from `--clearenv`): the operator's
 * explicit command environment, or a minimal default, never the server's own. `HOME` and `TMPDIR` point
 * at the private `/tmp`, the only writable place every mode has.
 */
export function sandboxEnvironment(requested: Record<string, string> | undefined, spec: SandboxSpec): Record<string, string> {
  const env: Record<string, string> = { PATH: SANDBOX_PATH, LANG: "C.UTF-8", TERM: "dumb", SHELL: "/bin/bash", ...requested };
  env["HOME"] = "/tmp";
  env["TMPDIR"] = "/tmp";
  env["USER"] = env["LOGNAME"] = "sandbox";
  // Codex sets this so tools inside the sandbox can tell why the network is unreachable.
  if (!spec.networkAccess) env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1";
  return env;
}

/** Environment of an unsandboxed command: the operator's, or the harmless part of the host's. */
export function fullAccessEnvironment(requested: Record<string, string> | undefined, hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (requested) return { ...requested };
  const env: Record<string, string> = {};
  for (const name of INHERITABLE) {
    const v = hostEnv[name];
    if (v !== undefined) env[name] = v;
  }
  env["PATH"] ??= SANDBOX_PATH;
  return env;
}
