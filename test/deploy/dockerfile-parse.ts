/** One instruction of a Dockerfile: keyword (upper case), its flags (`--from=build`) and the rest. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/**
 * Splits a Dockerfile into stages of instructions: comments and parser directives dropped, `\` line
 * continuations joined (the default escape character), leading `--flag=value` options parsed. Enough
 * for checks of what a file says, not a builder.
 */
export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue;
      line = line.replace(/\\\s*$/, " ") + next;
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(line);
    if (!m) throw new Error(`line ${start + 1}: not an instruction`);
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest); f; f = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)) {
      flags[f[1]!] = f[2] ?? "true";
      rest = rest.slice(f[0].length);
    }
    instructions.push({ keyword: m[1]!.toUpperCase(), flags, args: rest.replace(/\s+/g, " "), line: start + 1 });
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const [base, as, name] = ins.args.split(" ");
      stages.push({ name: as?.toUpperCase() === "AS" ? name! : String(stages.length), base: base!, instructions: [] });
    } else if (stages.length === 0) {
      args.push(ins);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** The JSON (exec) form of an instruction's arguments, or null for the shell form. */
export function execForm(ins: Instruction): string[] | null {
  if (!ins.args.startsWith("[")) return null;
  return JSON.parse(ins.args) as string[];
}
