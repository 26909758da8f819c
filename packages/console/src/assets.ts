import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { CONSOLE_PAGE } from "./page.ts";

/** What a router serves under `/console`. */
export interface ConsoleAssets {
  readonly html: string;
  readonly js: string;
  readonly css: string;
}

interface BundledFile {
  path: string;
  text: string;
}

/**
 * The console's page and bundle. A build (`npm run build`) leaves the bundle in `dist/web/` beside
 * this module, which is read as it is; running from sources, the bundle is made once, in memory, with
 * esbuild (a development dependency, never needed by a build).
 */
export async function loadConsoleAssets(): Promise<ConsoleAssets> {
  const built = new URL("./web/", import.meta.url);
  if (existsSync(new URL("app.js", built))) {
    const [js, css] = await Promise.all([readFile(new URL("app.js", built), "utf8"), readFile(new URL("app.css", built), "utf8")]);
    return { html: CONSOLE_PAGE, js, css };
  }
  const script = new URL("../scripts/bundle.mjs", import.meta.url);
  const { bundleConsole } = (await import(script.href)) as { bundleConsole(outdir: string, write: boolean): Promise<BundledFile[]> };
  const files = await bundleConsole(fileURLToPath(built), false);
  const text = (name: string): string => files.find((f) => basename(f.path) === name)?.text ?? "";
  return { html: CONSOLE_PAGE, js: text("app.js"), css: text("app.css") };
}
