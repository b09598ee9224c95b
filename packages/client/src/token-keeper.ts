/** A token, or a function Herald's client calls for a fresh one on every (re)connect and after a 401. */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * The client's token: where it comes from, the one last handed out, and one fetched after a refusal that the next
 * connection attempt uses instead of asking the provider again.
 */
export class TokenKeeper {
  #source: TokenSource;
  #current: string | undefined;
  #fresh: string | undefined;

  constructor(source: TokenSource) {
    this.#source = source;
  }

  /** The token last handed out, undefined before the first one and after replace(). */
  get current(): string | undefined {
    return this.#current;
  }

  get hasProvider(): boolean {
    return typeof this.#source === 'function';
  }

  /**
   * Whether asking again can give a token other than the one Herald said expired: always with a provider, never
   * with the plain token that is in use.
   */
  get renewable(): boolean {
    return typeof this.#source === 'function' || this.#current !== this.#source;
  }

  replace(source: TokenSource): void {
    this.#source = source;
    this.#current = undefined;
    this.#fresh = undefined;
  }

  /** Asks the source (a provider is called every time); throws what the provider threw. */
  async resolve(): Promise<string> {
    const source = this.#source;
    this.#current = typeof source === 'string' ? source : await source();
    return this.#current;
  }

  /** For a connection attempt: the token kept after a refusal, else the source's. */
  async forConnect(): Promise<string> {
    const token = this.#fresh ?? (await this.resolve());
    this.#fresh = undefined;
    return token;
  }

  /** For a REST call: the token in use, or the source's when `fresh` is asked (after a 401) or none is in use. */
  forRequest(fresh: boolean): Promise<string> {
    return fresh || this.#current === undefined ? this.resolve() : Promise.resolve(this.#current);
  }

  /**
   * After Herald refused `rejected`: whether the provider hands out a different token, then kept for the next
   * attempt. The same token again, or a provider that throws, means there is none yet.
   */
  async renewAfterRefusal(rejected: string | undefined): Promise<boolean> {
    try {
      const fresh = await this.resolve();
      if (fresh === rejected) return false;
      this.#fresh = fresh;
      return true;
    } catch {
      return false;
    }
  }
}
