/**
 * What a terminal shows after a byte stream: a minimal emulator of the control sequences a
 * progress bar uses (CR, LF, BS, ESC 7 / ESC 8 save and restore the cursor, CSI n G/C/D/A/B
 * cursor moves, CSI n K erase in line, CSI ?..h/l modes ignored). Enough to tell a clean
 * screen from one with stale or overwritten lines.
 */
export function screen(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved: [number, number] = [0, 0];
  const line = (): string[] => {
    while (lines.length <= row) lines.push([]);
    return lines[row] as string[];
  };
  const chars = [...raw];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '\r') col = 0;
    else if (c === '\n') {
      row++;
      col = 0;
      line();
    } else if (c === '\b') col = Math.max(0, col - 1);
    else if (c === '\x1b') {
      const next = chars[i + 1];
      if (next === '7') {
        saved = [row, col];
        i++;
      } else if (next === '8') {
        [row, col] = saved;
        i++;
      } else if (next === '[') {
        let j = i + 2;
        let params = '';
        while (j < chars.length && /[0-9;?]/.test(chars[j] as string)) params += chars[j++];
        const cmd = chars[j];
        const n = Number(params.replace('?', '').split(';')[0] || '0');
        const l = line();
        switch (cmd) {
          case 'G':
            col = Math.max(0, (n || 1) - 1);
            break;
          case 'C':
            col += n || 1;
            break;
          case 'D':
            col = Math.max(0, col - (n || 1));
            break;
          case 'A':
            row = Math.max(0, row - (n || 1));
            break;
          case 'B':
            row += n || 1;
            break;
          case 'K':
            if (n === 0) l.length = Math.min(l.length, col);
            else if (n === 1) for (let k = 0; k <= col && k < l.length; k++) l[k] = ' ';
            else l.length = 0;
            break;
          default:
            break;
        }
        i = j;
      }
    } else {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col] = c;
      col++;
    }
  }
  return lines.map((l) => l.join('').replace(/\s+$/, ''));
}
