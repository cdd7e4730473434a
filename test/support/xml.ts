/**
 * A strict XML parser for the SVG the benchmark draws: elements, attributes, text, comments and the XML declaration,
 * no DTD. It throws on anything that is not well-formed (a tag left open or closed out of order, an attribute without
 * quotes or given twice, a bare `<` or `&`, an unknown entity, text outside the root), which is what a browser or an
 * image viewer would refuse.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text, entities decoded (not its descendants'). */
  readonly text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`not well-formed XML at offset ${i}: ${what} (near ${JSON.stringify(source.slice(i, i + 40))})`);
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (match, entity: string | undefined) => {
      if (entity === undefined) return fail('a bare &');
      if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      return ENTITIES[entity] ?? fail(`unknown entity &${entity};`);
    });
  const skipSpace = () => {
    while (/\s/.test(source[i] ?? '')) i++;
  };
  if (source.startsWith('<?xml')) i = source.indexOf('?>') + 2;
  const stack: { name: string; attributes: Record<string, string>; children: XmlElement[]; text: string }[] = [];
  let root: XmlElement | undefined;
  while (i < source.length) {
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i);
      if (end < 0) fail('an unclosed comment');
      i = end + 3;
    } else if (source.startsWith('</', i)) {
      i += 2;
      const name = NAME.exec(source.slice(i))?.[0] ?? fail('a closing tag without a name');
      i += name.length;
      skipSpace();
      if (source[i] !== '>') fail('a closing tag not ended by >');
      i++;
      const open = stack.pop() ?? fail(`</${name}> closes nothing`);
      if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
      const element: XmlElement = open;
      if (stack.length === 0) root = element;
      else stack.at(-1)!.children.push(element);
    } else if (source[i] === '<') {
      i++;
      if (root !== undefined) fail('a second root element');
      const name = NAME.exec(source.slice(i))?.[0] ?? fail('a tag without a name');
      i += name.length;
      const attributes: Record<string, string> = {};
      for (;;) {
        const before = i;
        skipSpace();
        if (source.startsWith('/>', i) || source[i] === '>') break;
        if (i === before) fail('attributes not separated by space');
        const attr = NAME.exec(source.slice(i))?.[0] ?? fail('an attribute without a name');
        i += attr.length;
        if (source[i] !== '=') fail(`attribute ${attr} without =`);
        const quote = source[++i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} without quotes`);
        const end = source.indexOf(quote!, i + 1);
        if (end < 0) fail(`attribute ${attr} not closed`);
        const raw = source.slice(i + 1, end);
        if (raw.includes('<')) fail(`a < in attribute ${attr}`);
        if (attr in attributes) fail(`attribute ${attr} given twice`);
        attributes[attr] = decode(raw);
        i = end + 1;
      }
      const element = { name, attributes, children: [] as XmlElement[], text: '' };
      if (source.startsWith('/>', i)) {
        i += 2;
        if (stack.length === 0) root = element;
        else stack.at(-1)!.children.push(element);
      } else {
        i++;
        stack.push(element);
      }
    } else {
      const end = source.indexOf('<', i);
      const raw = source.slice(i, end < 0 ? source.length : end);
      if (stack.length === 0 && raw.trim() !== '') fail('text outside the root element');
      if (stack.length > 0) stack.at(-1)!.text += decode(raw);
      i = end < 0 ? source.length : end;
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> never closed`);
  return root ?? fail('no root element');
}

/** Every element under `root` (itself included), depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}

/** The text of every element under `root` whose class list has `cls`. */
export function textsOfClass(root: XmlElement, cls: string): string[] {
  return allElements(root)
    .filter((e) => (e.attributes['class'] ?? '').split(/\s+/).includes(cls))
    .flatMap((e) => allElements(e).map((d) => d.text.trim()))
    .filter((t) => t !== '');
}
