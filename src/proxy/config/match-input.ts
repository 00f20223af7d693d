// What route, header and query matchers read from a request: a narrow view that the HTTP stream implements.

export interface MatchInput {
  readonly method: string;
  /** The :authority (Host) as received, lower-cased. */
  readonly authority: string;
  /** The path without the query string. */
  readonly pathOnly: string;
  /** The raw query string without "?", or "" when absent. */
  readonly query: string;
  /** A request header by lower-case name (pseudo-headers :method, :authority, :path, :scheme included); several values joined with ",". */
  header(name: string): string | undefined;
  /** Query parameters, parsed once on first use. */
  queryParams(): URLSearchParams;
  readonly isGrpc: boolean;
}
