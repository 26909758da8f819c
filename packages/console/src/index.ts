export { loadConsoleAssets, type ConsoleAssets } from "./assets.ts";
export { CONSOLE_PAGE } from "./page.ts";
