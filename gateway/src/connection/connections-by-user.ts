/** This gateway's open connections by user, to reach a user's sockets when their membership ends. */
export class ConnectionsByUser<C extends { readonly user: string }> {
  // Bounded by the open sockets: every entry is removed when its socket closes.
  private readonly connections = new Map<string, Set<C>>();

  add(connection: C): void {
    let set = this.connections.get(connection.user);
    if (!set) this.connections.set(connection.user, (set = new Set()));
    set.add(connection);
  }

  delete(connection: C): void {
    const set = this.connections.get(connection.user);
    if (!set) return;
    set.delete(connection);
    if (set.size === 0) this.connections.delete(connection.user);
  }

  of(user: string): readonly C[] {
    return [...(this.connections.get(user) ?? [])];
  }
}
