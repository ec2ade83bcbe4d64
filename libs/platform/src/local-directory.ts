/**
 * Use cases that apps running in the same process offer each other without a socket.
 *
 * When the suite runs several apps in one process (the one-command start, the feed benchmark),
 * a caller such as the gateway or the ads fill can reach another app's use case directly instead
 * of over loopback HTTP, saving the HTTP and JSON work on both sides of every call. The provider
 * registers its use case under a capability name at boot (`'ranking.rank'`); a caller looks it up
 * at call time (start order does not matter) and falls back to its HTTP client when the provider
 * is not in this process. Requests crossing this boundary are the same validated shapes the HTTP
 * route takes, so both transports keep one contract.
 */
export class LocalDirectory {
  private readonly entries = new Map<string, unknown>();

  provide<T>(capability: string, useCase: T): void {
    if (this.entries.has(capability)) throw new Error(`local capability ${capability} is already provided in this process`);
    this.entries.set(capability, useCase);
  }

  /** Removes a capability (its app is shutting down): callers go back to HTTP. */
  withdraw(capability: string): void {
    this.entries.delete(capability);
  }

  lookup<T>(capability: string): T | undefined {
    return this.entries.get(capability) as T | undefined;
  }

  has(capability: string): boolean {
    return this.entries.has(capability);
  }
}
