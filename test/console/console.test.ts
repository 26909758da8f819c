// The browser console end to end: a real router (threadmesh dev, console on by default) driven in
// Debian's Chromium through playwright-core. Screenshots go to test-output/console/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";
import { startModelSim, type ModelSim } from "@threadmesh/model-sim";
import { startTopology, type Topology } from "../support/topology.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(process.cwd(), "test-output", "console");
const missing = !existsSync(CHROMIUM);

for (const kind of ["embedded", "distributed"] as const) {
  describe(`browser console (${kind})`, { skip: missing && process.env.CI !== "true" ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false }, () => {
    let sim: ModelSim;
    let topo: Topology;
    let base: string;
    let browser: Browser;
    let page: Page;

    before(async () => {
      assert.ok(!missing, `${CHROMIUM} is missing (apt-get install -y chromium)`);
      mkdirSync(SHOTS, { recursive: true });
      // Answers stream over about a second, so the page shows the running turn (its Interrupt button) however fast the machine.
      sim = await startModelSim({ port: 0, generative: { tokensPerSecond: 40 } });
      // A router deployment has the console off and escalations refused by default: switched on here.
      const extraEnv: Record<string, string> = kind === "distributed" ? { THREADMESH_CONSOLE: "true", THREADMESH_ALLOW_ESCALATION: "true", THREADMESH_MAX_SANDBOX: "danger-full-access" } : {};
      const t = await startTopology(kind, { simUrl: sim.url, extraEnv });
      assert.ok(t, `${kind} topology started (NATS and PostgreSQL are needed for distributed)`);
      topo = t;
      base = topo.url.replace(/^ws/, "http").replace(/\/$/, "");
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    });

    after(async () => {
      await browser?.close();
      await topo?.stop();
      await sim?.close();
    });

    test("a ticket needs a bearer credential, is single-use, and cross-origin requests are refused", async () => {
      const none = await fetch(`${base}/console/ticket`, { method: "POST" });
      assert.equal(none.status, 401);
      const wrong = await fetch(`${base}/console/ticket`, { method: "POST", headers: { authorization: "Bearer not-a-key" } });
      assert.equal(wrong.status, 401);
      const foreign = await fetch(`${base}/console/ticket`, { method: "POST", headers: { authorization: `Bearer ${topo.token}`, origin: "https://evil.example" } });
      assert.equal(foreign.status, 403);
      const ok = await fetch(`${base}/console/ticket`, { method: "POST", headers: { authorization: `Bearer ${topo.token}` } });
      assert.equal(ok.status, 200);
      const { ticket, tenant } = (await ok.json()) as { ticket: string; tenant: string };
      assert.equal(tenant, "default");
      const open = (t: string): Promise<number> =>
        new Promise((resolve) => {
          const ws = new WebSocket(topo.url, ["threadmesh.console", `threadmesh.ticket.${t}`], { headers: { origin: base } });
          ws.once("open", () => {
            assert.equal(ws.protocol, "threadmesh.console");
            ws.close();
            resolve(101);
          });
          ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.once("error", () => undefined);
        });
      assert.equal(await open(ticket), 101);
      assert.equal(await open(ticket), 401, "a used ticket is refused");
      assert.equal(await open("forged"), 401);
    });

    test("signs in, streams a turn, approves a command and shows its output", async () => {
      await page.goto(`${base}/console`);
      await page.getByTestId("api-key").fill("wrong-key");
      await page.getByTestId("sign-in").click();
      await page.locator(".signin .error").waitFor();

      await page.getByTestId("api-key").fill(topo.token);
      await page.getByTestId("sign-in").click();
      assert.equal(await page.getByTestId("tenant").textContent(), "default");
      await page.getByTestId("credits").filter({ hasText: "credits:" }).waitFor();

      // Count the distinct texts the agent message shows while it streams: deltas, not one final text.
      await page.evaluate(`(() => {
        const seen = new Set();
        window.consoleTexts = seen;
        new MutationObserver(() => {
          for (const el of document.querySelectorAll('[data-testid="agentMessage"]')) seen.add(el.textContent ?? "");
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      })()`);
      await page.getByTestId("prompt").fill("Say hello from the console");
      await page.getByTestId("send").click();
      await page.getByTestId("interrupt").waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-streaming.png`) });
      await page.getByTestId("interrupt").waitFor({ state: "detached", timeout: 30_000 });
      const texts = (await page.evaluate("[...window.consoleTexts].filter((t) => t.length > 0)")) as string[];
      assert.ok(texts.length >= 2, `the agent message grew in steps (saw ${texts.length} texts)`);
      assert.ok((await page.getByTestId("agentMessage").last().textContent())!.length > 0);

      await page.getByTestId("prompt").fill("$ echo console-approved-output");
      await page.getByTestId("send").click();
      await page.getByTestId("approval").waitFor({ timeout: 30_000 });
      assert.match((await page.getByTestId("approval").textContent()) ?? "", /console-approved-output/);
      await page.screenshot({ path: join(SHOTS, `${kind}-approval.png`) });
      await page.getByTestId("approve").click();
      await page.getByTestId("command-output").filter({ hasText: "console-approved-output" }).waitFor({ timeout: 30_000 });
      await page.getByTestId("interrupt").waitFor({ state: "detached", timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, `${kind}-command-output.png`) });

      // The thread is listed, and opening it again loads its history.
      await page.getByTestId("new-thread").click();
      await page.getByTestId("search").fill("");
      await page.getByTestId("search").press("Enter");
      await page.getByTestId("threads").locator("li").first().click();
      await page.getByTestId("command-output").filter({ hasText: "console-approved-output" }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, `${kind}-history.png`) });

      // Search narrows the list.
      await page.getByTestId("search").fill("no-such-thread-anywhere");
      await page.getByTestId("search").press("Enter");
      await page.getByTestId("threads").locator("li").first().waitFor({ state: "detached" });
      await page.getByTestId("search").fill("console");
      await page.getByTestId("search").press("Enter");
      await page.getByTestId("threads").locator("li").first().waitFor();
    });

    test("steers a running turn and interrupts it", async () => {
      await page.getByTestId("new-thread").click();
      await page.getByTestId("prompt").fill("$ sleep 120");
      await page.getByTestId("send").click();
      await page.getByTestId("approve").click();
      await page.getByTestId("command").filter({ hasText: "inProgress" }).waitFor({ timeout: 30_000 });
      await page.getByTestId("prompt").fill("and then say goodbye");
      assert.equal(await page.getByTestId("send").textContent(), "Steer");
      await page.getByTestId("send").click();
      await page.getByTestId("prompt").filter({ hasText: "" }).waitFor();
      assert.equal(await page.locator("main .error").count(), 0, "the steer was accepted");
      await page.getByTestId("interrupt").click();
      await page.getByTestId("interrupt").waitFor({ state: "detached", timeout: 30_000 });
      assert.equal(await page.getByTestId("command").filter({ hasText: "completed" }).count(), 0, "the command did not run to its end");
      await page.getByTestId("command").filter({ hasText: "interrupted" }).waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-interrupted.png`) });
    });
  });
}
