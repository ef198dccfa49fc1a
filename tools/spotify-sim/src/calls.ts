// Call counters per endpoint and per user.

export type CountedEndpoint = 'authorize' | 'token' | 'me' | 'recently-played';

type Counts = Record<CountedEndpoint, number>;

function zero(): Counts {
  return { authorize: 0, token: 0, me: 0, 'recently-played': 0 };
}

export class CallCounter {
  #total: Counts = zero();
  #byUser = new Map<string, Counts>();

  count(endpoint: CountedEndpoint, userId?: string): void {
    this.#total[endpoint]++;
    if (userId === undefined) return;
    let counts = this.#byUser.get(userId);
    if (!counts) {
      counts = zero();
      this.#byUser.set(userId, counts);
    }
    counts[endpoint]++;
  }

  view(): { total: Counts; byUser: Record<string, Counts> } {
    return { total: { ...this.#total }, byUser: Object.fromEntries([...this.#byUser].map(([u, c]) => [u, { ...c }])) };
  }

  reset(): void {
    this.#total = zero();
    this.#byUser = new Map();
  }
}
