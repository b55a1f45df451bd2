/**
 * Just enough of Dockerfile and .dockerignore syntax to check our own files without a daemon:
 * line continuations, comments, ARG substitution in FROM, `FROM x AS name`, WORKDIR, COPY with
 * --from, and the exec (JSON) and shell forms of RUN/CMD/ENTRYPOINT.
 */
import { posix } from 'node:path';

export interface Instruction {
  keyword: string;
  /** Flags such as --from=build, without the leading dashes. */
  flags: Record<string, string>;
  /** Exec form (JSON array) or shell form split on whitespace. */
  args: string[];
  /** The text after the keyword (flags included), continuation lines joined. */
  raw: string;
  /** Whether args came from a JSON array. */
  exec: boolean;
}

export interface Stage {
  name: string;
  image: string;
  /** The WORKDIR in force at each instruction is resolved into `copies`. */
  workdir: string;
  instructions: Instruction[];
  copies: { from?: string; sources: string[]; dest: string }[];
  user: string | undefined;
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && !current) continue;
    if (/^\s*#/.test(line)) continue; // comment lines inside a continuation are dropped, as Docker does
    if (/\\\s*$/.test(line)) {
      current += line.replace(/\\\s*$/, ' ');
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!;
    const flags: Record<string, string> = {};
    let body = rest;
    for (;;) {
      const flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(body);
      if (!flag) break;
      flags[flag[1]!] = flag[2] ?? 'true';
      body = body.slice(flag[0].length);
    }
    const exec = body.startsWith('[');
    const args = exec ? (JSON.parse(body) as string[]) : body.split(/\s+/).filter(Boolean);
    const instruction: Instruction = { keyword, flags, args, raw: rest, exec };
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = args[0]!.split('=', 2) as [string, string?];
      globalArgs[name] = value;
      continue;
    }
    if (keyword === 'FROM') {
      const image = args[0]!.replace(/\$\{?([A-Za-z_]+)\}?/g, (_, name: string) => globalArgs[name] ?? '');
      const name = args[1]?.toUpperCase() === 'AS' ? args[2]! : String(stages.length);
      stages.push({ name, image, workdir: '/', instructions: [], copies: [], user: undefined });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push(instruction);
    if (keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args[0]!);
    if (keyword === 'USER') stage.user = args[0];
    if (keyword === 'COPY' || keyword === 'ADD') {
      const dest = posix.resolve(stage.workdir, args.at(-1)!);
      stage.copies.push({ ...(flags.from && { from: flags.from }), sources: args.slice(0, -1), dest });
    }
  }
  return { args: globalArgs, stages };
}

/**
 * .dockerignore patterns as Docker reads them: paths relative to the context root, `*` and `?`
 * within one path segment, `**` across segments, `!` re-includes, the last match wins. A pattern
 * that matches a directory excludes everything under it.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return (path: string) => {
    const clean = posix.normalize(path).replace(/^\.\/|\/+$/g, '');
    const prefixes = clean.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.negate;
    return ignored;
  };
}

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" anything.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
