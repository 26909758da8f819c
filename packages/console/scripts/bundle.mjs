#!/usr/bin/env node
// Bundles the browser console (web/main.tsx, preact) into app.js and app.css with esbuild.
// `node packages/console/scripts/bundle.mjs <outdir>` writes them (the build does this into
// packages/console/dist/web); routers running from sources call bundleConsole() once, in memory.
import { build } from "esbuild";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), "..", "web", "main.tsx");

/** Bundles the console; with `write` false the files are returned (outputFiles) instead of written. */
export async function bundleConsole(outdir, write) {
  const result = await build({
    entryPoints: { app: ENTRY },
    outdir,
    write,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  return result.outputFiles ?? [];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error("usage: node packages/console/scripts/bundle.mjs <outdir>");
    process.exit(1);
  }
  try {
    await bundleConsole(resolve(outdir), true);
  } catch (e) {
    console.error(`console bundle failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
