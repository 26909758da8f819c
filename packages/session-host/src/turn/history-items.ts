import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { UserInput } from "@threadmesh/protocol";
import type { ModelFunctionCall } from "../model/model-client.ts";

/**
 * Responses API input items that make up a thread's model history. Only completed exchanges are kept:
 * user messages, assistant messages, function calls with their outputs, and interruption markers.
 */

/** User-role marker added to history when a turn is interrupted, as Codex writes it. */
export const TURN_ABORTED_TEXT =
  "<turn_aborted>\nThe user interrupted the previous turn on purpose. Any running unified exec processes may still be running in the background. If any tools/commands were aborted, they may have partially executed.\n</turn_aborted>";

const IMAGE_MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
};

/** A user message from client input; local images are inlined as data URLs (unreadable ones become a note). */
export async function userMessageEntry(input: readonly UserInput[]): Promise<unknown> {
  const content: unknown[] = [];
  for (const part of input) {
    switch (part.type) {
      case "text":
        content.push({ type: "input_text", text: part.text });
        break;
      case "image":
        if (part.url) content.push({ type: "input_image", image_url: part.url, detail: imageDetail(part.detail) });
        else if (part.fileId) content.push({ type: "input_image", file_id: part.fileId, detail: imageDetail(part.detail) });
        break;
      case "localImage":
        content.push(await localImage(part.path, part.detail));
        break;
      case "skill":
      case "mention":
        content.push({ type: "input_text", text: `<${part.type} name="${part.name}" path="${part.path}" />` });
        break;
      default:
        break;
    }
  }
  return { type: "message", role: "user", content };
}

/** The `<turn_aborted>` marker message. */
export function turnAbortedEntry(): unknown {
  return { type: "message", role: "user", content: [{ type: "input_text", text: TURN_ABORTED_TEXT }] };
}

export function developerMessageEntry(text: string): unknown {
  return { type: "message", role: "developer", content: [{ type: "input_text", text }] };
}

export function assistantMessageEntry(text: string): unknown {
  return { type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] };
}

export function functionCallEntry(call: ModelFunctionCall): unknown {
  return { type: "function_call", call_id: call.callId, name: call.name, arguments: call.arguments };
}

export function functionCallOutputEntry(callId: string, output: string): unknown {
  return { type: "function_call_output", call_id: callId, output };
}

/** The echo of client input in a `userMessage` item: text parts always carry `text_elements`. */
export function echoInput(input: readonly UserInput[]): UserInput[] {
  return input.map((p) => (p.type === "text" ? { type: "text", text: p.text, text_elements: p.text_elements ?? [] } : p));
}

/** First text of the input, as a thread preview. */
export function previewOf(input: readonly UserInput[]): string {
  for (const p of input) if (p.type === "text" && p.text.trim() !== "") return p.text;
  return "";
}

function imageDetail(detail: string | null | undefined): string {
  return detail === "low" || detail === "high" ? detail : "auto";
}

async function localImage(path: string, detail: string | null | undefined): Promise<unknown> {
  const mime = IMAGE_MIME[extname(path).toLowerCase()];
  try {
    if (!mime) throw new Error("unsupported image type");
    const data = await readFile(path);
    return { type: "input_image", image_url: `data:${mime};base64,${data.toString("base64")}`, detail: imageDetail(detail) };
  } catch (err) {
    return { type: "input_text", text: `[image ${path} could not be read: ${(err as Error).message}]` };
  }
}
