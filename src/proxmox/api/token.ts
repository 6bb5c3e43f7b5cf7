/**
 * The Proxmox API token: `USER@REALM!TOKENID=SECRET` (SECRET a UUID). It is read from a file or
 * an environment variable, never from argv, and only its id (`USER@REALM!TOKENID`) ever
 * appears in messages.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../domain/errors.js';

export const TOKEN_ENV = 'PVE_API_TOKEN';

const FORMAT =
  /^([^@\s!=]+@[^@\s!=]+)!([A-Za-z][A-Za-z0-9._-]*)=([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

export class PveToken {
  readonly #secret: string;
  /** `USER@REALM!TOKENID`: safe to show. */
  readonly id: string;

  private constructor(id: string, secret: string) {
    this.id = id;
    this.#secret = secret;
  }

  /** Parses `USER@REALM!TOKENID=UUID`; `where` names the source in the error (never the value). */
  static parse(text: string, where: string): PveToken {
    const m = FORMAT.exec(text.trim());
    if (!m) {
      throw new UsageError(`the API token in ${where} is not of the form USER@REALM!TOKENID=UUID`, {
        hint: 'create one in the web UI (Datacenter > Permissions > API Tokens) or with `pveum user token add`, and give it as root@pam!pve-k3s=<uuid>',
      });
    }
    return new PveToken(`${m[1]}!${m[2]}`, m[3]!);
  }

  /** The value of the Authorization header. */
  header(): string {
    return `PVEAPIToken=${this.id}=${this.#secret}`;
  }

  toString(): string {
    return `${this.id}=<secret>`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** The token from `file` when given, else from $PVE_API_TOKEN. */
export async function readToken(opts: { file?: string | undefined; env: NodeJS.ProcessEnv }): Promise<PveToken> {
  if (opts.file !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the API token file ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
        hint: 'give a file that holds USER@REALM!TOKENID=UUID (mode 600)',
      });
    }
    return PveToken.parse(text, opts.file);
  }
  const env = opts.env[TOKEN_ENV];
  if (env === undefined || env.trim() === '') {
    throw new UsageError(`no API token: set ${TOKEN_ENV} or give --api-token-file FILE`, {
      hint: `the token is USER@REALM!TOKENID=UUID; it is never accepted on the command line (it would show in process lists)`,
    });
  }
  return PveToken.parse(env, `$${TOKEN_ENV}`);
}
