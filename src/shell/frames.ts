/**
 * Frames: how a script that runs several commands (a batch, a session) hands back each one's
 * stdout, stderr and exit status apart, over the two streams a remote command has.
 *
 * Every command `id` is framed on BOTH streams with the same random nonce:
 *
 *   stdout:  @@pve-k3s:<nonce> begin <id>\n <its stdout> \n@@pve-k3s:<nonce> end <id> <status>\n
 *   stderr:  @@pve-k3s:<nonce> begin <id>\n <its stderr> \n@@pve-k3s:<nonce> end <id> <status>\n
 *
 * The newline before each end marker is the framing's own (a `printf '\n'` or `echo`), so a
 * body that does not end with a newline still leaves the end marker at the start of a line;
 * it is not part of the body. Text outside the frames (a login banner on stdout; ssh, pct or
 * lxc-attach warnings on stderr) belongs to no command. Output that imitates a marker with
 * another nonce or another id is plain output.
 */

const MARK = '@@pve-k3s:';

export function beginMarker(nonce: string, id: number): string {
  return `${MARK}${nonce} begin ${id}`;
}

export function endMarkerPrefix(nonce: string, id: number): string {
  return `${MARK}${nonce} end ${id} `;
}

export interface Frame {
  /** Where the begin marker's line starts in the text. */
  start: number;
  /** The framed bytes, without the framing newline before the end marker. */
  body: string;
  /** The status the end marker carries (NaN when it is not a number). */
  code: number;
  /** Just after the end marker's newline. */
  end: number;
}

export interface FrameSearch {
  /** The begin marker was seen (the command started). */
  started: boolean;
  /** Set once the end marker's line is complete. */
  frame?: Frame;
}

/**
 * Finds command `id`'s frame in a stream read so far (from `from` on): started once its begin
 * line is there, complete once its end line is.
 */
export function findFrame(text: string, { nonce, id, from = 0 }: { nonce: string; id: number; from?: number }): FrameSearch {
  const begin = `${beginMarker(nonce, id)}\n`;
  let b = from;
  if (!text.startsWith(begin, from)) {
    const i = text.indexOf(`\n${begin}`, from);
    if (i < 0) return { started: false };
    b = i + 1;
  }
  const bodyStart = b + begin.length;
  const endTag = `\n${endMarkerPrefix(nonce, id)}`;
  const e = text.indexOf(endTag, bodyStart);
  if (e < 0) return { started: true };
  const lineEnd = text.indexOf('\n', e + endTag.length);
  if (lineEnd < 0) return { started: true };
  const codeText = text.slice(e + endTag.length, lineEnd);
  return {
    started: true,
    frame: {
      start: b,
      body: text.slice(bodyStart, e),
      code: /^-?\d+$/.test(codeText) ? Number(codeText) : NaN,
      end: lineEnd + 1,
    },
  };
}

/** Every complete frame of a whole stream, by id (a later frame of the same id wins). */
export function readFrames(text: string, nonce: string, ids: number): Map<number, Frame> {
  const out = new Map<number, Frame>();
  let pos = 0;
  for (let id = 0; id < ids; id++) {
    const f = findFrame(text, { nonce, id, from: pos }).frame;
    if (!f) continue;
    out.set(id, f);
    pos = f.end;
  }
  return out;
}

/** What a stream holds outside the complete frames of this nonce (pct's or ssh's own words), its marker lines dropped. */
export function outsideFrames(text: string, nonce: string, ids: number): string {
  let rest = '';
  let pos = 0;
  for (const f of [...readFrames(text, nonce, ids).values()].sort((a, b) => a.start - b.start)) {
    rest += text.slice(pos, f.start);
    pos = f.end;
  }
  rest += text.slice(pos);
  const own = `${MARK}${nonce} `;
  return rest
    .split('\n')
    .filter((l) => !l.startsWith(own))
    .join('\n');
}
