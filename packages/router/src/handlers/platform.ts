import os from "node:os";

/** What `initialize` reports about the machine, computed once per router. */
export interface PlatformInfo {
  /** `os.type()`, e.g. "Linux". */
  readonly osType: string;
  /** `os.release()`. */
  readonly osRelease: string;
  /** Architecture in Rust's spelling, as Codex prints it: x86_64, aarch64, … */
  readonly arch: string;
  readonly platformFamily: "unix" | "windows";
  readonly platformOs: string;
}

const RUST_ARCH: Readonly<Record<string, string>> = { x64: "x86_64", arm64: "aarch64", ia32: "x86", arm: "arm" };
const PLATFORM_OS: Readonly<Record<string, string>> = { linux: "linux", darwin: "macos", win32: "windows" };

export function currentPlatform(): PlatformInfo {
  return Object.freeze({
    osType: os.type(),
    osRelease: os.release(),
    arch: RUST_ARCH[process.arch] ?? process.arch,
    platformFamily: process.platform === "win32" ? "windows" : "unix",
    platformOs: PLATFORM_OS[process.platform] ?? process.platform,
  });
}
