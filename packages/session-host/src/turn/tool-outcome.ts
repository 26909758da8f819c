/** What a tool call hands back to the loop: the `function_call_output` text, and whether the turn must stop. */
export interface ToolOutcome {
  output: string;
  /** The client chose `cancel`: the turn is interrupted after this call. */
  cancel?: boolean;
}
