/** A tool call's arguments were unusable. The message goes back to the model as the tool output. */
export class ToolArgumentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ToolArgumentError";
  }
}
