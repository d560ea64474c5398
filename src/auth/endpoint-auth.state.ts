import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { TOKEN_FILE_NAME } from './auth.service.js';

/** Calls that need a live token even while heartbeats pass without one. */
export type TokenGatedCall = 'delegations' | 'notify' | 'events';

/** Since when, and for which calls, the platform refuses the workspace's token (or its lack). */
export interface EndpointAuthSnapshot {
  /** Epoch ms of the first refusal. */
  since: number;
  calls: TokenGatedCall[];
  /** Whether a token was sent at all. */
  tokenSent: boolean;
}

/**
 * The platform checks tokens per endpoint: while a workspace has no live token its heartbeats
 * pass, but the listing, notify and the event stream answer 401. This keeps that state, says it
 * once at warn level with what the host must do, and once when it is over, instead of the same
 * 401 on every cycle.
 */
@Injectable()
export class EndpointAuthState {
  private readonly logger = new Logger(EndpointAuthState.name);
  private readonly tokenFile: string;
  private current: EndpointAuthSnapshot | undefined;

  constructor(@Inject(HEARTBEAT_CONFIG) config: HeartbeatConfig) {
    this.tokenFile = join(config.configsDir, TOKEN_FILE_NAME);
  }

  /** The refusal in force, if any. */
  get snapshot(): Readonly<EndpointAuthSnapshot> | undefined {
    return this.current && { ...this.current, calls: [...this.current.calls] };
  }

  /** The platform answered 401 to `call`, also after the token file was re-read. */
  refused(call: TokenGatedCall, tokenSent: boolean): void {
    if (this.current === undefined || this.current.tokenSent !== tokenSent) {
      this.current = { since: Date.now(), calls: [call], tokenSent };
      if (tokenSent) {
        this.logger.warn(
          `The platform refuses the token in ${this.tokenFile} for ${call} (401) although it may accept heartbeats: the token is not live (revoked, or of another workspace). The host must save the token it got from POST /registry/register with AuthService.saveToken(token)`,
        );
      } else {
        // AuthService has already said at warn level that there is no token, where, and what to do.
        this.logger.debug(
          `The platform requires a token for ${call} (401) and none is saved in ${this.tokenFile}; heartbeats pass without one, delegation results and notifications do not`,
        );
      }
    } else if (!this.current.calls.includes(call)) {
      this.current.calls.push(call);
    }
  }

  /** The platform accepted `call` with the current token. */
  accepted(call: TokenGatedCall): void {
    if (this.current === undefined) return;
    this.current = undefined;
    this.logger.log(`The platform accepts the workspace token again (${call})`);
  }
}
