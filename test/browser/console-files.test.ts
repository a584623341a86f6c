/**
 * The review console's files (console/) as shipped: untrusted text reaches the page only as text (no HTML
 * sink anywhere in the script), and the page loads nothing from outside its own origin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const DIR = path.resolve(__dirname, '../../console');
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');

describe('review console files', () => {
  it('are an HTML page, a script and a style sheet, nothing to build', () => {
    expect(fs.readdirSync(DIR).sort()).toEqual(['app.css', 'app.js', 'index.html']);
  });

  it('put no text on the page as HTML (a model answer is hostile)', () => {
    const script = read('app.js');
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'createContextualFragment',
      'DOMParser',
      'eval(',
      'new Function',
      'srcdoc',
    ]) {
      expect([sink, script.includes(sink)]).toEqual([sink, false]);
    }
    // Attributes are set by name from a fixed list in the script, never an event handler.
    expect(script).not.toMatch(/setAttribute\(\s*['"]on/i);
  });

  it('load nothing from another origin (no CDN, no external font or image)', () => {
    for (const f of ['index.html', 'app.css', 'app.js']) {
      const urls = read(f).match(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi) ?? [];
      expect([f, urls]).toEqual([f, []]);
    }
    expect(read('index.html')).toMatch(/<script type="module" src="app\.js"><\/script>/);
  });
});
