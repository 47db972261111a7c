/** Who runs a tool, on which surface, with which roles. */

export type Surface = 'http' | 'cli' | 'slack' | 'scheduler';

export interface Principal {
  /** Stable identity: the API key's name, `slack:T123/U456`, or `cli:USER`. */
  id: string;
  /** Name shown in replies and logs. */
  name: string;
  roles: readonly string[];
}
