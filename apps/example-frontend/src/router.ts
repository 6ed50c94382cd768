/**
 * Client-side routes on the history API: one index.html, one `[data-route]` element per path. The
 * server answers index.html for every path without a file (Vite does, and so must the production
 * server), so a link from an email (/verify-email?token=…) opens the right page.
 */
export interface Page {
  path: string;
  /** Runs each time the page is shown, with the query of the URL that showed it. */
  enter?(params: URLSearchParams): void | Promise<void>;
}

export class Router {
  private readonly pages = new Map<string, Page>();

  constructor(private readonly notFound: HTMLElement) {}

  add(page: Page): this {
    this.pages.set(page.path, page);
    return this;
  }

  /** The current route's path (`/index.html` is `/`). */
  get path(): string {
    return location.pathname === '/index.html' ? '/' : location.pathname.replace(/(.)\/+$/, '$1');
  }

  start(): void {
    window.addEventListener('popstate', () => this.render());
    // Same-origin links marked data-link navigate without a reload (the access token survives).
    document.addEventListener('click', (event) => {
      const link = (event.target as Element).closest<HTMLAnchorElement>('a[data-link]');
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.navigate(link.pathname + link.search);
    });
    this.render();
  }

  navigate(to: string, options: { replace?: boolean } = {}): void {
    if (options.replace) history.replaceState(null, '', to);
    else history.pushState(null, '', to);
    this.render();
  }

  private render(): void {
    const page = this.pages.get(this.path);
    for (const element of document.querySelectorAll<HTMLElement>('[data-route]')) {
      element.hidden = element.dataset.route !== page?.path;
    }
    this.notFound.hidden = page !== undefined;
    void page?.enter?.(new URLSearchParams(location.search));
  }
}
