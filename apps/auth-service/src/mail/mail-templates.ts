import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Liquid, Template } from 'liquidjs';

/** Each mail the service sends, with the variables its templates may use. */
export interface MailVariables {
  'verify-email': { email: string; link: string; token: string; expiresInHours: number };
  'reset-password': { email: string; link: string; token: string; expiresInMinutes: number };
}
export type MailTemplateName = keyof MailVariables;

/**
 * Values every template is test-rendered with at boot. Rendering is strict (an unknown variable or
 * filter throws), so a typo in an operator's template stops the start instead of a mail later.
 */
const SAMPLES: { [N in MailTemplateName]: MailVariables[N] } = {
  'verify-email': {
    email: 'ada@example.com',
    link: 'https://app.example/verify-email?token=t',
    token: 't',
    expiresInHours: 24,
  },
  'reset-password': {
    email: 'ada@example.com',
    link: 'https://app.example/reset-password?token=t',
    token: 't',
    expiresInMinutes: 30,
  },
};
const NAMES = Object.keys(SAMPLES) as MailTemplateName[];
const PARTS = ['subject', 'text', 'html'] as const;
type Part = (typeof PARTS)[number];

/** The language of a user without a locale, or whose locale has no template: shipped complete. */
const DEFAULT_LOCALE = 'en';
const FILE = /^([a-z0-9-]+)\.(subject|text|html)\.liquid$/;

/** The shipped templates, from src (ts) and from dist (js) alike (as app.module finds migrations). */
const SHIPPED_TEMPLATES_DIR = join(
  __dirname,
  __dirname.includes(join('dist', 'apps')) ? '../../../../../apps/auth-service' : '../..',
  'mail-templates',
);

export interface RenderedMail {
  subject: string;
  text: string;
  /** Absent when the locale has no HTML template: the mail is then text only. */
  html?: string;
}

type Parsed = Partial<Record<Part, Template[]>>;

/**
 * The mail templates: `<dir>/<locale>/<name>.<subject|text|html>.liquid`, rendered with LiquidJS
 * (HTML output escaped, text and subject not). The operator's folder (MAIL_TEMPLATES_DIR) is laid
 * out the same way and wins file by file over the shipped one, so one can replace a single HTML
 * template or add a language. `{% render %}` partials resolve in the operator's folder first.
 */
export class MailTemplates {
  private constructor(
    private readonly templates: ReadonlyMap<string, Parsed>,
    private readonly text: Liquid,
    private readonly html: Liquid,
  ) {}

  /** Reads, parses and test-renders every template; throws one error naming every problem. */
  static async load(operatorDir?: string): Promise<MailTemplates> {
    if (operatorDir && !(existsSync(operatorDir) && statSync(operatorDir).isDirectory())) {
      throw new Error(`MAIL_TEMPLATES_DIR ${operatorDir} is not a readable directory`);
    }
    const roots = operatorDir ? [operatorDir, SHIPPED_TEMPLATES_DIR] : [SHIPPED_TEMPLATES_DIR];
    const options = {
      root: roots,
      partials: roots,
      extname: '.liquid',
      strictVariables: true,
      strictFilters: true,
    };
    const text = new Liquid(options);
    const html = new Liquid({ ...options, outputEscape: 'escape' });
    const problems: string[] = [];
    const files = new Map<string, string>(); // "<locale>/<file>" → path; the operator's wins
    for (const root of [...roots].reverse()) {
      for (const locale of readdirSync(root)) {
        if (!statSync(join(root, locale)).isDirectory()) continue;
        for (const file of readdirSync(join(root, locale))) {
          if (file.startsWith('_') || !file.endsWith('.liquid')) continue; // partials, notes
          files.set(`${locale.toLowerCase()}/${file}`, join(root, locale, file));
        }
      }
    }
    const templates = new Map<string, Parsed>();
    const broken = new Set<string>(); // "<locale>/<name>" with a file named in problems already
    for (const [key, path] of files) {
      const [locale = '', file = ''] = key.split('/');
      const match = FILE.exec(file);
      const name = match?.[1] as MailTemplateName | undefined;
      const part = match?.[2] as Part | undefined;
      if (!name || !part || !NAMES.includes(name)) {
        problems.push(`${path}: not <${NAMES.join('|')}>.<${PARTS.join('|')}>.liquid`);
        continue;
      }
      if (!isLocale(locale)) {
        problems.push(`${path}: "${locale}" is not a BCP 47 language tag`);
        continue;
      }
      try {
        const parsed = (part === 'html' ? html : text).parse(readFileSync(path, 'utf8'), path);
        await (part === 'html' ? html : text).render(parsed, SAMPLES[name]);
        const entry = templates.get(`${locale}/${name}`) ?? {};
        entry[part] = parsed;
        templates.set(`${locale}/${name}`, entry);
      } catch (error) {
        broken.add(`${locale}/${name}`);
        problems.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const [key, parts] of templates) {
      if (!broken.has(key) && (!parts.subject || !parts.text))
        problems.push(`${key}: needs both a subject and a text template`);
    }
    for (const name of NAMES) {
      if (!templates.has(`${DEFAULT_LOCALE}/${name}`)) problems.push(`${DEFAULT_LOCALE}/${name}: missing`);
    }
    if (problems.length > 0) throw new Error(`Mail templates: ${problems.join('; ')}`);
    return new MailTemplates(templates, text, html);
  }

  /**
   * `name` in the user's language: `de-AT` tries de-at, then de, then en. The whole mail comes
   * from one locale, so a subject is never in another language than its body.
   */
  async render<N extends MailTemplateName>(
    name: N,
    locale: string | null | undefined,
    variables: MailVariables[N],
  ): Promise<RenderedMail> {
    const parts = localeChain(locale)
      .map((candidate) => this.templates.get(`${candidate}/${name}`))
      .find((found) => found !== undefined);
    if (!parts?.subject || !parts.text) throw new Error(`no template for ${name}`); // load() rules it out
    const [subject, text, html] = await Promise.all([
      this.text.render(parts.subject, variables) as Promise<string>,
      this.text.render(parts.text, variables) as Promise<string>,
      parts.html ? (this.html.render(parts.html, variables) as Promise<string>) : undefined,
    ]);
    // A subject is one header line: the template's line breaks are layout, not content.
    return { subject: subject.replace(/\s+/g, ' ').trim(), text, ...(html === undefined ? {} : { html }) };
  }
}

function isLocale(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** `de-AT` → [de-at, de, en]; nothing or a bad tag → [en]. */
export function localeChain(locale: string | null | undefined): string[] {
  const chain: string[] = [];
  if (locale && isLocale(locale)) {
    const subtags = (Intl.getCanonicalLocales(locale)[0] ?? '').toLowerCase().split('-');
    for (let n = subtags.length; n > 0; n--) chain.push(subtags.slice(0, n).join('-'));
  }
  return [...new Set([...chain, DEFAULT_LOCALE])];
}
